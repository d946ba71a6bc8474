package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/airnef-mount/airnef-mount/fusefs"
)

const statusUsage = "usage: airnef-mount status [--interval 1s] [--watch] [MOUNTPOINT | DIR]"

// statsTimeout bounds reading a mount's stats: a mount whose server hangs
// is reported as not answering instead of hanging status.
const statsTimeout = 5 * time.Second

// runStatus is `airnef-mount status [MOUNTPOINT | DIR]`: what each
// airnef-mount mount is doing, from its /.airnef/stats: the camera, the
// session's state, objects held, a listing in progress (objects done and
// known, time left), bytes read, the cache hit rate and the transfer rate
// (over interval, and on average since the mount). Without an argument it
// shows every airnef-mount mount (/proc/self/mountinfo); with a directory
// that is no such mount (a --wait directory), the ones below it. With
// watch it shows them again every interval until ctx ends.
func runStatus(ctx context.Context, dir string, interval time.Duration, watch bool, stdout io.Writer) error {
	if watch && interval <= 0 {
		return usageErr("status --watch needs a positive --interval")
	}
	mnts, err := statusMounts(dir)
	if err != nil {
		return err
	}
	prev := map[string]stats{}
	read := func() {
		for _, m := range mnts {
			if s, err := readStatsBounded(filepath.Join(m, ".airnef", "stats")); err == nil {
				prev[m] = s
			}
		}
	}
	if interval > 0 {
		read() // the first reading of the rate
	}
	clear := watch && isTerminal(stdout)
	for {
		if interval > 0 && !sleepCtx(ctx, interval) {
			return nil // Ctrl-C ends --watch
		}
		if watch {
			if mnts, err = statusMounts(dir); err != nil {
				return err
			}
		}
		if clear {
			fmt.Fprint(stdout, "\x1b[H\x1b[2J")
		}
		failed := printMounts(stdout, mnts, prev, len(mnts) > 1 || dir == "")
		if !watch {
			if failed != nil && len(mnts) == 1 {
				return failed
			}
			return nil
		}
		if !clear {
			fmt.Fprintln(stdout)
		}
	}
}

// statusMounts is the mount points status shows: dir when it is an
// airnef-mount mount, else the airnef-mount mounts below dir (every one
// when dir is "").
func statusMounts(dir string) ([]string, error) {
	if dir != "" {
		if m, ok, err := fusefs.MountAt(dir); err == nil && ok && m.Ours() {
			return []string{m.Point}, nil
		}
		// A mount this process cannot see as one (another mount
		// namespace) still answers by name.
		if _, err := os.Stat(filepath.Join(dir, ".airnef", "stats")); err == nil {
			return []string{dir}, nil
		}
	}
	all, err := fusefs.Mounts()
	if err != nil {
		return nil, failErr("cannot read the mounts: %v", err)
	}
	under := ""
	if dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, failErr("%v", err)
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		under = strings.TrimSuffix(abs, "/") + "/"
	}
	var out []string
	for _, m := range all {
		if m.Ours() && strings.HasPrefix(m.Point, under) {
			out = append(out, m.Point)
		}
	}
	if len(out) == 0 {
		if dir == "" {
			return nil, failErr("no camera is mounted (no airnef-mount mount in /proc/self/mountinfo)")
		}
		return nil, failErr("%s is not an airnef-mount mount, and no camera is mounted below it", dir)
	}
	return out, nil
}

// printMounts prints the status of each mount, headed by its mount point
// when named is set; prev holds each one's last reading (for the rate),
// which it replaces. It returns the error of the last mount that did not
// answer.
func printMounts(w io.Writer, mnts []string, prev map[string]stats, named bool) error {
	var failed error
	for i, m := range mnts {
		if named {
			if i > 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "%-12s %s\n", "mountpoint:", m)
		}
		s, err := readStatsBounded(filepath.Join(m, ".airnef", "stats"))
		if err != nil {
			failed = failErr("%s is not an airnef-mount mount, or it does not answer: %v", m, err)
			fmt.Fprintf(w, "%-12s not answering: %v\n", "session:", err)
			continue
		}
		var sample *statsSample
		if p, ok := prev[m]; ok && s.at.After(p.at) {
			sample = &statsSample{first: p, second: s}
		}
		prev[m] = s
		printStatus(w, s, sample)
	}
	return failed
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// sleepCtx waits d; false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// stats is /.airnef/stats read: name -> value, and when it was read.
type stats struct {
	v  map[string]string
	at time.Time
}

