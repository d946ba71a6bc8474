package service

import (
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes the test binary, started again by Background, act as the
// background process: its value says what to do.
const childEnv = "SERVICE_TEST_CHILD"

func TestMain(m *testing.M) {
	if what := os.Getenv(childEnv); what != "" {
		os.Exit(child(what))
	}
	os.Exit(m.Run())
}

// child is the background process of the tests.
func child(what string) int {
	n := Current()
	if !n.Background() || os.Getenv(readyEnv) != "" {
		os.Stderr.WriteString("not started by Background, or the variable was left set\n")
		return 9
	}
	switch what {
	case "ready":
		os.Stdout.WriteString("mounted\n")
		out, _ := os.OpenFile(os.Getenv("SERVICE_TEST_AFTER"), os.O_WRONLY|os.O_APPEND, 0)
		if err := n.Ready("mounted", out); err != nil {
			return 8
		}
		os.Stdout.WriteString("after ready\n") // goes to out, not the terminal
		os.Stderr.WriteString("log after ready\n")
		return 0
	case "refused":
		os.Stderr.WriteString("airnef-mount: the camera refused\n")
		return 3
	case "signal":
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM)
		os.Stderr.WriteString("waiting\n")
		<-c
		return 130
	case "killed":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	return 7
}

// run runs Background with the test binary as the program.
func run(t *testing.T, what string, sigs <-chan os.Signal) (code int, err error, stdout, stderr string) {
	t.Helper()
	return runIn(t, filepath.Join(t.TempDir(), "stderr"), what, sigs)
}

// runIn is run with the background process's stderr in the file stderrPath.
func runIn(t *testing.T, stderrPath, what string, sigs <-chan os.Signal) (code int, err error, stdout, stderr string) {
	t.Helper()
	out, _ := os.Create(filepath.Join(t.TempDir(), "stdout"))
	errf, _ := os.Create(stderrPath)
	defer out.Close()
	defer errf.Close()
	t.Setenv(childEnv, what)
	done := make(chan struct{})
	go func() {
		code, err = Background([]string{os.Args[0]}, out, errf, sigs)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Background did not return within 30s")
	}
	b1, _ := os.ReadFile(out.Name())
	b2, _ := os.ReadFile(errf.Name())
	return code, err, string(b1), string(b2)
}

func TestBackgroundReady(t *testing.T) {
	after := filepath.Join(t.TempDir(), "log")
	os.WriteFile(after, nil, 0o644)
	t.Setenv("SERVICE_TEST_AFTER", after)
	code, err, stdout, _ := run(t, "ready", nil)
	if code != 0 || err != nil {
		t.Fatalf("Background = %d, %v", code, err)
	}
	if stdout != "mounted\n" {
		t.Errorf("stdout %q, want only what was written before ready", stdout)
	}
	// The background process goes on writing, to out only.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(after)
		if strings.Contains(string(b), "after ready\n") && strings.Contains(string(b), "log after ready\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("output after ready: %q", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestBackgroundExitStatus(t *testing.T) {
	code, err, _, stderr := run(t, "refused", nil)
	if code != 3 || err != nil || stderr != "airnef-mount: the camera refused\n" {
		t.Errorf("Background = %d, %v, stderr %q; want 3 and the message", code, err, stderr)
	}
	code, err, _, _ = run(t, "killed", nil)
	if code != 1 || err == nil || !strings.Contains(err.Error(), "killed") {
		t.Errorf("killed: Background = %d, %v", code, err)
	}
}

// A signal to the starting process is passed on; the exit status is the
// background process's.
func TestBackgroundSignal(t *testing.T) {
	sigs := make(chan os.Signal, 1)
	stderrFile := filepath.Join(t.TempDir(), "stderr")
	go func() {
		// Once the background process listens for it.
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if b, _ := os.ReadFile(stderrFile); strings.Contains(string(b), "waiting") {
				break
			}
		}
		sigs <- syscall.SIGTERM
	}()
	code, err, _, stderr := runIn(t, stderrFile, "signal", sigs)
	if code != 130 || err != nil {
		t.Errorf("Background = %d, %v (stderr %q), want 130", code, err, stderr)
	}
}

// Ready, Status and Stopping reach systemd's notification socket; READY=1
// only once, a second Ready is a status.
func TestNotifySystemd(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv(notifyEnv, sock)
	n := Current()
	if n.Background() {
		t.Fatal("Background() without the pipe")
	}
	n.Ready("mounted Nikon D7200 at /mnt", nil)
	n.Ready("again", nil)
	n.Status("2 cameras")
	n.Stopping()
	var got []string
	buf := make([]byte, 4096)
	for range 4 {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		k, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(buf[:k]))
	}
	want := []string{"READY=1\nSTATUS=mounted Nikon D7200 at /mnt", "STATUS=again", "STATUS=2 cameras", "STOPPING=1"}
	if strconv.Quote(strings.Join(got, "|")) != strconv.Quote(strings.Join(want, "|")) {
		t.Errorf("notifications %q, want %q", got, want)
	}
	var nilN *Notifier
	nilN.Ready("x", nil)
	nilN.Status("x")
	nilN.Stopping()
}
