package test

import (
	"bufio"
	"context"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wireCapture records the loopback traffic of TCP port while the test drives
// a PTP/IP session. It returns once tcpdump is capturing; stop makes tcpdump
// flush and exit, and returns a decoder that runs tshark's PTP/IP dissector
// (on port, not only 15740) over the capture with the given arguments.
// Skips the test when tcpdump or tshark is missing.
func wireCapture(t *testing.T, ctx context.Context, port string) (stop func() (decode func(args ...string) string)) {
	t.Helper()
	tcpdump := gphotoTool(t, "tcpdump")
	tshark := gphotoTool(t, "tshark")
	pcap := filepath.Join(t.TempDir(), "cap.pcap")
	dump := exec.CommandContext(ctx, tcpdump, "-i", "lo", "-U", "-w", pcap, "tcp port "+port)
	dump.WaitDelay = 5 * time.Second
	stderr, err := dump.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dump.Process.Kill() })
	// Capturing starts once tcpdump says it is listening.
	lines := bufio.NewScanner(stderr)
	var head []string
	for lines.Scan() && !strings.Contains(lines.Text(), "listening on") {
		head = append(head, lines.Text())
	}
	if lines.Err() != nil || !strings.Contains(lines.Text(), "listening on") {
		t.Fatalf("tcpdump did not start: %v\n%s", lines.Err(), strings.Join(head, "\n"))
	}
	go io.Copy(io.Discard, stderr)

	return func() func(args ...string) string {
		t.Helper()
		// SIGINT makes tcpdump flush and exit.
		if err := dump.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		if err := dump.Wait(); err != nil {
			t.Fatalf("tcpdump: %v", err)
		}
		return func(args ...string) string {
			t.Helper()
			args = append([]string{"-r", pcap, "-d", "tcp.port==" + port + ",ptpip"}, args...)
			out, err := exec.CommandContext(ctx, tshark, args...).Output()
			if err != nil {
				t.Fatalf("tshark %s: %v", strings.Join(args, " "), err)
			}
			return strings.TrimSpace(string(out))
		}
	}
}
