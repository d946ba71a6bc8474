package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// section is the result of one workload on one card over one profile: a
// table in the document.
type section struct {
	id      string // copy, mixed, list, folder, random, big
	title   string
	profile profile
	card    string
	rows    []*row
	notes   []string
	took    time.Duration // the whole workload, simulator and mounts included
	load    string        // load average when it ended
}

// row is one tool doing one thing, n times.
type row struct {
	tool     string
	what     string            // the command, as the document shows it
	secs     sample            // wall time per run
	ready    sample            // of secs: mounting (connect, session, storages)
	bytes    int64             // bytes copied per run (copies)
	files    int               // files seen per run (listings, copies)
	cpu      sample            // CPU seconds of the FUSE server (or gphoto2) per run
	rss      int64             // largest VmHWM of the FUSE server over the runs
	ops      string            // camera operations of the last run
	opsN     int               // their count
	extra    []string          // more facts of the last run (stats, fio)
	camBytes int64             // object bytes the camera sent in the costliest run (partial reads)
	during   sample            // the same operation while a copy runs (busy)
	vals     map[string]sample // more measurements per run, by name (video steps)
	err      error             // the first failure: runs after it are not taken
	single   bool              // n=1 on purpose: a repeat would blow the time budget
}

func (r *row) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (s *section) find(tool, what string) *row {
	for _, r := range s.rows {
		if r.tool == tool && (what == "" || r.what == what) {
			return r
		}
	}
	return nil
}

// reps is how many runs each tool gets in a workload: 0 skips it.
type reps struct {
	airnef, listed, gphotofs, gphoto2 int
	rsync, rsyncPeer                  int // rsync -a from airnef-mount and from gphotofs
}

// copyWorkload copies card c with cp -r from airnef-mount and gphotofs (a
// fresh mount per run, so the listing is part of the copy), with cp -r
// after ls -lR on airnef-mount (listed), and with gphoto2 --get-all-files.
func (b *bench) copyWorkload(ctx context.Context, id string, p profile, c card, n reps, timeout time.Duration) *section {
	sec := &section{id: id, title: "Copy with cp -r", profile: p, card: c.label}
	s, err := b.startSim(ctx, p, c)
	if err != nil {
		sec.notes = append(sec.notes, "simulator failed: "+err.Error())
		return sec
	}
	defer s.stop()
	type variant struct {
		tool, what string
		runs       int
		listFirst  bool
	}
	for _, v := range []variant{
		{toolAirnef, "cp -r (fresh mount)", n.airnef, false},
		{toolAirnef, "cp -r after ls -lR", n.listed, true},
		{toolAirnef, "rsync -a (fresh mount)", n.rsync, false},
		{toolGphotofs, "cp -r (fresh mount)", n.gphotofs, false},
		{toolGphotofs, "rsync -a (fresh mount)", n.rsyncPeer, false},
	} {
		if v.runs == 0 {
			continue
		}
		r := &row{tool: v.tool, what: v.what, single: v.runs == 1}
		sec.rows = append(sec.rows, r)
		for range v.runs {
			if err := b.copyRun(ctx, s, r, v.listFirst, timeout); err != nil {
				r.fail(err)
				break
			}
		}
	}
	if n.gphoto2 > 0 {
		r := &row{tool: toolGphoto2, what: "--get-all-files", single: n.gphoto2 == 1}
		sec.rows = append(sec.rows, r)
		for range n.gphoto2 {
			if err := b.gphoto2CopyRun(ctx, s, r, timeout); err != nil {
				r.fail(err)
				break
			}
		}
	}
	return sec
}

func (b *bench) copyRun(ctx context.Context, s *sim, r *row, listFirst bool, timeout time.Duration) error {
	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	m, err := b.mountTool(ctx, r.tool, s, home)
	if err != nil {
		return err
	}
	defer m.unmount()
	if listFirst {
		if _, _, err := (job{name: "ls", args: []string{"-lR", m.dir}}).run(ctx, timeout); err != nil {
			return err
		}
	}
	dst := filepath.Join(b.work, "copy")
	os.RemoveAll(dst)
	defer os.RemoveAll(dst)
	cpu0, mark := m.cpu(), s.mark()
	cmd := job{name: "cp", args: []string{"-r", m.root(), dst}}
	if strings.HasPrefix(r.what, "rsync") {
		cmd = job{name: "rsync", args: []string{"-a", m.root() + "/", dst}}
	}
	_, wall, err := cmd.run(ctx, timeout)
	if err != nil {
		return err
	}
	cpu1 := m.cpu()
	files, size := treeSize(dst)
	if files == 0 {
		return fmt.Errorf("%s copied no file from %s", r.what, m.root())
	}
	if !listFirst {
		r.ready = append(r.ready, m.ready.Seconds())
		wall += m.ready
	}
	r.secs = append(r.secs, wall.Seconds())
	r.bytes, r.files = size, files
	if cpu0 >= 0 && cpu1 >= 0 {
		r.cpu = append(r.cpu, cpu1-cpu0)
	}
	r.rss = max(r.rss, m.peakRSS())
	o := s.opsSince(mark)
	r.ops, r.opsN = o.String(), o.total()
	r.extra = statsFacts(m)
	return nil
}

