package fusefs

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// SyncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func Logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// The same cause is logged at error level once, however many reads fail
// with it; a different cause is logged again.
func TestErrnoLoggedOnce(t *testing.T) {
	var buf SyncBuffer
	m := newErrnoMapper(slog.New(slog.NewTextHandler(&buf, nil)))
	gone := errors.New("ptpip: session broken")
	for off := range 50 {
		m.errno("read", fmt.Errorf("read %q at %d: %w", "SD/A.JPG", off*4096, gone))
	}
	m.errno("read", fmt.Errorf("read: %w", errors.New("ptpip: timeout")))
	if n := strings.Count(buf.String(), "level=ERROR"); n != 2 {
		t.Fatalf("%d error records, want 2:\n%s", n, buf.String())
	}
}
