package pathspec

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse parses any spec and expands it over any file name. Nothing may
// panic; a rejected spec must come with a *SyntaxError whose position is
// inside the spec; and a spec ParseFilename accepts must not produce a
// path separator unless the metadata brings one. Seeds are in
// testdata/fuzz/FuzzParse; `make fuzz` runs it for a while.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, spec, filename string) {
		s, err := Parse(spec)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): %v is not a *SyntaxError", spec, err)
			}
			if se.Pos < 0 || se.Pos > utf8.RuneCountInString(spec) {
				t.Fatalf("Parse(%q): position %d outside the spec", spec, se.Pos)
			}
			return
		}
		m := testMeta()
		m.Filename = filename
		m.CaptureTime = time.Time{}
		out := s.Expand(m)
		if again := s.Expand(m); again != out {
			t.Fatalf("Expand(%q) not deterministic: %q then %q", spec, out, again)
		}
		for _, d := range SplitDirs(out) {
			if d == "" || d == "." || d == ".." || strings.ContainsAny(d, `/\`) {
				t.Fatalf("SplitDirs(%q) returned %q", out, d)
			}
		}
		if _, err := ParseFilename(spec); err == nil && !strings.ContainsAny(filename, `/\`) {
			if errors.Is(CheckFilename(out), ErrSeparator) {
				t.Fatalf("ParseFilename(%q) accepted, but it expands to %q", spec, out)
			}
		}
	})
}