func (b *bench) gphoto2CopyRun(ctx context.Context, s *sim, r *row, timeout time.Duration) error {
	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	cwd := filepath.Join(home, "dl")
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		return err
	}
	mark := s.mark()
	cmd, err := gphoto2Job(s, home, cwd, "--get-all-files")
	if err != nil {
		return err
	}
	c := cmd.command(ctx)
	var out lockedBuffer
	c.Stdout, c.Stderr = &out, &out
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(tctx, func() { c.Cancel() })
	defer stop()
	start := time.Now()
	if err := c.Run(); err != nil {
		return fmt.Errorf("gphoto2 --get-all-files: %w: %s", err, tail(out.String(), 400))
	}
	wall := time.Since(start)
	files, size := treeSize(cwd)
	r.secs = append(r.secs, wall.Seconds())
	r.bytes, r.files = size, files
	if st := c.ProcessState; st != nil {
		r.cpu = append(r.cpu, (st.UserTime() + st.SystemTime()).Seconds())
	}
	o := s.opsSince(mark)
	r.ops, r.opsN = o.String(), o.total()
	return nil
}

// listWorkload times a cold listing: mount (connect, session) plus ls -lR
// on airnef-mount with an empty metadata cache each run, the same on
// gphotofs, gphoto2 --list-files; then, when remounts > 0, airnef-mount
// mounted again with the metadata cache of the last cold run.
func (b *bench) listWorkload(ctx context.Context, p profile, c card, n reps, remounts int, timeout time.Duration) *section {
	sec := &section{id: "list", title: "Listing: mount + ls -lR", profile: p, card: c.label}
	s, err := b.startSim(ctx, p, c)
	if err != nil {
		sec.notes = append(sec.notes, "simulator failed: "+err.Error())
		return sec
	}
	defer s.stop()
	keep, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		sec.notes = append(sec.notes, err.Error())
		return sec
	}
	defer os.RemoveAll(keep)
	if n.airnef > 0 {
		r := &row{tool: toolAirnef, what: "mount + ls -lR, cold", single: n.airnef == 1}
		sec.rows = append(sec.rows, r)
		for i := range n.airnef {
			home := keep
			if i < n.airnef-1 {
				home = filepath.Join(b.work, "home-cold")
			}
			os.RemoveAll(home)
			os.MkdirAll(home, 0o755)
			if err := b.listRun(ctx, s, r, home, timeout); err != nil {
				r.fail(err)
				break
			}
		}
		os.RemoveAll(filepath.Join(b.work, "home-cold"))
	}
	if remounts > 0 && n.airnef > 0 {
		r := &row{tool: toolAirnef, what: "mount + ls -lR, after a remount", single: remounts == 1}
		sec.rows = append(sec.rows, r)
		for range remounts {
			if err := b.listRun(ctx, s, r, keep, timeout); err != nil {
				r.fail(err)
				break
			}
		}
	}
	if n.gphotofs > 0 {
		r := &row{tool: toolGphotofs, what: "mount + ls -lR", single: n.gphotofs == 1}
		sec.rows = append(sec.rows, r)
		for range n.gphotofs {
			home, _ := os.MkdirTemp(b.work, "home-")
			err := b.listRun(ctx, s, r, home, timeout)
			os.RemoveAll(home)
			if err != nil {
				r.fail(err)
				break
			}
		}
	}
	if n.gphoto2 > 0 {
		r := &row{tool: toolGphoto2, what: "--list-files", single: n.gphoto2 == 1}
		sec.rows = append(sec.rows, r)
		for range n.gphoto2 {
			home, _ := os.MkdirTemp(b.work, "home-")
			mark := s.mark()
			j, err := gphoto2Job(s, home, home, "--list-files")
			var out string
			var wall time.Duration
			if err == nil {
				out, wall, err = j.run(ctx, timeout)
			}
			os.RemoveAll(home)
			if err != nil {
				r.fail(err)
				break
			}
			r.secs = append(r.secs, wall.Seconds())
			r.files = countGphotoFiles(out)
			o := s.opsSince(mark)
			r.ops, r.opsN = o.String(), o.total()
		}
	}
	return sec
}

