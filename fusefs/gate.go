package fusefs

import (
	"context"
	"sync"
)

// Gate counts the reads in progress, so that stopping a mount can say how
// many it waits for, and ends them: after Close a new read fails with EIO
// at once (a copy stops at its next read instead of running to its end);
// after Abort the reads in progress fail with EIO too. Their fetches are
// not cancelled: a fetch is the cache's, and ends on its own.
type Gate struct {
	mu      sync.Mutex
	n       int           // reads in progress
	closed  bool          // Close was called
	idle    chan struct{} // closed once closed and n == 0
	abort   context.Context
	aborted context.CancelFunc
}

// NewGate returns an open gate.
func NewGate() *Gate {
	g := &Gate{idle: make(chan struct{})}
	g.abort, g.aborted = context.WithCancel(context.Background())
	return g
}

// enter starts a read: its context ends with ctx or at Abort. ok is false
// once the gate is closed. leave ends the read.
func (g *Gate) enter(ctx context.Context) (rctx context.Context, leave func(), ok bool) {
	if g == nil {
		return ctx, func() {}, true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, nil, false
	}
	g.n++
	rctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(g.abort, cancel)
	return rctx, func() {
		stop()
		cancel()
		g.mu.Lock()
		defer g.mu.Unlock()
		g.n--
		if g.closed && g.n == 0 {
			close(g.idle)
		}
	}, true
}

// aborting reports whether Abort was called: a read that failed for it
// answers EIO, not EINTR.
func (g *Gate) aborting() bool { return g != nil && g.abort.Err() != nil }

// Close makes every later read fail with EIO and returns how many reads are
// in progress; Idle is closed once they have ended.
func (g *Gate) Close() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed = true
		if g.n == 0 {
			close(g.idle)
		}
	}
	return g.n
}

// closing reports whether Close was called.
func (g *Gate) closing() bool {
	if g == nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// InProgress is the number of reads in progress.
func (g *Gate) InProgress() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.n
}

// Idle is closed once the gate is closed and no read is in progress.
func (g *Gate) Idle() <-chan struct{} { return g.idle }

// Abort closes the gate and makes the reads in progress fail with EIO now.
func (g *Gate) Abort() {
	g.Close()
	g.aborted()
}
