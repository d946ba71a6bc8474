package main

// The read path's workloads (issue 14): real programs reading part of a
// file (header peeks, scattered reads, a video player), and what a user
// waits on while a copy runs, each against gphotofs in the same run on the
// same simulator, with the bytes the camera sent for them.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/airnef-mount/airnef-mount/sched"
)

// peekSlack is what a partial read may cost the camera beyond the bytes
// the program read, per file (issue 14's bound, as test/readpath_*).
const peekSlack = 256 << 10

// cappedRequest is the link time a speculative request is cut to while
// another process waits (cache.speculativeTime): a demand during a copy
// waits at most one such request.
const cappedRequest = 250 * time.Millisecond

// copySettle is how long the copy runs before the first measurement of
// the interactivity workload: its read-ahead has grown to link-sized
// requests.
const copySettle = 3 * time.Second

// fioReads is how many random 4 KiB reads the scattered fio run makes in
// one RAW file: enough to see the per-read cost, few enough that a peer
// that fetches the whole file first is measured in the same run.
const fioReads = 200

// peekCard is 20 generated photos in one folder: JPEGs of 4-9 MB, about
// every other one with a RAW of 20-30 MB.
func peekCard() card {
	return card{label: "20 photos (JPEG 4-9 MB, every other one with a 20-30 MB RAW) in one folder", photos: 20, seed: 1}
}

// busyCard is a Canon body listed one GetObjectInfo per photo (the
// eos-80d without GetObjectInfoEx) with six folders of 100 photos of
// 3.3 MB: about 150 files and 500 MB each.
func busyCard() card {
	c := card{label: eosBody + " without GetObjectInfoEx, 6 folders of 100 photos (JPEG + RAW), 3.3 MB each", body: eosBody, without: "0x9109", photos: 600, folder: 6, size: 3_300_000, seed: 4}
	return c
}

// Python programs of the workloads: what a script or a player does.
var (
	// pyPeek and pySeeks print "BYTES SECONDS": what they read and the
	// time of their loop over the files, the interpreter's start left out.
	pyPeek = `import sys, time
t, n = time.monotonic(), 0
for p in sys.argv[1:]:
    with open(p, "rb") as f:
        n += len(f.read(65536))
print(n, time.monotonic() - t)
`
	pySeeks = `import os, sys, time
t, n = time.monotonic(), 0
for p in sys.argv[1:]:
    size = os.path.getsize(p)
    with open(p, "rb") as f:
        for off in (size // 2, 20000, size - 65536):
            f.seek(off)
            n += len(f.read(4096))
print(n, time.monotonic() - t)
`
	// pyVideo is a player opening a movie: its header (the open included:
	// gphotofs reads the whole file there), the index at its end, then
	// playing from the middle; it prints each step's time to its first
	// read's return and to its end, unbuffered reads of 256 KiB.
	pyVideo = `import json, os, sys, time
p = sys.argv[1]
size = os.path.getsize(p)
out = {}
f = None
def step(name, off, n):
    global f
    t = time.monotonic()
    if f is None:
        f = open(p, "rb", buffering=0)
    f.seek(off)
    first, got = None, 0
    while got < n:
        b = f.read(min(262144, n - got))
        if not b:
            break
        if first is None:
            first = time.monotonic() - t
        got += len(b)
    out[name] = [first, time.monotonic() - t, got]
step("header", 0, 65536)
step("index", size - (1 << 20), 1 << 20)
step("middle", size // 2, 8 << 20)
print(json.dumps(out))
`
)

// readProgram is a program run over files: its name as the document shows
// it, and how it runs; it returns the bytes it read and its time.
type readProgram struct {
	name    string
	scatter bool // a scattered read (RAW files), not a header peek
	run     func(ctx context.Context, files []string) (read int64, wall time.Duration, err error)
	// start, when set, is the program's own start over as many runs, on a
	// file that costs nothing (/dev/zero): what a per-file program adds
	// whatever the filesystem.
	start func(ctx context.Context, files []string) (time.Duration, error)
}

// perFile runs argv(file) once per file, as a shell loop does, and sums
// the wall times and the bytes written to its standard output.
func perFile(argv func(string) []string) func(context.Context, []string) (int64, time.Duration, error) {
	return func(ctx context.Context, files []string) (int64, time.Duration, error) {
		var read int64
		var wall time.Duration
		for _, f := range files {
			a := argv(f)
			out, w, err := (job{name: a[0], args: a[1:]}).run(ctx, 5*time.Minute)
			if err != nil {
				return 0, 0, err
			}
			read, wall = read+int64(len(out)), wall+w
		}
		return read, wall, nil
	}
}