func (b *bench) listRun(ctx context.Context, s *sim, r *row, home string, timeout time.Duration) error {
	mark := s.mark()
	m, err := b.mountTool(ctx, r.tool, s, home)
	if err != nil {
		return err
	}
	defer m.unmount()
	out, wall, err := (job{name: "ls", args: []string{"-lR", m.dir}}).run(ctx, timeout)
	if err != nil {
		return err
	}
	r.ready = append(r.ready, m.ready.Seconds())
	r.secs = append(r.secs, (m.ready + wall).Seconds())
	r.files = countLsFiles(out)
	if c := m.cpu(); c >= 0 {
		r.cpu = append(r.cpu, c)
	}
	o := s.opsSince(mark)
	r.ops, r.opsN = o.String(), o.total()
	return nil
}

// folderWorkload is a file manager opening a folder: readdir, stat every
// file and read its first 64 KiB, on a fresh mount of airnef-mount and of
// gphotofs.
func (b *bench) folderWorkload(ctx context.Context, p profile, c card, folder string, n reps, timeout time.Duration) *section {
	sec := &section{id: "folder", title: "Folder open: stat every file, read its first 64 KiB", profile: p, card: c.label}
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
			continue
		}
		r := &row{tool: t.tool, what: "mount + open folder", single: t.runs == 1}
		sec.rows = append(sec.rows, r)
		for range t.runs {
			if err := b.folderRun(ctx, s, r, folder, timeout); err != nil {
				r.fail(err)
				break
			}
		}
	}
	return sec
}

func (b *bench) folderRun(ctx context.Context, s *sim, r *row, folder string, timeout time.Duration) error {
	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	mark := s.mark()
	m, err := b.mountTool(ctx, r.tool, s, home)
	if err != nil {
		return err
	}
	defer m.unmount()
	out, wall, err := (job{name: b.self, args: []string{"open-folder", filepath.Join(m.root(), folder)}}).run(ctx, timeout)
	if err != nil {
		return err
	}
	var files int
	var read int64
	if _, err := fmt.Sscanf(strings.TrimSpace(out), "files %d read %d", &files, &read); err != nil || files == 0 {
		return fmt.Errorf("open-folder: %q", out)
	}
	r.ready = append(r.ready, m.ready.Seconds())
	r.secs = append(r.secs, (m.ready + wall).Seconds())
	r.files, r.bytes = files, read
	r.rss = max(r.rss, m.peakRSS())
	o := s.opsSince(mark)
	r.ops, r.opsN = o.String(), o.total()
	r.extra = statsFacts(m)
	return nil
}

// openFolder is the open-folder subcommand: what a file manager does when
// it opens dir (readdir, stat each file, read its first 64 KiB, as a
// thumbnailer or EXIF reader does). It prints "files N read BYTES".
func openFolder(dir string) error {
	des, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	files, read := 0, int64(0)
	for _, de := range des {
		p := filepath.Join(dir, de.Name())
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		n, err := io.ReadFull(f, buf)
		f.Close()
		if err != nil && err != io.ErrUnexpectedEOF {
			return fmt.Errorf("%s: %w", p, err)
		}
		files, read = files+1, read+int64(n)
	}
	fmt.Printf("files %d read %d\n", files, read)
	return nil
}

// randomWorkload runs fio: random 4 KiB reads (psync, one at a time) in
// the largest file of a fresh airnef-mount mount for runtime.
func (b *bench) randomWorkload(ctx context.Context, p profile, c card, runtime time.Duration) *section {
	sec := &section{id: "random", title: "Random 4 KiB reads (fio --readonly --rw=randread, one in flight)", profile: p, card: c.label}
	s, err := b.startSim(ctx, p, c)
	if err != nil {
		sec.notes = append(sec.notes, "simulator failed: "+err.Error())
		return sec
	}
	defer s.stop()
	r := &row{tool: toolAirnef, what: "fio randread 4k", single: true}
	sec.rows = append(sec.rows, r)
	if err := b.randomRun(ctx, s, r, runtime); err != nil {
		r.fail(err)
	}
	return sec
}

