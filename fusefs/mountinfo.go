package fusefs

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FSType is the filesystem type of the mounts, as /proc/self/mountinfo,
// mount(8) and fstab name it.
const FSType = "fuse." + FsName

// MountEntry is one line of /proc/self/mountinfo (proc(5)), unescaped.
type MountEntry struct {
	Dev    string // the device, MAJOR:MINOR; a FUSE mount's connection
	Point  string // the mount point
	FSType string // e.g. fuse.airnef-mount
	Source string // the FUSE fsname: the camera
}

// Ours reports whether the mount is an airnef-mount mount.
func (e MountEntry) Ours() bool { return e.FSType == FSType }

// mountinfoPath is read by Mounts; tests point it elsewhere.
var mountinfoPath = "/proc/self/mountinfo"

// Mounts returns this process's mounts, in mount order (a later mount on
// the same point hides an earlier one).
func Mounts() ([]MountEntry, error) {
	b, err := os.ReadFile(mountinfoPath)
	if err != nil {
		return nil, err
	}
	return parseMountinfo(string(b))
}

// parseMountinfo parses mountinfo lines:
//
//	36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//	(1)(2)(3)   (4)   (5)         (6)       (7)     (8) (9)  (10)      (11)
//
// Optional fields (7) run up to the "-" separator (8).
func parseMountinfo(s string) ([]MountEntry, error) {
	var out []MountEntry
	for i, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		f := strings.Fields(l)
		sep := -1
		for j := 6; j < len(f); j++ {
			if f[j] == "-" {
				sep = j
				break
			}
		}
		if len(f) < 6 || sep < 0 || sep+2 >= len(f) {
			return nil, fmt.Errorf("mountinfo line %d: %q: malformed", i+1, l)
		}
		out = append(out, MountEntry{
			Dev: f[2], Point: unescapeMountinfo(f[4]),
			FSType: unescapeMountinfo(f[sep+1]), Source: unescapeMountinfo(f[sep+2]),
		})
	}
	return out, nil
}

// unescapeMountinfo undoes the kernel's octal escapes of space, tab,
// newline and backslash (\040, \011, \012, \134).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// MountAt returns the mount whose mount point is dir (the one on top, when
// several are stacked there), if dir is a mount point.
func MountAt(dir string) (MountEntry, bool, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return MountEntry{}, false, err
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	} else if !errors.Is(err, os.ErrNotExist) {
		// A dead FUSE mount cannot be resolved: compare as given.
		abs = filepath.Clean(abs)
	}
	ms, err := Mounts()
	if err != nil {
		return MountEntry{}, false, err
	}
	var found MountEntry
	ok := false
	for _, m := range ms {
		if m.Point == abs {
			found, ok = m, true
		}
	}
	return found, ok, nil
}
