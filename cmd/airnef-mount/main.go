// Command airnef-mount mounts a WiFi camera as a read-only filesystem over
// PTP/IP:
//
//	airnef-mount --camera 192.168.1.1 ~/camera
//	airnef-mount ~/camera                  (the one camera that announces itself)
//	airnef-mount -d ~/camera               (returns once mounted)
//	mount -t fuse.airnef-mount 192.168.1.1 ~/camera   (and fstab)
//	airnef-mount discover                  (list the cameras that announce themselves)
//	airnef-mount --wait --exec CMD ~/cams  (mount each camera as it comes)
//
// It stays in the foreground until unmounted (Ctrl-C, SIGTERM, fusermount3
// -u), unless --daemon or mount(8) asks for the background. It wires flags
// to package camera (the session's life), ssdp, the tree, the FUSE nodes
// and the cache: cli.go and options.go are the command line, serve.go
// mounts one session, wait.go each camera that announces itself,
// discover.go lists them, background.go is --daemon and systemd.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/airnef-mount/airnef-mount/camera"
	"github.com/airnef-mount/airnef-mount/fusefs"
	"github.com/airnef-mount/airnef-mount/internal/service"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the camera cannot be reached, or the session failed
	exitUsage   = 2 // misuse: a bad flag or argument
	exitRefused = 3 // the camera refused this computer (Init Fail)
	usageLine   = `usage: airnef-mount [flags] [--camera HOST[:PORT]] MOUNTPOINT
       airnef-mount [flags] SOURCE MOUNTPOINT [-o OPTIONS]   (as mount(8) runs it; SOURCE auto: the camera found)
       airnef-mount --wait [--exec CMD] [flags] DIR
       airnef-mount discover | status [MOUNTPOINT|DIR] | help | version | completion SHELL`
	// memoryMargin is the memory allowed beyond the cache: fetch
	// buffers, the tree, FUSE request buffers.
	memoryMargin = 64 << 20
)

// exitError is an error with the exit status it ends the program with.
type exitError struct {
	code int
	err  error
	bare bool // misuse that the usage lines would not help with
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, a...)}
}

func failErr(format string, a ...any) error {
	return &exitError{code: exitFailure, err: fmt.Errorf(format, a...)}
}

// statusError ends the program with its exit status and no message: the
// process that mounted in the background has said why.
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func main() {
	fixEnv()
	ctx, release := stopSignals()
	err := runAs(ctx, os.Args[0], os.Args[1:], os.Stdout, os.Stderr)
	release()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on w and returns the exit status for it.
func exitCode(err error, w io.Writer) int {
	if err == nil {
		return exitOK
	}
	var st statusError
	if errors.As(err, &st) {
		return int(st)
	}
	code := exitFailure
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	fmt.Fprintf(w, "airnef-mount: %v\n", err)
	if code == exitUsage && !ee.bare {
		fmt.Fprintln(w, usageLine)
	}
	return code
}

// run is the whole program, called as airnef-mount with args.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runAs(ctx, "airnef-mount", args, stdout, stderr)
}

// runAs is the whole program, called as argv0 with args (mount(8) calls it
// mount.fuse.airnef-mount): it returns when the filesystem is unmounted,
// with nil after a clean unmount, or, in the background, once mounted.
func runAs(ctx context.Context, argv0 string, args []string, stdout, stderr io.Writer) error {
	argv := append([]string{argv0}, args...) // to start again in the background
	h, args, err := parseHelper(argv0, args)
	if err != nil {
		return err
	}
	c := newCLI(stdout, stderr, func(ctx context.Context, o *options) error {
		return runMount(ctx, o, argv, stdout, stderr)
	})
	c.helper = h
	err = c.execute(ctx, args)
	if err != nil && !isExitError(err) {
		// cobra's own errors (e.g. "unknown command" for help TOPIC)
		return usageErr("%v", err)
	}
	return err
}

func isExitError(err error) bool {
	var ee *exitError
	var st statusError
	return errors.As(err, &ee) || errors.As(err, &st)
}

