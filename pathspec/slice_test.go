package pathspec

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// pythonSlice is a model of Python 3's str[start:end], written from the
// language reference rather than from pySlice: with n characters, a
// missing start is 0 and a missing end is n; a negative index has n added;
// the result then takes the characters at the indexes i with
// start <= i < end that lie in [0, n).
func pythonSlice(s []rune, start, end *int) string {
	n := len(s)
	lo, hi := 0, n
	if start != nil {
		lo = *start
		if lo < 0 {
			lo += n
		}
	}
	if end != nil {
		hi = *end
		if hi < 0 {
			hi += n
		}
	}
	var out []rune
	for i := lo; i < hi; i++ {
		if i >= 0 && i < n {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// TestSubscriptsMatchPython checks @filename:start:end@ against the model
// on random strings of mixed-width characters and random, often
// out-of-range or missing, subscripts.
func TestSubscriptsMatchPython(t *testing.T) {
	alphabet := []rune("aZ09._-@:~ éßÄ日本語🙂\u0301\U0010FFFF")
	rng := rand.New(rand.NewPCG(1, 2))
	index := func(n int) (*int, string) {
		if rng.IntN(5) == 0 {
			return nil, ""
		}
		i := rng.IntN(2*n+7) - n - 3 // from below -n to beyond n
		return &i, strconv.Itoa(i)
	}
	for range 20000 {
		r := make([]rune, rng.IntN(12))
		for i := range r {
			r[i] = alphabet[rng.IntN(len(alphabet))]
		}
		start, ss := index(len(r))
		end, es := index(len(r))
		spec := "@filename:" + ss + ":" + es + "@"
		if rng.IntN(2) == 0 {
			spec = "@filename:" + ss + ":" + es + ":@" // with an empty options field
		}
		if ss == "" && es == "" && rng.IntN(2) == 0 {
			spec = "@filename:" + ss + "@"
		}
		got := mustParse(t, spec).Expand(Meta{Filename: string(r)})
		if want := pythonSlice(r, start, end); got != want {
			t.Fatalf("%s on %q = %q, want %q", spec, string(r), got, want)
		}
	}
}

// TestSubscriptsKeepInvalidUTF8 checks that a byte of invalid UTF-8 counts
// as one character and comes through unchanged.
func TestSubscriptsKeepInvalidUTF8(t *testing.T) {
	m := Meta{Filename: "a\xffé\xfe"}
	tests := map[string]string{
		"@filename:1:2@": "\xff",
		"@filename:1:3@": "\xffé",
		"@filename:-1@":  "\xfe",
		"@filename:2:3@": "é",
	}
	for spec, want := range tests {
		if got := mustParse(t, spec).Expand(m); got != want {
			t.Errorf("%s = %q, want %q", spec, got, want)
		}
	}
}
