package tree

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// MetaCache is the metadata cache of one camera (model and serial number):
// what the folders listed on earlier mounts held, so that a remount lists
// a folder with one GetObjectHandles instead of describing every object.
//
// A folder's record (metafile.go) is reused when the camera lists the same
// handles again; when the storage's fingerprint changed since (a shot was
// taken or deleted), one GetObjectInfo must also agree with it
// (Tree.spotCheck), as some cameras number handles afresh each session.
//
// It is one JSON file per camera in CacheDir, replaced atomically a little
// after the listings settle and at Close, holding at most maxObjects
// descriptions. It is only a shortcut: a missing, corrupt or unwritable
// file costs a listing from the camera and a warning, never a failure.
type MetaCache struct {
	path       string // "" keeps the cache in memory only (tests)
	cam        CameraID
	maxObjects int
	log        *slog.Logger
	// saveDelay is how long after the last listing the file is written.
	saveDelay time.Duration

	mu      sync.Mutex
	fps     map[uint16]metaFingerprint // storages seen in this session
	folders map[string]*metaFolder     // by metaKey.String
	used    map[string]bool            // folders listed or reused in this session
	dirty   bool
	timer   *time.Timer
	closed  bool
	// saveMu serialises writes of the file (a timer's and Close's).
	saveMu sync.Mutex
}

// metaSaveDelay is how long after the last listing the cache is saved: a
// whole-card listing (ls -lR, a file manager's scan) lists folder after
// folder, and is saved once, a little after the last.
const metaSaveDelay = 2 * time.Second

// CacheDir is the directory of the metadata caches:
// $XDG_CACHE_HOME/airnef-mount, or ~/.cache/airnef-mount. It is "" when
// neither XDG_CACHE_HOME (absolute, as the XDG spec requires) nor the home
// directory is known.
func CacheDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "airnef-mount")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".cache", "airnef-mount")
}

// OpenMetaCache reads the metadata cache of camera cam in directory dir
// (created when first saved), holding at most maxObjects descriptions
// (0: DefaultMaxObjects). With dir "" the cache lives in memory only. A
// file that cannot be read, is corrupt, of another version or of another
// camera is ignored with one warning: the mount lists from the camera.
func OpenMetaCache(dir string, cam CameraID, maxObjects int, log *slog.Logger) *MetaCache {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if maxObjects <= 0 {
		maxObjects = DefaultMaxObjects
	}
	m := &MetaCache{
		cam: cam, maxObjects: maxObjects, log: log, saveDelay: metaSaveDelay,
		fps: map[uint16]metaFingerprint{}, folders: map[string]*metaFolder{}, used: map[string]bool{},
	}
	if dir == "" {
		return m
	}
	m.path = filepath.Join(dir, cam.FileName("metadata"))
	if err := m.load(); err != nil {
		log.Warn("metadata cache ignored: the card is listed from the camera", "file", m.path, "err", err)
		m.folders = map[string]*metaFolder{}
	}
	return m
}

// Path is the cache's file ("" in memory).
func (m *MetaCache) Path() string {
	if m == nil {
		return ""
	}
	return m.path
}

// errMetaFile is a cache file that is not one this program wrote for
// this camera.
var errMetaFile = errors.New("tree: not a metadata cache of this version and camera")

// load reads the file into m.folders. A missing file is no error.
func (m *MetaCache) load() error {
	b, err := os.ReadFile(m.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var f metaFile
	if err := json.Unmarshal(b, &f); err != nil {
		return fmt.Errorf("%w: %v", errMetaFile, err)
	}
	if f.Version != metaVersion {
		return fmt.Errorf("%w: version %d, want %d", errMetaFile, f.Version, metaVersion)
	}
	if f.Model != m.cam.Model || f.Serial != m.cam.Serial {
		return fmt.Errorf("%w: camera %q %q", errMetaFile, f.Model, f.Serial)
	}
	total := 0
	for _, rec := range f.Folders {
		if err := rec.check(); err != nil {
			return fmt.Errorf("%w: %v", errMetaFile, err)
		}
		total += len(rec.Objects)
		if total > m.maxObjects {
			break // the cap shrank since the file was written
		}
		m.folders[metaKey{slot: rec.Slot, path: rec.Path}.String()] = rec
	}
	return nil
}

// storage tells the cache the fingerprint of the storage in slot as read
// in this session.
func (m *MetaCache) storage(slot uint16, si *mtp.StorageInfo) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fps[slot] = fingerprintOf(si)
}

// folder returns the cached listing of the folder at key, nil when there
// is none or its storage was not seen in this session.
func (m *MetaCache) folder(key metaKey) *metaFolder {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.fps[key.slot]; !ok {
		return nil
	}
	return m.folders[key.String()]
}

