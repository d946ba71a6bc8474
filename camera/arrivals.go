package camera

import (
	"log/slog"
	"time"

	"github.com/airnef-mount/airnef-mount/ssdp"
)

// DefaultQuietPeriod is long enough for the NOTIFYs a camera sent before it
// went to sleep to have arrived.
const DefaultQuietPeriod = 30 * time.Second

// Arrivals decides which announced cameras to open a session with when
// every camera that announces itself is taken: one session per host, and a
// camera whose session ended is ignored until it has been silent for the
// quiet period (it repeats its NOTIFYs, and connecting to one sent just
// before it went to sleep would start a session it no longer answers).
// It is not safe for concurrent use.
type Arrivals struct {
	quiet     time.Duration
	log       *slog.Logger
	present   map[string]map[string]bool // hosts with a session: their USNs
	lastHeard map[string]time.Time       // hosts that left: when last heard of
}

// NewArrivals returns Arrivals with the quiet period quiet.
func NewArrivals(quiet time.Duration, log *slog.Logger) *Arrivals {
	return &Arrivals{quiet: quiet, log: log, present: map[string]map[string]bool{}, lastHeard: map[string]time.Time{}}
}

// Alive reports whether the alive announcement a is a camera to open a
// session with; its host is then present until Ended.
func (w *Arrivals) Alive(a ssdp.Announcement) bool {
	cam := a.Camera
	if a.Kind != ssdp.AnnounceAlive || cam.Smartphone {
		return false
	}
	if usns, ok := w.present[cam.Host]; ok {
		usns[cam.USN] = true
		return false
	}
	if t, ok := w.lastHeard[cam.Host]; ok {
		if a.Time.After(t) {
			w.lastHeard[cam.Host] = a.Time
		}
		if a.Time.Sub(t) < w.quiet {
			w.log.Info("ignoring an announcement of a camera that just left", "host", cam.Host,
				"silent", a.Time.Sub(t).Round(time.Millisecond), "quiet-period", w.quiet)
			return false
		}
		delete(w.lastHeard, cam.Host)
	}
	w.present[cam.Host] = map[string]bool{cam.USN: true}
	return true
}

// ByeBye returns the present hosts a byebye names, by USN or by host.
func (w *Arrivals) ByeBye(a ssdp.Announcement) []string {
	var hosts []string
	for host, usns := range w.present {
		if usns[a.Camera.USN] || (a.Camera.Host != "" && a.Camera.Host == host) {
			hosts = append(hosts, host)
		}
	}
	return hosts
}

// Ended records that the session with host ended at t.
func (w *Arrivals) Ended(host string, t time.Time) {
	delete(w.present, host)
	w.lastHeard[host] = t
}
