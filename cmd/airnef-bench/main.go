package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "open-folder" {
		if err := openFolder(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "open-folder:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "airnef-bench:", err)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// bench is one benchmark run: where the binaries are, its scratch
// directory, its log.
type bench struct {
	bin   string // camsim and airnef-mount
	self  string // this program, for open-folder
	work  string // scratch: cards, mount points, homes, copies
	log   io.Writer
	start time.Time
	only  map[string]bool // -only: the read path workloads to run; nil: all
}

// wants reports whether the read path workload named w runs (-only).
func (b *bench) wants(w string) bool { return b.only == nil || b.only[w] }

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("airnef-bench", flag.ContinueOnError)
	mode := fl.String("mode", "full", "`quick` (a few workloads, a couple of minutes), eos (the Canon EOS listings only), readpath (the read path's workloads of issue 14, about 12 minutes) or full (about 30 minutes)")
	bin := fl.String("bin", "bin", "`directory` holding camsim and airnef-mount")
	out := fl.String("out", "docs/benchmarks.md", "the document to write")
	chart := fl.String("chart", "docs/benchmarks.svg", "the chart to write (linked from -out by its name)")
	only := fl.String("only", "", "with -mode readpath, only these `workloads` (comma-separated: peek, random, video, busy), to measure one change quickly")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *mode != "quick" && *mode != "full" && *mode != "eos" && *mode != "readpath" {
		return fmt.Errorf("-mode %q: want quick, eos, readpath or full: %w", *mode, flag.ErrHelp)
	}
	if os.Geteuid() != 0 {
		return errors.New("run as root: it mounts FUSE filesystems and unmounts them")
	}
	binDir, err := filepath.Abs(*bin)
	if err != nil {
		return err
	}
	for _, p := range []string{filepath.Join(binDir, "camsim"), filepath.Join(binDir, "airnef-mount")} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (run make build)", err)
		}
	}
	for _, t := range []string{"gphoto2", "gphotofs", "fio", "cp", "rsync", "ls", "dd", "head", "stat", "python3", "umount"} {
		if _, err := exec.LookPath(t); err != nil {
			return fmt.Errorf("%s is needed: %w (make deps installs it)", t, err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "airnef-bench-")
	if err != nil {
		return err
	}
	b := &bench{bin: binDir, self: self, work: work, log: os.Stderr, start: time.Now()}
	if *only != "" {
		b.only = map[string]bool{}
		for _, w := range strings.Split(*only, ",") {
			if !slices.Contains([]string{"peek", "random", "video", "busy"}, w) {
				return fmt.Errorf("-only %q: want peek, random, video or busy: %w", w, flag.ErrHelp)
			}
			b.only[w] = true
		}
	}
	defer b.cleanup()

	res := &results{mode: *mode, started: b.start, loadStart: loadAverage(), chart: filepath.Base(*chart)}
	res.machine, res.source = machine(), source()
	b.logf("mode %s, scratch %s, load %s", *mode, work, res.loadStart)
	switch *mode {
	case "quick":
		b.quick(ctx, res)
	case "eos":
		b.eos(ctx, res)
	case "readpath":
		b.readpath(ctx, res)
	default:
		b.full(ctx, res)
	}
	res.took = time.Since(b.start)
	res.loadEnd = loadAverage()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: nothing written: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(*chart, []byte(res.chartSVG()), 0o644); err != nil {
		return err
	}
	old, err := os.ReadFile(*out)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.WriteFile(*out, []byte(withNotes(res.markdown(), old)), 0o644); err != nil {
		return err
	}
	b.logf("wrote %s and %s in %v", *out, *chart, res.took.Round(time.Second))
	return nil
}

// cleanup unmounts whatever is still mounted under the scratch directory
// and removes it.
func (b *bench) cleanup() {
	if des, err := os.ReadDir(b.work); err == nil {
		for _, de := range des {
			if strings.HasPrefix(de.Name(), "mnt-") {
				unmount(filepath.Join(b.work, de.Name()))
			}
		}
	}
	os.RemoveAll(b.work)
}

// Cards of the workloads.
func copyCard() card {
	c := card{label: "12 x 3 MB JPEG"}
	for i := range 12 {
		c.files = append(c.files, hostFile{path: fmt.Sprintf("DCIM/100MSDCF/DSC0%04d.JPG", i+1), size: 3_000_000})
	}
	return c
}

func mixedCard(photos int) card {
	return card{label: fmt.Sprintf("mixed: %d photos, JPEG 4-9 MB, every other one with a 20-30 MB RAW", photos), photos: photos, seed: 1}
}

func listCard(vendor string, photos, folders int) card {
	return card{label: fmt.Sprintf("%s, %d photos (JPEG + RAW) in %d folders", vendor, photos, folders), vendor: vendor, photos: photos, folder: folders, size: 256 << 10, seed: 2}
}

// eosBody is the Canon model of the EOS listings: it lists GetObjectInfoEx
// and, unlike the 6D, no GetObjectPropList, so without GetObjectInfoEx it
// is listed one GetObjectInfo per object.
const eosBody = "eos-80d"

// eosCard is listCard's card on the EOS body, with GetObjectInfoEx
// (0x9109) or switched off (eosPerObject).
func eosCard(photos, folders int, perObject bool) card {
	c := listCard(eosBody, photos, folders)
	c.vendor, c.body = "", eosBody
	if perObject {
		c.without = "0x9109"
		c.label = eosPerObject + c.label[len(eosBody):]
	}
	return c
}

// eosPerObject starts the label of the EOS card without GetObjectInfoEx.
const eosPerObject = eosBody + " without GetObjectInfoEx"

// eosLists are the listings of the EOS body: 504 files on wifi and 4979 on
// lan, with GetObjectInfoEx (airnef-mount, gphotofs, gphoto2) and without
// it (airnef-mount, one GetObjectInfo per object).
func (b *bench) eosLists(ctx context.Context, res *results) {
	for _, c := range []struct {
		p                profile
		photos, folders  int
		perObjectAirnefN int
	}{{wifi, 334, 5, 2}, {lan, 3334, 50, 1}} {
		b.add(ctx, res, func() *section {
			return b.listWorkload(ctx, c.p, eosCard(c.photos, c.folders, false), reps{airnef: 3, gphotofs: 1, gphoto2: 3}, 0, 5*time.Minute)
		})
		b.add(ctx, res, func() *section {
			return b.listWorkload(ctx, c.p, eosCard(c.photos, c.folders, true), reps{airnef: c.perObjectAirnefN}, 0, 5*time.Minute)
		})
	}
}

// eos is the EOS listings alone (make bench BENCH=eos): a few minutes.
func (b *bench) eos(ctx context.Context, res *results) {
	b.eosLists(ctx, res)
}

// folderCard is 20 RAW-sized files (sparse: zeros) in one folder.
func folderCard() card {
	c := card{label: "20 x 25 MB RAW in one folder"}
	for i := range 20 {
		c.files = append(c.files, hostFile{path: fmt.Sprintf("DCIM/100MSDCF/DSC0%04d.ARW", i+1), size: 25_000_000, sparse: true})
	}
	return c
}

const folderPath = "DCIM/100MSDCF"

func videoCard(size int64) card {
	return card{label: fmt.Sprintf("one generated movie of %s", mib(float64(size))), video: size, seed: 3}
}

// cacheSize is airnef-mount's default --cache-size, passed explicitly to
// the large copy so the RSS target is checked against what was set.
const cacheSize = 256 << 20

// quick is a few workloads on lan and loopback: a couple of minutes.
func (b *bench) quick(ctx context.Context, res *results) {
	b.calibrateInto(ctx, res, lan, 2)
	b.add(ctx, res, func() *section {
		return b.copyWorkload(ctx, "copy", wifi, copyCard(), reps{airnef: 1, gphotofs: 1, gphoto2: 1}, 3*time.Minute)
	})
	b.add(ctx, res, func() *section {
		return b.copyWorkload(ctx, "copy", lan, copyCard(), reps{airnef: 3, gphotofs: 1, gphoto2: 1}, 3*time.Minute)
	})
	b.add(ctx, res, func() *section {
		return b.listWorkload(ctx, lan, listCard("generic", 334, 5), reps{airnef: 2, gphotofs: 1, gphoto2: 1}, 2, 5*time.Minute)
	})
	b.add(ctx, res, func() *section {
		return b.folderWorkload(ctx, lan, folderCard(), folderPath, reps{airnef: 2, gphotofs: 1}, 5*time.Minute)
	})
	b.add(ctx, res, func() *section {
		return b.bigWorkload(ctx, loopback, videoCard(4<<30), cacheSize, 10*time.Minute)
	})
}

// full is every workload on every profile: about 30 minutes.
func (b *bench) full(ctx context.Context, res *results) {
	for _, c := range []struct {
		p    profile
		reps int
	}{{wifi, 2}, {lan, 3}, {loopback, 3}} {
		b.calibrateInto(ctx, res, c.p, c.reps)
	}
	// wifi: 3 MB/s, 20 ms.
	b.add(ctx, res, func() *section {
		return b.copyWorkload(ctx, "copy", wifi, copyCard(), reps{airnef: 3, listed: 2, gphotofs: 3, gphoto2: 3, rsync: 2, rsyncPeer: 1}, 3*time.Minute)
	})
	b.add(ctx, res, func() *section {
		return b.copyWorkload(ctx, "mixed", wifi, mixedCard(4), reps{airnef: 1, gphotofs: 1, gphoto2: 1}, 5*time.Minute)
	})
	b.add(ctx, res, func() *section {
		return b.listWorkload(ctx, wifi, listCard("generic", 334, 5), reps{airnef: 2, gphotofs: 1, gphoto2: 1}, 3, 5*time.Minute)
	})
	b.add(ctx, res, func() *section {
		return b.folderWorkload(ctx, wifi, folderCard(), folderPath, reps{airnef: 3, gphotofs: 1}, 8*time.Minute)
	})
	b.readpathOn(ctx, res, wifi)

	// lan: 40 MB/s, 2 ms.
	b.add(ctx, res, func() *section {
		return b.copyWorkload(ctx, "copy", lan, copyCard(), reps{airnef: 5, listed: 3, gphotofs: 5, gphoto2: 5, rsync: 3, rsyncPeer: 2}, 3*time.Minute)
	})
	b.add(ctx, res, func() *section {
		return b.copyWorkload(ctx, "mixed", lan, mixedCard(10), reps{airnef: 3, gphotofs: 3, gphoto2: 3}, 5*time.Minute)
	})
	b.add(ctx, res, func() *section {
		return b.listWorkload(ctx, lan, listCard("generic", 3334, 50), reps{airnef: 2, gphotofs: 1, gphoto2: 1}, 3, 5*time.Minute)
	})
	b.eosLists(ctx, res)
	b.add(ctx, res, func() *section {
		return b.folderWorkload(ctx, lan, folderCard(), folderPath, reps{airnef: 3, gphotofs: 2}, 5*time.Minute)
	})
	b.readpathOn(ctx, res, lan)

	// loopback: CPU and memory.
	b.add(ctx, res, func() *section {
		return b.copyWorkload(ctx, "mixed", loopback, mixedCard(20), reps{airnef: 3, gphotofs: 3, gphoto2: 1}, 5*time.Minute)
	})
	b.add(ctx, res, func() *section {
		return b.bigWorkload(ctx, loopback, videoCard(4<<30), cacheSize, 10*time.Minute)
	})
}

// add runs one workload unless interrupted and keeps its section, with the
// load average when it ended.
func (b *bench) add(ctx context.Context, res *results, f func() *section) {
	if ctx.Err() != nil {
		return
	}
	start := time.Now()
	sec := f()
	sec.took = time.Since(start)
	sec.load = loadAverage()
	res.sections = append(res.sections, sec)
	for _, r := range sec.rows {
		status := fmt.Sprintf("median %s s n=%d", secs(r.secs.median()), len(r.secs))
		if r.err != nil {
			status += " FAILED: " + r.err.Error()
		}
		b.logf("%s %s [%s]: %s %s: %s", sec.id, sec.profile.name, sec.card, r.tool, r.what, status)
	}
	for _, n := range sec.notes {
		b.logf("%s %s: %s", sec.id, sec.profile.name, n)
	}
}

func (b *bench) calibrateInto(ctx context.Context, res *results, p profile, reps int) {
	if ctx.Err() != nil {
		return
	}
	c, err := b.calibrate(ctx, p, reps)
	if err != nil {
		res.calibErrs = append(res.calibErrs, fmt.Sprintf("%s: %v", p.name, err))
		b.logf("calibration %s failed: %v", p.name, err)
		return
	}
	res.calib = append(res.calib, c)
}

// machine describes this computer for the document.
func machine() string {
	var parts []string
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		n := strings.Count(string(b), "\nprocessor") + 1
		model := ""
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		parts = append(parts, fmt.Sprintf("%d CPUs (%s)", n, cmpOr(model, "unknown model")))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		parts = append(parts, "Linux "+strings.TrimSpace(string(b)))
	}
	return strings.Join(parts, ", ")
}

// source is the commit the binaries were built from, and whether the tree
// had uncommitted changes (read-only git commands).
func source() string {
	ctx := context.Background()
	head, _, err := (job{name: "git", args: []string{"rev-parse", "--short", "HEAD"}}).run(ctx, 10*time.Second)
	if err != nil {
		return "unknown (no git)"
	}
	out := "commit " + strings.TrimSpace(head)
	if st, _, err := (job{name: "git", args: []string{"status", "--porcelain", "--untracked-files=no"}}).run(ctx, 10*time.Second); err == nil {
		if st = strings.TrimSpace(st); st != "" {
			n := strings.Count(st, "\n") + 1
			out += fmt.Sprintf(" with uncommitted changes to %d tracked files", n)
		}
	}
	return out
}
