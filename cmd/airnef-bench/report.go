package main

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/airnef-mount/airnef-mount/cache"
)

// results is everything one run measured.
type results struct {
	mode               string
	started            time.Time
	took               time.Duration
	loadStart, loadEnd string
	machine, source    string
	chart              string // file name of the chart, beside the document
	calib              []*calibration
	calibErrs          []string
	sections           []*section
}

// target is one goal of issue 8 or 14 and what this run measured for it.
type target struct {
	name, goal, measured string
	status               string // met, not met, not measured, reported
}

func (res *results) find(id, prof, cardPrefix string) *section {
	for _, s := range res.sections {
		if s.id == id && s.profile.name == prof && strings.HasPrefix(s.card, cardPrefix) {
			return s
		}
	}
	return nil
}

// ok is a row with at least one measurement.
func ok(r *row) bool { return r != nil && len(r.secs) > 0 }

// rate is the bytes per second of a copy row's median run.
func (r *row) rate() float64 { return float64(r.bytes) / r.secs.median() }

// cpuPerGiB is the server's median CPU seconds per GiB copied.
func (r *row) cpuPerGiB() float64 {
	if len(r.cpu) == 0 || r.bytes == 0 {
		return math.NaN()
	}
	return r.cpu.median() / (float64(r.bytes) / (1 << 30))
}

func status(met bool) string {
	if met {
		return "**met**"
	}
	return "**not met**"
}