// onZero is perFile's time with every file replaced by /dev/zero.
func onZero(argv func(string) []string) func(context.Context, []string) (time.Duration, error) {
	return func(ctx context.Context, files []string) (time.Duration, error) {
		zeros := make([]string, len(files))
		for i := range zeros {
			zeros[i] = "/dev/zero"
		}
		_, w, err := perFile(argv)(ctx, zeros)
		return w, err
	}
}

// python runs script once over every file; the script prints the bytes
// it read and the seconds its loop took.
func python(script string) func(context.Context, []string) (int64, time.Duration, error) {
	return func(ctx context.Context, files []string) (int64, time.Duration, error) {
		out, _, err := (job{name: "python3", args: append([]string{"-c", script}, files...)}).run(ctx, 15*time.Minute)
		if err != nil {
			return 0, 0, err
		}
		var n int64
		var t float64
		if _, err := fmt.Sscanf(strings.TrimSpace(out), "%d %g", &n, &t); err != nil {
			return 0, 0, fmt.Errorf("python output %q: %w", tail(out, 200), err)
		}
		return n, time.Duration(t * float64(time.Second)), nil
	}
}

func ddArgs(f string) []string { return []string{"dd", "if=" + f, "bs=64k", "count=1", "status=none"} }

var readPrograms = []readProgram{
	{name: "head -c 65536", run: func(ctx context.Context, files []string) (int64, time.Duration, error) {
		// One head for every file, as head -c 65536 *.JPG.
		out, w, err := (job{name: "head", args: append([]string{"-q", "-c", "65536"}, files...)}).run(ctx, 15*time.Minute)
		return int64(len(out)), w, err
	}},
	{name: "dd bs=64k count=1", run: perFile(ddArgs), start: onZero(ddArgs)},
	{name: "python read(65536)", run: python(pyPeek)},
	{name: "python seek + read(4096) x 3", scatter: true, run: python(pySeeks)},
}

// cameraBytes is the object bytes the camera sent: the data phases of
// its reads.
func (o ops) cameraBytes() int64 {
	var n int64
	for k, st := range o {
		if strings.Contains(k, "Partial") || k == "GetObject" {
			n += st.bytes
		}
	}
	return n
}

// settledOpsSince is opsSince once the simulator has logged the last
// operation: it logs an operation after its response, which the program
// may have read and exited on already.
func (s *sim) settledOpsSince(mark int64) ops {
	time.Sleep(opLogSettle)
	return s.opsSince(mark)
}

// opLogSettle is how long the simulator is given to log an operation it
// answered: microseconds on an idle machine, the rest is load.
const opLogSettle = 200 * time.Millisecond

// listedMount mounts tool on s with a fresh home and lists the card's
// folder dir with ls -l (not timed), as a user opening it does first.
func (b *bench) listedMount(ctx context.Context, tool string, s *sim, dirs ...string) (*mount, func(), error) {
	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return nil, nil, err
	}
	m, err := b.mountTool(ctx, tool, s, home)
	if err != nil {
		os.RemoveAll(home)
		return nil, nil, err
	}
	done := func() { m.unmount(); os.RemoveAll(home) }
	for _, d := range dirs {
		if _, _, err := (job{name: "ls", args: []string{"-l", filepath.Join(m.root(), d)}}).run(ctx, 5*time.Minute); err != nil {
			done()
			return nil, nil, err
		}
	}
	return m, done, nil
}

