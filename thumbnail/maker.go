package thumbnail

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
)

// Job is one thumbnail to make: what it is of, and how to get the
// camera's thumbnail bytes.
type Job struct {
	Entry
	// Name is the file's path as logs show it.
	Name  string
	Fetch func(ctx context.Context) ([]byte, error)
}

// Stats counts what a Maker did.
type Stats struct {
	Made    uint64 // thumbnails written
	Skipped uint64 // already valid in the cache
	None    uint64 // the file has none (ErrNone)
	Failed  uint64 // fetch, decode or write failed, or the image was refused
	Bytes   uint64 // thumbnail bytes fetched
	Pending int    // jobs waiting now
}

// Maker makes thumbnails in the background, one at a time (the camera
// answers one operation at a time, and file reads come first). Add never
// blocks: the caller is listing a directory for someone.
type Maker struct {
	cache *Cache
	log   *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wake   chan struct{}
	done   chan struct{}

	mu     sync.Mutex
	queue  []Job            // next job first
	known  map[string]Entry // queued or done, by URI: not made again
	busy   bool             // a job is running
	warned bool             // a write failure was logged at Warn
	stats  struct{ made, skipped, none, failed, bytes atomic.Uint64 }
}

// NewMaker starts a Maker writing into cache. Close stops it.
func NewMaker(cache *Cache, log *slog.Logger) *Maker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Maker{
		cache: cache, log: log, ctx: ctx, cancel: cancel,
		wake: make(chan struct{}, 1), done: make(chan struct{}),
		known: map[string]Entry{},
	}
	go m.run()
	return m
}

// Add queues jobs ahead of those already waiting (the folder listed last
// is the one on screen), in their order. A job for an entry already
// queued or made is dropped.
func (m *Maker) Add(jobs []Job) {
	m.mu.Lock()
	var fresh []Job
	for _, j := range jobs {
		if e, ok := m.known[j.URI]; ok && e == j.Entry {
			continue
		}
		m.known[j.URI] = j.Entry
		fresh = append(fresh, j)
	}
	if len(fresh) > 0 {
		m.queue = append(fresh, m.queue...)
	}
	m.mu.Unlock()
	if len(fresh) > 0 {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
}

// Close stops making thumbnails (the one being fetched is abandoned) and
// waits for the worker to end.
func (m *Maker) Close() {
	m.cancel()
	<-m.done
}

// Stats returns the counters.
func (m *Maker) Stats() Stats {
	m.mu.Lock()
	pending := len(m.queue)
	m.mu.Unlock()
	return Stats{
		Made: m.stats.made.Load(), Skipped: m.stats.skipped.Load(), None: m.stats.none.Load(),
		Failed: m.stats.failed.Load(), Bytes: m.stats.bytes.Load(), Pending: pending,
	}
}

// Idle reports whether no job is waiting or running.
func (m *Maker) Idle() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.queue) == 0 && !m.busy
}

func (m *Maker) run() {
	defer close(m.done)
	for {
		m.mu.Lock()
		m.busy = false
		if len(m.queue) == 0 {
			m.mu.Unlock()
			select {
			case <-m.wake:
				continue
			case <-m.ctx.Done():
				return
			}
		}
		j := m.queue[0]
		m.queue = m.queue[1:]
		m.busy = true
		m.mu.Unlock()
		if m.ctx.Err() != nil {
			return
		}
		m.make(j)
	}
}

// make makes one thumbnail unless a valid one is there. A file without
// one, or whose image does not decode or is refused, is not tried again
// while its entry stays the same; a failed fetch is, at the next listing
// (the camera may have been busy).
func (m *Maker) make(j Job) {
	if m.cache.Valid(j.Entry) {
		m.stats.skipped.Add(1)
		return
	}
	data, err := j.Fetch(m.ctx)
	m.stats.bytes.Add(uint64(len(data)))
	if err == nil {
		err = m.cache.Write(j.Entry, data)
	}
	switch {
	case err == nil:
		m.stats.made.Add(1)
		m.log.Debug("thumbnail made", "file", j.Name, "bytes", len(data))
		return
	case errors.Is(err, ErrNone):
		m.stats.none.Add(1)
		m.log.Debug("no thumbnail", "file", j.Name)
		return
	}
	m.stats.failed.Add(1)
	switch {
	case m.ctx.Err() != nil:
	case errors.Is(err, ErrTooLarge):
		m.log.Warn("thumbnail refused", "file", j.Name, "err", err)
	case errors.Is(err, ErrDecode):
		m.log.Debug("making a thumbnail failed", "file", j.Name, "err", err)
	default:
		m.mu.Lock()
		delete(m.known, j.URI)
		warn := !m.warned
		m.warned = true
		m.mu.Unlock()
		if warn {
			m.log.Warn("making a thumbnail failed (further failures are logged at debug level)", "file", j.Name, "err", err)
		} else {
			m.log.Debug("making a thumbnail failed", "file", j.Name, "err", err)
		}
	}
}
