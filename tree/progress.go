package tree

import (
	"log/slog"
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
}

func newProgress(log *slog.Logger, msg string, every time.Duration) *progress {
	now := time.Now()
	return &progress{log: log, msg: msg, every: every, start: now, next: now.Add(every)}
}

// tick reports that done of total items are done.
func (p *progress) tick(done, total int, attrs ...any) {
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
