package tree

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("a", 300)
	longUTF8 := strings.Repeat("é", 200) // 400 bytes
	tests := map[string]struct {
		in, want string
	}{
		"plain":          {"DSC_0001.JPG", "DSC_0001.JPG"},
		"slash":          {"a/b.JPG", "a_b.JPG"},
		"nul":            {"a\x00b", "a_b"},
		"dot":            {".", "_."},
		"dotdot":         {"..", "_.."},
		"empty":          {"", "_"},
		"hidden kept":    {".hidden", ".hidden"},
		"dots inside":    {"...", "..."},
		"invalid utf8":   {"a\xffb.JPG", "a_b.JPG"},
		"long keeps ext": {long + ".JPG", strings.Repeat("a", 251) + ".JPG"},
		"long no ext":    {long, strings.Repeat("a", 255)},
		"long huge ext":  {"a." + long, ("a." + long)[:255]},
		"long utf8":      {longUTF8 + ".NEF", strings.Repeat("é", 125) + ".NEF"},
		"unicode":        {"日本.JPG", "日本.JPG"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := sanitizeName(tc.in)
			if got != tc.want {
				t.Errorf("sanitizeName(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if len(got) > MaxNameLen || !utf8.ValidString(got) || strings.ContainsAny(got, "/\x00") || got == "." || got == ".." || got == "" {
				t.Errorf("sanitizeName(%q) = %q is not a valid file name", tc.in, got)
			}
		})
	}
}

func TestNumberedName(t *testing.T) {
	tests := map[string]struct {
		in   string
		n    int
		want string
	}{
		"ext":     {"IMG.JPG", 2, "IMG (2).JPG"},
		"no ext":  {"DCIM", 3, "DCIM (3)"},
		"dotfile": {".x", 2, ".x (2)"},
		"long":    {strings.Repeat("a", 251) + ".JPG", 12, strings.Repeat("a", 246) + " (12).JPG"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := NumberedName(tc.in, tc.n); got != tc.want {
				t.Errorf("NumberedName(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

func TestUniqueNames(t *testing.T) {
	// "a/b.JPG" and "a_b.JPG" sanitise to the same name; a real
	// "a_b (2).JPG" must not be taken by the duplicate.
	raw := []string{"a_b.JPG", "a/b.JPG", "a_b (2).JPG", "X", "X", "X", "Y"}
	names := make([]string, len(raw))
	keys := make([]entryKey, len(raw))
	for i, r := range raw {
		names[i] = sanitizeName(r)
		keys[i] = entryKey{raw: r, handle: uint32(100 - i)}
	}
	got := uniqueNames(names, keys, map[string]bool{"Y": true})
	want := []string{"a_b.JPG", "a_b (3).JPG", "a_b (2).JPG", "X (3)", "X", "X (2)", "Y (2)"}
	// The X group has equal raw names: ordered by handle (100-i), so the
	// last one listed comes first.
	want[3], want[4], want[5] = "X (3)", "X (2)", "X"
	if !slices.Equal(got, want) {
		t.Fatalf("uniqueNames = %q, want %q", got, want)
	}

	// Whatever order the camera lists them in, each entry gets the same name.
	type pair struct {
		name string
		key  entryKey
	}
	base := map[entryKey]string{}
	for i := range got {
		base[keys[i]] = got[i]
	}
	for range 20 {
		perm := rand.Perm(len(raw))
		n2 := make([]string, len(raw))
		k2 := make([]entryKey, len(raw))
		for i, p := range perm {
			n2[i], k2[i] = names[p], keys[p]
		}
		g2 := uniqueNames(n2, k2, map[string]bool{"Y": true})
		for i := range g2 {
			if base[k2[i]] != g2[i] {
				t.Fatalf("order %v: %v named %q, want %q", perm, k2[i], g2[i], base[k2[i]])
			}
		}
	}
	seen := map[string]bool{}
	for _, n := range got {
		if seen[n] {
			t.Fatalf("duplicate name %q in %q", n, got)
		}
		seen[n] = true
	}
}

// Many entries alike take time linear in their number (a camera listing
// 40,000 files named alike took 170 s when each tried every number from
// 2), and past MaxAlike the rest get no name (left out).
func TestUniqueNamesAlike(t *testing.T) {
	alike := func(n int, name func(i int) string) ([]string, []entryKey) {
		names := make([]string, n)
		keys := make([]entryKey, n)
		for i := range names {
			names[i] = name(i)
			keys[i] = entryKey{raw: names[i], handle: uint32(i)}
		}
		return names, keys
	}
	start := time.Now()
	names, keys := alike(MaxAlike+5, func(int) string { return "SAME.JPG" })
	got := uniqueNames(names, keys, nil)
	if got[0] != "SAME.JPG" || got[1] != "SAME (2).JPG" || got[MaxAlike-1] != fmt.Sprintf("SAME (%d).JPG", MaxAlike) {
		t.Errorf("names %q ... %q", got[:2], got[MaxAlike-1])
	}
	if left := got[MaxAlike:]; !slices.Equal(left, make([]string, 5)) {
		t.Errorf("past MaxAlike: %q, want 5 left out", left)
	}
	// Long names alike but for a tail that numbering cuts off: each
	// group's numbers do not start again from 2.
	prefix := strings.Repeat("p", 245)
	names, keys = alike(40_000, func(i int) string { return fmt.Sprintf("%s%06d.JPG", prefix, i/2) })
	got = uniqueNames(names, keys, nil)
	seen := map[string]bool{}
	for i, n := range got {
		if n == "" || seen[n] || len(n) > MaxNameLen {
			t.Fatalf("entry %d named %q", i, n)
		}
		seen[n] = true
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v: not linear", d)
	}
}

func BenchmarkUniqueNamesAlike(b *testing.B) {
	for _, n := range []int{10_000, 20_000, 40_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			names := make([]string, n)
			keys := make([]entryKey, n)
			for i := range names {
				names[i], keys[i] = "SAME.JPG", entryKey{raw: "SAME.JPG", handle: uint32(i)}
			}
			for b.Loop() {
				uniqueNames(names, keys, nil)
			}
		})
	}
}

// Control characters never reach a name; visible characters stay, and the
// mapping depends on the name alone (identity is by name).
func TestSanitizeNameControl(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"escape":     {"ESC\x1b[2J.JPG", "ESC_[2J.JPG"},
		"newline":    {"two\nlines.JPG", "two_lines.JPG"},
		"c1 and del": {"a\u009b\x7fb.JPG", "a__b.JPG"},
		"bidi":       {"BIDI\u202Egpj.exe", "BIDI_gpj.exe"},
		"isolate":    {"a\u2066b\u2069.JPG", "a_b_.JPG"},
		"line sep":   {"a\u2028b\u2029.JPG", "a_b_.JPG"},
		"visible":    {"日本 \u00e9\u200d.JPG", "日本 \u00e9\u200d.JPG"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := sanitizeName(tc.in); got != tc.want {
				t.Errorf("sanitizeName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
