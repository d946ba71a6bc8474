package sched

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Anticipate is how long the session waits, after a User or Demand request
// ends, for that owner's next one before it serves another owner's less
// urgent request: it trades that much idle link after a user's last
// request against a copy's request slipping between two of the user's (a
// listing runs one request after another).
const Anticipate = 20 * time.Millisecond

// Memory is how long after another owner's User or Demand request a
// speculative request stays capped (Contended): it trades a copy's link
// use (about 92% instead of 97% on WiFi) for that long after each user
// action against the wait of the user's next one (one capped request).
const Memory = 2 * time.Second

// Starve is the longest a Background turn waits behind User and Demand
// turns: then it goes next. Change detection is background work, and
// readers that never pause (a copy of a whole card, a soak) would
// otherwise keep every new shot out of the mount for as long as they read;
// a user's request waits for at most one background request per Starve.
const Starve = time.Second

// Scheduler hands out the one session's turns. It is safe for concurrent
// use. The zero value is not usable: see New.
type Scheduler struct {
	mu     sync.Mutex
	busy   *Turn            // the turn granted, nil when the session is free
	queues [classes][]*Turn // waiting turns per class, oldest first
	seen   map[Owner]time.Time
	// After a User or Demand turn of owner ends, another owner's turn of
	// a class less urgent than class waits until until (Anticipate).
	anticipated struct {
		owner Owner
		class Class
		until time.Time
	}
	timer *time.Timer // dispatches when the anticipation ends
}

// New returns a scheduler with the session free.
func New() *Scheduler {
	return &Scheduler{seen: make(map[Owner]time.Time)}
}

// Turn is a place in the queue for the session, then the session itself
// once granted, until Done.
type Turn struct {
	s     *Scheduler
	class Class
	owner Owner
	ready chan struct{} // closed when granted
	state turnState     // guarded by s.mu
	since time.Time     // when it was queued in its class
}

type turnState uint8

const (
	queued turnState = iota
	granted
	done
)

// Class returns the class t waits or runs in.
func (t *Turn) Class() Class {
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	return t.class
}

