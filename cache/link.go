package cache

import (
	"slices"
	"sync"
	"time"
)

// requestRoundTrips is the data time of a sequential request in round
// trips: one transaction at a time, a request of T seconds of data reaches
// T/(T+RTT) of the link (97% here), and a larger one delays other readers.
const requestRoundTrips = 32

// minRequestTime is the least data time a request carries: on a link as
// fast as loopback the round trip is noise, and this host's cost per
// request would dominate.
const minRequestTime = 10 * time.Millisecond

// linkSamples is how many recent fetches the estimate is fitted to.
const linkSamples = 32

// roundTripSamples is how many small exchanges (listing operations, at
// most roundTripMaxBytes) the estimate keeps beside the fetches: they tell
// the round trip from the rate while every fetch is of one size.
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

// fitLocked fits rtt and rate by Theil-Sen (medians of pairwise slopes and
// intercepts), which a fetch delayed behind a listing operation hardly
// moves; pairs of about one size, or of two small exchanges, are skipped,
// and without any pair the previous fit stands. l.mu is held.
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

// requestSize returns the bytes of requestRoundTrips round trips (at least
// minRequestTime), in whole blocks within [minLinkRequest, hi]; def before a
// fit.
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
