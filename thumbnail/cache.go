package thumbnail

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Cache is the "normal" (128 px) directory of a freedesktop thumbnail
// cache.
type Cache struct {
	dir string
}

// NormalDir is where thumbnails of the normal size live:
// $XDG_CACHE_HOME/thumbnails/normal, or ~/.cache/thumbnails/normal.
func NormalDir() (string, error) {
	base := os.Getenv("XDG_CACHE_HOME")
	if !filepath.IsAbs(base) { // the XDG spec: a relative value is ignored
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("thumbnail: no cache directory: %w", err)
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "thumbnails", "normal"), nil
}

// NewCache returns the cache in dir (see NormalDir). Nothing is created
// until the first Write.
func NewCache(dir string) *Cache { return &Cache{dir: dir} }

// Path is the file that holds the thumbnail of the file at uri: the MD5
// of the URI in hex, ".png".
func (c *Cache) Path(uri string) string {
	sum := md5.Sum([]byte(uri))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:])+".png")
}

// Entry is what a thumbnail is of: the file's URI (see FileURI), and its
// mtime (whole seconds) and size as stat shows them.
type Entry struct {
	URI   string
	MTime int64
	Size  int64
}

// Valid reports whether the cache holds a thumbnail of e that file
// managers will use: a PNG whose Thumb::URI and Thumb::MTime (and
// Thumb::Size, when present) match e, as GLib checks.
func (c *Cache) Valid(e Entry) bool {
	b, err := os.ReadFile(c.Path(e.URI))
	if err != nil {
		return false
	}
	t, err := readText(b)
	if err != nil {
		return false
	}
	if t["Thumb::URI"] != e.URI || t["Thumb::MTime"] != strconv.FormatInt(e.MTime, 10) {
		return false
	}
	if s, ok := t["Thumb::Size"]; ok && s != strconv.FormatInt(e.Size, 10) {
		return false
	}
	return true
}

// ErrDecode is returned by Write for bytes that are no image it knows.
var ErrDecode = errors.New("thumbnail: not an image")

// Write decodes the image in data (the camera's thumbnail, usually a
// JPEG), scales it to at most NormalSize pixels and stores it as e's
// thumbnail. An image that would take more than MaxDecodeBytes to decode
// is refused (ErrTooLarge) before it is decoded. The directory is made
// with mode 0700 and the file with 0600, as the specification asks; the
// file appears complete or not at all.
func (c *Cache) Write(e Entry, data []byte) error {
	img, err := decode(data)
	if err != nil {
		return err
	}
	p, err := encodePNG(scale(img, NormalSize), []text{
		{"Thumb::URI", e.URI},
		{"Thumb::MTime", strconv.FormatInt(e.MTime, 10)},
		{"Thumb::Size", strconv.FormatInt(e.Size, 10)},
		{"Software", "airnef-mount"},
	})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	f, err := os.CreateTemp(c.dir, ".airnef-mount-*.png")
	if err != nil {
		return fmt.Errorf("thumbnail: %w", err)
	}
	// CreateTemp makes the file 0600 already; say so in case that changes.
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(p)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), c.Path(e.URI))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("thumbnail: %w", err)
	}
	return nil
}
