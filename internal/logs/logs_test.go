package logs

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestConsole(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(New(&b, Console, Options{Omit: []string{"guid"}})).With("sys", "ptp")
	log.Info("camera session open", "model", "ILCE-7M3", "guid", "72:e6:eb", "name", "my laptop")
	log.Warn("the camera reports no card")
	log.Error("mount failed", slog.Group("g", "k", 1))
	log.Debug("hidden")
	want := "camera session open sys=ptp model=ILCE-7M3 name=\"my laptop\"\n" +
		"warning: the camera reports no card sys=ptp\n" +
		"error: mount failed sys=ptp g.k=1\n"
	if b.String() != want {
		t.Errorf("console lines:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	slog.New(New(&b, Console, Options{Level: slog.LevelDebug})).WithGroup("cache").Debug("block", "n", 3)
	if got := b.String(); got != "debug: block cache.n=3\n" {
		t.Errorf("debug line %q", got)
	}
}

func TestJournal(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(New(&b, Journal, Options{Level: slog.LevelDebug}))
	log.Debug("d")
	log.Info("i", "v", "two\nlines")
	log.Warn("w")
	log.Error("e")
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	wantPrefix := []string{"<7>level=DEBUG msg=d", `<6>level=INFO msg=i v="two\nlines"`, "<4>level=WARN msg=w", "<3>level=ERROR msg=e"}
	if len(lines) != len(wantPrefix) {
		t.Fatalf("journal lines:\n%s", b.String())
	}
	for i, l := range lines {
		if l != wantPrefix[i] {
			t.Errorf("line %d = %q, want %q", i, l, wantPrefix[i])
		}
	}
}

func TestText(t *testing.T) {
	var b bytes.Buffer
	slog.New(New(&b, Text, Options{})).Info("hello", "guid", "x")
	if !strings.HasPrefix(b.String(), "time=") || !strings.Contains(b.String(), "level=INFO msg=hello guid=x") {
		t.Errorf("text line %q", b.String())
	}
}

// JOURNAL_STREAM names a stream by device and inode: only that stream is
// the journal, not a file the process was redirected to.
func TestFormatFor(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "stream"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	other, err := os.Create(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNAL_STREAM", "")
	if got := FormatFor(f); got != Text {
		t.Errorf("a file: format %v", got)
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino))
	if got := FormatFor(f); got != Journal {
		t.Errorf("the journal stream: format %v", got)
	}
	if got := FormatFor(other); got != Text {
		t.Errorf("another file under JOURNAL_STREAM: format %v", got)
	}
	t.Setenv("JOURNAL_STREAM", "garbage")
	if IsJournal(f) {
		t.Error("a malformed JOURNAL_STREAM names a stream")
	}
}
