package fusefs

import (
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/tree"
)

// Config is what the FUSE side needs: the tree, the cache its files are
// read through, and where to report.
type Config struct {
	Tree  *tree.Tree
	Cache *cache.Cache
	// Status describes the camera session for /.airnef/stats (e.g.
	// "connected NIKON D7200"); nil prints nothing.
	Status func() string
	// UID and GID own every file; default the mounting process's.
	UID, GID uint32
	// Umask takes permission bits from every file (0644) and folder
	// (0755), as FUSE's umask option does.
	Umask  uint32
	Logger *slog.Logger

	// Camera names the camera in /.airnef/stats.
	Camera tree.CameraID
	// Served counts the bytes and files read; nil: counted internally.
	Served *tree.Served
	// Listed, when set, is told of the files of each directory a reader
	// lists (readdir), with their paths in the mount; --thumbnails queues
	// their thumbnails there. It must not block.
	Listed func([]ListedFile)
	// MoreStats adds "name value" lines to /.airnef/stats.
	MoreStats func() string
	// OnNew, when set, is told the path in the mount of each file the
	// camera reports as new (Tree.Watch) once the kernel can see it. It
	// must not block.
	OnNew func(path string)
	// Gate, when set, counts the reads in progress and ends them at
	// unmount (see Gate); nil: reads are never refused.
	Gate *Gate
}

// filesystem is the state every node shares.
type filesystem struct {
	tree              *tree.Tree
	cache             *cache.Cache
	status            func() string
	uid               uint32
	gid               uint32
	fileMode, dirMode uint32 // with the type bits, Config.Umask applied
	log               *slog.Logger
	errs              *errnoMapper
	started           time.Time // mtime of the control files

	camera    tree.CameraID
	served    *tree.Served
	listed    func([]ListedFile)
	moreStats func() string
	// cameraPrefix is where the camera tree is in the mount: "" at the
	// root, ".camera/" under a renamed tree.
	cameraPrefix string

	onNew func(path string)
	gate  *Gate // nil: none
	// order learns, per process, whether it copies a folder file after
	// file, for the cache's prefetch of the next file.
	order tree.ReadOrder
	// root is the mount's root node: the camera tree's, or the renamed
	// tree's.
	root fs.InodeEmbedder
	// latest is the mount path of the newest capture ("" before one),
	// the target of /.airnef/latest.
	latest atomic.Pointer[string]
	// ren is the renamed tree shown at the root; nil when not renaming.
	ren *renamedView
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
		fileMode: fileMode &^ (cfg.Umask & 0o777), dirMode: dirMode &^ (cfg.Umask & 0o777),
		started: time.Now(),
		camera:  cfg.Camera, served: cfg.Served, listed: cfg.Listed, moreStats: cfg.MoreStats,
	}
	if fsys.served == nil {
		fsys.served = new(tree.Served)
	}
	fsys.onNew = cfg.OnNew
	fsys.gate = cfg.Gate
	fsys.errs.quiet = fsys.gate.closing
	root := &dirNode{fsys: fsys, obj: cfg.Tree.Root()}
	fsys.root = root
	cfg.Tree.OnChanges(fsys.changedAll)
	cfg.Tree.OnSelection(fsys.selectionChanged)
	return root
}
