package camsim

import (
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A medium is what a card slot holds: a directory on disk or a generated
// card. The card (card.go) keeps the object tree and handles; the medium
// only lists entries and reads them, through ReadAt, so a file on disk and
// a file computed on demand are served the same way.
type medium interface {
	// walk lists every entry, parents before children, in name order.
	walk() ([]entry, error)
	// open opens the file at rel for reading.
	open(rel string) (blob, error)
	// dims is the pixel size of the file at rel if it is a JPEG, else 0, 0.
	dims(rel string) (w, h uint32)
	// thumb is the thumbnail the camera keeps of the file at rel (large:
	// Nikon's large thumbnail, GetLargeThumb), or nil when it has none.
	thumb(rel string, large bool) ([]byte, error)
	// space reports the card's capacity and free bytes.
	space() (capacity, free uint64, err error)
	// add puts a copy of the host file src on the card at rel (a file
	// path below the card root), creating folders; remove takes the file
	// or folder at rel off the card. Both are for the test control
	// socket; the host never writes.
	add(src, rel string) error
	remove(rel string) error
	// String says what the medium is, for logs.
	String() string
}

// blob is an open file of a card.
type blob interface {
	io.ReaderAt
	io.Closer
}

// entry is what a walk of the medium saw of one object.
type entry struct {
	rel   string
	dir   bool
	size  int64
	mtime time.Time
}

// dirMedium is a directory on disk.
type dirMedium struct {
	dir string
	log *slog.Logger
	// access is access(2); tests replace it to make entries unreadable
	// even to root.
	access func(path string, mode uint32) error
}

func newDirMedium(dir string, log *slog.Logger) *dirMedium {
	return &dirMedium{dir: dir, log: log, access: syscall.Access}
}

func (m *dirMedium) String() string { return "dir " + m.dir }

func (m *dirMedium) path(rel string) string { return filepath.Join(m.dir, filepath.FromSlash(rel)) }

// walk lists the card directory. Dotfiles, symlinks, special files and
// entries the process cannot read are not on the card.
func (m *dirMedium) walk() ([]entry, error) {
	var out []entry
	var visit func(rel string) error
	visit = func(rel string) error {
		des, err := os.ReadDir(m.path(rel))
		if err != nil {
			if rel == "" {
				return err
			}
			m.log.Debug("card: folder skipped", "path", rel, "err", err)
			return nil
		}
		for _, de := range des {
			name := de.Name()
			if strings.HasPrefix(name, ".") || de.Type()&(fs.ModeSymlink|fs.ModeNamedPipe|fs.ModeSocket|fs.ModeDevice|fs.ModeCharDevice|fs.ModeIrregular) != 0 {
				continue
			}
			r := path.Join(rel, name)
			const rOK, xOK = 4, 1 // access(2) modes
			mode := uint32(rOK)
			if de.IsDir() {
				mode |= xOK
			}
			if m.access(m.path(r), mode) != nil {
				continue
			}
			fi, err := de.Info()
			if err != nil { // gone since ReadDir
				continue
			}
			out = append(out, entry{rel: r, dir: de.IsDir(), size: fi.Size(), mtime: fi.ModTime()})
			if de.IsDir() {
				if err := visit(r); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := visit(""); err != nil {
		return nil, err
	}
	return out, nil
}

func (m *dirMedium) open(rel string) (blob, error) { return os.Open(m.path(rel)) }

// dims reads the pixel size from the header of a file that is a JPEG,
// whatever its name says.
func (m *dirMedium) dims(rel string) (w, h uint32) {
	f, err := os.Open(m.path(rel))
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	cfg, err := jpeg.DecodeConfig(f)
	if err != nil {
		return 0, 0
	}
	return uint32(cfg.Width), uint32(cfg.Height)
}

// thumb finds the file's thumbnail in it (thumbFromFile), as a camera
// finds the one it wrote.
func (m *dirMedium) thumb(rel string, large bool) ([]byte, error) {
	f, err := os.Open(m.path(rel))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, err
	}
	return thumbFromFile(f, fi.Size(), large)
}

// space reports the capacity and free bytes of the file system holding the
// card directory.
func (m *dirMedium) space() (capacity, free uint64, err error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(m.dir, &st); err != nil {
		return 0, 0, err
	}
	return st.Blocks * uint64(st.Bsize), st.Bavail * uint64(st.Bsize), nil
}

// add copies src into the directory under a dotfile name and renames it,
// so a scan never sees a half-written file (a camera finishing a shot).
func (m *dirMedium) add(src, rel string) error {
	if err := checkRel(rel); err != nil {
		return err
	}
	dst := m.path(rel)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".add-*")
	if err != nil {
		return err
	}
	_, err = io.Copy(tmp, in)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if fi, serr := in.Stat(); serr == nil {
			os.Chtimes(tmp.Name(), fi.ModTime(), fi.ModTime())
		}
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

func (m *dirMedium) remove(rel string) error {
	if err := checkRel(rel); err != nil {
		return err
	}
	if _, err := os.Lstat(m.path(rel)); err != nil {
		return err
	}
	return os.RemoveAll(m.path(rel))
}

// checkRel accepts a clean relative slash path inside the card.
func checkRel(rel string) error {
	if rel == "" || path.IsAbs(rel) || path.Clean(rel) != rel || rel == "." || strings.HasPrefix(rel, "../") || rel == ".." {
		return fmt.Errorf("camsim: %q is not a path on the card", rel)
	}
	for _, part := range strings.Split(rel, "/") {
		if strings.HasPrefix(part, ".") {
			return fmt.Errorf("camsim: %q: dotfiles are not on the card", rel)
		}
	}
	return nil
}

var errNotFound = errors.New("no such file on the card")
