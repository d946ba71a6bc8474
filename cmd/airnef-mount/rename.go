package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/spf13/pflag"

	"github.com/airnef-mount/airnef-mount/fusefs"
	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/pathspec"
	"github.com/airnef-mount/airnef-mount/ptpip"
	"github.com/airnef-mount/airnef-mount/renamed"
	"github.com/airnef-mount/airnef-mount/tree"
)

// renameOptions are the renaming flags: with either spec, the mount shows
// the renamed tree.
type renameOptions struct {
	dirnamespec  string
	filenamespec string
	dirSpec      *pathspec.Spec // parsed; nil when not given
	fileSpec     *pathspec.Spec
}

func (o *renameOptions) renameFlags(fl *pflag.FlagSet) {
	fl.StringVar(&o.dirnamespec, "dirnamespec", "", "show files under directories named by Airnef's renaming `spec`, e.g. '@capturedate_y@/@capturedate@' ('/' or '\\' separate directories)")
	fl.StringVar(&o.filenamespec, "filenamespec", "", "name files by Airnef's renaming `spec`, e.g. '@cameramodel@_@filename@'")
}

// parseSpecs parses the renaming specs: a malformed one is misuse, with
// the message naming the specifier and its position.
func (o *renameOptions) parseSpecs() error {
	var err error
	if o.dirnamespec != "" {
		if o.dirSpec, err = pathspec.Parse(o.dirnamespec); err != nil {
			return usageErr("--dirnamespec: %v", err)
		}
	}
	if o.filenamespec != "" {
		if o.fileSpec, err = pathspec.ParseFilename(o.filenamespec); err != nil {
			return usageErr("--filenamespec: %v", err)
		}
	}
	return nil
}

// renaming reports whether the mount shows the renamed tree.
func (o *renameOptions) renaming() bool { return o.dirSpec != nil || o.fileSpec != nil }

// newRoot returns the mount's root: the camera tree, or when renaming the
// renamed tree, built from a listing of the whole card (before the mount
// is ready; fusefs builds it again from the tree's listing after each
// change the camera reports) with the camera tree at /.camera.
func newRoot(ctx context.Context, o *options, tr *tree.Tree, cfg fusefs.Config, info *mtp.DeviceInfo, log *slog.Logger) (fs.InodeEmbedder, error) {
	if !o.renaming() {
		return fusefs.NewRoot(cfg), nil
	}
	started := time.Now()
	cam := tree.NewCameraID(info.Manufacturer, info.Model, info.SerialNumber)
	dir := ptpip.StateDir()
	if dir == "" {
		log.Warn("no state directory (set XDG_STATE_HOME or HOME): @dlnum_lifetime@ numbers hold for this mount only")
	}
	lifetime := renamed.OpenLifetime(dir, cam, log)
	r := renamed.NewRenamer(renamed.Config{
		DirSpec: o.dirSpec, FileSpec: o.fileSpec, Camera: cam, DownloadTime: started,
		Lifetime: lifetime, Logger: log,
	})
	log.Info("listing the whole card for the renamed tree")
	rt, err := r.Build(ctx, tr)
	if err != nil {
		return nil, failErr("listing the card of the camera failed: %v; check that the camera is still on and in reach", err)
	}
	return fusefs.NewRenamedRoot(cfg, rt), nil
}
