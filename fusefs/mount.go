package fusefs

import (
	"cmp"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/airnef-mount/airnef-mount/tree"
)

// Kernel cache lifetimes. Objects on a card do not change while mounted,
// so entries and attributes are kept long; a name that is not there is
// forgotten quickly, as a new picture may take it.
const (
	EntryTimeout    = time.Hour
	AttrTimeout     = time.Hour
	NegativeTimeout = time.Second
)

// kernelReadAhead is the kernel's own read-ahead on the mount: larger, a
// peek fetches its window beyond what the program read (128 KiB made a
// 64 KiB head read 240 KiB); smaller than a few pages, sequential reads in
// small pieces cost a FUSE round trip each. The kernel still reads ahead
// about as much as a large read asked for.
const kernelReadAhead = 16 << 10

// FsName is the filesystem's name: its type is fuse.FsName (FSType), and
// it is the mount's source when MountOptions.Source is empty.
const FsName = "airnef-mount"

// maxSource bounds MountOptions.Source, in bytes.
const maxSource = 64

// SourceName makes s (a camera's name) fit to be a mount's source, as df,
// /proc/self/mountinfo and file managers show it: printable characters
// only, runs of spaces as one, at most maxSource bytes; FsName when
// nothing is left. (Commas and backslashes are escaped by go-fuse in the
// mount options; the kernel escapes spaces in mountinfo as \040.)
func SourceName(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.TrimSpace(s) {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if b.Len()+utf8.RuneLen(r) > maxSource {
			break
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return FsName
	}
	return b.String()
}

// MountOptions configures Mount.
type MountOptions struct {
	// Source is the mount's source, as df shows it (default FsName);
	// pass it through SourceName.
	Source string
	// AllowOther lets other users read the mount (for a normal user,
	// fusermount3 needs user_allow_other in /etc/fuse.conf).
	AllowOther bool
	// Debug logs every FUSE request.
	Debug  bool
	Logger *slog.Logger
}

// Mount mounts root at dir read-only and returns once the kernel has
// answered the mount. As root it mounts directly with MS_RDONLY|MS_NOSUID|
// MS_NODEV; otherwise (or when the direct mount fails) through fusermount3
// with "ro". Serve ends when dir is unmounted: wait with Server.Wait.
func Mount(dir string, root fs.InodeEmbedder, o MountOptions) (*fuse.Server, error) {
	lg := o.Logger
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	entry, attr, neg := EntryTimeout, AttrTimeout, NegativeTimeout
	opts := &fs.Options{
		EntryTimeout:    &entry,
		AttrTimeout:     &attr,
		NegativeTimeout: &neg,
		RootStableAttr:  &fs.StableAttr{Ino: tree.RootIno, Mode: syscall.S_IFDIR},
		MountOptions: fuse.MountOptions{
			FsName:        cmp.Or(o.Source, FsName),
			Name:          FsName,
			AllowOther:    o.AllowOther,
			DisableXAttrs: true,
			// The cache does the read-ahead, per handle, sized from the
			// link: the kernel's own would fetch what nobody asked for.
			MaxReadAhead: kernelReadAhead,
			Debug:        o.Debug,
			Logger:       log.New(slogWriter{lg}, "", 0),
		},
	}
	if os.Geteuid() == 0 {
		direct := *opts
		direct.DirectMountStrict = true
		direct.DirectMountFlags = syscall.MS_RDONLY | syscall.MS_NOSUID | syscall.MS_NODEV
		srv, err := fs.Mount(dir, root, &direct)
		if err == nil {
			return srv, nil
		}
		lg.Debug("direct mount failed; trying fusermount3", "err", err)
	}
	opts.Options = append(opts.Options, "ro")
	return fs.Mount(dir, root, opts)
}

// slogWriter sends go-fuse's log lines (its debug trace, its warnings) to
// a slog.Logger at debug level.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Debug(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// CheckAccess tells whether this process can mount: root always can (the
// kernel checks the rest); a normal user needs fusermount3 and read-write
// access to /dev/fuse, which fusermount3 opens with the user's rights.
func CheckAccess() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("no /dev/fuse: install fuse3 and load the fuse module: %w", err)
	}
	if os.Geteuid() == 0 {
		return nil
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		if _, err2 := exec.LookPath("fusermount"); err2 != nil {
			return fmt.Errorf("fusermount3 not found: install fuse3: %w", err)
		}
	}
	f, err := os.OpenFile("/dev/fuse", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("this user may not use /dev/fuse: %w", err)
	}
	return f.Close()
}

