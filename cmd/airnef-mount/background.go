package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/airnef-mount/airnef-mount/internal/service"
)

// background mounts in a process of its own (service.Background, with
// the same command line) and returns once it has mounted, or with its exit
// status (it has said why on stderr). Ctrl-C and SIGTERM are passed on.
func background(argv []string, stdout, stderr io.Writer) error {
	so, ok1 := stdout.(*os.File)
	se, ok2 := stderr.(*os.File)
	if !ok1 || !ok2 {
		return failErr("cannot mount in the background without standard output and error files")
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	code, err := service.Background(argv, so, se, sigs)
	switch {
	case err != nil:
		return &exitError{code: max(code, exitFailure), err: err}
	case code != exitOK:
		return statusError(code)
	}
	return nil
}

// announce prints line ("mounted ...", "waiting for cameras ...") and
// tells whoever waits for this process that it is ready, and what it does:
// the process that started it in the background (which then exits 0), and
// systemd. Once ready in the background, stdout and stderr are the log
// file or /dev/null: nothing reaches the terminal any more.
func (m *mounter) announce(line string) {
	fmt.Fprintln(m.stdout, line)
	if err := m.svc.Ready(line, m.detached); err != nil {
		m.log.Warn("could not tell the starting process that the camera is mounted", "err", err)
	}
}
