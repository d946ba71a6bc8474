// Command airnef-mount mounts a WiFi camera as a read-only filesystem over
// PTP/IP:
//
//	airnef-mount --camera 192.168.1.1 ~/camera
//	airnef-mount ~/camera                  (the one camera that announces itself)
//	airnef-mount discover                  (list the cameras that announce themselves)
//	airnef-mount --wait --exec CMD ~/cams  (mount each camera as it comes)
//
// It stays in the foreground until unmounted (Ctrl-C, SIGTERM, fusermount3
// -u). It wires flags to package camera (the session's life), ssdp, the tree,
// the FUSE nodes and the cache: serve.go mounts one session, wait.go each
// camera that announces itself, discover.go lists them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/camera"
	"github.com/airnef-mount/airnef-mount/fusefs"
	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
	"github.com/airnef-mount/airnef-mount/tree"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // the camera cannot be reached, or the session failed
	exitUsage   = 2 // misuse: a bad flag or argument
	exitRefused = 3 // the camera refused this computer (Init Fail)
	usageLine   = "usage: airnef-mount [flags] [--camera HOST[:PORT]] MOUNTPOINT | airnef-mount --wait [--exec CMD] [flags] DIR | airnef-mount discover [--listen-time 3s]"
	// memoryMargin is the memory allowed beyond the cache: fetch
	// buffers, the tree, FUSE request buffers.
	memoryMargin = 64 << 20
)

// exitError is an error with the exit status it ends the program with.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, a...)}
}

func failErr(format string, a ...any) error {
	return &exitError{exitFailure, fmt.Errorf(format, a...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// exitCode reports err on w and returns the exit status for it.
func exitCode(err error, w io.Writer) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	code := exitFailure
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	fmt.Fprintf(w, "airnef-mount: %v\n", err)
	if code == exitUsage {
		fmt.Fprintln(w, usageLine)
	}
	return code
}

// options are the parsed command line.
type options struct {
	camera         string
	mountpoint     string
	cacheSize      byteSize
	blockSize      byteSize
	timeout        time.Duration
	connectTimeout time.Duration
	guid           string
	name           string
	allowOther     bool
	cameraTZ       string
	maxObjects     int
	metadataCache  bool
	debug          debugFlags
	version        bool
	renameOptions
	connectOptions
	desktopOptions
	onNewOptions
}

// parseFlags parses the config file's flags, then args; --help is written
// to helpOut.
func parseFlags(args []string, helpOut io.Writer) (*options, error) {
	o := &options{cacheSize: cache.DefaultSize, blockSize: cache.DefaultBlockSize, debug: debugFlags{}}
	fl := flag.NewFlagSet("airnef-mount", flag.ContinueOnError)
	// Parse errors are reported once, by exitCode; -help prints the flags.
	fl.SetOutput(io.Discard)
	fl.Usage = func() {}
	fl.StringVar(&o.camera, "camera", "", "camera address `HOST[:PORT]` (port 15740 when omitted)")
	fl.Var(&o.cacheSize, "cache-size", "memory for cached blocks, e.g. 256MiB, 1G or bytes")
	fl.Var(&o.blockSize, "block-size", "cache block `size`, a multiple of 128KiB")
	fl.DurationVar(&o.timeout, "timeout", ptpip.DefaultTimeout, "longest time a camera operation may go without progress")
	fl.DurationVar(&o.connectTimeout, "connect-timeout", ptpip.DefaultConnectTimeout, "longest time to connect (a Canon waits for you to accept this computer)")
	fl.StringVar(&o.guid, "guid", "", "host `GUID` sent to the camera, 32 hex digits (default: this host's, kept in "+stateDirHint()+")")
	fl.StringVar(&o.name, "name", "", "friendly `name` sent to the camera (default: the host name)")
	fl.BoolVar(&o.allowOther, "allow-other", false, "let other users read the mount (needs user_allow_other in /etc/fuse.conf for a normal user)")
	fl.IntVar(&o.maxObjects, "max-objects", tree.DefaultMaxObjects, "most camera `objects` the mount holds; a folder beyond it answers EIO (a broken or hostile camera)")
	fl.BoolVar(&o.metadataCache, "metadata-cache", true, "remember each camera's folder listings in ~/.cache/airnef-mount, so that a remount lists a folder with one camera operation instead of one per file")
	fl.StringVar(&o.cameraTZ, "camera-tz", "", "the camera clock's time `zone` (e.g. Europe/Paris; default: this computer's)")
	fl.Var(o.debug, "debug", "debug logs for a comma-separated `list` of ptp,fuse,cache (or all)")
	fl.BoolVar(&o.version, "version", false, "print the version and exit")
	o.renameFlags(fl)
	o.connectFlags(fl)
	o.desktopFlags(fl)
	o.onNewFlags(fl)
	cfgErr := applyConfig(fl, args)
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(helpOut, fl)
			return nil, err
		}
		return nil, &exitError{exitUsage, err}
	}
	if cfgErr != nil {
		return nil, cfgErr
	}
	if o.version {
		return o, nil
	}
	if err := o.parseSpecs(); err != nil {
		return nil, err
	}
	switch fl.NArg() {
	case 1:
		o.mountpoint = fl.Arg(0)
	case 0:
		return nil, usageErr("no mount point given")
	default:
		return nil, usageErr("one mount point expected, got %q (flags go before the mount point)", fl.Args())
	}
	if err := o.checkConnect(); err != nil {
		return nil, err
	}
	if o.blockSize <= 0 || o.blockSize%cache.BlockUnit != 0 {
		return nil, usageErr("--block-size %v is not a positive multiple of 128KiB", formatSize(int64(o.blockSize)))
	}
	// The cache holds a request plus two of read-ahead: its requests are
	// at most a quarter of it.
	if o.cacheSize < 4*o.blockSize {
		return nil, usageErr("--cache-size %v is smaller than four blocks (%v)", formatSize(int64(o.cacheSize)), formatSize(int64(4*o.blockSize)))
	}
	if o.maxObjects <= 0 {
		return nil, usageErr("--max-objects must be positive")
	}
	if o.timeout <= 0 || o.connectTimeout <= 0 {
		return nil, usageErr("--timeout and --connect-timeout must be positive")
	}
	return o, nil
}

