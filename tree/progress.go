package tree

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ProgressEvery is how often long work (listing a folder of thousands of
// files) logs how far it has got: steady enough to show it is alive, rare
// enough not to flood the journal.
const ProgressEvery = 2 * time.Second

// progress logs a long job's progress at info level, at most once every
// ProgressEvery, and never for a job that ends before the first interval.
type progress struct {
	log   *slog.Logger
	msg   string
	every time.Duration
	start time.Time
	next  time.Time

	done, total atomic.Int64 // the last tick's, for Tree.Listing
}

func newProgress(log *slog.Logger, msg string, every time.Duration) *progress {
	now := time.Now()
	return &progress{log: log, msg: msg, every: every, start: now, next: now.Add(every)}
}

// tick reports that done of total items are done.
func (p *progress) tick(done, total int, attrs ...any) {
	p.done.Store(int64(done))
	p.total.Store(int64(total))
	now := time.Now()
	if now.Before(p.next) {
		return
	}
	p.next = now.Add(p.every)
	elapsed := now.Sub(p.start)
	args := append([]any{"done", done, "total", total, "elapsed", elapsed.Round(time.Second)}, attrs...)
	if done > 0 && total > done {
		left := time.Duration(float64(elapsed) / float64(done) * float64(total-done))
		args = append(args, "left", left.Round(time.Second))
	}
	p.log.Info(p.msg, args...)
}

// ListingProgress is how far the listings in progress have got, for
// status: the folders being listed one object at a time, the objects
// described and known in them, and the time the rest should take at the
// pace so far.
type ListingProgress struct {
	Folders     int
	Done, Known int64
	Left        time.Duration
}

// progressSet is the progress of the listings running now.
type progressSet struct {
	mu  sync.Mutex
	set map[*progress]struct{}
}

// track counts p in Listing until the returned function is called.
func (t *Tree) track(p *progress) (untrack func()) {
	ps := &t.progress
	ps.mu.Lock()
	if ps.set == nil {
		ps.set = map[*progress]struct{}{}
	}
	ps.set[p] = struct{}{}
	ps.mu.Unlock()
	return func() {
		ps.mu.Lock()
		delete(ps.set, p)
		ps.mu.Unlock()
	}
}

// Listing is how far the listings in progress have got. They share the one
// session, so the time left is the sum of theirs.
func (t *Tree) Listing() ListingProgress {
	ps := &t.progress
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var lp ListingProgress
	now := time.Now()
	for p := range ps.set {
		done, total := p.done.Load(), p.total.Load()
		lp.Folders++
		lp.Done += done
		lp.Known += total
		if done > 0 && total > done {
			lp.Left += time.Duration(float64(now.Sub(p.start)) / float64(done) * float64(total-done))
		}
	}
	return lp
}