// Enter queues a turn of class c for owner o.
func (s *Scheduler) Enter(c Class, o Owner) *Turn {
	t := &Turn{s: s, class: c, owner: o, ready: make(chan struct{}), since: time.Now()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.waitedOn() {
		s.seeLocked(o, time.Now())
	}
	s.queues[c] = append(s.queues[c], t)
	s.dispatchLocked()
	return t
}

// Acquire waits for a turn of class c for owner o; the caller ends it with
// Done. When ctx ends first it returns ctx's error and no turn.
func (s *Scheduler) Acquire(ctx context.Context, c Class, o Owner) (*Turn, error) {
	t := s.Enter(c, o)
	if err := t.Wait(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// Wait waits until t is granted. When ctx ends first, t leaves the queue
// (or gives the session back, if granted meanwhile) and Wait returns ctx's
// error.
func (t *Turn) Wait(ctx context.Context) error {
	select {
	case <-t.ready:
		return nil
	case <-ctx.Done():
	}
	t.Done()
	return ctx.Err()
}

// Raise moves t, while it waits, to the more urgent class c: a fetch
// queued as read-ahead that a reader now waits for.
func (t *Turn) Raise(c Class) {
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.state != queued || c >= t.class {
		return
	}
	s.removeLocked(t)
	t.class = c
	t.since = time.Now()
	if c.waitedOn() {
		s.seeLocked(t.owner, time.Now())
	}
	s.queues[c] = append(s.queues[c], t)
	s.dispatchLocked()
}

// Done ends t: it gives the session back, or leaves the queue. It may be
// called more than once, and on a nil Turn (no scheduler) does nothing.
func (t *Turn) Done() {
	if t == nil {
		return
	}
	s := t.s
	s.mu.Lock()
	defer s.mu.Unlock()
	switch t.state {
	case queued:
		s.removeLocked(t)
	case granted:
		s.busy = nil
		if t.class.waitedOn() {
			now := time.Now()
			s.seeLocked(t.owner, now)
			s.anticipated.owner, s.anticipated.class, s.anticipated.until = t.owner, t.class, now.Add(Anticipate)
		}
	}
	t.state = done
	s.dispatchLocked()
}

// removeLocked takes the queued t out of its queue. s.mu is held.
func (s *Scheduler) removeLocked(t *Turn) {
	s.queues[t.class] = slices.DeleteFunc(s.queues[t.class], func(u *Turn) bool { return u == t })
}

// dispatchLocked grants the session, when free, to the oldest turn of the
// most urgent class, keeping Anticipate, unless a Background turn has
// waited Starve and no User turn waits. s.mu is held.
func (s *Scheduler) dispatchLocked() {
	if s.busy != nil {
		return
	}
	if q := s.queues[Background]; len(q) > 0 && len(s.queues[User]) == 0 && time.Since(q[0].since) >= Starve {
		s.grantLocked(Background, 0)
		return
	}
	wait := time.Until(s.anticipated.until)
	for c := range Class(classes) {
		q := s.queues[c]
		i := 0
		if c > s.anticipated.class && wait > 0 {
			// Only the anticipated owner's own turns go now.
			i = slices.IndexFunc(q, func(t *Turn) bool { return t.owner == s.anticipated.owner })
			if i < 0 {
				if len(q) > 0 {
					s.wakeLocked(wait)
				}
				continue
			}
		}
		if i >= len(q) {
			continue
		}
		s.grantLocked(c, i)
		return
	}
}

// grantLocked grants the session to the i-th turn of class c. s.mu is
// held.
func (s *Scheduler) grantLocked(c Class, i int) {
	t := s.queues[c][i]
	s.queues[c] = slices.Delete(s.queues[c], i, i+1)
	t.state = granted
	s.busy = t
	close(t.ready)
}

// wakeLocked dispatches again after d, when an anticipation ends. s.mu is
// held.
func (s *Scheduler) wakeLocked(d time.Duration) {
	if s.timer != nil {
		s.timer.Stop()
	}
	s.timer = time.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.dispatchLocked()
	})
}

// Note records a User or Demand request of owner o that waits elsewhere
// (in the cache's own queue) for Contended.
func (s *Scheduler) Note(c Class, o Owner) {
	if !c.waitedOn() {
		return
	}
	s.mu.Lock()
	s.seeLocked(o, time.Now())
	s.mu.Unlock()
}

// seenOwners bounds Scheduler.seen before it is pruned: processes come and
// go over a long mount.
const seenOwners = 32

// seeLocked records a User or Demand request of owner o at now, forgetting
// those older than Memory when many owners are recorded. The mount's own
// requests (owner 0: connecting, listing the storages at the start) are
// not recorded: no user comes back for more after them, and a copy
// started right after mounting would have its first files' requests
// capped for Memory (four more round trips on WiFi). s.mu is held.
func (s *Scheduler) seeLocked(o Owner, now time.Time) {
	if o == 0 {
		return
	}
	if len(s.seen) >= seenOwners {
		for owner, at := range s.seen {
			if now.Sub(at) >= Memory {
				delete(s.seen, owner)
			}
		}
	}
	s.seen[o] = now
}

// Contended reports whether a speculative request of owner o should be
// capped: another owner's User or Demand request waits, or one of another
// process did within Memory (seeLocked).
func (s *Scheduler) Contended(o Owner) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range Class(classes) {
		if !c.waitedOn() {
			break
		}
		for _, t := range s.queues[c] {
			if t.owner != o {
				return true
			}
		}
	}
	now := time.Now()
	contended := false
	for owner, at := range s.seen {
		switch {
		case now.Sub(at) >= Memory:
			delete(s.seen, owner)
		case owner != o:
			contended = true
		}
	}
	return contended
}

// Run runs f, one request, in a turn of the class and owner ctx carries
// (From), or in the turn of s ctx holds (Holding), and returns its error.
// f gets ctx without its cancellation (its deadline stays): an ended ctx
// ends the wait for the turn, never a request under way, so an interrupted
// reader cannot break the session. When ctx ends while waiting, Run
// returns ctx's error and f does not run.
func (s *Scheduler) Run(ctx context.Context, f func(ctx context.Context) error) error {
	if t := s.held(ctx); t != nil {
		return runDetached(ctx, f)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c, o := From(ctx)
	t, err := s.Acquire(ctx, c, o)
	if err != nil {
		return err
	}
	defer t.Done()
	return runDetached(Holding(ctx, t), f)
}

// runDetached runs f on ctx without its cancellation but with its
// deadline.
func runDetached(ctx context.Context, f func(ctx context.Context) error) error {
	d, ok := ctx.Deadline()
	dctx := context.WithoutCancel(ctx)
	if ok {
		var cancel context.CancelFunc
		dctx, cancel = context.WithDeadline(dctx, d)
		defer cancel()
	}
	return f(dctx)
}