func stateDirHint() string {
	if d := ptpip.StateDir(); d != "" {
		return d
	}
	return "$XDG_STATE_HOME/airnef-mount"
}

// loggers builds the logger of each subsystem: info and above always,
// debug for those named in --debug.
func loggers(w io.Writer, debug debugFlags) (base, ptp, fuse, cch *slog.Logger) {
	mk := func(sys string) *slog.Logger {
		lvl := slog.LevelInfo
		if debug[sys] {
			lvl = slog.LevelDebug
		}
		return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: lvl})).With("sys", sys)
	}
	return slog.New(slog.NewTextHandler(w, nil)), mk("ptp"), mk("fuse"), mk("cache")
}

// run is the whole program: it returns when the filesystem is unmounted,
// with nil after a clean unmount.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "discover" {
		return runDiscover(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "status" {
		return runStatus(ctx, args[1:], stdout)
	}
	o, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	if o.version {
		fmt.Fprintln(stdout, versionLine())
		return nil
	}
	log, ptpLog, fuseLog, cacheLog := loggers(stderr, o.debug)
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
	m := &mounter{
		o: o, loc: loc, stdout: stdout,
		log: log, ptpLog: ptpLog, fuseLog: fuseLog, cacheLog: cacheLog,
		conn: camera.NewConnector(camera.Config{
			Identities: ids, Name: o.name, ConnectTimeout: o.connectTimeout, Timeout: o.timeout,
			Interfaces: o.ssdpInterfaces(), Logger: log, PTPLogger: ptpLog,
		}),
	}
	if o.wait {
		return m.waitLoop(ctx)
	}
	hint := mtp.VendorGeneric
	if addr == "" {
		cam, err := findCamera(ctx, o, stderr, log)
		if err != nil {
			return err
		}
		addr, hint = cam.Addr, cam.Vendor
		log.Info("camera found", "addr", addr, "manufacturer", cam.Manufacturer, "model", cam.Model)
	}
	cs, err := m.conn.Connect(ctx, addr, hint)
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
	return nil
}
