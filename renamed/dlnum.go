package renamed

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"

	"github.com/airnef-mount/airnef-mount/tree"
)

// Lifetime is the store of @dlnum_lifetime@ numbers of one camera (model
// and serial number): an object gets the next number the first time any
// mount of the camera sees it, and keeps it on every later mount. An
// object is known by its place (slot, folder path, name), with its size
// and capture date as a check: a reformatted card's new DSC_0001 gets a
// new number.
//
// The numbers are one JSON file per camera in the state directory, read
// and written under an flock (two mounts never hand out one number) and
// replaced durably. A corrupt file is moved aside with a warning and
// numbering starts again.
type Lifetime struct {
	path string // "" keeps the numbers in memory only
	cam  tree.CameraID
	log  *slog.Logger

	mu  sync.Mutex
	mem *lifetimeFile // the numbers when path is ""
}

// LifetimeKey is one object as the lifetime store knows it.
type LifetimeKey struct {
	// Slot is the card slot (the StorageID's high 16 bits).
	Slot int `json:"slot"`
	// Folder is the folder path below the storage, names joined by "/"
	// ("" for the storage's top level).
	Folder string `json:"folder"`
	// Name is the file's name in that folder.
	Name string `json:"name"`
	// Size and Capture are the check: the size in bytes, and the
	// capture date as the camera's wall time (see wallTime).
	Size    int64  `json:"size"`
	Capture string `json:"capture"`
}

// place is the part of a key that identifies an object; the rest checks it.
func (k LifetimeKey) place() string {
	return strconv.Itoa(k.Slot) + "\x00" + k.Folder + "\x00" + k.Name
}

// lifetimeVersion is the format of the JSON file.
const lifetimeVersion = 1

// lifetimeFile is the JSON file's content.
type lifetimeFile struct {
	Version int    `json:"version"`
	Model   string `json:"model"`
	Serial  string `json:"serial"`
	// Last is the highest number handed out.
	Last    int              `json:"last"`
	Objects []lifetimeObject `json:"objects"`

	byPlace map[string]int // index into Objects
}

type lifetimeObject struct {
	LifetimeKey
	Num int `json:"num"`
}

func (f *lifetimeFile) index() {
	f.byPlace = make(map[string]int, len(f.Objects))
	for i, o := range f.Objects {
		f.byPlace[o.place()] = i
	}
}

// assign returns the number of each key, handing out new ones (and
// recording them) for keys it does not know or whose check fails. It
// reports whether anything changed.
func (f *lifetimeFile) assign(keys []LifetimeKey) ([]int, bool) {
	if f.byPlace == nil {
		f.index()
	}
	nums := make([]int, len(keys))
	changed := false
	for i, k := range keys {
		j, ok := f.byPlace[k.place()]
		if ok && f.Objects[j].Size == k.Size && f.Objects[j].Capture == k.Capture {
			nums[i] = f.Objects[j].Num
			continue
		}
		f.Last++
		o := lifetimeObject{LifetimeKey: k, Num: f.Last}
		if ok {
			f.Objects[j] = o // another file in the same place
		} else {
			f.byPlace[k.place()] = len(f.Objects)
			f.Objects = append(f.Objects, o)
		}
		nums[i] = f.Last
		changed = true
	}
	return nums, changed
}

// OpenLifetime returns the lifetime store of camera cam in directory dir
// (created when first written). With dir "" the numbers are kept in
// memory only: they start at 1 on every mount. Nothing is read until
// Assign.
func OpenLifetime(dir string, cam tree.CameraID, log *slog.Logger) *Lifetime {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Lifetime{cam: cam, log: log}
	if dir == "" {
		l.mem = l.empty()
	} else {
		l.path = filepath.Join(dir, cam.FileName("dlnum_lifetime"))
	}
	return l
}

// Path is the file the numbers are kept in ("" in memory).
func (l *Lifetime) Path() string { return l.path }

func (l *Lifetime) empty() *lifetimeFile {
	return &lifetimeFile{Version: lifetimeVersion, Model: l.cam.Model, Serial: l.cam.Serial}
}

// Assign returns the lifetime number of each key, in order: the recorded
// one when the key's place is known with the same size and capture date,
// else the next number, recorded. When the file cannot be read or written
// the numbers are still returned, with the error: right for this mount only.
func (l *Lifetime) Assign(keys []LifetimeKey) ([]int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.path == "" {
		nums, _ := l.mem.assign(keys)
		return nums, nil
	}
	dir := filepath.Dir(l.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		nums, _ := l.empty().assign(keys)
		return nums, fmt.Errorf("dlnum_lifetime: %w", err)
	}
	lock, err := os.OpenFile(l.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		nums, _ := l.empty().assign(keys)
		return nums, fmt.Errorf("dlnum_lifetime: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		nums, _ := l.empty().assign(keys)
		return nums, fmt.Errorf("dlnum_lifetime: lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	f, err := l.load()
	if err != nil {
		nums, _ := l.empty().assign(keys)
		return nums, err
	}
	nums, changed := f.assign(keys)
	if changed {
		if err := writeFileAtomic(l.path, f); err != nil {
			return nums, fmt.Errorf("dlnum_lifetime: %w", err)
		}
	}
	return nums, nil
}

// load reads the file: a missing one is empty; a corrupt one (or one of
// another camera or format) is moved aside to NAME.corrupt with a warning
// and read as empty. Only an unreadable file is an error. l.mu and the
// file lock must be held.
func (l *Lifetime) load() (*lifetimeFile, error) {
	b, err := os.ReadFile(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return l.empty(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("dlnum_lifetime: %w", err)
	}
	f := &lifetimeFile{}
	err = json.Unmarshal(b, f)
	switch {
	case err != nil:
	case f.Version != lifetimeVersion:
		err = fmt.Errorf("format version %d, want %d", f.Version, lifetimeVersion)
	case f.Model != l.cam.Model || f.Serial != l.cam.Serial:
		err = fmt.Errorf("it is of camera %q serial %q", f.Model, f.Serial)
	default:
		err = f.check()
	}
	if err != nil {
		aside := l.path + ".corrupt"
		l.log.Warn("the dlnum_lifetime file is corrupt: numbering starts again; the old file is kept aside",
			"file", l.path, "aside", aside, "err", err)
		if rerr := os.Rename(l.path, aside); rerr != nil {
			l.log.Warn("moving the corrupt dlnum_lifetime file aside failed", "file", l.path, "err", rerr)
		}
		return l.empty(), nil
	}
	f.index()
	return f, nil
}

// check reports a file whose numbers could be handed out twice.
func (f *lifetimeFile) check() error {
	seen := make(map[string]bool, len(f.Objects))
	for _, o := range f.Objects {
		if o.Num < 1 || o.Num > f.Last {
			return fmt.Errorf("number %d of %q outside 1..%d", o.Num, o.Name, f.Last)
		}
		if seen[o.place()] {
			return fmt.Errorf("%q in %q listed twice", o.Name, o.Folder)
		}
		seen[o.place()] = true
	}
	return nil
}

// writeFileAtomic writes v as JSON to path, durably: lifetime download
// numbers must survive a power cut.
func writeFileAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "\t")
	if err != nil {
		return err
	}
	if err := writeBytesAtomic(path, append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// writeBytesAtomic writes b to path through a temporary file in the same
// directory renamed over it: a reader (or a crash) sees the old file or
// the new one, never half of one. It syncs the file and its directory, so
// the new content survives a power cut.
func writeBytesAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