// CleanStale checks the mount point dir and, when it is a mount whose
// server has died ("Transport endpoint is not connected", ENOTCONN), detaches
// it (a lazy unmount). It reports whether it cleaned one.
//
// stat alone does not tell: the kernel answers it from cached attributes
// of a dead mount's root. statfs always asks the server, so a dead one
// fails it with ENOTCONN.
func CleanStale(dir string) (bool, error) {
	cleaned := false
	// Dead mounts may be stacked (each killed run mounted on the last):
	// detach them one by one, a bounded number of times.
	for range maxStale {
		if !isStale(dir) {
			return cleaned, nil
		}
		if err := lazyUnmount(dir); err != nil {
			return cleaned, fmt.Errorf("clean stale mount %s: %w", dir, err)
		}
		cleaned = true
	}
	if isStale(dir) {
		return cleaned, fmt.Errorf("clean stale mount %s: still not connected after %d unmounts", dir, maxStale)
	}
	return cleaned, nil
}

// maxStale bounds how many stacked dead mounts CleanStale removes.
const maxStale = 8

// isStale reports whether dir is a mount whose server is gone.
func isStale(dir string) bool {
	var st syscall.Stat_t
	err := syscall.Stat(dir, &st)
	if err == nil {
		var sfs syscall.Statfs_t
		err = syscall.Statfs(dir, &sfs)
	}
	return errors.Is(err, syscall.ENOTCONN)
}

// lazyUnmount detaches the mount at dir now; the kernel finishes it when
// the last open file on it is closed.
func lazyUnmount(dir string) error {
	if os.Geteuid() == 0 {
		err := syscall.Unmount(dir, syscall.MNT_DETACH)
		if err == nil {
			return nil
		}
		if errors.Is(err, syscall.EINVAL) {
			return nil // not a mount point (any more)
		}
	}
	var lastErr error
	for _, bin := range []string{"fusermount3", "fusermount"} {
		out, err := exec.Command(bin, "-u", "-z", dir).CombinedOutput()
		if err == nil {
			return nil
		}
		lastErr = fmt.Errorf("%s -u -z: %w: %s", bin, err, strings.TrimSpace(string(out)))
		if !errors.Is(err, exec.ErrNotFound) {
			break
		}
	}
	return lastErr
}

// Stop unmounts srv's mount at dir at once: cleanly when nothing is open
// on it, else lazily (it leaves the tree now; the files still open keep
// the connection until they are closed, or until Abort). It reports
// whether it had to detach.
func Stop(srv *fuse.Server, dir string, lg *slog.Logger) (detached bool, err error) {
	if err = srv.Unmount(); err == nil {
		return false, nil
	}
	lg.Debug("unmount failed; detaching", "err", err)
	if lerr := lazyUnmount(dir); lerr != nil {
		return false, fmt.Errorf("unmount %s: %w (lazy unmount: %w)", dir, err, lerr)
	}
	return true, nil
}

// fusectlDir is where the kernel's fusectl filesystem lists the FUSE
// connections.
const fusectlDir = "/sys/fs/fuse/connections"

// Abort ends the FUSE connection of the mount on device dev (MountEntry.Dev,
// MAJOR:MINOR) through fusectl: the requests in flight and to come fail
// with ENOTCONN and the server's Wait returns, though files are still open
// on a detached mount. It needs write access to fusectl (root).
func Abort(dev string) error {
	maj, mnr, ok := strings.Cut(dev, ":")
	ma, err1 := strconv.ParseUint(maj, 10, 32)
	mi, err2 := strconv.ParseUint(mnr, 10, 32)
	if !ok || err1 != nil || err2 != nil {
		return fmt.Errorf("abort FUSE connection: bad device %q", dev)
	}
	// The directory is named by the kernel's dev_t: major << 20 | minor.
	p := filepath.Join(fusectlDir, strconv.FormatUint(ma<<20|mi, 10), "abort")
	if err := os.WriteFile(p, []byte("1"), 0); err != nil {
		return fmt.Errorf("abort FUSE connection: %w", err)
	}
	return nil
}