func (b *bench) randomRun(ctx context.Context, s *sim, r *row, runtime time.Duration) error {
	home, err := os.MkdirTemp(b.work, "home-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	m, err := b.mountTool(ctx, toolAirnef, s, home)
	if err != nil {
		return err
	}
	defer m.unmount()
	file, size := largestFile(m.root())
	if file == "" {
		return fmt.Errorf("no file in %s", m.root())
	}
	mark := s.mark()
	out, _, err := (job{name: "fio", args: []string{
		"--name=randread", "--filename=" + file, "--readonly", "--rw=randread", "--bs=4k",
		"--ioengine=psync", "--iodepth=1", "--invalidate=1", "--randrepeat=1",
		"--time_based", fmt.Sprintf("--runtime=%ds", int(runtime.Seconds())),
		"--size=" + strconv.FormatInt(size, 10), "--output-format=json",
	}}).run(ctx, runtime+2*time.Minute)
	if err != nil {
		return err
	}
	var res struct {
		Jobs []struct {
			Read struct {
				IOPS     float64 `json:"iops"`
				TotalIOs int64   `json:"total_ios"`
				Clat     struct {
					Percentile map[string]float64 `json:"percentile"`
				} `json:"clat_ns"`
			} `json:"read"`
		} `json:"jobs"`
	}
	if i := strings.IndexByte(out, '{'); i >= 0 {
		out = out[i:]
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Jobs) == 0 {
		return fmt.Errorf("fio output: %v: %s", err, tail(out, 300))
	}
	rd := res.Jobs[0].Read
	r.secs = sample{1 / rd.IOPS} // per read
	r.files = int(rd.TotalIOs)
	r.bytes = size
	r.extra = append(r.extra,
		fmt.Sprintf("iops %.1f", rd.IOPS),
		fmt.Sprintf("p50 %s s", secs(rd.Clat.Percentile["50.000000"]/1e9)),
		fmt.Sprintf("p99 %s s", secs(rd.Clat.Percentile["99.000000"]/1e9)))
	o := s.opsSince(mark)
	r.ops, r.opsN = o.String(), o.total()
	r.extra = append(r.extra, statsFacts(m)...)
	return nil
}

// bigWorkload copies the largest file of card c (a 4 GiB movie) with dd
// to /dev/null from a fresh airnef-mount mount and records the server's
// peak RSS (VmHWM), its CPU time and the rate.
func (b *bench) bigWorkload(ctx context.Context, p profile, c card, cacheSize int64, timeout time.Duration) *section {
	sec := &section{id: "big", title: "Copy of one large object (dd bs=1M to /dev/null)", profile: p, card: c.label}
	s, err := b.startSim(ctx, p, c)
	if err != nil {
		sec.notes = append(sec.notes, "simulator failed: "+err.Error())
		return sec
	}
	defer s.stop()
	r := &row{tool: toolAirnef, what: fmt.Sprintf("dd, --cache-size %s", mib(float64(cacheSize))), single: true}
	sec.rows = append(sec.rows, r)
	err = func() error {
		home, err := os.MkdirTemp(b.work, "home-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(home)
		m, err := b.mountAirnef(ctx, s, home, "--cache-size", strconv.FormatInt(cacheSize, 10))
		if err != nil {
			return err
		}
		defer m.unmount()
		file, size := largestFile(m.root())
		if file == "" {
			return fmt.Errorf("no file in %s", m.root())
		}
		cpu0, mark := m.cpu(), s.mark()
		_, wall, err := (job{name: "dd", args: []string{"if=" + file, "of=/dev/null", "bs=1M"}}).run(ctx, timeout)
		if err != nil {
			return err
		}
		r.secs = sample{wall.Seconds()}
		r.bytes, r.files = size, 1
		r.cpu = sample{m.cpu() - cpu0}
		r.rss = m.peakRSS()
		o := s.opsSince(mark)
		r.ops, r.opsN = o.String(), o.total()
		r.extra = statsFacts(m)
		return nil
	}()
	if err != nil {
		r.fail(err)
	}
	return sec
}

// statsFacts picks the counters of airnef-mount's /.airnef/stats that
// explain a run.
func statsFacts(m *mount) []string {
	st := m.stats()
	if st == nil {
		return nil
	}
	var out []string
	for _, k := range []string{"fetches", "readahead_fetches", "waits", "bytes_from_camera", "bytes_served", "evictions"} {
		if v, ok := st[k]; ok {
			out = append(out, k+" "+v)
		}
	}
	return out
}

// treeSize counts the regular files under dir and their bytes.
func treeSize(dir string) (files int, size int64) {
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				files++
				size += fi.Size()
			}
		}
		return nil
	})
	return files, size
}

// largestFile is the largest regular file under dir.
func largestFile(dir string) (string, int64) {
	var best string
	var size int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil && fi.Size() > size {
				best, size = p, fi.Size()
			}
		}
		return nil
	})
	return best, size
}

// countLsFiles counts the regular files in ls -lR output.
func countLsFiles(out string) int {
	n := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "-") {
			n++
		}
	}
	return n
}

var gphotoFolder = regexp.MustCompile(`(?m)^There (?:are|is) (\d+) files? in folder`)

// countGphotoFiles sums gphoto2 --list-files' per-folder counts.
func countGphotoFiles(out string) int {
	n := 0
	for _, m := range gphotoFolder.FindAllStringSubmatch(out, -1) {
		k, _ := strconv.Atoi(m[1])
		n += k
	}
	return n
}
