package fusefs

import (
	"log/slog"
	"os"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"

	"github.com/airnef-mount/airnef-mount/cache"
)

// Config is what the FUSE side needs: the tree, the cache its files are
// read through, and where to report.
type Config struct {
	Tree  *Tree
	Cache *cache.Cache
	// Status describes the camera session for /.airnef/stats (e.g.
	// "connected NIKON D7200"); nil prints nothing.
	Status func() string
	// UID and GID own every file; default the mounting process's.
	UID, GID uint32
	Logger   *slog.Logger
}

// filesystem is the state every node shares.
type filesystem struct {
	tree    *Tree
	cache   *cache.Cache
	status  func() string
	uid     uint32
	gid     uint32
	log     *slog.Logger
	errs    *errnoMapper
	started time.Time // mtime of the control files
}

// NewRoot returns the root node of the camera's filesystem, to pass to
// Mount (or fs.Mount).
func NewRoot(cfg Config) fs.InodeEmbedder {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	uid, gid := cfg.UID, cfg.GID
	if uid == 0 && gid == 0 {
		uid, gid = uint32(os.Getuid()), uint32(os.Getgid())
	}
	fsys := &filesystem{
		tree: cfg.Tree, cache: cfg.Cache, status: cfg.Status,
		uid: uid, gid: gid, log: log, errs: newErrnoMapper(log),
		started: time.Now(),
	}
	return &dirNode{fsys: fsys, obj: cfg.Tree.Root()}
}
