package sched

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// grants records the order in which turns were granted.
type grants struct {
	mu  sync.Mutex
	got []string
}

func (g *grants) add(s string) {
	g.mu.Lock()
	g.got = append(g.got, s)
	g.mu.Unlock()
}

func (g *grants) list() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.got)
}

// request is a turn entered by a test: its class, owner and how long it
// holds the session once granted.
type request struct {
	class Class
	owner Owner
	hold  time.Duration
}

func (r request) String() string { return fmt.Sprintf("%s/%d", r.class, r.owner) }

// TestOrder checks that waiting turns are granted by class, oldest first
// within a class, once the session is free.
func TestOrder(t *testing.T) {
	tests := map[string]struct {
		reqs []request
		want []string
	}{
		"classes in order": {
			reqs: []request{{Prefetch, 0, 0}, {ReadAhead, 0, 0}, {Background, 0, 0}, {Demand, 0, 0}, {User, 0, 0}},
			want: []string{"user/0", "demand/0", "background/0", "read-ahead/0", "prefetch/0"},
		},
		"oldest first in a class": {
			reqs: []request{{Demand, 1, 0}, {Demand, 2, 0}, {User, 3, 0}, {Demand, 4, 0}},
			want: []string{"user/3", "demand/1", "demand/2", "demand/4"},
		},
		"a user's next request first": {
			reqs: []request{{Demand, 1, 0}, {User, 3, 0}, {Demand, 3, 0}},
			want: []string{"user/3", "demand/3", "demand/1"},
		},
		"speculative after the user's": {
			reqs: []request{{ReadAhead, 5, 0}, {User, 6, 0}, {User, 6, 0}, {Prefetch, 5, 0}},
			want: []string{"user/6", "user/6", "read-ahead/5", "prefetch/5"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := New()
				first, err := s.Acquire(t.Context(), Background, 9) // the session is busy
				if err != nil {
					t.Fatal(err)
				}
				var g grants
				var wg sync.WaitGroup
				for _, r := range tc.reqs {
					turn := s.Enter(r.class, r.owner)
					wg.Go(func() {
						if err := turn.Wait(t.Context()); err != nil {
							t.Error(err)
							return
						}
						g.add(r.String())
						time.Sleep(r.hold)
						turn.Done()
					})
				}
				synctest.Wait()
				if got := g.list(); len(got) != 0 {
					t.Fatalf("granted %v while the session was busy", got)
				}
				first.Done()
				wg.Wait()
				if got := g.list(); !slices.Equal(got, tc.want) {
					t.Errorf("granted %v, want %v", got, tc.want)
				}
			})
		})
	}
}

// TestAnticipate checks that after a user's request another owner's less
// urgent request (a copy's, waiting for its read-ahead) waits Anticipate
// for the user's next one, while the user's own requests and other users'
// do not wait.
func TestAnticipate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New()
		var g grants
		run := func(c Class, o Owner, after time.Duration) {
			time.Sleep(after)
			turn, err := s.Acquire(t.Context(), c, o)
			if err != nil {
				t.Error(err)
				return
			}
			g.add(fmt.Sprintf("%s/%d@%v", c, o, after))
			time.Sleep(10 * time.Millisecond) // one round trip
			turn.Done()
		}
		var wg sync.WaitGroup
		start := time.Now()
		// A listing of owner 1: a request every round trip, each
		// entered 1 ms after the last ended; owner 2's read-ahead waits
		// through it.
		wg.Go(func() {
			for range 3 {
				run(User, 1, time.Millisecond)
			}
		})
		wg.Go(func() { run(Demand, 2, 5*time.Millisecond) })
		wg.Wait()
		want := []string{"user/1@1ms", "user/1@1ms", "user/1@1ms", "demand/2@5ms"}
		if got := g.list(); !slices.Equal(got, want) {
			t.Errorf("granted %v, want %v", got, want)
		}
		// The copy's request went Anticipate after the last user request
		// ended (3 x 11 ms), not before.
		if d := time.Since(start); d != 33*time.Millisecond+Anticipate+10*time.Millisecond {
			t.Errorf("done after %v, want %v", d, 33*time.Millisecond+Anticipate+10*time.Millisecond)
		}

		// The user's own read-ahead goes at once, and so does another
		// user's request.
		g = grants{}
		start = time.Now()
		run(Demand, 3, 0)
		wg.Go(func() { run(ReadAhead, 3, 0) })
		wg.Wait()
		run(Demand, 3, 0)
		wg.Go(func() { run(User, 4, 0) })
		wg.Wait()
		if d := time.Since(start); d != 40*time.Millisecond {
			t.Errorf("took %v, want 40ms: no anticipation for the same owner or a user", d)
		}
	})
}