func (res *results) targets() []target {
	var ts []target
	for _, c := range []struct {
		prof string
		goal float64
	}{{"wifi", copyGoal["wifi"]}, {"lan", copyGoal["lan"]}} {
		for _, what := range []string{"cp -r (fresh mount)", "rsync -a (fresh mount)"} {
			s := res.find("copy", c.prof, "")
			var r *row
			if s != nil {
				r = s.find(toolAirnef, what)
			}
			if r == nil && (s == nil || what != "cp -r (fresh mount)") {
				continue // not part of this run's mode
			}
			t := target{name: fmt.Sprintf("Copy 12 x 3 MB on %s, %s", c.prof, what), goal: ">= " + pct(c.goal) + " of the link rate", status: "not measured"}
			if ok(r) {
				share := r.rate() / float64(s.profile.rate)
				t.measured = fmt.Sprintf("%s (%s, n=%d)", pct(share), mbps(r.rate()), len(r.secs))
				var peers []string
				for _, p := range s.rows {
					if p.tool != toolAirnef && ok(p) && (p.tool == toolGphoto2 || strings.Fields(p.what)[0] == strings.Fields(what)[0]) {
						peers = append(peers, fmt.Sprintf("%s %s", p.tool, pct(p.rate()/float64(s.profile.rate))))
					}
				}
				if len(peers) > 0 {
					t.measured += "; " + strings.Join(peers, ", ")
				}
				t.status = status(share >= c.goal)
				if bound, ok := res.copyBound(s.profile, r, 0); ok {
					above := ""
					if bound < c.goal {
						above = "; the goal is **above it**, unmeetable by construction"
					}
					t.goal += fmt.Sprintf("; the link model's bound for this copy is %.2f%%: a client that opens the session (OpenSession, GetDeviceInfo, GetStorageIDs), lists 3 folders and reads each of the %d files in one GetPartialObject, each operation one calibrated round trip and the bytes at the link rate, and costs nothing else (no process start, no FUSE)%s", 100*bound, r.files, above)
					ramp := rampRequests(r.bytes / int64(r.files))
					wb, _ := res.copyBound(s.profile, r, ramp-1)
					above = ""
					if wb < c.goal {
						above = "; the goal is **above it**: unmeetable with the read path issue 14 asks for"
					}
					t.goal += fmt.Sprintf("; the same client with issue 14's read-ahead window (the first read, %d KiB, then a window that starts at that size and doubles up to %d KiB while the reader consumes it) reads the first file in %d requests: %.2f%%%s", cache.BlockUnit>>10, cache.DefaultRequestSize>>10, ramp, 100*wb, above)
				}
			}
			ts = append(ts, t)
		}
	}
	for _, prof := range []string{"wifi", "lan"} {
		s := res.find("folder", prof, "")
		if s == nil {
			continue
		}
		t := target{name: "Folder open (20 RAW-sized files) on " + prof, goal: ">= 20x faster than gphotofs", status: "not measured"}
		a, g := s.find(toolAirnef, ""), s.find(toolGphotofs, "")
		if ok(a) && ok(g) {
			r := g.secs.median() / a.secs.median()
			t.measured = fmt.Sprintf("%s (airnef-mount %s s n=%d, gphotofs %s s n=%d)", ratio(r), secs(a.secs.median()), len(a.secs), secs(g.secs.median()), len(g.secs))
			t.status = status(r >= 20)
		}
		ts = append(ts, t)
	}
	for _, prof := range []string{"wifi", "lan"} {
		for _, c := range []struct {
			vendor, goal string
			min          float64
		}{
			{eosBody + ",", "no slower than gphoto2 --list-files (both list with GetObjectInfoEx)", 1},
			{"generic", ">= 10x faster than gphoto2 --list-files (generic has GetObjectPropList)", 10},
		} {
			s := res.find("list", prof, c.vendor)
			if s == nil {
				continue
			}
			t := target{name: fmt.Sprintf("Cold listing on %s, %s card", prof, strings.TrimSuffix(c.vendor, ",")), goal: c.goal, status: "not measured"}
			a, g := s.find(toolAirnef, "mount + ls -lR, cold"), s.find(toolGphoto2, "")
			if ok(a) && ok(g) {
				r := g.secs.median() / a.secs.median()
				t.measured = fmt.Sprintf("%s faster (airnef-mount %s s n=%d, gphoto2 %s s n=%d, %d files)", ratio(r), secs(a.secs.median()), len(a.secs), secs(g.secs.median()), len(g.secs), a.files)
				t.status = status(r >= c.min)
			}
			ts = append(ts, t)
		}
	}
	for _, prof := range []string{"wifi", "lan"} {
		s, slow := res.find("list", prof, eosBody+","), res.find("list", prof, eosPerObject)
		if s == nil || slow == nil {
			continue
		}
		t := target{name: fmt.Sprintf("Cold listing on %s, %s card", prof, eosBody), goal: ">= 10x faster with GetObjectInfoEx than the same body without it (one GetObjectInfo per object)", status: "not measured"}
		a, o := s.find(toolAirnef, "mount + ls -lR, cold"), slow.find(toolAirnef, "mount + ls -lR, cold")
		if ok(a) && ok(o) {
			r := o.secs.median() / a.secs.median()
			t.measured = fmt.Sprintf("%s faster (GetObjectInfoEx %s s n=%d, GetObjectInfo %s s n=%d, %d files)", ratio(r), secs(a.secs.median()), len(a.secs), secs(o.secs.median()), len(o.secs), a.files)
			t.status = status(r >= 10 && a.files == o.files)
		}
		ts = append(ts, t)
	}
	for _, prof := range []string{"wifi", "lan"} {
		s := res.find("list", prof, "generic")
		if s == nil {
			continue
		}
		r := s.find(toolAirnef, "mount + ls -lR, after a remount")
		if r == nil {
			continue
		}
		t := target{name: "Listing after a remount on " + prof, goal: "< 1 s (mount + ls -lR)", status: "not measured"}
		if ok(r) {
			t.measured = fmt.Sprintf("%s s (%s-%s, n=%d, %d files)", secs(r.secs.median()), secs(r.secs.min()), secs(r.secs.max()), len(r.secs), r.files)
			t.status = status(r.secs.median() < 1)
		}
		ts = append(ts, t)
	}
	ts = append(ts, res.readpathTargets()...)
	if s := res.find("big", "loopback", ""); s != nil {
		t := target{name: "Peak RSS copying a 4 GiB object (loopback)", goal: fmt.Sprintf("<= --cache-size + 64 MiB = %s", mib(cacheSize+64<<20)), status: "not measured"}
		if r := s.find(toolAirnef, ""); ok(r) && r.rss > 0 {
			t.measured = fmt.Sprintf("VmHWM %s", mib(float64(r.rss)))
			t.status = status(r.rss <= cacheSize+64<<20)
		}
		ts = append(ts, t)
	}
	var lb []string
	if s := res.find("mixed", "loopback", ""); s != nil {
		for _, tool := range []string{toolAirnef, toolGphotofs} {
			if r := s.find(tool, ""); ok(r) {
				lb = append(lb, fmt.Sprintf("%s %s, %s CPU s/GiB", tool, mbps(r.rate()), secs(r.cpuPerGiB())))
			}
		}
	}
	if s := res.find("big", "loopback", ""); s != nil {
		if r := s.find(toolAirnef, ""); ok(r) {
			lb = append(lb, fmt.Sprintf("airnef-mount 4 GiB dd %s, %s CPU s/GiB", mbps(r.rate()), secs(r.cpuPerGiB())))
		}
	}
	if len(lb) > 0 {
		ts = append(ts, target{name: "Loopback throughput and CPU", goal: "reported: MB/s and server CPU seconds per GiB", measured: strings.Join(lb, "; "), status: "reported"})
	}
	return ts
}

