package tree

import (
	"sync"
	"sync/atomic"
)

// Served counts what the mount gave its readers: bytes returned by reads
// and how many distinct files were read. An import's summary is made of
// them; /.airnef/stats shows them.
type Served struct {
	bytes atomic.Int64
	mu    sync.Mutex
	files map[uint64]struct{} // inode numbers of camera objects read
}

// Bytes is the number of bytes returned to readers.
func (s *Served) Bytes() int64 { return s.bytes.Load() }

// Files is the number of distinct files read (a file read under its
// renamed and its camera name counts once).
func (s *Served) Files() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}

// Add counts a read of n bytes of object o.
func (s *Served) Add(o *Object, n int) {
	if n <= 0 {
		return
	}
	s.bytes.Add(int64(n))
	s.mu.Lock()
	if s.files == nil {
		s.files = map[uint64]struct{}{}
	}
	s.files[o.Ino] = struct{}{}
	s.mu.Unlock()
}