// TestRaise checks that a waiting turn moved to a more urgent class goes
// before the turns of the classes it passed.
func TestRaise(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New()
		busy, _ := s.Acquire(t.Context(), Background, 0)
		var g grants
		var wg sync.WaitGroup
		enter := func(c Class, o Owner) *Turn {
			turn := s.Enter(c, o)
			wg.Go(func() {
				if turn.Wait(t.Context()) == nil {
					g.add(fmt.Sprintf("%d", o))
					turn.Done()
				}
			})
			return turn
		}
		enter(Background, 1)
		ra := enter(ReadAhead, 2)
		enter(Demand, 3)
		ra.Raise(Demand)
		ra.Raise(Prefetch) // lowering is ignored
		if c := ra.Class(); c != Demand {
			t.Errorf("class %v after raising, want demand", c)
		}
		busy.Done()
		wg.Wait()
		if got, want := g.list(), []string{"3", "2", "1"}; !slices.Equal(got, want) {
			t.Errorf("granted %v, want %v", got, want)
		}
	})
}

// TestWaitEnds checks that a turn whose context ends leaves the queue and
// that the session goes to the next one.
func TestWaitEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New()
		busy, _ := s.Acquire(t.Context(), User, 1)
		ctx, cancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		go func() {
			_, err := s.Acquire(ctx, User, 2)
			errc <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-errc; !errors.Is(err, context.Canceled) {
			t.Fatalf("Acquire: %v, want context.Canceled", err)
		}
		busy.Done()
		next, err := s.Acquire(t.Context(), Prefetch, 1)
		if err != nil {
			t.Fatal(err)
		}
		next.Done()
		next.Done() // twice is harmless
	})
}

// TestContended checks when a speculative request is to be capped.
func TestContended(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New()
		if s.Contended(1) {
			t.Error("contended on an idle session")
		}
		bg := s.Enter(Background, 2)
		if s.Contended(1) {
			t.Error("background work counts as contention")
		}
		bg.Done()
		s.Note(Demand, 1)
		if s.Contended(1) {
			t.Error("an owner's own demand counts as contention")
		}
		s.Note(ReadAhead, 2)
		if s.Contended(1) {
			t.Error("another owner's read-ahead counts as contention")
		}
		s.Note(Demand, 2)
		if !s.Contended(1) {
			t.Error("another owner's demand does not count")
		}
		time.Sleep(Memory)
		if s.Contended(1) {
			t.Errorf("still contended %v after the demand", Memory)
		}
		mount, _ := s.Acquire(t.Context(), User, 0) // connecting, listing the storages
		mount.Done()
		s.Note(Demand, 0)
		if s.Contended(1) {
			t.Error("the mount's own finished requests (owner 0) count as contention")
		}
		busy, _ := s.Acquire(t.Context(), ReadAhead, 1)
		time.Sleep(Memory)
		waiting := s.Enter(User, 3) // waits behind busy
		time.Sleep(Memory)
		if !s.Contended(1) {
			t.Error("a waiting user request does not count")
		}
		busy.Done()
		synctest.Wait()
		waiting.Done()
	})
}

