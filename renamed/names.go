package renamed

import (
	"strings"

	"github.com/airnef-mount/airnef-mount/pathspec"
	"github.com/airnef-mount/airnef-mount/tree"
)

// safeDirs splits an expanded --dirnamespec into directory names that a
// Linux directory can hold: empty, "." and ".." components dropped
// (pathspec.SplitDirs), invalid UTF-8 and control characters replaced
// (tree.ReplaceControl), each name at most 255 bytes (shortened keeping
// its extension).
func safeDirs(s string) []string {
	dirs := pathspec.SplitDirs(s)
	for i, d := range dirs {
		dirs[i] = tree.ShortenName(tree.ReplaceControl(strings.ToValidUTF8(d, "_")))
	}
	return dirs
}

// safeFileName makes an expanded --filenamespec a file name: '/' and '\'
// (from the camera's metadata: ParseFilename refuses them in the spec),
// control characters (tree.ReplaceControl) and invalid UTF-8 become '_',
// "." and ".." get a "_" prefix, and a name over 255 bytes is shortened
// keeping its extension. It reports false for an empty name.
func safeFileName(s string) (string, bool) {
	if s == "" {
		return "", false
	}
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, tree.ReplaceControl(strings.ToValidUTF8(s, "_")))
	if s == "." || s == ".." {
		s = "_" + s
	}
	return tree.ShortenName(s), true
}
