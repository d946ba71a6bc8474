package fusefs

import (
	"fmt"
	"syscall"
	"testing"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// A camera refusing one object is a permission answer; a card that is
// not available is the camera being gone for now.
func TestErrnoCameraRefusals(t *testing.T) {
	m := newErrnoMapper(Logger(t))
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
