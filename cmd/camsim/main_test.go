package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// buildCamsim builds this command into a temporary directory.
func buildCamsim(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "camsim")
	out, err := exec.CommandContext(ctx, "go", "build", "-buildvcs=false", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestCommand(t *testing.T) {
	bin := buildCamsim(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "DCIM", "100TEST"), 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("serve and SIGTERM", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--listen", "127.0.0.1:0", "--dir", dir, "--model", "Test Model", "--debug")
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() {
			t.Fatalf("no output; stderr:\n%s", stderr.String())
		}
		m := regexp.MustCompile(`^listening (127\.0\.0\.1:[1-9][0-9]*)$`).FindStringSubmatch(lines.Text())
		if m == nil {
			t.Fatalf("first line %q, want \"listening 127.0.0.1:PORT\"", lines.Text())
		}

		// It is a camera: the handshake works and the Ack carries the model.
		c, err := net.DialTimeout("tcp", m[1], 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if err := ptpip.WritePacket(c, &ptpip.InitCommandRequest{Name: "test", Version: ptpip.Version}); err != nil {
			t.Fatal(err)
		}
		p, err := ptpip.ReadPacket(c, 1<<10)
		if ack, ok := p.(*ptpip.InitCommandAck); err != nil || !ok || ack.Name != "Test Model" {
			t.Fatalf("init: %v %+v", err, p)
		}

		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if lines.Scan() {
			t.Errorf("more output: %q", lines.Text())
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("exit after SIGTERM: %v; stderr:\n%s", err, stderr.String())
		}
		if !strings.Contains(stderr.String(), "level=") {
			t.Errorf("no slog output on stderr:\n%s", stderr.String())
		}
	})

	exitCode := func(t *testing.T, args ...string) (int, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0, string(out)
		case errors.As(err, &ee):
			return ee.ExitCode(), string(out)
		}
		t.Fatal(err)
		return 0, ""
	}
	t.Run("help", func(t *testing.T) {
		code, out := exitCode(t, "--help")
		if code != 0 {
			t.Errorf("--help: status %d", code)
		}
		for _, flag := range []string{"-listen", "-dir", "-model", "-serial", "-manufacturer", "-debug",
			"-vendor", "-photos", "-seed", "-folders", "-size", "-video", "-dir2", "-rate", "-latency",
			"-auth-delay", "-probe", "-control", "state", "add SRC", "delete PATH", "stall DURATION", "drop",
			"refuse-init REASON", "announce", "press", "-ssdp", "-sony-paired-mac", "-sony-giveup",
			"-body", "-list-bodies", "-quirk", "tid-zero", "storage-mismatch", "proplist-drops",
			"-strict-sending", "-without"} {
			if !strings.Contains(out, flag) {
				t.Errorf("--help does not document %s:\n%s", flag, out)
			}
		}
	})
	for name, args := range map[string][]string{
		"unknown flag":     {"--dir", dir, "--bogus"},
		"no dir":           {"--listen", "127.0.0.1:0"},
		"extra argument":   {"--dir", dir, "extra"},
		"dir and photos":   {"--dir", dir, "--photos", "3"},
		"bad vendor":       {"--dir", dir, "--vendor", "pentax"},
		"bad paired mac":   {"--dir", dir, "--vendor", "sony", "--sony-paired-mac", "nope"},
		"bad probe":        {"--dir", dir, "--probe", "maybe"},
		"bad size":         {"--photos", "3", "--size", "lots"},
		"bad body":         {"--photos", "3", "--body", "d1"},
		"bad quirk":        {"--photos", "3", "--quirk", "tid-seven"},
		"without, no body": {"--photos", "3", "--without", "0x9109"},
		"bad without":      {"--photos", "3", "--body", "eos-80d", "--without", "GetObjectInfoEx"},
	} {
		t.Run(name, func(t *testing.T) {
			if code, out := exitCode(t, args...); code != 2 || !strings.Contains(out, "Usage") {
				t.Errorf("status %d, want 2 with usage; output:\n%s", code, out)
			}
		})
	}
	t.Run("list-bodies", func(t *testing.T) {
		code, out := exitCode(t, "--list-bodies")
		if code != 0 {
			t.Fatalf("--list-bodies: status %d\n%s", code, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(camsim.Bodies()) {
			t.Fatalf("%d lines, want %d bodies:\n%s", len(lines), len(camsim.Bodies()), out)
		}
		for i, b := range camsim.Bodies() {
			if f := strings.Split(lines[i], "\t"); len(f) != 3 || f[0] != b.Name || f[2] != b.Model {
				t.Errorf("line %q, want %s, its make, %s", lines[i], b.Name, b.Model)
			}
		}
	})
	t.Run("generated nikon with control socket", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		sock := filepath.Join(t.TempDir(), "ctl")
		cmd := exec.CommandContext(ctx, bin, "--listen", "127.0.0.1:0", "--vendor", "nikon", "--photos", "3",
			"--seed", "5", "--video", "5Gi", "--control", sock)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		defer cmd.Process.Kill()
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() || !strings.HasPrefix(lines.Text(), "listening ") {
			t.Fatalf("first line %q", lines.Text())
		}
		c, err := net.DialTimeout("unix", sock, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprintln(c, "state")
		answer, err := bufio.NewReader(c).ReadString('\n')
		// 3 photos, some with a NEF, a movie, DCIM and one folder.
		if err != nil || !regexp.MustCompile(`^ok personality=d7200 connections=0 sessions=0 objects=([6-9]) storages=0x10001 `).MatchString(answer) {
			t.Errorf("state: %q, %v", answer, err)
		}
	})
	t.Run("missing dir", func(t *testing.T) {
		if code, _ := exitCode(t, "--listen", "127.0.0.1:0", "--dir", filepath.Join(dir, "nope")); code != 1 {
			t.Errorf("status %d, want 1", code)
		}
	})
}
