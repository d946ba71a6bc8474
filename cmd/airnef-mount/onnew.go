package main

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/pflag"
)

// onNewOptions is --on-new: tethered shooting.
type onNewOptions struct {
	onNew string
}

func (o *onNewOptions) onNewFlags(fl *pflag.FlagSet) {
	fl.StringVar(&o.onNew, "on-new", "", "run the shell `command` for each picture the camera takes while mounted, with the file's path in the mount as its last argument")
}

// onNewQueue bounds the captures waiting for --on-new: a burst beyond it
// is logged and skipped rather than held without bound.
const onNewQueue = 256

// onNewRunner runs --on-new for each new capture, one at a time, in the
// order the camera reported them, on its own goroutine: the camera watch
// never waits for the command.
type onNewRunner struct {
	cmd  string
	mnt  string
	log  *slog.Logger
	ctx  context.Context
	stop context.CancelFunc
	q    chan string
	wg   sync.WaitGroup
}

func newOnNewRunner(ctx context.Context, cmd, mnt string, log *slog.Logger) *onNewRunner {
	r := &onNewRunner{cmd: cmd, mnt: mnt, log: log, q: make(chan string, onNewQueue)}
	r.ctx, r.stop = context.WithCancel(ctx)
	r.wg.Go(r.run)
	return r
}

// add queues the capture at path (relative to the mount) without
// blocking.
func (r *onNewRunner) add(path string) {
	select {
	case r.q <- path:
	default:
		r.log.Warn("--on-new: too many captures waiting; skipped", "file", path)
	}
}

func (r *onNewRunner) run() {
	for {
		select {
		case <-r.ctx.Done():
			return
		case p := <-r.q:
			r.runOne(filepath.Join(r.mnt, p))
		}
	}
}

// runOne runs --on-new as `sh -c 'CMD "$@"' airnef-mount FILE`, as --exec
// runs (wait.go): the file's path is the command's last argument (and
// $AIRNEF_FILE, the mount in $AIRNEF_MOUNT).
func (r *onNewRunner) runOne(file string) {
	cmd := exec.CommandContext(r.ctx, "sh", "-c", r.cmd+` "$@"`, "airnef-mount", file)
	cmd.Env = append(os.Environ(), "AIRNEF_MOUNT="+r.mnt, "AIRNEF_FILE="+file)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err := cmd.Run()
	switch {
	case err != nil && cmd.ProcessState == nil:
		r.log.Warn("--on-new could not run", "cmd", r.cmd, "err", err)
	case err != nil:
		r.log.Warn("--on-new failed", "cmd", r.cmd, "file", file, "status", cmd.ProcessState.ExitCode(), "err", err)
	default:
		r.log.Info("--on-new finished", "cmd", r.cmd, "file", file, "dur", time.Since(start).Round(time.Millisecond))
	}
}

// close stops the runner: a command still running is ended (SIGTERM to
// its process group), captures still queued are dropped.
func (r *onNewRunner) close() {
	r.stop()
	r.wg.Wait()
}
