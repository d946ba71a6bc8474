package tree

import (
	"context"
	"errors"
	"io"
	"os"
	"time"
)

// A WiFi blip ends the session while reads are in flight, and the camera
// often answers again at once: identity by place keeps every inode and
// cached block valid across the reconnection, so a read cut by the loss
// (or started while the camera is away) waits for the next session, up to
// Config.ResumeWithin after the loss, and goes on from the byte it reached.
// Only past that does it fail (EIO). A session lost because the camera did
// not answer for --timeout is not waited for again: the read has waited
// its --timeout already (a slow or silent camera would cost it another).

// MaxResumes is how many times one read (or listing) resumes on a new
// session: a camera that drops every session mid-read fails the read
// instead of looping.
const MaxResumes = 2

// sessionChangedLocked tells those waiting in awaitSession that the camera
// changed (lost or back). t.mu must be held.
func (t *Tree) sessionChangedLocked() {
	close(t.sessionCh)
	t.sessionCh = make(chan struct{})
}

// lost reports whether err, from an operation of cam's session, came from
// losing that session (its transport broke) rather than from the camera's
// answer. A camera that cannot tell is never waited for.
func lost(cam Camera) bool {
	lr, ok := cam.(LossReporter)
	if !ok {
		return false
	}
	ch := lr.Lost()
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// resumeDeadline is how long a read cut now may wait for the next session:
// ResumeWithin after the loss (after now, when the tree has not noticed it
// yet).
func (t *Tree) resumeDeadline() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cam == nil && !t.lostAt.IsZero() {
		return t.lostAt.Add(t.resumeWithin)
	}
	return time.Now().Add(t.resumeWithin)
}

// resumeUntil returns the deadline of one read's or listing's waits for a
// new session: resumeDeadline when it first meets a loss, fixed from then.
func (t *Tree) resumeUntil() func() time.Time {
	var deadline time.Time
	return func() time.Time {
		if deadline.IsZero() {
			deadline = t.resumeDeadline()
		}
		return deadline
	}
}

// awaitSession waits for a session later than gen, for a read (or a
// listing) that failed with err on gen's session cam because it was lost
// (cam nil: the read found the tree disconnected), until deadline. It returns true once one
// is attached, false when the read must fail: the loss was not the
// session's, or came from the camera not answering for --timeout (the read
// has waited that long already: os.ErrDeadlineExceeded, ptpip's "no
// progress" and "too slow"), resuming is off, the deadline passed, or ctx
// or the tree ended.
func (t *Tree) awaitSession(ctx context.Context, cam Camera, gen uint64, err error, deadline time.Time) bool {
	if t.resumeWithin <= 0 || ctx.Err() != nil || (cam != nil && !lost(cam)) || errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		t.mu.Lock()
		if t.cam != nil && t.gen != gen {
			t.mu.Unlock()
			return true
		}
		ch := t.sessionCh
		t.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return false
		case <-ctx.Done():
			return false
		case <-t.ctx.Done():
			return false
		}
	}
}

// readResuming streams n bytes of file o from off into w, resuming on the
// next session (at most MaxResumes times, within ResumeWithin of its first
// cut) when its session is lost. It returns how many bytes w got, each
// exactly once.
func (t *Tree) readResuming(ctx context.Context, o *Object, off int64, n int64, w io.Writer) (int64, error) {
	var total int64
	until := t.resumeUntil()
	for resumes := 0; ; resumes++ {
		cam, gen, at, err := t.session(o)
		if err != nil {
			if err == ErrDisconnected && resumes <= MaxResumes && t.awaitSession(ctx, nil, gen, err, until()) {
				t.resumed(resumes)
				continue
			}
			return total, err
		}
		got, err := cam.ReadAt(ctx, at.handle, off+total, uint32(n-total), w)
		total += got
		if err == nil || total >= n || resumes >= MaxResumes || !t.awaitSession(ctx, cam, gen, err, until()) {
			return total, err
		}
		t.resumed(resumes)
		t.log.Info("read resumes on the new session", "path", "/"+o.Path(), "at", off+total, "cut_by", err)
	}
}

// resumed counts a read going on in a new session (Stats), once per read.
func (t *Tree) resumed(before int) {
	if before == 0 {
		t.readsResumed.Add(1)
	}
}

// ListingsResumed is how many listings waited for a new session and
// listed there.
func (t *Tree) ListingsResumed() int64 { return t.listingsResumed.Load() }

// ReadsResumed is how many reads waited for a new session and went on
// there.
func (t *Tree) ReadsResumed() int64 { return t.readsResumed.Load() }

// Reconnections is how many times the tree was attached to a new session
// (Reconnect succeeded).
func (t *Tree) Reconnections() int64 { return t.reconnections.Load() }
