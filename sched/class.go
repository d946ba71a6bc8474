package sched

import "context"

//go:generate go run ../internal/codenames -type Class -linecomment

// Class is how urgent a camera request is; a smaller class goes first.
type Class uint8

const (
	// User is metadata a user waits on: lookup, readdir, getattr, statfs,
	// open, and the listings they start.
	User Class = iota // user
	// Demand is file bytes a reader waits on.
	Demand // demand
	// Background is the mount's own work: the warm listing, change
	// polling and diffing, storage refreshes, thumbnails.
	Background // background
	// ReadAhead is file bytes ahead of a sequential reader.
	ReadAhead // read-ahead
	// Prefetch is the first bytes of the file a copying process reads next.
	Prefetch // prefetch

	classes = iota
)

// Speculative reports whether requests of class c fetch what nobody has
// asked for yet.
func (c Class) Speculative() bool { return c >= ReadAhead }

// waitedOn reports whether a user waits for requests of class c.
func (c Class) waitedOn() bool { return c <= Demand }

// Owner is who a request is for: the process a FUSE request came from (its
// PID), or 0 for the mount itself.
type Owner uint32

type ctxKey struct{}

// tag is what a context carries: a class and owner, or a turn held.
type tag struct {
	class Class
	owner Owner
	turn  *Turn
}

// With returns ctx carrying class c and owner o for the requests made on it.
func With(ctx context.Context, c Class, o Owner) context.Context {
	return context.WithValue(ctx, ctxKey{}, tag{class: c, owner: o})
}

// From returns the class and owner ctx carries: User and 0 when none.
func From(ctx context.Context) (Class, Owner) {
	if t, ok := ctx.Value(ctxKey{}).(tag); ok {
		return t.class, t.owner
	}
	return User, 0
}

// Holding returns ctx carrying turn t, granted: requests on it to t's
// scheduler run in it without waiting.
func Holding(ctx context.Context, t *Turn) context.Context {
	return context.WithValue(ctx, ctxKey{}, tag{class: t.class, owner: t.owner, turn: t})
}

// held returns the turn of s that ctx holds, or nil.
func (s *Scheduler) held(ctx context.Context) *Turn {
	if t, ok := ctx.Value(ctxKey{}).(tag); ok && t.turn != nil && t.turn.s == s {
		return t.turn
	}
	return nil
}
