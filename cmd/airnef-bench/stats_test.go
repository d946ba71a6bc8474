package main

import (
	"math"
	"testing"
)

func TestSample(t *testing.T) {
	tests := map[string]struct {
		in             sample
		median, lo, hi float64
		spread         string
	}{
		"odd":   {sample{3, 1, 2}, 2, 1, 3, "1.00-3.00"},
		"even":  {sample{4, 1, 2, 3}, 2.5, 1, 4, "1.00-4.00"},
		"one":   {sample{0.5}, 0.5, 0.5, 0.5, ""},
		"empty": {nil, math.NaN(), math.NaN(), math.NaN(), ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			same := func(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }
			if got := tc.in.median(); !same(got, tc.median) {
				t.Errorf("median = %v, want %v", got, tc.median)
			}
			if got := tc.in.min(); !same(got, tc.lo) {
				t.Errorf("min = %v, want %v", got, tc.lo)
			}
			if got := tc.in.max(); !same(got, tc.hi) {
				t.Errorf("max = %v, want %v", got, tc.hi)
			}
			if got := tc.in.spread(secs); got != tc.spread {
				t.Errorf("spread = %q, want %q", got, tc.spread)
			}
		})
	}
}

func TestCounts(t *testing.T) {
	ls := "/m:\ntotal 0\ndrwxr-xr-x 1 root root 4096 Jan  1  1970 Card 1\n\n/m/Card 1/DCIM/100:\n-r--r--r-- 1 root root 5 Mar  1  2024 A.JPG\n-r--r--r-- 1 root root 5 Mar  1  2024 B.ARW\n"
	if n := countLsFiles(ls); n != 2 {
		t.Errorf("countLsFiles = %d, want 2", n)
	}
	g := "There is no file in folder '/'.\nThere are 17 files in folder '/store_00010001/DCIM/100MSDCF'.\n#1 ...\nThere is 1 file in folder '/store_00010001/DCIM/101MSDCF'.\n"
	if n := countGphotoFiles(g); n != 18 {
		t.Errorf("countGphotoFiles = %d, want 18", n)
	}
	if got := unescapeMount(`/tmp/a\040b`); got != "/tmp/a b" {
		t.Errorf("unescapeMount = %q", got)
	}
}

func TestWithNotes(t *testing.T) {
	doc := "# Benchmarks\n\nnew numbers\n"
	tests := map[string]struct{ old, want string }{
		"no file":  {"", doc},
		"no notes": {"# Benchmarks\n\nold numbers\n", doc},
		"notes": {"# Benchmarks\n\nold numbers\n\n## Notes\n\n- timers fire late\n",
			"# Benchmarks\n\nnew numbers\n\n## Notes\n\n- timers fire late\n"},
		"a heading that only starts so": {"# B\n\n## Notes on x\n", doc},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := withNotes(doc, []byte(tc.old)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
