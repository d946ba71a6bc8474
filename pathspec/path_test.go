package pathspec

import (
	"errors"
	"slices"
	"testing"
)

func TestSplitDirs(t *testing.T) {
	tests := map[string][]string{
		"":                 nil,
		"/":                nil,
		`\`:                nil,
		".":                nil,
		"..":               nil,
		"./../.":           nil,
		"D7200":            {"D7200"},
		`D7200\Raw Files`:  {"D7200", "Raw Files"},
		"D7200/Raw Files":  {"D7200", "Raw Files"},
		`/abs\\mixed//x/`:  {"abs", "mixed", "x"},
		"../../etc/passwd": {"etc", "passwd"},
		"a/./b/../c":       {"a", "b", "c"}, // ".." is dropped, not resolved
		"...":              {"..."},
		".hidden/x..":      {".hidden", "x.."},
		" a / b ":          {" a ", " b "},
		"日本/写真":            {"日本", "写真"},
		"2015/09/24/Fall":  {"2015", "09", "24", "Fall"},
	}
	for in, want := range tests {
		if got := SplitDirs(in); !slices.Equal(got, want) {
			t.Errorf("SplitDirs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckFilename(t *testing.T) {
	tests := map[string]error{
		"DSC_0014.NEF":         nil,
		"Main Camera_0001.NEF": nil,
		"...":                  nil,
		".hidden":              nil,
		"日本.jpg":               nil,
		"":                     ErrEmptyName,
		"a/b":                  ErrSeparator,
		`a\b`:                  ErrSeparator,
		"/":                    ErrSeparator,
		".":                    ErrReservedName,
		"..":                   ErrReservedName,
		"a\x00b":               ErrReservedName,
	}
	for in, want := range tests {
		if got := CheckFilename(in); !errors.Is(got, want) || (want == nil) != (got == nil) {
			t.Errorf("CheckFilename(%q) = %v, want %v", in, got, want)
		}
	}
}
