package cache

import (
	"fmt"
	"math/bits"
	"strings"
	"sync/atomic"
	"time"
)

// FetchSizeBuckets is the number of buckets in Stats.FetchSizes.
const FetchSizeBuckets = 10

// Stats is a snapshot of the cache's counters. Hits, Misses and Waits are
// counted per block that a read touches, so a read spanning two blocks counts
// twice.
type Stats struct {
	Hits             uint64 // block found in memory
	Misses           uint64 // block neither in memory nor on its way: a fetch was started for it
	Waits            uint64 // block already being fetched: the read joined that fetch
	Fetches          uint64 // requests sent to the camera
	ReadAheadFetches uint64 // of Fetches, those started by read-ahead
	Prefetches       uint64 // of ReadAheadFetches, those of the object a copying process likely reads next
	DirectFetches    uint64 // of Fetches, a seek's bytes alone, not cached
	Capped           uint64 // speculative requests cut to a capped size while another process waited
	Withdrawn        uint64 // read-ahead fetches dropped unrun: their reader closed the file or sought elsewhere
	FetchErrors      uint64 // of Fetches, those that failed (not cached; the next read retries)
	BytesFromCamera  uint64 // bytes received by Fetches
	Evictions        uint64 // blocks dropped to make room (not counting Forget)
	Buffers          uint64 // block buffers ever allocated (the rest are recycled)

	// FetchSizes[i] counts fetches of at most BlockUnit<<i bytes (and more
	// than the bucket before); the last bucket also counts all larger ones.
	FetchSizes [FetchSizeBuckets]uint64

	Blocks   int   // blocks held now
	Bytes    int64 // bytes held now
	InFlight int   // fetches queued or running now

	// The link as measured from the fetches (zero before enough of them)
	// and the sequential request size derived from it.
	RTT         time.Duration // round trip of one request
	Rate        float64       // bytes per second once data flows
	RequestSize int           // bytes per sequential request now
}

// String formats s as one "name value" line per counter, for a stats file.
func (s Stats) String() string {
	var b strings.Builder
	line := func(name string, v any) { fmt.Fprintf(&b, "%s %v\n", name, v) }
	line("hits", s.Hits)
	line("misses", s.Misses)
	line("waits", s.Waits)
	line("fetches", s.Fetches)
	line("readahead_fetches", s.ReadAheadFetches)
	line("prefetches", s.Prefetches)
	line("direct_fetches", s.DirectFetches)
	line("capped_fetches", s.Capped)
	line("withdrawn_fetches", s.Withdrawn)
	line("fetch_errors", s.FetchErrors)
	line("bytes_from_camera", s.BytesFromCamera)
	line("evictions", s.Evictions)
	line("buffers", s.Buffers)
	line("blocks", s.Blocks)
	line("bytes", s.Bytes)
	line("in_flight", s.InFlight)
	line("link_rtt_us", s.RTT.Microseconds())
	line("link_rate_bytes_per_s", uint64(s.Rate))
	line("request_size", s.RequestSize)
	for i, n := range s.FetchSizes {
		if i == FetchSizeBuckets-1 {
			line(fmt.Sprintf("fetch_size_gt_%d", BlockUnit<<(i-1)), n)
		} else {
			line(fmt.Sprintf("fetch_size_le_%d", BlockUnit<<i), n)
		}
	}
	return b.String()
}

// fetchSizeBucket returns the index in Stats.FetchSizes for a fetch of n bytes.
func fetchSizeBucket(n int64) int {
	if n <= BlockUnit {
		return 0
	}
	// Smallest i with n <= BlockUnit<<i.
	i := bits.Len64(uint64((n - 1) / BlockUnit))
	return min(i, FetchSizeBuckets-1)
}

// counters are the cumulative fields of Stats, updated without the cache lock.
type counters struct {
	hits, misses, waits                    atomic.Uint64
	fetches, readAheadFetches, fetchErrors atomic.Uint64
	prefetches, directFetches              atomic.Uint64
	capped, withdrawn                      atomic.Uint64
	bytesFromCamera, evictions, buffers    atomic.Uint64
	fetchSizes                             [FetchSizeBuckets]atomic.Uint64
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Hits:             c.hits.Load(),
		Misses:           c.misses.Load(),
		Waits:            c.waits.Load(),
		Fetches:          c.fetches.Load(),
		ReadAheadFetches: c.readAheadFetches.Load(),
		Prefetches:       c.prefetches.Load(),
		DirectFetches:    c.directFetches.Load(),
		Capped:           c.capped.Load(),
		Withdrawn:        c.withdrawn.Load(),
		FetchErrors:      c.fetchErrors.Load(),
		BytesFromCamera:  c.bytesFromCamera.Load(),
		Evictions:        c.evictions.Load(),
		Buffers:          c.buffers.Load(),
	}
	for i := range c.fetchSizes {
		s.FetchSizes[i] = c.fetchSizes[i].Load()
	}
	return s
}