// copyGoal is issue 14's share of the link rate a copy from a fresh mount
// reaches, by profile.
var copyGoal = map[string]float64{"wifi": 0.97, "lan": 0.95}

// copyBoundOps is what any client must ask before a copy from a fresh
// mount reads a file: OpenSession, GetDeviceInfo, GetStorageIDs and a
// listing of the storage's top level, DCIM and the folder copied.
const copyBoundOps = 6

// copyBound returns the share of p's link rate that a copy of r's files
// from a fresh mount cannot exceed under the link model: copyBoundOps, one
// request per file and extra more, each one round trip as calibrated, and
// the bytes at the rate; ok is false without a calibration of p.
func (res *results) copyBound(p profile, r *row, extra int) (float64, bool) {
	for _, c := range res.calib {
		if c.profile.name != p.name || p.rate == 0 || len(c.rtt) == 0 || r.files == 0 {
			continue
		}
		data := float64(r.bytes) / float64(p.rate)
		return data / (data + float64(copyBoundOps+r.files+extra)*c.rtt.median()), true
	}
	return 0, false
}

// rampRequests is how many requests a copy's first file of size bytes
// takes with issue 14's read-ahead window: the reader's first read (the
// kernel's, one BlockUnit), then a window that starts at that size and
// doubles up to the request size while the reader consumes it. The next
// files come in one request each (next-file prefetch, on the evidence of
// the first).
func rampRequests(size int64) int {
	n, got, w := 1, int64(cache.BlockUnit), int64(cache.BlockUnit)
	for got < size {
		got += w
		n++
		w = min(2*w, cache.DefaultRequestSize)
	}
	return n
}

// notesHeading starts the hand-written end of docs/benchmarks.md (what was
// measured outside a run), which a run carries over from the file it
// replaces.
const notesHeading = "## Notes"

// withNotes returns doc followed by the hand-written notes of old, if any.
func withNotes(doc string, old []byte) string {
	i := bytes.Index(old, []byte("\n"+notesHeading+"\n"))
	if i < 0 {
		return doc
	}
	return strings.TrimRight(doc, "\n") + "\n" + string(old[i:])
}

