package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// options are the parsed command line.
type options struct {
	camera     string
	mountpoint string
	// source is mount(8)'s SOURCE (an address, or auto), when given: the
	// mount's source then, as fstab has it, so that mount -a sees it mounted.
	source         string
	cacheSize      byteSize
	blockSize      byteSize
	timeout        time.Duration
	connectTimeout time.Duration
	guid           string
	name           string
	allowOther     bool
	uid, gid       uint32
	uidSet, gidSet bool
	umask          umaskFlag
	cameraTZ       string
	syncClock      bool
	maxObjects     int
	metadataCache  bool
	debug          debugFlags
	version        bool
	daemon         bool
	foreground     bool
	mountOpts      []string // -o, as given
	logLevel       logLevel
	quiet          bool
	logFile        string
	// background says to mount in the background: --daemon, or mount(8)'s
	// form (SOURCE MOUNTPOINT) without --foreground.
	background bool
	// fake is mount(8)'s -f: check everything, mount nothing.
	fake bool
	renameOptions
	connectOptions
	desktopOptions
	onNewOptions
}

func newOptions() *options {
	return &options{cacheSize: cache.DefaultSize, blockSize: cache.DefaultBlockSize, debug: debugFlags{}, logLevel: logLevel{slog.LevelInfo}}
}

// sourceAuto is the SOURCE of mount(8)'s form that means "the camera that
// announces itself" (fstab needs a word in that field).
const sourceAuto = "auto"

// finish completes the options parsed into fl with mount(8)'s -o options
// and the config file (the command line wins over -o, which wins over the
// file), takes the mount point (and SOURCE) from args, and checks them.
// Misuse is exit status 2.
func (o *options) finish(fl *pflag.FlagSet, args []string, h helperArgs) error {
	set := func() map[string]bool {
		m := map[string]bool{}
		fl.Visit(func(f *pflag.Flag) { m[f.Name] = true })
		return m
	}
	if err := applyMountOptions(fl, o.mountOpts, set(), h.sloppy); err != nil {
		return err
	}
	if err := applyConfig(fl, o.configFile, set()); err != nil {
		return err
	}
	if err := o.parseSpecs(); err != nil {
		return err
	}
	switch len(args) {
	case 1:
		o.mountpoint = args[0]
	case 2:
		o.mountpoint, o.source = args[1], args[0]
		if src := args[0]; src != sourceAuto {
			if o.camera != "" {
				return usageErr("the camera is given twice: as SOURCE %q and as --camera %q (SOURCE %s mounts the camera that announces itself)", src, o.camera, sourceAuto)
			}
			o.camera = src
		}
	case 0:
		return usageErr("no mount point given")
	default:
		return usageErr("one mount point expected, got %q", args)
	}
	o.fake = h.fake
	o.background = (o.daemon || ((len(args) == 2 || h.active) && !o.foreground))
	if o.camera != "" {
		if _, err := cameraAddr(o.camera); err != nil {
			return usageErr("--camera: %v", err)
		}
	}
	if err := o.checkConnect(); err != nil {
		return err
	}
	if o.blockSize <= 0 || o.blockSize%cache.BlockUnit != 0 {
		return usageErr("--block-size %v is not a positive multiple of 128KiB", formatSize(int64(o.blockSize)))
	}
	// The cache holds a request plus two of read-ahead: its requests are
	// at most a quarter of it.
	if o.cacheSize < 4*o.blockSize {
		return usageErr("--cache-size %v is smaller than four blocks (%v)", formatSize(int64(o.cacheSize)), formatSize(int64(4*o.blockSize)))
	}
	if o.maxObjects <= 0 {
		return usageErr("--max-objects must be positive")
	}
	if o.timeout <= 0 || o.connectTimeout <= 0 {
		return usageErr("--timeout and --connect-timeout must be positive")
	}
	if o.daemon && o.foreground {
		return usageErr("--daemon and --foreground contradict each other")
	}
	return nil
}

// owner and group are the files' owner: --uid and --gid, else the user's.
func (o *options) owner() uint32 {
	if o.uidSet {
		return o.uid
	}
	return uint32(os.Getuid())
}

func (o *options) group() uint32 {
	if o.gidSet {
		return o.gid
	}
	return uint32(os.Getgid())
}

// parseFlags parses args as the mount command line, config file included,
// and returns the options without mounting; nil options when args asked
// for help or the version (written to out).
func parseFlags(args []string, out io.Writer) (*options, error) {
	var got *options
	c := newCLI(out, io.Discard, func(_ context.Context, o *options) error {
		got = o
		return nil
	})
	err := c.execute(context.Background(), args)
	return got, err
}

func stateDirHint() string {
	if d := ptpip.StateDir(); d != "" {
		return d
	}
	return "$XDG_STATE_HOME/airnef-mount"
}
