package cache

import "sync"

// bufferPool recycles block buffers: evicted blocks go back to it and fetches
// take from it, so a cache at its bound allocates nothing more. It keeps at
// most max spare buffers; the rest go to the garbage collector.
type bufferPool struct {
	size  int
	max   int
	count func() // called for each buffer allocated

	mu   sync.Mutex
	free [][]byte
}

// get returns a buffer of the pool's size (contents undefined).
func (p *bufferPool) get() []byte {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		b := p.free[n-1]
		p.free[n-1] = nil
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return b
	}
	p.mu.Unlock()
	p.count()
	return make([]byte, p.size)
}

// put returns b, which nobody may use any more, to the pool.
func (p *bufferPool) put(b []byte) {
	b = b[:cap(b)]
	p.mu.Lock()
	if len(p.free) < p.max {
		p.free = append(p.free, b)
	}
	p.mu.Unlock()
}
