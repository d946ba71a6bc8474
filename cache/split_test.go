package cache

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSpans(t *testing.T) {
	const bs = 4
	tests := map[string]struct {
		off  int64
		n    int
		want []span
	}{
		"empty":          {off: 5, n: 0, want: nil},
		"negative n":     {off: 5, n: -1, want: nil},
		"inside":         {off: 1, n: 2, want: []span{{block: 0, off: 1, n: 2, pos: 0}}},
		"whole block":    {off: 4, n: 4, want: []span{{block: 1, off: 0, n: 4, pos: 0}}},
		"ends on edge":   {off: 2, n: 2, want: []span{{block: 0, off: 2, n: 2, pos: 0}}},
		"starts on edge": {off: 8, n: 1, want: []span{{block: 2, off: 0, n: 1, pos: 0}}},
		"straddles": {off: 3, n: 2, want: []span{
			{block: 0, off: 3, n: 1, pos: 0},
			{block: 1, off: 0, n: 1, pos: 1},
		}},
		"three blocks": {off: 2, n: 9, want: []span{
			{block: 0, off: 2, n: 2, pos: 0},
			{block: 1, off: 0, n: 4, pos: 2},
			{block: 2, off: 0, n: 3, pos: 6},
		}},
		"large offset": {off: 1<<40 + 3, n: 2, want: []span{
			{block: 1<<38 + 0, off: 3, n: 1, pos: 0},
			{block: 1<<38 + 1, off: 0, n: 1, pos: 1},
		}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := slices.Collect(spans(tc.off, tc.n, bs))
			if !slices.Equal(got, tc.want) {
				t.Errorf("spans(%d, %d, %d) = %+v, want %+v", tc.off, tc.n, bs, got, tc.want)
			}
		})
	}
}

// TestSpansCover checks on random ranges that the spans tile the range in
// order, each within one block.
func TestSpansCover(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		bs := BlockUnit * (1 + rng.IntN(4))
		off := rng.Int64N(int64(bs) * 10)
		n := rng.IntN(bs * 4)
		pos := 0
		for s := range spans(off, n, bs) {
			at := off + int64(pos)
			if s.pos != pos || s.block != at/int64(bs) || s.off != int(at%int64(bs)) ||
				s.n <= 0 || s.off+s.n > bs {
				t.Fatalf("spans(%d, %d, %d): bad span %+v at pos %d", off, n, bs, s, pos)
			}
			pos += s.n
		}
		if pos != n {
			t.Fatalf("spans(%d, %d, %d) covered %d bytes", off, n, bs, pos)
		}
	}
}

func TestSpansStop(t *testing.T) {
	count := 0
	for range spans(0, 10*BlockUnit, BlockUnit) {
		count++
		if count == 3 {
			break
		}
	}
	if count != 3 {
		t.Fatalf("got %d spans before break, want 3", count)
	}
}
