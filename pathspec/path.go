package pathspec

import "strings"

// SplitDirs splits an expanded --dirnamespec into directory names on '/'
// and '\' (the seed's examples are Windows paths), dropping empty, "." and
// ".." components so no spec escapes the mount; nil is the top directory.
func SplitDirs(s string) []string {
	var dirs []string
	for _, d := range strings.FieldsFunc(s, isSeparator) {
		if d != "." && d != ".." {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// CheckFilename reports whether an expanded --filenamespec (or a SplitDirs
// component) can be a directory entry: ErrEmptyName, ErrSeparator,
// ErrReservedName or nil, for the caller to fall back for that one file.
func CheckFilename(name string) error {
	switch {
	case name == "":
		return ErrEmptyName
	case strings.ContainsFunc(name, isSeparator):
		return ErrSeparator
	case name == "." || name == ".." || strings.IndexByte(name, 0) >= 0:
		return ErrReservedName
	}
	return nil
}

func isSeparator(r rune) bool { return r == '/' || r == '\\' }
