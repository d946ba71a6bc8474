package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/fusefs"
	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/thumbnail"
	"github.com/airnef-mount/airnef-mount/tree"
)

// desktopOptions are the flags for daily use on a desktop: the config file
// and instant thumbnails.
type desktopOptions struct {
	configFile string
	thumbnails bool
}

func (o *desktopOptions) desktopFlags(fl *pflag.FlagSet) {
	fl.StringVar(&o.configFile, "config", "", "read flags from this `file`, one per line (default "+configHint()+")")
	fl.BoolVar(&o.thumbnails, "thumbnails", false, "as a folder is listed, put the camera's own thumbnail of each picture and movie (or, when the camera keeps none, the one inside the file, read from its first blocks) in the desktop's thumbnail cache (~/.cache/thumbnails), so file managers show pictures without reading the files")
}

func configHint() string {
	if p := defaultConfigPath(); p != "" {
		return p
	}
	return "$XDG_CONFIG_HOME/" + configName
}

// desktop is what a mount adds for the desktop: the import's counters, and
// the thumbnails maker when --thumbnails is on.
type desktop struct {
	camera  string
	mnt     string
	started time.Time
	served  *tree.Served
	maker   *thumbnail.Maker // nil without --thumbnails
}

// startDesktop prepares cfg, the configuration of the mount of tree at
// mnt, for the desktop: the camera's name and the served counters for
// /.airnef/stats and the import summary, and with --thumbnails the hook that
// makes the thumbnails of the pictures a reader lists. Call finish at
// unmount.
func startDesktop(o *options, mnt string, tr *tree.Tree, info *mtp.DeviceInfo, cfg *fusefs.Config, log *slog.Logger) (*desktop, error) {
	cam := tree.NewCameraID(info.Manufacturer, info.Model, info.SerialNumber)
	d := &desktop{
		camera:  strings.TrimSpace(cam.Make + " " + cam.Model),
		mnt:     mnt,
		started: time.Now(),
		served:  new(tree.Served),
	}
	// /.airnef/stats names the camera as the mounted line does: its own
	// serial, not the renaming language's (which drops leading zeros).
	cam.Serial = strings.TrimSpace(info.SerialNumber)
	cfg.Camera, cfg.Served = cam, d.served
	if !o.thumbnails {
		return d, nil
	}
	// File managers name a file by its absolute, symlink-free path: the
	// thumbnail's URI must be the same string.
	abs, err := filepath.Abs(mnt)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		return nil, failErr("--thumbnails: mount point %s: %v", mnt, err)
	}
	dir, err := thumbnail.NormalDir()
	if err != nil {
		return nil, failErr("--thumbnails: %v; set HOME or XDG_CACHE_HOME", err)
	}
	d.maker = thumbnail.NewMaker(thumbnail.NewCache(dir), log.With("sys", "thumbnails"))
	blocks := cfg.Cache
	cfg.Listed = func(files []fusefs.ListedFile) {
		jobs := make([]thumbnail.Job, 0, len(files))
		for _, f := range files {
			picture := isPicture(f.Object)
			if !picture && !isMovie(f.Object) {
				continue
			}
			obj, p := f.Object, filepath.Join(abs, f.Path)
			jobs = append(jobs, thumbnail.Job{
				Entry: thumbnail.Entry{URI: thumbnail.FileURI(p), MTime: obj.Mtime.Unix(), Size: obj.Size},
				Name:  p,
				Fetch: func(ctx context.Context) ([]byte, error) { return fetchThumb(ctx, tr, blocks, obj, picture) },
			})
		}
		d.maker.Add(jobs)
	}
	cfg.MoreStats = func() string {
		s := d.maker.Stats()
		return fmt.Sprintf("thumbnails_made %d\nthumbnails_skipped %d\nthumbnails_none %d\nthumbnails_failed %d\nthumbnails_pending %d\nthumbnail_bytes %d\n",
			s.Made, s.Skipped, s.None, s.Failed, s.Pending, s.Bytes)
	}
	log.Info("thumbnails on", "cache", dir)
	return d, nil
}

