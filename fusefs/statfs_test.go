package fusefs

import (
	"strings"
	"testing"

	"github.com/airnef-mount/airnef-mount/tree"
)

func TestFreeImages(t *testing.T) {
	tests := map[string]struct {
		u     tree.Usage
		files int
		bytes int64
		want  uint64
	}{
		"camera's figure":    {u: tree.Usage{Free: 1 << 30, FreeImages: 812, FreeImagesKnown: true}, files: 10, bytes: 10 << 20, want: 812},
		"by the mean size":   {u: tree.Usage{Free: 100 << 20}, files: 4, bytes: 40 << 20, want: 10},
		"nothing listed":     {u: tree.Usage{Free: 100 << 20}, want: 0},
		"empty files only":   {u: tree.Usage{Free: 100 << 20}, files: 3, bytes: 0, want: 0},
		"card full, known":   {u: tree.Usage{FreeImagesKnown: true}, files: 4, bytes: 40 << 20, want: 0},
		"card full, by mean": {u: tree.Usage{}, files: 4, bytes: 40 << 20, want: 0},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := freeImages(tc.u, tc.files, tc.bytes); got != tc.want {
				t.Errorf("freeImages = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestSourceName(t *testing.T) {
	tests := map[string]string{
		"Nikon D7200":             "Nikon D7200",
		"  Canon   EOS\t6D ":      "Canon EOS 6D",
		"a,b\\c":                  "a,b\\c", // go-fuse escapes these in the options
		"evil\x1b[31mred\nline":   "evil [31mred line",
		"":                        FsName,
		"\x00\x01":                FsName,
		"Ünïcödé ✓":               "Ünïcödé ✓",
		string(make([]byte, 100)): FsName,
	}
	for in, want := range tests {
		if got := SourceName(in); got != want {
			t.Errorf("SourceName(%q) = %q, want %q", in, got, want)
		}
	}
	long := SourceName("Nikon D" + strings.Repeat("é", 100))
	if len(long) > maxSource {
		t.Errorf("SourceName kept %d bytes, want at most %d", len(long), maxSource)
	}
}
