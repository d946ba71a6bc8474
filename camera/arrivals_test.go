package camera

import (
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/ssdp"
)

func TestArrivals(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	alive := func(host, usn string, s int) ssdp.Announcement {
		return ssdp.Announcement{Kind: ssdp.AnnounceAlive, Camera: ssdp.Camera{Host: host, USN: usn}, Time: at(s)}
	}
	bye := func(host, usn string) ssdp.Announcement {
		return ssdp.Announcement{Kind: ssdp.AnnounceByeBye, Camera: ssdp.Camera{Host: host, USN: usn}}
	}
	w := NewArrivals(30*time.Second, slog.New(slog.NewTextHandler(t.Output(), nil)))

	steps := []struct {
		name string
		a    ssdp.Announcement
		want bool
	}{
		{"first", alive("10.0.0.2", "uuid:a::svc", 0), true},
		{"again, other NT", alive("10.0.0.2", "uuid:a::root", 1), false},
		{"another camera", alive("10.0.0.3", "uuid:b::svc", 1), true},
		{"smartphone mode", ssdp.Announcement{Kind: ssdp.AnnounceAlive, Camera: ssdp.Camera{Host: "10.0.0.4", Smartphone: true}, Time: at(1)}, false},
		{"byebye is not an arrival", bye("10.0.0.5", "uuid:c::svc"), false},
	}
	for _, s := range steps {
		if got := w.Alive(s.a); got != s.want {
			t.Errorf("%s: Alive = %v, want %v", s.name, got, s.want)
		}
	}

	// A byebye names present cameras by any USN they announced, or by host.
	for name, tc := range map[string]struct {
		a    ssdp.Announcement
		want []string
	}{
		"by USN":     {bye("", "uuid:a::root"), []string{"10.0.0.2"}},
		"by host":    {bye("10.0.0.3", "uuid:other"), []string{"10.0.0.3"}},
		"not here":   {bye("10.0.0.9", "uuid:z"), nil},
		"empty host": {bye("", "uuid:z"), nil},
	} {
		got := w.ByeBye(tc.a)
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("ByeBye %s = %v, want %v", name, got, tc.want)
		}
	}

	// After its session ended, a camera is taken again only once it has
	// been silent for the quiet period; each announcement restarts it.
	w.Ended("10.0.0.2", at(10))
	if w.ByeBye(bye("10.0.0.2", "")) != nil {
		t.Error("a camera whose session ended is still present")
	}
	for _, s := range []struct {
		sec  int
		want bool
	}{{5, false}, {20, false}, {49, false}, {79, true}, {80, false}} {
		if got := w.Alive(alive("10.0.0.2", "uuid:a::svc", s.sec)); got != s.want {
			t.Errorf("announcement %d s after the end: Alive = %v, want %v", s.sec-10, got, s.want)
		}
	}
	// Without a quiet period the camera is taken at once.
	w0 := NewArrivals(0, slog.New(slog.DiscardHandler))
	w0.Alive(alive("10.0.0.2", "u", 0))
	w0.Ended("10.0.0.2", at(1))
	if !w0.Alive(alive("10.0.0.2", "u", 1)) {
		t.Error("quiet period 0: not taken again")
	}
}