// runMount mounts what the checked options o say; argv is the command
// line, to start again in the background.
func runMount(ctx context.Context, o *options, argv []string, stdout, stderr io.Writer) error {
	svc := service.Current()
	if o.background && !svc.Background() && !o.fake {
		return background(argv, stdout, stderr)
	}
	lg, err := openLog(o, stderr)
	if err != nil {
		return err
	}
	defer lg.close()
	log, ptpLog, fuseLog, cacheLog := lg.loggers()
	if o.quiet {
		stdout = io.Discard
	}
	context.AfterFunc(ctx, svc.Stopping)
	if os.Getenv("GOMEMLIMIT") == "" {
		// The cache is the only large allocation: the limit keeps GOGC
		// from growing the heap to twice it.
		debug.SetMemoryLimit(int64(o.cacheSize) + memoryMargin)
	}

	var addr string
	if o.camera != "" {
		if addr, err = cameraAddr(o.camera); err != nil {
			return usageErr("--camera: %v", err)
		}
	}
	loc := time.Local
	if o.cameraTZ != "" {
		if loc, err = time.LoadLocation(o.cameraTZ); err != nil {
			return usageErr("--camera-tz %q: %v", o.cameraTZ, err)
		}
	}
	ids, err := newIdentities(o)
	if err != nil {
		return err
	}
	if err := checkMountpoint(o.mountpoint, log); err != nil {
		return err
	}
	if err := fusefs.CheckAccess(); err != nil {
		return failErr("cannot mount at %s: %v; check that fuse3 is installed and that /dev/fuse is usable (mode 0666 on Debian, or be root)", o.mountpoint, err)
	}
	if o.fake {
		return nil // mount -f: everything checked, nothing mounted
	}
	m := &mounter{
		o: o, loc: loc, stdout: stdout, svc: svc, detached: lg.detached,
		log: log, ptpLog: ptpLog, fuseLog: fuseLog, cacheLog: cacheLog,
		conn: camera.NewConnector(camera.Config{
			Identities: ids, Name: o.name, ConnectTimeout: o.connectTimeout, Timeout: o.timeout,
			Interfaces: o.ssdpInterfaces(), Logger: log, PTPLogger: ptpLog,
			SyncClock: o.syncClock, Location: loc,
		}),
	}
	if o.wait {
		return m.waitLoop(ctx)
	}
	hint := mtp.VendorGeneric
	if addr == "" {
		cam, err := findCamera(ctx, o, stderr, log)
		if ctx.Err() != nil {
			return statusError(exitInterrupted)
		}
		if err != nil {
			return err
		}
		addr, hint = cam.Addr, cam.Vendor
		log.Info("camera found", "addr", addr, "manufacturer", cam.Manufacturer, "model", cam.Model)
	}
	cs, err := m.conn.Connect(ctx, addr, hint)
	if ctx.Err() != nil {
		if err == nil {
			cs.Close(o.cameraSleep)
		}
		return statusError(exitInterrupted) // Ctrl-C while connecting: nothing to explain
	}
	if err != nil {
		return connectErr(err)
	}
	return m.serve(ctx, cs, o.mountpoint, serveMode{reconnect: true})
}

func allowOtherHint(allowOther bool) string {
	if allowOther && os.Geteuid() != 0 {
		return ", and for --allow-other that /etc/fuse.conf has user_allow_other"
	}
	return ""
}

// checkMountpoint checks that dir is a directory, cleaning a stale mount
// left by a server that died ("Transport endpoint is not connected").
func checkMountpoint(dir string, log *slog.Logger) error {
	cleaned, err := fusefs.CleanStale(dir)
	if err != nil {
		return failErr("%s is a stale mount that could not be cleaned: %v; unmount it with fusermount3 -u -z %s", dir, err, dir)
	}
	if cleaned {
		log.Info("cleaned a stale mount left by an earlier run (transport endpoint was not connected)", "mountpoint", dir)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return usageErr("mount point %v; create the directory first", err)
	}
	if !st.IsDir() {
		return usageErr("mount point %s is not a directory", dir)
	}
	return checkNotMounted(dir)
}

// checkNotMounted refuses a mount point that is already one: a second
// airnef-mount there would hide the first (found before connecting, so
// that the camera is not taken from the mount that has it).
func checkNotMounted(dir string) error {
	m, ok, err := fusefs.MountAt(dir)
	switch {
	case err != nil || !ok:
		return nil
	case m.Ours():
		return &exitError{code: exitUsage, bare: true, err: fmt.Errorf("%s is already mounted by airnef-mount (%s); unmount it first (fusermount3 -u %s), or choose another mount point", dir, m.Source, dir)}
	}
	return &exitError{code: exitUsage, bare: true, err: fmt.Errorf("%s is already a mount point (%s %s); choose another directory", dir, m.FSType, m.Source)}
}