func (res *results) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\n")
	w("Generated by `make bench%s` (`cmd/airnef-bench`, mode %s) on %s in %s. Every number below comes from that one run; ",
		map[string]string{"quick": " BENCH=quick", "eos": " BENCH=eos", "readpath": " BENCH=readpath", "full": ""}[res.mode], res.mode, res.started.UTC().Format("2006-01-02 15:04 UTC"), res.took.Round(time.Second))
	w("ratios compare tools measured in the same run on the same simulator and profile. Rerun it after any change to the read or listing path.\n\n")
	w("- Machine: %s. Load average (1, 5, 15 min) %s at the start, %s at the end; the machine is shared with other work, so the load is given per workload below.\n", res.machine, res.loadStart, res.loadEnd)
	w("- Binaries: `bin/airnef-mount` and `bin/camsim` built from %s.\n", res.source)
	w("- Simulator: `camsim --debug`, profiles by its link model: %s, %s, %s. The camera operations of each run are counted from its log.\n", wifi, lan, loopback)
	w("- Times are medians of n runs, with the spread as min-max; n=1 marks a run not repeated on purpose (a slow peer run that would blow the time budget). \"Faster\" ratios are the peer's time over airnef-mount's (per byte, for copies).\n\n")
	w("![chart](%s)\n\n", res.chart)

	w("## Targets (issues 8 and 14)\n\n| target | goal | measured | result |\n|---|---|---|---|\n")
	for _, t := range res.targets() {
		w("| %s | %s | %s | %s |\n", t.name, t.goal, cmpOr(t.measured, "-"), t.status)
	}
	w("\n")

	w("## Link calibration\n\nOur own PTP/IP client (`ptpip` + `mtp`, no FUSE) against the simulator serving one 8 MiB photo: an operation without data (GetStorageIDs) is the round trip; a GetObject of N bytes should take N/rate + latency; GetPartialObject requests of several sizes, one in flight, reach T/(T+RTT) of the rate (T = size/rate), which bounds any client that reads stop-and-wait with that request size.\n\n")
	for _, e := range res.calibErrs {
		w("- calibration failed on %s\n", e)
	}
	if len(res.calibErrs) > 0 {
		w("\n")
	}
	if len(res.calib) > 0 {
		w("| profile | round trip (GetStorageIDs, n=5) | GetObject 8 MiB | model N/rate + latency | error |\n|---|---|---|---|---|\n")
		for _, c := range res.calib {
			model, modelCell, errCell := c.profile.model(c.objSize), "- (no limits)", "-"
			if c.profile.rate > 0 {
				modelCell, errCell = secs(model)+" s", fmt.Sprintf("%+.1f%%", 100*(c.getObj.median()-model)/model)
			}
			w("| %s | %s ms | %s s (%s, n=%d) | %s | %s |\n", c.profile, secs(1000*c.rtt.median()), secs(c.getObj.median()), c.getObj.spread(secs), len(c.getObj), modelCell, errCell)
		}
		w("\n| profile | request size | 8 MiB read in | share of link rate | model T/(T+RTT) |\n|---|---|---|---|---|\n")
		for _, c := range res.calib {
			for _, pt := range c.sweep {
				if c.profile.rate == 0 {
					w("| %s | %s | %s s (n=%d) | %s (no rate limit) | - |\n", c.profile.name, mib(float64(pt.req)), secs(pt.secs.median()), len(pt.secs), mbps(sweepBytes/pt.secs.median()))
					continue
				}
				w("| %s | %s | %s s (n=%d) | %s | %s |\n", c.profile.name, mib(float64(pt.req)), secs(pt.secs.median()), len(pt.secs), pct(c.efficiency(pt)), pct(c.profile.modelEfficiency(pt.req)))
			}
		}
		w("\n")
		for _, c := range res.calib {
			if c.profile.rate == 0 {
				continue
			}
			for _, pt := range c.sweep {
				got, want := c.efficiency(pt), c.profile.modelEfficiency(pt.req)
				if got-want > 0.03 {
					w("- **%s: the link model is off.** %s requests reach %s of the rate where T/(T+RTT) predicts %s: the simulator does not charge the round trip to these reads, so every stop-and-wait client (airnef-mount, gphotofs, gphoto2 alike) looks better on this profile than it would on a real link; its copy shares are upper bounds.\n", c.profile.name, mib(float64(pt.req)), pct(got), pct(want))
					break
				}
			}
		}
		w("\n")
	}

	w("## Workloads\n\n")
	for _, s := range res.sections {
		w("### %s: %s, %s\n\n", s.title, s.profile, s.card)
		w("Workload time %s, load average at its end %s.\n\n", s.took.Round(time.Second), s.load)
		switch s.id {
		case "copy", "mixed":
			res.copyTable(&b, s)
		case "list":
			res.listTable(&b, s)
		case "folder":
			res.folderTable(&b, s)
		case "random":
			res.randomTable(&b, s)
		case "big":
			res.bigTable(&b, s)
		case "peek":
			res.peekTable(&b, s)
		case "video":
			res.videoTable(&b, s)
		case "busy":
			res.busyTable(&b, s)
		}
		for _, n := range s.notes {
			w("- %s\n", n)
		}
		var details []string
		for _, r := range s.rows {
			if r.err != nil {
				details = append(details, fmt.Sprintf("- %s %s failed after %d good runs: `%s`", r.tool, r.what, len(r.secs), tail(strings.ReplaceAll(r.err.Error(), "\n", " "), 300)))
			}
			if r.ops != "" {
				details = append(details, fmt.Sprintf("- %s %s, camera operations of the last run (%d): %s", r.tool, r.what, r.opsN, r.ops))
			}
			if len(r.extra) > 0 {
				details = append(details, fmt.Sprintf("- %s %s, `/.airnef/stats` / fio after the last run: %s", r.tool, r.what, strings.Join(r.extra, ", ")))
			}
		}
		if len(details) > 0 {
			w("%s\n", strings.Join(details, "\n"))
		}
		w("\n")
	}
	return b.String()
}

