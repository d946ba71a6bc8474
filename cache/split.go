package cache

import "iter"

// span is the part of one block that a read touches.
type span struct {
	block int64 // block index in the object
	off   int   // first byte within the block
	n     int   // bytes
	pos   int   // where those bytes go in the reader's buffer
}

// spans splits the n bytes at off into the blocks of blockSize bytes they
// touch, in order. Nothing is yielded for n <= 0; off must not be negative.
// (gocryptfs' ExplodePlainRange does the same for its cipher blocks.)
func spans(off int64, n int, blockSize int) iter.Seq[span] {
	bs := int64(blockSize)
	return func(yield func(span) bool) {
		pos := 0
		for pos < n {
			at := off + int64(pos)
			s := span{block: at / bs, off: int(at % bs), pos: pos}
			s.n = min(blockSize-s.off, n-pos)
			if !yield(s) {
				return
			}
			pos += s.n
		}
	}
}
