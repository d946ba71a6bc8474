package cache

import (
	"slices"
	"sync"
	"time"
)

// PTP/IP serves one transaction at a time, and each GetPartialObject costs
// one round trip (the request, the camera finding the bytes, the start of
// the data phase) before its data flows at the link's rate. A request of T
// seconds of data therefore reaches T/(T+RTT) of the link, whatever the
// read-ahead: read-ahead keeps the session from idling between requests but
// cannot overlap them. The only lever is the request size, and the right
// size depends on the link: 1 MiB reaches 94% of a 3 MB/s WiFi link with a
// 20 ms round trip but 90% of a 40 MB/s LAN with 2 ms, so the cache measures
// the link from its own fetches and sizes requests to carry
// requestRoundTrips round trips' worth of data, 97% of the link.
const requestRoundTrips = 32

// minRequestTime is the least data time a request carries. Besides the
// link's round trip each request has costs on this host (handing it to the
// session, waking the readers), which on a link as fast as loopback are
// scheduling noise the fit cannot tell from zero: there, requests of a few
// milliseconds of data would be all overhead. On a WiFi or LAN link the 32
// round trips are far more than this.
const minRequestTime = 10 * time.Millisecond

// linkSamples is how many recent fetches the estimate is fitted to.
const linkSamples = 32

// roundTripSamples is how many recent small exchanges with the camera
// (listing operations: see Cache.ObserveRoundTrip) the estimate keeps
// beside the fetches, and roundTripMaxBytes the most bytes such an
// exchange carries. They give the fit the round trip before the fetches
// differ in size: a copy whose first request is a whole photo, and every
// later one too, has nothing else to tell the round trip from the rate.
const (
	roundTripSamples  = 8
	roundTripMaxBytes = 64 << 10
)

// linkSample is one completed fetch: its size and how long it took.
type linkSample struct {
	bytes int64
	dur   time.Duration
}

// linkEstimate models a fetch of n bytes as taking rtt + n/rate, fitted to
// the recent fetches. It is safe for concurrent use.
type linkEstimate struct {
	mu      sync.Mutex
	samples ring // the last linkSamples fetches
	trips   ring // the last roundTripSamples small exchanges
	rtt     time.Duration
	rate    float64 // bytes per second; 0 until fitted
}

// add records a completed fetch and refits the model.
func (l *linkEstimate) add(n int64, d time.Duration) {
	if n <= 0 || d <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.samples.push(linkSample{n, d}, linkSamples)
	l.fitLocked()
}

// addRoundTrip records a small exchange with the camera other than a
// fetch (at most roundTripMaxBytes) and refits the model.
func (l *linkEstimate) addRoundTrip(n int64, d time.Duration) {
	if n < 0 || n > roundTripMaxBytes || d <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.trips.push(linkSample{n, d}, roundTripSamples)
	l.fitLocked()
}

// ring holds the last samples pushed, at most the size given to push.
type ring struct {
	s    []linkSample
	next int // where the next sample goes once the ring is full
}

func (r *ring) push(s linkSample, size int) {
	if len(r.s) < size {
		r.s = append(r.s, s)
		return
	}
	r.s[r.next] = s
	r.next = (r.next + 1) % size
}

// fitLocked fits rtt and rate by the Theil-Sen estimator: the slope
// (seconds per byte) is the median of the slopes between pairs of samples
// of clearly different sizes, the larger a fetch (two small exchanges
// differ by scheduling noise, not by the link), the intercept the median
// of what each sample leaves for the round trip. Medians, not least
// squares, because a fetch sometimes waits for the session behind a
// listing operation and takes far longer than the link explains; such
// outliers move a median little. With all samples of about one size the
// slope cannot be told from the round trip, and the previous fit stands.
// l.mu is held.
func (l *linkEstimate) fitLocked() {
	all := append(slices.Clip(l.samples.s), l.trips.s...)
	var slopes []float64
	for i, a := range all {
		for _, b := range all[i+1:] {
			lo, hi := a, b
			if lo.bytes > hi.bytes {
				lo, hi = hi, lo
			}
			if hi.bytes < lo.bytes*3/2 || hi.bytes <= roundTripMaxBytes {
				continue
			}
			slopes = append(slopes, (hi.dur-lo.dur).Seconds()/float64(hi.bytes-lo.bytes))
		}
	}
	if len(slopes) == 0 {
		return
	}
	slope := median(slopes)
	if slope <= 0 {
		// Noise on a link faster than the clock resolves: no estimate.
		return
	}
	rest := make([]float64, len(all))
	for i, s := range all {
		rest[i] = s.dur.Seconds() - slope*float64(s.bytes)
	}
	l.rtt = time.Duration(max(median(rest), 0) * float64(time.Second))
	l.rate = 1 / slope
}

// get returns the fitted round trip and rate; ok is false before a fit.
func (l *linkEstimate) get() (rtt time.Duration, rate float64, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rtt, l.rate, l.rate > 0
}

// requestSize returns the request size for the link as last fitted: the
// bytes that take requestRoundTrips round trips (at least minRequestTime),
// rounded up to whole blocks and clamped to [minLinkRequest, hi]; def
// before any fit.
func (l *linkEstimate) requestSize(def, hi, blockSize int) int {
	rtt, rate, ok := l.get()
	if !ok {
		return def
	}
	n := int64(max(requestRoundTrips*rtt, minRequestTime).Seconds() * rate)
	bs := int64(blockSize)
	n = roundUp(max(n, minLinkRequest, 1), bs)
	return int(min(n, int64(hi)))
}

func median(v []float64) float64 {
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}
