package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const statusUsage = "usage: airnef-mount status [--interval 1s] MOUNTPOINT"

// runStatus is `airnef-mount status MOUNTPOINT`: it reads the mount's
// /.airnef/stats and prints the camera, the session's state, objects
// listed, bytes read, the cache hit rate and the transfer rate (over
// --interval, and on average since the mount).
func runStatus(ctx context.Context, mnt string, interval time.Duration, stdout io.Writer) error {
	file := filepath.Join(mnt, ".airnef", "stats")
	first, err := readStats(file)
	if err != nil {
		return failErr("%s is not an airnef-mount mount, or it does not answer: %v", mnt, err)
	}
	var now *statsSample
	if interval > 0 {
		t := time.NewTimer(interval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
		second, err := readStats(file)
		if err != nil {
			return failErr("%s stopped answering: %v", mnt, err)
		}
		now = &statsSample{first: first, second: second}
		first = second
	}
	printStatus(stdout, first, now)
	return nil
}

// stats is /.airnef/stats read: name -> value, and when it was read.
type stats struct {
	v  map[string]string
	at time.Time
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
	line("session", "%s", session)
	up := time.Duration(s.int("uptime_seconds")) * time.Second
	if m := s.v["mounted_at"]; m != "" {
		line("mounted", "%s (%s ago)", m, up)
	}
	line("objects", "%d listed", s.int("objects_listed"))
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
