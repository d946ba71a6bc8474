// Package service runs the program as a service: in the background
// (--daemon, and as mount(8)'s helper), returning only once it is ready,
// with the real exit status; and under systemd, telling the manager when it
// is ready and what it is doing (sd_notify, Type=notify).
//
// Go cannot fork, so Background starts the program again, in a new session,
// with a readiness pipe as file descriptor 3 named by $AIRNEF_MOUNT_READY_FD.
// The new process writes "ready" on it once mounted and lets go of the
// terminal; the first exits 0 on that word, or with the second's exit
// status if it ends first. What the two processes do is the caller's: this
// package knows no camera and no mount.
package service

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// readyEnv names the readiness pipe's descriptor in the background process.
const readyEnv = "AIRNEF_MOUNT_READY_FD"

// readyWord is what the background process writes once ready.
const readyWord = "ready"

// notifyEnv is systemd's notification socket (sd_notify(3)).
const notifyEnv = "NOTIFY_SOCKET"

// Background starts this program again with argv (argv[0] included) in the
// background and waits until it is ready or has ended. It returns 0 once
// ready, else the background process's exit status (it has said why on
// stderr, which it shares until then). A signal on sigs is passed on to the
// background process, which decides what to do with it.
//
// Under systemd (NOTIFY_SOCKET), the manager is told that the service is
// ready and that the background process is now its main process.
func Background(argv []string, stdout, stderr *os.File, sigs <-chan os.Signal) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 1, fmt.Errorf("cannot start in the background: %w", err)
	}
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return 1, err
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return 1, err
	}
	defer r.Close()
	env := []string{readyEnv + "=3"}
	for _, kv := range os.Environ() {
		if !hasKey(kv, readyEnv) && !hasKey(kv, notifyEnv) {
			env = append(env, kv)
		}
	}
	cmd := &exec.Cmd{
		Path: exe, Args: argv, Env: env,
		Stdin: devnull, Stdout: stdout, Stderr: stderr,
		ExtraFiles: []*os.File{w},
		// A session of its own: the terminal's Ctrl-C and hang-up are
		// not the background process's.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	err = cmd.Start()
	w.Close()
	if err != nil {
		return 1, fmt.Errorf("cannot start in the background: %w", err)
	}
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		ready <- line == readyWord+"\n"
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for {
		select {
		case ok := <-ready:
			if !ok {
				ready = nil // it is ending: its exit status says how
				continue
			}
			daemon.SdNotify(false, fmt.Sprintf("READY=1\nMAINPID=%d", cmd.Process.Pid))
			return 0, nil
		case err := <-exited:
			return exitStatus(err)
		case s := <-sigs:
			cmd.Process.Signal(s)
		}
	}
}

func hasKey(kv, key string) bool {
	return len(kv) > len(key) && kv[:len(key)] == key && kv[len(key)] == '='
}

// exitStatus is the background process's exit status.
func exitStatus(err error) (int, error) {
	if err == nil {
		return 0, errors.New("the background process ended before it was ready")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return 1, err
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 1, fmt.Errorf("the background process was killed by %v", ws.Signal())
	}
	return ee.ExitCode(), nil
}

// Notifier tells whoever started this process that it is ready: the
// process that started it in the background, and systemd. Its methods do
// nothing where there is nobody to tell; a nil *Notifier is valid.
type Notifier struct {
	ready   *os.File // the readiness pipe; nil in the foreground
	systemd bool
	mu      sync.Mutex
	done    bool // Ready was called
}

// Current is this process's Notifier. It takes the readiness pipe's
// variable out of the environment, so that the commands this process runs
// do not see it.
func Current() *Notifier {
	n := &Notifier{systemd: os.Getenv(notifyEnv) != ""}
	v, ok := os.LookupEnv(readyEnv)
	if !ok {
		return n
	}
	os.Unsetenv(readyEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return n
	}
	syscall.CloseOnExec(fd)
	n.ready = os.NewFile(uintptr(fd), "ready")
	return n
}

// Background reports whether Background started this process.
func (n *Notifier) Background() bool { return n != nil && n.ready != nil }

// Ready says that the service is ready, with a status line for systemd;
// called again, it only updates the status. In the background, stdout and
// stderr are first pointed at out (a log file or /dev/null; nil keeps
// them, e.g. on the journal), so that nothing this process writes reaches
// the terminal after the process that started it has exited.
func (n *Notifier) Ready(status string, out *os.File) error {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done {
		n.Status(status)
		return nil
	}
	n.done = true
	if n.systemd {
		daemon.SdNotify(false, "READY=1\nSTATUS="+status)
	}
	if n.ready == nil {
		return nil
	}
	var err error
	if out != nil {
		for _, fd := range []int{1, 2} {
			if e := unix.Dup3(int(out.Fd()), fd, 0); e != nil && err == nil {
				err = fmt.Errorf("redirect descriptor %d: %w", fd, e)
			}
		}
	}
	if _, e := n.ready.WriteString(readyWord + "\n"); e != nil && err == nil {
		err = fmt.Errorf("tell the starting process: %w", e)
	}
	n.ready.Close()
	return err
}

// Status tells systemd what the service is doing (systemctl status shows
// it).
func (n *Notifier) Status(status string) {
	if n != nil && n.systemd {
		daemon.SdNotify(false, "STATUS="+status)
	}
}

// Stopping tells systemd that the service is stopping.
func (n *Notifier) Stopping() {
	if n != nil && n.systemd {
		daemon.SdNotify(false, "STOPPING=1")
	}
}
