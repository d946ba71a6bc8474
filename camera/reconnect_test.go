package camera

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ssdp"
)

// fakeCamera stands for the network in redial: it records when redial
// dials and fails the first fails dials, and hands the test the function
// that receives announcements.
type fakeCamera struct {
	t     *testing.T
	start time.Time
	fails int
	info  *mtp.DeviceInfo

	mu      sync.Mutex
	dials   []time.Duration // since start
	watches int
	fn      chan func(ssdp.Announcement)
}

func newFake(t *testing.T, fails int) *fakeCamera {
	return &fakeCamera{t: t, start: time.Now(), fails: fails,
		info: &mtp.DeviceInfo{Manufacturer: "Maker", Model: "M1", SerialNumber: "42"},
		fn:   make(chan func(ssdp.Announcement), 1)}
}

func (f *fakeCamera) connect(ctx context.Context, addr string, hint mtp.Vendor) (*Session, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dials = append(f.dials, time.Since(f.start))
	if len(f.dials) <= f.fails {
		return nil, errors.New("no route to host")
	}
	return &Session{Addr: addr, Vendor: hint, Info: f.info}, nil
}

func (f *fakeCamera) watch(ctx context.Context, fn func(ssdp.Announcement)) error {
	f.mu.Lock()
	f.watches++
	f.mu.Unlock()
	f.fn <- fn
	<-ctx.Done()
	return ctx.Err()
}

func (f *fakeCamera) dialTimes() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.dials)
}

func (f *fakeCamera) redial() *redial {
	return &redial{first: reconnectFirst, max: reconnectMax, connect: f.connect, watch: f.watch,
		log: slog.New(slog.NewTextHandler(f.t.Output(), nil))}
}

// run starts redial for old and returns the channel of the session it
// hands back.
func (f *fakeCamera) run(ctx context.Context, old *Session) <-chan *Session {
	back := make(chan *Session)
	go f.redial().run(ctx, old, back)
	return back
}

func seconds(s ...float64) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, v := range s {
		out[i] = time.Duration(v * float64(time.Second))
	}
	return out
}

// A camera that does not announce itself (Nikon) is dialled after 1 s, then
// at doubling intervals up to 30 s, and no SSDP is listened for.
func TestRedialBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(t, 7)
		old := &Session{Addr: "192.0.2.1:15740", Vendor: mtp.VendorNikon, Info: f.info}
		s := <-f.run(t.Context(), old)
		if s == nil || s.Info != f.info {
			t.Fatalf("back %+v", s)
		}
		want := seconds(1, 3, 7, 15, 31, 61, 91, 121)
		if got := f.dialTimes(); !slices.Equal(got, want) {
			t.Errorf("dialled at %v, want %v", got, want)
		}
		if f.watches != 0 {
			t.Errorf("watched SSDP %d times for a Nikon", f.watches)
		}
	})
}

// A Sony is dialled only when it announces itself again: alive, from its
// host, in PTP/IP mode, after the session was lost.
func TestRedialSonyWaitsForAnnouncement(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(t, 1)
		old := &Session{Addr: "192.0.2.7:15740", Vendor: mtp.VendorSony, Info: f.info}
		back := f.run(t.Context(), old)
		announce := <-f.fn
		time.Sleep(time.Hour)
		synctest.Wait()
		if d := f.dialTimes(); len(d) != 0 {
			t.Fatalf("dialled a Sony that did not announce itself, at %v", d)
		}
		cam := ssdp.Camera{Host: "192.0.2.7", Addr: "192.0.2.7:15740"}
		other := ssdp.Camera{Host: "192.0.2.8", Addr: "192.0.2.8:15740"}
		phone := ssdp.Camera{Host: "192.0.2.7", Smartphone: true}
		for name, a := range map[string]ssdp.Announcement{
			"byebye":      {Kind: ssdp.AnnounceByeBye, Camera: cam, Time: time.Now()},
			"other host":  {Kind: ssdp.AnnounceAlive, Camera: other, Time: time.Now()},
			"smartphone":  {Kind: ssdp.AnnounceAlive, Camera: phone, Time: time.Now()},
			"before loss": {Kind: ssdp.AnnounceAlive, Camera: cam, Time: f.start.Add(-time.Second)},
		} {
			announce(a)
			synctest.Wait()
			if d := f.dialTimes(); len(d) != 0 {
				t.Fatalf("%s: dialled", name)
			}
		}
		// The first dial fails: the next waits for the next announcement.
		announce(ssdp.Announcement{Kind: ssdp.AnnounceAlive, Camera: cam, Time: time.Now()})
		synctest.Wait()
		time.Sleep(time.Hour)
		synctest.Wait()
		announce(ssdp.Announcement{Kind: ssdp.AnnounceAlive, Camera: cam, Time: time.Now()})
		if s := <-back; s == nil || s.Info != f.info {
			t.Fatalf("back %+v", s)
		}
		if got, want := f.dialTimes(), seconds(3600, 7200); !slices.Equal(got, want) {
			t.Errorf("dialled at %v, want %v", got, want)
		}
	})
}

// A Canon is dialled on backoff and also as soon as it announces itself.
func TestRedialCanonAnnouncementOrBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(t, 2)
		old := &Session{Addr: "192.0.2.9:15740", Vendor: mtp.VendorCanon, Info: f.info}
		back := f.run(t.Context(), old)
		announce := <-f.fn
		time.Sleep(500 * time.Millisecond)
		announce(ssdp.Announcement{Kind: ssdp.AnnounceAlive, Camera: ssdp.Camera{Host: "192.0.2.9"}, Time: time.Now()})
		if s := <-back; s == nil {
			t.Fatal("no session back")
		}
		// 0.5 s: announced (fails); the backoff then goes on from there.
		if got, want := f.dialTimes(), seconds(0.5, 2.5, 6.5); !slices.Equal(got, want) {
			t.Errorf("dialled at %v, want %v", got, want)
		}
	})
}

// Reconnect gives up when its context ends, before or while handing back.
func TestRedialCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake(t, 1000)
		old := &Session{Addr: "192.0.2.1:15740", Vendor: mtp.VendorNikon, Info: f.info}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			f.redial().run(ctx, old, make(chan *Session))
			close(done)
		}()
		time.Sleep(10 * time.Minute)
		cancel()
		synctest.Wait()
		select {
		case <-done:
		default:
			t.Fatal("redial did not return after its context ended")
		}
		if n := len(f.dialTimes()); n != 23 {
			// At 1, 3, 7, 15 and 31 s, then every 30 s up to 571 s.
			t.Errorf("%d dials in 10 minutes, want 23", n)
		}
	})
}