// nCell is "n" with a mark for the runs deliberately not repeated.
func nCell(r *row) string {
	if r.err != nil && len(r.secs) == 0 {
		return "failed"
	}
	s := fmt.Sprint(len(r.secs))
	if r.single {
		s += " (not repeated)"
	}
	if r.err != nil {
		s += ", then failed"
	}
	return s
}

func (res *results) copyTable(b *strings.Builder, s *section) {
	ref := s.find(toolAirnef, "cp -r (fresh mount)")
	fmt.Fprintf(b, "| tool | run | n | median s | min-max s | MB | files | MB/s | share of link | airnef-mount faster by | server CPU s/GiB |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range s.rows {
		if !ok(r) {
			fmt.Fprintf(b, "| %s | %s | %s | - | - | - | - | - | - | - | - |\n", r.tool, r.what, nCell(r))
			continue
		}
		share, vs := "-", "-"
		if s.profile.rate > 0 {
			share = pct(r.rate() / float64(s.profile.rate))
		}
		if ok(ref) && r.tool != toolAirnef {
			vs = ratio(ref.rate() / r.rate())
		}
		fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s | %s | %d | %s | %s | %s | %s |\n", r.tool, r.what, nCell(r), secs(r.secs.median()), r.secs.spread(secs), mb(float64(r.bytes)), r.files, mbps(r.rate()), share, vs, secs(r.cpuPerGiB()))
	}
	fmt.Fprintf(b, "\nTimes of fresh mounts include mounting (connect, session, storages); gphoto2's includes its connect; its CPU is the gphoto2 process (it also writes the files), the others' the FUSE server's.\n\n")
}

