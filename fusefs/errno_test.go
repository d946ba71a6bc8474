package fusefs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// A camera refusing one object is a permission answer; a card that is
// not available is the camera being gone for now.
func TestErrnoCameraRefusals(t *testing.T) {
	m := newErrnoMapper(treetest.Logger(t))
	for name, tc := range map[string]struct {
		err  error
		want syscall.Errno
	}{
		"access denied":       {fmt.Errorf("read %q at 0: %w", "SD/A.JPG", mtp.RespAccessDenied), syscall.EACCES},
		"store not available": {fmt.Errorf("read %q at 0: %w", "SD/A.JPG", mtp.RespStoreNotAvailable), syscall.EIO},
	} {
		t.Run(name, func(t *testing.T) {
			if got := m.errno("read", tc.err); got != tc.want {
				t.Errorf("errno(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestErrno(t *testing.T) {
	m := newErrnoMapper(treetest.Logger(t))
	tests := map[string]struct {
		err  error
		want syscall.Errno
	}{
		"nil":          {nil, 0},
		"not found":    {fmt.Errorf("lookup: %w", tree.ErrNotFound), syscall.ENOENT},
		"gone":         {fmt.Errorf("read: %w", mtp.RespInvalidObjectHandle), syscall.ENOENT},
		"dir":          {tree.ErrNotFile, syscall.EISDIR},
		"interrupted":  {fmt.Errorf("read: %w", context.Canceled), syscall.EINTR},
		"timeout":      {fmt.Errorf("read: %w", context.DeadlineExceeded), syscall.EIO},
		"camera":       {fmt.Errorf("read: %w", mtp.RespGeneralError), syscall.EIO},
		"transport":    {errors.New("ptpip: session broken"), syscall.EIO},
		"an errno":     {fmt.Errorf("dial: %w", syscall.ECONNREFUSED), syscall.EIO},
		"too many":     {fmt.Errorf("list: %w", tree.ErrTooManyObjects), syscall.EIO},
		"disconnected": {tree.ErrDisconnected, syscall.EIO},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := m.errno("test", tc.err); got != tc.want {
				t.Errorf("errno(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// The same cause is logged at error level once, however many reads fail
// with it; a different cause is logged again.
func TestErrnoLoggedOnce(t *testing.T) {
	var buf treetest.SyncBuffer
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

// The first refused photo logs the advice to mark photos on the camera,
// one line; the next ones only at debug level.
func TestErrnoDeniedAdviceOnce(t *testing.T) {
	var buf strings.Builder
	m := newErrnoMapper(slog.New(slog.NewTextHandler(&buf, nil)))
	for i := range 3 {
		if got := m.errno("read", fmt.Errorf("read %d: %w", i, mtp.RespAccessDenied)); got != syscall.EACCES {
			t.Fatalf("errno = %v", got)
		}
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "Select to send to smart device") || !strings.Contains(out, tree.SelectionDirName) {
		t.Fatalf("logged:\n%s", out)
	}
}
