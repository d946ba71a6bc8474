package fusefs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"syscall"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree"
)

// errnoMapper is the one place where errors become syscall.Errno (rclone's
// translateError):
//
//	nil                                 0
//	ErrNotFound, InvalidObjectHandle    ENOENT  (the object is gone)
//	a directory read as a file          EISDIR
//	AccessDenied                        EACCES  (the camera refuses this
//	                                             object; the others read)
//	context.Canceled                    EINTR   (the reader was interrupted)
//	anything else                       EIO     (camera gone, timeout,
//	                                             protocol error), logged
//	                                             once per distinct cause
//
// Writes never get here: they are refused with EROFS where they arrive.
type errnoMapper struct {
	log *slog.Logger
	// quiet, when set and true, logs every failure at debug level: the
	// mount is being stopped and its session ended under what waits.
	quiet func() bool

	mu     sync.Mutex
	seen   map[string]bool // causes already logged
	denied bool            // an AccessDenied was logged
}

// deniedAdvice is said once, on the first photo the camera refuses: a
// Nikon Z on WiFi sends only the photos marked on it (Airnef's notes).
const deniedAdvice = "the camera refuses to send some photos (EACCES): a Nikon Z sends only the photos marked on it; " +
	"mark them in its playback menu (\"Select to send to smart device\") and they appear in \"" + tree.SelectionDirName + "\""

// maxLoggedCauses bounds seen: past it every EIO is logged at debug level.
const maxLoggedCauses = 1024

func newErrnoMapper(log *slog.Logger) *errnoMapper {
	return &errnoMapper{log: log, seen: map[string]bool{}}
}

// errno maps err, returned by operation op, to the errno the kernel gets.
func (m *errnoMapper) errno(op string, err error) syscall.Errno {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, tree.ErrNotFound), errors.Is(err, mtp.RespInvalidObjectHandle):
		return syscall.ENOENT
	case errors.Is(err, tree.ErrNotFile):
		return syscall.EISDIR
	case errors.Is(err, mtp.RespAccessDenied):
		// A Nikon Z answers AccessDenied to reads of images not
		// marked for upload: the object is there and the session is
		// fine, so this is a permission answer, not an I/O error.
		// StoreNotAvailable (card gone, low battery) stays EIO.
		m.mu.Lock()
		first := !m.denied
		m.denied = true
		m.mu.Unlock()
		if first {
			m.log.Warn(deniedAdvice, "op", op)
		} else {
			m.log.Debug("the camera refused a photo", "op", op, "err", err)
		}
		return syscall.EACCES
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	}
	cause := rootCause(err).Error()
	m.mu.Lock()
	first := !m.seen[cause] && len(m.seen) < maxLoggedCauses
	if first {
		m.seen[cause] = true
	}
	m.mu.Unlock()
	if first && (m.quiet == nil || !m.quiet()) {
		m.log.Error("camera operation failed; answering EIO (further failures with this cause are logged at debug level)",
			"op", op, "err", err)
	} else {
		m.log.Debug("camera operation failed", "op", op, "err", err)
	}
	return syscall.EIO
}

// rootCause follows a chain of wrapped errors to the innermost one (the
// first branch of a joined error), so that the same failure at different
// offsets or paths counts as one cause.
func rootCause(err error) error {
	for {
		var next error
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			next = u.Unwrap()
		case interface{ Unwrap() []error }:
			if es := u.Unwrap(); len(es) > 0 {
				next = es[0]
			}
		}
		if next == nil {
			return err
		}
		err = next
	}
}