// close stops making thumbnails (the one being fetched is abandoned). It
// may be called more than once.
func (d *desktop) close() {
	if d.maker != nil {
		d.maker.Close()
	}
}

// finish reports the import once the mount has ended (files, bytes, time,
// and --exec's outcome if execStatus is set), even after ctx ended (SIGTERM).
func (d *desktop) finish(ctx context.Context, log *slog.Logger, execStatus func() string) {
	d.close()
	var exec string
	if execStatus != nil {
		exec = execStatus()
	}
	reportImport(context.WithoutCancel(ctx), log, importSummary{
		Camera: d.camera, Mountpoint: d.mnt,
		Files: d.served.Files(), Bytes: d.served.Bytes(),
		Duration: time.Since(d.started), Exec: exec,
	})
}

// fetchThumb returns the camera's thumbnail of o (GetThumb). When the
// camera keeps none and o is a picture, it returns the thumbnail or
// preview embedded in the file, found with a few ranged reads of its
// first blocks through the cache (thumbnail.Embedded), never the whole
// file; otherwise thumbnail.ErrNone.
func fetchThumb(ctx context.Context, tr *tree.Tree, blocks *cache.Cache, o *tree.Object, picture bool) ([]byte, error) {
	b, err := tr.Thumb(ctx, o)
	switch {
	case err == nil:
		return b, nil
	case !errors.Is(err, mtp.RespNoThumbnailPresent) && !errors.Is(err, mtp.RespOperationNotSupported) && !errors.Is(err, tree.ErrNoThumbs):
		return nil, err
	case !picture || blocks == nil:
		return nil, thumbnail.ErrNone
	}
	return thumbnail.Embedded(peeker{ctx, blocks, tree.CacheObject(o)}, o.Size)
}

// peeker reads an object through the cache with peeks (cache.Cache.Peek):
// the blocks asked for, no read-ahead, no copy heuristics.
type peeker struct {
	ctx   context.Context
	cache *cache.Cache
	obj   cache.Object
}

func (p peeker) ReadAt(b []byte, off int64) (int, error) { return p.cache.Peek(p.ctx, p.obj, b, off) }

// movieFormats and movieExts are the movies a camera may keep a thumbnail
// of (its first frame).
var (
	movieFormats = map[mtp.ObjectFormat]bool{
		mtp.FormatAVI: true, mtp.FormatMPEG: true, mtp.FormatQuickTime: true, mtp.FormatMP4: true,
	}
	movieExts = map[string]bool{".mov": true, ".mp4": true, ".avi": true, ".mts": true, ".m2ts": true, ".mpg": true}
)

// isMovie reports whether o is a movie by its format code or extension.
func isMovie(o *tree.Object) bool {
	return movieFormats[o.Format] || movieExts[strings.ToLower(path.Ext(o.Name))]
}

// rawExts are RAW and other picture files that cameras report with a
// format code that does not say "image" (Nikon's NEF is Undefined).
var rawExts = map[string]bool{
	".nef": true, ".nrw": true, ".arw": true, ".srf": true, ".sr2": true, ".cr2": true, ".cr3": true,
	".crw": true, ".raf": true, ".orf": true, ".rw2": true, ".pef": true, ".dng": true, ".x3f": true,
	".jpg": true, ".jpeg": true, ".heif": true, ".heic": true, ".hif": true, ".tif": true, ".tiff": true,
}

// isPicture reports whether o is a picture the camera keeps a thumbnail
// of: an image format code (0x38xx, Canon's RAW codes) or a picture's
// file name extension.
func isPicture(o *tree.Object) bool {
	switch f := o.Format; {
	case f&0xFF00 == 0x3800:
		return true
	case f == mtp.FormatCanonCRW || f == mtp.FormatCanonCR2 || f == mtp.FormatCanonCR3:
		return true
	}
	return rawExts[strings.ToLower(path.Ext(o.Name))]
}