// TestRun checks that Run waits for a turn, that the request does not see
// its caller's cancellation but keeps its deadline, that a caller ending
// while waiting runs nothing, and that a held turn is used as it is.
func TestRun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New()
		ctx, cancel := context.WithTimeout(With(t.Context(), Demand, 7), time.Hour)
		defer cancel()
		var sawCancel bool
		err := s.Run(ctx, func(rctx context.Context) error {
			cancel() // an interrupt while the request runs
			select {
			case <-rctx.Done():
				sawCancel = true
			case <-time.After(time.Second):
			}
			if d, ok := rctx.Deadline(); !ok || d.IsZero() {
				t.Error("the request lost its deadline")
			}
			if c, o := From(rctx); c != Demand || o != 7 {
				t.Errorf("request ran as %v/%d, want demand/7", c, o)
			}
			return nil
		})
		if err != nil || sawCancel {
			t.Errorf("Run: %v; request saw the cancellation: %v", err, sawCancel)
		}

		busy, _ := s.Acquire(t.Context(), User, 1)
		wctx, wcancel := context.WithCancel(t.Context())
		errc := make(chan error, 1)
		ran := false
		go func() { errc <- s.Run(wctx, func(context.Context) error { ran = true; return nil }) }()
		synctest.Wait()
		wcancel()
		if err := <-errc; !errors.Is(err, context.Canceled) || ran {
			t.Errorf("Run cancelled while waiting: %v, ran %v", err, ran)
		}
		// The holder of the turn runs requests without waiting for itself.
		n := 0
		for range 3 {
			if err := s.Run(Holding(t.Context(), busy), func(context.Context) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		if n != 3 {
			t.Errorf("%d requests ran in the held turn, want 3", n)
		}
		// Another scheduler's turn is not held here.
		other := New()
		if other.held(Holding(t.Context(), busy)) != nil {
			t.Error("a turn of another scheduler counts as held")
		}
		busy.Done()
		if err := s.Run(wctx, func(context.Context) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("Run on an ended context: %v", err)
		}
	})
}

func TestFrom(t *testing.T) {
	if c, o := From(context.Background()); c != User || o != 0 {
		t.Errorf("untagged context: %v/%d, want user/0", c, o)
	}
	ctx := With(context.Background(), Background, 3)
	if c, o := From(ctx); c != Background || o != 3 {
		t.Errorf("tagged context: %v/%d, want background/3", c, o)
	}
	for c, spec := range map[Class]bool{User: false, Demand: false, Background: false, ReadAhead: true, Prefetch: true} {
		if c.Speculative() != spec {
			t.Errorf("%v.Speculative() = %v", c, !spec)
		}
	}
}

// TestSeenBounded checks that the owners remembered for Contended do not
// pile up over a long mount.
func TestSeenBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New()
		for o := range Owner(1000) {
			s.Note(Demand, o)
			time.Sleep(Memory / 10)
		}
		s.mu.Lock()
		n := len(s.seen)
		s.mu.Unlock()
		if n > seenOwners+10 {
			t.Errorf("%d owners remembered, want about %d at most", n, seenOwners)
		}
	})
}

// TestStarve checks that a Background turn waits at most Starve behind a
// stream of Demand turns that never lets the session go idle, and that a
// waiting User turn still goes first.
func TestStarve(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := New()
		ctx := context.Background()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for o := range 2 { // two readers, each with one request always waiting
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					turn, err := s.Acquire(ctx, Demand, Owner(o+1))
					if err != nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
					turn.Done()
				}
			})
		}
		time.Sleep(10 * time.Millisecond)
		start := time.Now()
		bg := s.Enter(Background, 0)
		time.Sleep(Starve - 100*time.Millisecond)
		user := s.Enter(User, 9)
		if err := user.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if bg.state == granted || bg.state == done {
			t.Error("the background turn went before the user's")
		}
		user.Done()
		if err := bg.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > Starve+100*time.Millisecond {
			t.Errorf("background turn granted after %v behind demand turns, want about %v", d, Starve)
		}
		bg.Done()
		close(stop)
		wg.Wait()
	})
}