// stale reports whether rec's storage changed since rec was recorded.
func (m *MetaCache) stale(rec *metaFolder) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	fp, ok := m.fps[rec.Slot]
	return !ok || fp != rec.Fingerprint
}

// record records the listing of the folder at key: the handles the camera
// listed and the objects it described, under the storage's fingerprint of
// this session.
func (m *MetaCache) record(key metaKey, handles []uint32, descs []described) {
	if m == nil {
		return
	}
	rec := &metaFolder{Slot: key.slot, Path: key.path, Handles: slices.Clone(handles)}
	if rec.Path == nil {
		rec.Path = []string{}
	}
	if rec.Handles == nil {
		rec.Handles = []uint32{}
	}
	rec.Objects = make([]metaObject, 0, len(descs))
	seen := make(map[uint32]bool, len(descs))
	for _, d := range descs {
		if d.refused {
			// An object the camera refused to describe may be
			// described next time: the folder is listed again.
			m.forget(key)
			return
		}
		if d.info == nil || seen[d.h] {
			continue
		}
		seen[d.h] = true
		i := d.info
		o := metaObject{
			Handle: d.h, Storage: i.StorageID, Format: uint16(i.ObjectFormat), Parent: i.ParentObject,
			Name: i.Filename, Captured: i.CaptureDate, Modified: i.ModificationDate,
			Size: uint64(i.CompressedSize), SizeKnown: true,
		}
		if i.CompressedSize == 0xFFFFFFFF {
			o.SizeKnown = d.size >= 0xFFFFFFFF
			if o.SizeKnown {
				o.Size = d.size
			}
		}
		rec.Objects = append(rec.Objects, o)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	fp, ok := m.fps[key.slot]
	if !ok {
		return // a storage this session has not seen: nothing to check it by
	}
	rec.Fingerprint = fp
	k := key.String()
	m.folders[k] = rec
	m.used[k] = true
	m.dirty = true
}

// forget drops the record of the folder at key, if any.
func (m *MetaCache) forget(key metaKey) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := key.String()
	if _, ok := m.folders[k]; ok {
		delete(m.folders, k)
		m.dirty = true
	}
}

// touched schedules a save saveDelay after the last call: a listing
// ended.
func (m *MetaCache) touched() {
	if m == nil || m.path == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed || !m.dirty {
		return
	}
	if m.timer == nil {
		m.timer = time.AfterFunc(m.saveDelay, func() {
			if err := m.Save(); err != nil {
				m.log.Warn("cannot save the metadata cache", "err", err)
			}
		})
		return
	}
	m.timer.Reset(m.saveDelay)
}

// Close saves the cache if it changed and stops saving it afterwards.
func (m *MetaCache) Close() error {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	m.closed = true
	if m.timer != nil {
		m.timer.Stop()
	}
	m.mu.Unlock()
	return m.Save()
}

// Save writes the cache to its file now, if it changed since the last
// save. The folders listed in this session come first; the others (from
// earlier mounts, not looked at in this one) are kept while the total stays
// within maxObjects.
func (m *MetaCache) Save() error {
	if m == nil || m.path == "" {
		return nil
	}
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	m.mu.Lock()
	if !m.dirty {
		m.mu.Unlock()
		return nil
	}
	f := metaFile{Version: metaVersion, Model: m.cam.Model, Serial: m.cam.Serial}
	for s, fp := range m.fps {
		f.Storages = append(f.Storages, metaStorage{Slot: s, Fingerprint: fp})
	}
	sort.Slice(f.Storages, func(i, j int) bool { return f.Storages[i].Slot < f.Storages[j].Slot })
	keys := make([]string, 0, len(m.folders))
	for k := range m.folders {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m.used[keys[i]] != m.used[keys[j]] {
			return m.used[keys[i]]
		}
		return keys[i] < keys[j]
	})
	total := 0
	for _, k := range keys {
		rec := m.folders[k]
		if total+len(rec.Objects) > m.maxObjects {
			continue
		}
		total += len(rec.Objects)
		f.Folders = append(f.Folders, rec)
	}
	m.dirty = false
	m.mu.Unlock()
	// Records are immutable: encoding them outside the lock is safe.
	b, err := json.Marshal(&f)
	if err == nil {
		err = os.MkdirAll(filepath.Dir(m.path), 0o755)
	}
	if err == nil {
		err = writeAtomic(m.path, b)
	}
	if err != nil {
		m.mu.Lock()
		m.dirty = true
		m.mu.Unlock()
		return fmt.Errorf("save metadata cache: %w", err)
	}
	m.log.Debug("metadata cache saved", "file", m.path, "folders", len(f.Folders), "objects", total)
	return nil
}

// writeAtomic writes b to path through a temporary file in the same
// directory renamed over it: a reader sees the old file or the new one,
// never half of one. It does not sync: after a power cut the file may be
// lost or empty, which the next mount ignores with a warning.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}