func (res *results) listTable(b *strings.Builder, s *section) {
	ref := s.find(toolAirnef, "mount + ls -lR, cold")
	fmt.Fprintf(b, "| tool | run | n | median s | min-max s | of which mounting | files listed | ms per file | airnef-mount cold faster by |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range s.rows {
		if !ok(r) {
			fmt.Fprintf(b, "| %s | %s | %s | - | - | - | - | - | - |\n", r.tool, r.what, nCell(r))
			continue
		}
		vs, ready, per := "-", "-", "-"
		if ok(ref) && r.tool != toolAirnef {
			vs = ratio(r.secs.median() / ref.secs.median())
		}
		if len(r.ready) > 0 {
			ready = secs(r.ready.median()) + " s"
		}
		if r.files > 0 {
			per = fmt.Sprintf("%.2f", 1000*r.secs.median()/float64(r.files))
		}
		fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s | %s | %d | %s | %s |\n", r.tool, r.what, nCell(r), secs(r.secs.median()), r.secs.spread(secs), ready, r.files, per, vs)
	}
	fmt.Fprintf(b, "\nCold: airnef-mount with an empty `$XDG_CACHE_HOME` each run; after a remount: the same `$XDG_CACHE_HOME` as the last cold run. gphotofs opens its session on the first access, inside `ls -lR`.\n\n")
}

func (res *results) folderTable(b *strings.Builder, s *section) {
	ref := s.find(toolAirnef, "")
	fmt.Fprintf(b, "| tool | run | n | median s | min-max s | of which mounting | files | bytes read | airnef-mount faster by | server VmHWM |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range s.rows {
		if !ok(r) {
			fmt.Fprintf(b, "| %s | %s | %s | - | - | - | - | - | - | - |\n", r.tool, r.what, nCell(r))
			continue
		}
		vs := "-"
		if ok(ref) && r != ref {
			vs = ratio(r.secs.median() / ref.secs.median())
		}
		fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s | %s s | %d | %s | %s | %s |\n", r.tool, r.what, nCell(r), secs(r.secs.median()), r.secs.spread(secs), secs(r.ready.median()), r.files, mib(float64(r.bytes)), vs, mib(float64(r.rss)))
	}
	fmt.Fprintf(b, "\nEach run: a fresh mount, then `airnef-bench open-folder` (readdir, stat each file, open it and read its first 64 KiB), as a file manager with thumbnails does.\n\n")
}

func (res *results) randomTable(b *strings.Builder, s *section) {
	bound := 1 / s.profile.model(4096)
	fmt.Fprintf(b, "| tool | reads | file | mean s per read | reads/s | link bound (one 4 KiB GetPartialObject per read) | share of bound |\n|---|---|---|---|---|---|---|\n")
	for _, r := range s.rows {
		if !ok(r) {
			fmt.Fprintf(b, "| %s | %s | - | - | - | - | - |\n", r.tool, nCell(r))
			continue
		}
		iops := 1 / r.secs.median()
		fmt.Fprintf(b, "| %s | %d in one fio run | %s | %s | %.1f | %.1f/s | %s |\n", r.tool, r.files, mib(float64(r.bytes)), secs(r.secs.median()), iops, bound, pct(iops/bound))
	}
	fmt.Fprintf(b, "\n`fio --readonly --rw=randread --bs=4k --ioengine=psync --iodepth=1` on the largest file of a fresh mount (fio sets POSIX_FADV_RANDOM, so the kernel does not read ahead).\n\n")
}

func (res *results) bigTable(b *strings.Builder, s *section) {
	fmt.Fprintf(b, "| tool | run | n | s | size | MB/s | server CPU s | CPU s/GiB | server VmHWM | goal |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range s.rows {
		if !ok(r) {
			fmt.Fprintf(b, "| %s | %s | %s | - | - | - | - | - | - | - |\n", r.tool, r.what, nCell(r))
			continue
		}
		fmt.Fprintf(b, "| %s | `%s` | %s | %s | %s | %s | %s | %s | %s | <= %s |\n", r.tool, r.what, nCell(r), secs(r.secs.median()), mib(float64(r.bytes)), mbps(r.rate()), secs(r.cpu.median()), secs(r.cpuPerGiB()), mib(float64(r.rss)), mib(cacheSize+64<<20))
	}
	fmt.Fprintf(b, "\n")
}
