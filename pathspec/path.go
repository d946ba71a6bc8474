package pathspec

import "strings"

// SplitDirs splits an expanded --dirnamespec into directory names. It
// splits on '/' and on '\' (the seed's examples are written for Windows:
// "@cameramodel@\@filename_ext@" makes "D7200\Raw Files"), and drops empty,
// "." and ".." components, so that no spec can name a directory outside
// the mount's tree (Airnef joined the result to --outputdir, where an
// absolute result or ".." escaped it). It returns nil if nothing is left,
// meaning the top directory.
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
// component) can be used as a directory entry: it returns ErrEmptyName,
// ErrSeparator or ErrReservedName, or nil. Airnef 1.1 makes the first two
// checks on each generated file name and exits when one fails; a mount
// would rather skip or fall back for that one file.
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