// readStatsBounded is readStats within statsTimeout: reading a hung mount
// blocks in the kernel, so the read is left behind (status exits soon).
func readStatsBounded(file string) (stats, error) {
	type result struct {
		s   stats
		err error
	}
	ch := make(chan result, 1)
	go func() {
		s, err := readStats(file)
		ch <- result{s, err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(statsTimeout):
		return stats{}, errors.New("no answer within " + statsTimeout.String())
	}
}

func readStats(file string) (stats, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return stats{}, err
	}
	s := stats{v: map[string]string{}, at: time.Now()}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, " "); ok {
			s.v[k] = v
		}
	}
	return s, nil
}

func (s stats) int(name string) int64 {
	n, _ := strconv.ParseInt(s.v[name], 10, 64)
	return n
}

// statsSample is two readings an interval apart.
type statsSample struct{ first, second stats }

// rate is the camera's transfer rate between the two readings, bytes/s.
func (p *statsSample) rate() float64 {
	d := p.second.at.Sub(p.first.at).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(p.second.int("bytes_from_camera")-p.first.int("bytes_from_camera")) / d
}

// printStatus writes the figures, one per line.
func printStatus(w io.Writer, s stats, now *statsSample) {
	line := func(name, format string, a ...any) {
		fmt.Fprintf(w, "%-12s "+format+"\n", append([]any{name + ":"}, a...)...)
	}
	cam := strings.TrimSpace(s.v["camera_make"] + " " + s.v["camera_model"])
	if cam == "" {
		cam = "unknown"
	}
	if serial := s.v["camera_serial"]; serial != "" {
		cam += " (serial " + serial + ")"
	}
	line("camera", "%s", cam)
	session := s.v["session"]
	if session == "" {
		session = "unknown"
	}
	if pid := s.v["pid"]; pid != "" {
		session += " (process " + pid + ")"
	}
	line("session", "%s", session)
	if _, ok := s.v["reconnections"]; ok {
		line("reconnects", "%d (%d reads and %d listings went on across them)", s.int("reconnections"), s.int("reads_resumed"), s.int("listings_resumed"))
	}
	up := time.Duration(s.int("uptime_seconds")) * time.Second
	if m := s.v["mounted_at"]; m != "" {
		line("mounted", "%s (%s ago)", m, up)
	}
	// The objects in the mount now; older mounts give only how many
	// descriptions they received.
	objects := s.int("objects_listed")
	if _, ok := s.v["objects"]; ok {
		objects = s.int("objects")
	}
	line("objects", "%d listed", objects)
	if n := s.int("listing_folders"); n > 0 {
		folders := "1 folder"
		if n > 1 {
			folders = fmt.Sprintf("%d folders", n)
		}
		left := "time left unknown yet"
		if l := s.int("listing_left_seconds"); l > 0 || s.int("listing_done") > 0 {
			left = fmt.Sprintf("about %s left", time.Duration(l)*time.Second)
		}
		line("listing", "%s: %d of %d objects described, %s", folders, s.int("listing_done"), s.int("listing_known"), left)
	}
	line("read", "%s in %d files", humanBytes(s.int("bytes_served")), s.int("files_read"))
	line("from camera", "%s in %d fetches (%d failed)", humanBytes(s.int("bytes_from_camera")), s.int("fetches"), s.int("fetch_errors"))
	hits, misses, waits := s.int("hits"), s.int("misses"), s.int("waits")
	if total := hits + misses + waits; total > 0 {
		line("cache", "%.1f%% hit rate (%d hits, %d misses, %d joined a fetch), %s held",
			100*float64(hits)/float64(total), hits, misses, waits, humanBytes(s.int("bytes")))
	} else {
		line("cache", "no reads yet")
	}
	avg := "n/a"
	if up > 0 {
		avg = humanBytes(int64(float64(s.int("bytes_from_camera"))/up.Seconds())) + "/s"
	}
	if now != nil {
		line("rate", "%s/s now, %s on average", humanBytes(int64(now.rate())), avg)
	} else {
		line("rate", "%s on average", avg)
	}
	if _, ok := s.v["thumbnails_made"]; ok {
		line("thumbnails", "%d made, %d already there, %d failed, %d waiting (%s from the camera)",
			s.int("thumbnails_made"), s.int("thumbnails_skipped"), s.int("thumbnails_failed"),
			s.int("thumbnails_pending"), humanBytes(s.int("thumbnail_bytes")))
	}
}