// cardFolders are the folders under DCIM of a mount, sorted.
func cardFolders(m *mount) ([]string, error) {
	des, err := os.ReadDir(filepath.Join(m.root(), "DCIM"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, de := range des {
		if de.IsDir() {
			out = append(out, "DCIM/"+de.Name())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no folder in %s/DCIM", m.root())
	}
	return out, nil
}

// folderFiles are the JPEGs and the other files (RAWs, movies) of dir,
// relative to the card, sorted.
func folderFiles(m *mount, dir string) (jpegs, others []string, err error) {
	des, err := os.ReadDir(filepath.Join(m.root(), dir))
	if err != nil {
		return nil, nil, err
	}
	for _, de := range des {
		rel := dir + "/" + de.Name()
		switch {
		case !de.Type().IsRegular():
		case strings.EqualFold(filepath.Ext(de.Name()), ".jpg"):
			jpegs = append(jpegs, rel)
		default:
			others = append(others, rel)
		}
	}
	slices.Sort(jpegs)
	slices.Sort(others)
	return jpegs, others, nil
}

// peekWorkload runs the header peeks and the scattered reads on the 20
// photos of peekCard, each program on a fresh mount of each tool whose
// folder was listed first, then fio's random reads in one RAW file.
func (b *bench) peekWorkload(ctx context.Context, p profile, n reps) *section {
	c := peekCard()
	sec := &section{id: "peek", title: "Header peeks and scattered reads, real programs", profile: p, card: c.label}
	s, err := b.startSim(ctx, p, c)
	if err != nil {
		sec.notes = append(sec.notes, "simulator failed: "+err.Error())
		return sec
	}
	defer s.stop()
	for _, prog := range readPrograms {
		for _, t := range []struct {
			tool string
			runs int
		}{{toolAirnef, n.airnef}, {toolGphotofs, n.gphotofs}} {
			if t.runs == 0 {
				continue
			}
			r := &row{tool: t.tool, what: prog.name, single: t.runs == 1}
			sec.rows = append(sec.rows, r)
			for range t.runs {
				if err := b.programRun(ctx, s, r, prog); err != nil {
					r.fail(err)
					break
				}
			}
		}
	}
	for _, t := range []struct {
		tool string
		runs int
	}{{toolAirnef, n.airnef}, {toolGphotofs, n.gphotofs}} {
		if t.runs == 0 {
			continue
		}
		r := &row{tool: t.tool, what: fmt.Sprintf("fio randread 4k, %d reads", fioReads), single: t.runs == 1}
		sec.rows = append(sec.rows, r)
		for range t.runs {
			if err := b.fioScatterRun(ctx, s, r); err != nil {
				r.fail(err)
				break
			}
		}
	}
	return sec
}

func (b *bench) programRun(ctx context.Context, s *sim, r *row, prog readProgram) error {
	folder, err := b.onlyFolder(ctx, s)
	if err != nil {
		return err
	}
	m, done, err := b.listedMount(ctx, r.tool, s, folder)
	if err != nil {
		return err
	}
	defer done()
	jpegs, raws, err := folderFiles(m, folder)
	if err != nil {
		return err
	}
	files := jpegs
	if prog.scatter {
		files = raws
	}
	if len(files) == 0 {
		return fmt.Errorf("no file for %s in %s", prog.name, folder)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(m.root(), f)
	}
	mark := s.mark()
	read, wall, err := prog.run(ctx, paths)
	if err != nil {
		return err
	}
	if prog.start != nil {
		w, err := prog.start(ctx, paths)
		if err != nil {
			return err
		}
		if r.vals == nil {
			r.vals = map[string]sample{}
		}
		r.vals["start"] = append(r.vals["start"], w.Seconds())
	}
	r.secs = append(r.secs, wall.Seconds())
	r.bytes, r.files = read, len(files)
	o := s.settledOpsSince(mark)
	r.camBytes = max(r.camBytes, o.cameraBytes())
	r.ops, r.opsN = o.String(), o.total()
	r.rss = max(r.rss, m.peakRSS())
	r.extra = statsFacts(m)
	return nil
}

// onlyFolder is the one folder of a single-folder card: DCIM/100xxxxx,
// read once per simulator from a mount of airnef-mount (gphotofs names
// folders alike).
func (b *bench) onlyFolder(ctx context.Context, s *sim) (string, error) {
	if s.folder != "" {
		return s.folder, nil
	}
	m, done, err := b.listedMount(ctx, toolAirnef, s)
	if err != nil {
		return "", err
	}
	defer done()
	fs, err := cardFolders(m)
	if err != nil {
		return "", err
	}
	s.folder = fs[0]
	return s.folder, nil
}

// fioScatterRun is fio's random 4 KiB reads, fioReads of them, one in
// flight, in the first RAW file of the folder, on a fresh listed mount.
func (b *bench) fioScatterRun(ctx context.Context, s *sim, r *row) error {
	folder, err := b.onlyFolder(ctx, s)
	if err != nil {
		return err
	}
	m, done, err := b.listedMount(ctx, r.tool, s, folder)
	if err != nil {
		return err
	}
	defer done()
	_, raws, err := folderFiles(m, folder)
	if err != nil {
		return err
	}
	if len(raws) == 0 {
		return fmt.Errorf("no RAW file in %s", folder)
	}
	file := filepath.Join(m.root(), raws[0])
	fi, err := os.Stat(file)
	if err != nil {
		return err
	}
	mark := s.mark()
	out, wall, err := (job{name: "fio", args: []string{
		"--name=randread", "--filename=" + file, "--readonly", "--rw=randread", "--bs=4k",
		"--ioengine=psync", "--iodepth=1", "--invalidate=1", "--randrepeat=1",
		"--number_ios=" + strconv.Itoa(fioReads), "--size=" + strconv.FormatInt(fi.Size(), 10), "--output-format=json",
	}}).run(ctx, 10*time.Minute)
	if err != nil {
		return err
	}
	rd, err := fioRead(out)
	if err != nil {
		return err
	}
	r.secs = append(r.secs, wall.Seconds())
	r.bytes, r.files = rd.IOBytes, 1
	o := s.settledOpsSince(mark)
	r.camBytes = max(r.camBytes, o.cameraBytes())
	r.ops, r.opsN = o.String(), o.total()
	r.extra = append([]string{fmt.Sprintf("reads %d, p50 %s s, p99 %s s", rd.TotalIOs, secs(rd.Clat.Percentile["50.000000"]/1e9), secs(rd.Clat.Percentile["99.000000"]/1e9))}, statsFacts(m)...)
	return nil
}

// fioResult is the read side of fio's JSON output.
type fioResult struct {
	IOPS     float64 `json:"iops"`
	IOBytes  int64   `json:"io_bytes"`
	TotalIOs int64   `json:"total_ios"`
	Clat     struct {
		Percentile map[string]float64 `json:"percentile"`
	} `json:"clat_ns"`
}

func fioRead(out string) (fioResult, error) {
	var res struct {
		Jobs []struct {
			Read fioResult `json:"read"`
		} `json:"jobs"`
	}
	if i := strings.IndexByte(out, '{'); i >= 0 {
		out = out[i:]
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Jobs) == 0 {
		return fioResult{}, fmt.Errorf("fio output: %v: %s", err, tail(out, 300))
	}
	return res.Jobs[0].Read, nil
}

// videoSteps are the steps of pyVideo, in order.
var videoSteps = []string{"header", "index", "middle"}

// videoWorkload is a player's pattern on a 1 GiB movie (pyVideo) on a
// fresh listed mount of each tool; gphotofs runs only where its whole-file
// download fits the time budget (gphotofsVideo).
func (b *bench) videoWorkload(ctx context.Context, p profile, n reps) *section {
	c := videoCard(1 << 30)
	sec := &section{id: "video", title: "Video player: header, index at the end, play 8 MiB from the middle", profile: p, card: c.label}
	s, err := b.startSim(ctx, p, c)
	if err != nil {
		sec.notes = append(sec.notes, "simulator failed: "+err.Error())
		return sec
	}
	defer s.stop()
	for _, t := range []struct {
		tool string
		runs int
	}{{toolAirnef, n.airnef}, {toolGphotofs, n.gphotofs}} {
		if t.runs == 0 {
			if t.tool == toolGphotofs {
				sec.notes = append(sec.notes, fmt.Sprintf("gphotofs not run on %s: it reads the whole movie when it is opened, %s s by the link model before the header's first byte.", p.name, secs(p.model(c.video))))
			}
			continue
		}
		r := &row{tool: t.tool, what: "python: read 64 KiB, seek end - 1 MiB, read 1 MiB, seek middle, read 8 MiB", single: t.runs == 1}
		sec.rows = append(sec.rows, r)
		for range t.runs {
			if err := b.videoRun(ctx, s, r); err != nil {
				r.fail(err)
				break
			}
		}
	}
	return sec
}

func (b *bench) videoRun(ctx context.Context, s *sim, r *row) error {
	folder, err := b.onlyFolder(ctx, s)
	if err != nil {
		return err
	}
	m, done, err := b.listedMount(ctx, r.tool, s, folder)
	if err != nil {
		return err
	}
	defer done()
	_, movies, err := folderFiles(m, folder)
	if err != nil {
		return err
	}
	if len(movies) != 1 {
		return fmt.Errorf("want one movie in %s, have %v", folder, movies)
	}
	file := filepath.Join(m.root(), movies[0])
	mark := s.mark()
	out, wall, err := (job{name: "python3", args: []string{"-c", pyVideo, file}}).run(ctx, 15*time.Minute)
	if err != nil {
		return err
	}
	var steps map[string][3]float64
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &steps); err != nil {
		return fmt.Errorf("video output %q: %w", tail(out, 200), err)
	}
	if r.vals == nil {
		r.vals = map[string]sample{}
	}
	var read int64
	for _, k := range videoSteps {
		st, ok := steps[k]
		if !ok {
			return fmt.Errorf("video output %q: no %s", tail(out, 200), k)
		}
		r.vals[k+" first byte"] = append(r.vals[k+" first byte"], st[0])
		r.vals[k] = append(r.vals[k], st[1])
		read += int64(st[2])
	}
	r.secs = append(r.secs, wall.Seconds())
	r.bytes, r.files = read, 1
	o := s.settledOpsSince(mark)
	r.camBytes = max(r.camBytes, o.cameraBytes())
	r.ops, r.opsN = o.String(), o.total()
	r.extra = statsFacts(m)
	return nil
}

// Operations of the interactivity workload, as rows of its section.
const (
	busyLs   = "ls -l of a folder not yet listed"
	busyStat = "stat of a listed file"
	busyCall = "stat(2) of a listed file, the system call alone"
	busyHead = "head -c 65536 of a photo in another listed folder"
)

// busyWorkload times what a user does while cp -r copies a folder of
// busyCard: ls -l of a folder not yet listed, stat of a listed file, head
// of a photo elsewhere, each idle and then during the copy, on one mount
// per tool.
func (b *bench) busyWorkload(ctx context.Context, p profile, tools []string) *section {
	c := busyCard()
	sec := &section{id: "busy", title: "Interactivity during cp -r of a 500 MB folder", profile: p, card: c.label}
	s, err := b.startSim(ctx, p, c)
	if err != nil {
		sec.notes = append(sec.notes, "simulator failed: "+err.Error())
		return sec
	}
	defer s.stop()
	for _, tool := range tools {
		rows := map[string]*row{}
		for _, op := range []string{busyLs, busyStat, busyCall, busyHead} {
			rows[op] = &row{tool: tool, what: op}
			sec.rows = append(sec.rows, rows[op])
		}
		note, err := b.busyRun(ctx, s, p, tool, rows)
		if note != "" {
			sec.notes = append(sec.notes, note)
		}
		if err != nil {
			for _, r := range rows {
				r.fail(err)
			}
		}
	}
	return sec
}

// busyRun measures each operation idle (secs) then during cp -r (during)
// on one mount of tool. Folders: the first is copied, the next two are
// listed idle and the two after during the copy, the last holds the
// photos peeked at and the file stat'ed.
func (b *bench) busyRun(ctx context.Context, s *sim, p profile, tool string, rows map[string]*row) (string, error) {
	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(home)
	m, err := b.mountTool(ctx, tool, s, home)
	if err != nil {
		return "", err
	}
	defer m.unmount()
	folders, err := cardFolders(m)
	if err != nil {
		return "", err
	}
	if len(folders) < 6 {
		return "", fmt.Errorf("want 6 folders, have %v", folders)
	}
	copied, idleLs, busyLsDirs, peeked := folders[0], folders[1:3], folders[3:5], folders[5]
	for _, d := range []string{copied, peeked} {
		if _, _, err := (job{name: "ls", args: []string{"-l", filepath.Join(m.root(), d)}}).run(ctx, 5*time.Minute); err != nil {
			return "", err
		}
	}
	jpegs, _, err := folderFiles(m, peeked)
	if err != nil {
		return "", err
	}
	if len(jpegs) < 7 {
		return "", fmt.Errorf("want 7 photos in %s, have %d", peeked, len(jpegs))
	}
	statFile := filepath.Join(m.root(), jpegs[0])
	timed := func(r *row, into *sample, name string, args ...string) error {
		_, w, err := (job{name: name, args: args}).run(ctx, 5*time.Minute)
		if err != nil {
			return err
		}
		*into = append(*into, w.Seconds())
		return nil
	}
	// quiet lets the scheduler forget the last user request (sched.Memory)
	// before the next ls or head: a user types a command seconds after the
	// last one, when the copy has its link-sized requests again.
	quiet := func() { time.Sleep(sched.Memory + 500*time.Millisecond) }
	// ops runs each operation n times (ls -l once per folder given) into
	// secs (idle) or during.
	ops := func(during bool, lsDirs []string, heads []string) error {
		pick := func(r *row) *sample {
			if during {
				return &r.during
			}
			return &r.secs
		}
		for i := range 3 {
			if i < len(lsDirs) {
				quiet()
				if err := timed(rows[busyLs], pick(rows[busyLs]), "ls", "-l", filepath.Join(m.root(), lsDirs[i])); err != nil {
					return err
				}
			}
			for range 2 {
				if err := timed(rows[busyStat], pick(rows[busyStat]), "stat", statFile); err != nil {
					return err
				}
				start := time.Now()
				if _, err := os.Stat(statFile); err != nil {
					return err
				}
				*pick(rows[busyCall]) = append(*pick(rows[busyCall]), time.Since(start).Seconds())
			}
			if i < len(heads) {
				quiet()
				if err := timed(rows[busyHead], pick(rows[busyHead]), "head", "-c", "65536", filepath.Join(m.root(), heads[i])); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := ops(false, idleLs, jpegs[1:4]); err != nil {
		return "", err
	}

	dst := filepath.Join(b.work, "copy")
	os.RemoveAll(dst)
	defer os.RemoveAll(dst)
	cp := (job{name: "cp", args: []string{"-r", filepath.Join(m.root(), copied), dst}}).command(ctx)
	mark := s.mark()
	if err := cp.Start(); err != nil {
		return "", err
	}
	cpDone := make(chan error, 1)
	go func() { cpDone <- cp.Wait() }()
	stopCp := func() {
		killGroup(cp, syscall.SIGKILL)
		<-cpDone
	}
	// Let the copy reach its pace (read-ahead at full size) first.
	select {
	case err := <-cpDone:
		return "", fmt.Errorf("cp -r ended before the measurements: %v", err)
	case <-time.After(copySettle):
	}
	start := time.Now()
	err = ops(true, busyLsDirs, jpegs[4:7])
	took := time.Since(start)
	select {
	case err := <-cpDone:
		return "", fmt.Errorf("cp -r ended during the measurements (%v): they did not all run during a copy", err)
	default:
	}
	copiedBytes := s.opsSince(mark).cameraBytes()
	stopCp()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s: the camera sent %s in the %s s of the copy (%s, %s of the link), measurements in its last %s s; the copy was then stopped.",
		tool, mb(float64(copiedBytes)), secs(took.Seconds()+copySettle.Seconds()), mbps(float64(copiedBytes)/(took.Seconds()+copySettle.Seconds())), pct(float64(copiedBytes)/(took.Seconds()+copySettle.Seconds())/float64(p.rate)), secs(took.Seconds())), nil
}

// readpath is the read path's workloads alone (make bench BENCH=readpath):
// the link calibration, then issue 14's workloads on wifi and lan.
func (b *bench) readpath(ctx context.Context, res *results) {
	b.readpathOn(ctx, res, wifi)
	b.readpathOn(ctx, res, lan)
}

// readpathOn adds the read path's workloads on profile p: the peeks and
// scattered reads, fio against the link bound, the video player, and on
// wifi the interactivity during a copy.
func (b *bench) readpathOn(ctx context.Context, res *results, p profile) {
	peek, video := reps{airnef: 3, gphotofs: 2}, reps{airnef: 3, gphotofs: 1}
	if p.name == "wifi" {
		peek, video = reps{airnef: 3, gphotofs: 1}, reps{airnef: 3}
	}
	if b.wants("peek") {
		b.add(ctx, res, func() *section { return b.peekWorkload(ctx, p, peek) })
	}
	runtime := 10 * time.Second
	if p.name == "wifi" {
		runtime = 15 * time.Second
	}
	if b.wants("random") {
		b.add(ctx, res, func() *section { return b.randomWorkload(ctx, p, videoCard(1<<30), runtime) })
	}
	if b.wants("video") {
		b.add(ctx, res, func() *section { return b.videoWorkload(ctx, p, video) })
	}
	if p.name == "wifi" && b.wants("busy") {
		b.add(ctx, res, func() *section { return b.busyWorkload(ctx, p, []string{toolAirnef, toolGphotofs}) })
	}
}
