package tree

import (
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameLen is the longest file name Linux accepts (NAME_MAX), in bytes.
const MaxNameLen = 255

// maxExtLen is the longest extension ShortenName keeps whole; a longer
// "extension" is just part of an overlong name.
const maxExtLen = 16

// sanitizeName turns a name the camera reported into one a Linux directory
// can hold and a terminal can show: valid UTF-8 (invalid bytes become
// "_"), "/" and control characters (NUL, ESC, newline; see ReplaceControl)
// become "_", "." and ".." (and the empty name) get a "_" prefix, and a
// name over 255 bytes is shortened keeping its extension. Visible
// characters are kept, and the same camera name always gives the same
// name: identity is by name.
func sanitizeName(s string) string {
	s = ReplaceControl(strings.ToValidUTF8(s, "_"))
	s = strings.ReplaceAll(s, "/", "_")
	switch s {
	case "", ".", "..":
		s = "_" + s
	}
	return ShortenName(s)
}

// ReplaceControl replaces with "_" each character of s that is no visible
// part of a name and can command a terminal or break a line: control
// characters (C0 with NUL and ESC, DEL, C1), line and paragraph
// separators, and the bidirectional embeddings, overrides and isolates
// that make a name display as another ("Trojan source").
func ReplaceControl(s string) string {
	if !strings.ContainsFunc(s, isNameControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isNameControl(r) {
			return '_'
		}
		return r
	}, s)
}

func isNameControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
		(r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069')
}

// ShortenName cuts name to at most MaxNameLen bytes, keeping its extension
// (when it has a short one) and never splitting a UTF-8 sequence.
func ShortenName(name string) string {
	if len(name) <= MaxNameLen {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > maxExtLen || len(ext) == len(name) {
		ext = ""
	}
	stem := name[:len(name)-len(ext)]
	stem = truncateUTF8(stem, MaxNameLen-len(ext))
	return stem + ext
}

// truncateUTF8 returns the longest prefix of s of at most n bytes that ends
// on a rune boundary.
func truncateUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// NumberedName is the n-th name for a duplicate: "NAME (n).EXT", shortened
// to MaxNameLen bytes with the number and extension kept.
func NumberedName(name string, n int) string {
	ext := path.Ext(name)
	if len(ext) > maxExtLen || len(ext) == len(name) {
		ext = ""
	}
	stem := name[:len(name)-len(ext)]
	suffix := " (" + strconv.Itoa(n) + ")" + ext
	return truncateUTF8(stem, MaxNameLen-len(suffix)) + suffix
}

// entryKey is what orders the entries that share a sanitised name, so the
// same card gives the same names on every mount: the camera's own name
// first, then the date, the size and, last, the handle (per session, only
// reached for objects identical in every other respect).
type entryKey struct {
	raw    string
	mtime  int64
	size   int64
	handle uint32
}

func (a entryKey) less(b entryKey) bool {
	switch {
	case a.raw != b.raw:
		return a.raw < b.raw
	case a.mtime != b.mtime:
		return a.mtime < b.mtime
	case a.size != b.size:
		return a.size < b.size
	}
	return a.handle < b.handle
}

// MaxAlike is the most entries of one folder that share a name: past it,
// the rest of the group gets no name (left out). Numbering is linear, so
// this only bounds a hostile camera's names, e.g. "SAME (100000).JPG".
const MaxAlike = 100_000

// uniqueNames gives each of the sanitised names a unique name: a name that
// occurs once is kept; of a group that shares a name, the first (the one
// the camera spelled that way, then by keys) keeps it and the others become
// "NAME (2).EXT", "NAME (3).EXT", ..., skipping names taken, up to MaxAlike
// of them: the rest get "" (the caller leaves them out). reserved names
// are never handed out. The result is indexed like names. It takes time
// linear in len(names) (and a sort): the search for a free number
// resumes where the group's last one ended.
func uniqueNames(names []string, keys []entryKey, reserved map[string]bool) []string {
	out := make([]string, len(names))
	used := make(map[string]bool, len(names)+len(reserved))
	for n := range reserved {
		used[n] = true
	}
	count := make(map[string]int, len(names))
	for _, n := range names {
		count[n]++
	}
	order := make([]int, 0, len(names))
	for i, n := range names {
		if count[n] == 1 && !used[n] {
			out[i] = n
			used[n] = true
			continue
		}
		order = append(order, i)
	}
	sort.SliceStable(order, func(a, b int) bool {
		i, j := order[a], order[b]
		if names[i] != names[j] {
			return names[i] < names[j]
		}
		// The camera's own spelling of the name keeps it.
		if ei, ej := keys[i].raw == names[i], keys[j].raw == names[j]; ei != ej {
			return ei
		}
		return keys[i].less(keys[j])
	})
	// A group's numbers are tried in order, resuming where its last name
	// ended, so that naming stays linear. Groups whose numbered names a
	// shortened stem would make alike share their count.
	next := map[string]int{}
	members := map[string]int{}
	for _, i := range order {
		n := names[i]
		if members[n]++; members[n] > MaxAlike {
			continue // out[i] = "": left out
		}
		if !used[n] {
			out[i] = n
			used[n] = true
			continue
		}
		fam := numberFamily(n)
		k := max(next[fam], 2)
		for ; ; k++ {
			if c := NumberedName(n, k); !used[c] {
				out[i] = c
				used[c] = true
				break
			}
		}
		next[fam] = k + 1
	}
	return out
}

// numberFamily is what names n's numbered names by: n itself, unless
// NumberedName may shorten its stem, then the stem as short as any number
// below ten million shortens it (names alike up to there may number
// alike).
func numberFamily(n string) string {
	ext := path.Ext(n)
	if len(ext) > maxExtLen || len(ext) == len(n) {
		ext = ""
	}
	const widest = len(" (9999999)")
	if len(n)+widest <= MaxNameLen {
		return n
	}
	return truncateUTF8(n[:len(n)-len(ext)], MaxNameLen-len(ext)-widest) + "\x00" + ext
}

// reservedRootNames are the control directories and the selection folder
// at the root: a storage never takes their names.
var reservedRootNames = map[string]bool{ControlDirName: true, CameraDirName: true, SelectionDirName: true}

// Reserved reports whether name is one of the control directories at the
// root, which neither a storage nor a renamed directory takes.
func Reserved(name string) bool { return reservedRootNames[name] }

// ControlDirName is the hidden control directory at the root: reachable
// by name, never listed.
const ControlDirName = ".airnef"

// CameraDirName is the camera tree's directory at the root of a renamed
// mount: reachable by name, never listed (design.md).
const CameraDirName = ".camera"
