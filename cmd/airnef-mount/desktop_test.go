package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/spf13/pflag"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree"
)

// writeConfig makes $XDG_CONFIG_HOME/airnef-mount/config with text.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	home := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", home)
	p := filepath.Join(home, "airnef-mount", "config")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestConfigHonouredAndOverridden(t *testing.T) {
	writeConfig(t, `# my settings
--cache-size 512MiB
block-size=256KiB
  thumbnails
camera = "192.168.1.9"
timeout 45s

dirnamespec '@capturedate@'
`)
	mnt := t.TempDir()
	o, err := parseFlags([]string{mnt}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.cacheSize != 512<<20 || o.blockSize != 256<<10 || !o.thumbnails || o.camera != "192.168.1.9" ||
		o.timeout != 45*time.Second || o.dirnamespec != "@capturedate@" {
		t.Errorf("config not honoured: cache %v block %v thumbs %v camera %q timeout %v dirspec %q",
			o.cacheSize, o.blockSize, o.thumbnails, o.camera, o.timeout, o.dirnamespec)
	}
	o, err = parseFlags([]string{"--cache-size", "1GiB", "--thumbnails=false", "--camera", "10.0.0.1", mnt}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.cacheSize != 1<<30 || o.thumbnails || o.camera != "10.0.0.1" || o.blockSize != 256<<10 {
		t.Errorf("command line does not win: cache %v thumbs %v camera %q block %v", o.cacheSize, o.thumbnails, o.camera, o.blockSize)
	}
	// --config names another file; without the default one nothing is read.
	other := filepath.Join(t.TempDir(), "other.conf")
	os.WriteFile(other, []byte("cache-size 64MiB\n"), 0o644)
	for _, args := range [][]string{{"--config", other, "--camera", "x", mnt}, {"--config=" + other, "--camera", "x", mnt}} {
		o, err = parseFlags(args, &bytes.Buffer{})
		if err != nil || o.cacheSize != 64<<20 || o.thumbnails {
			t.Errorf("%q: %v, cache %v, thumbnails %v", args, err, o.cacheSize, o.thumbnails)
		}
	}
	t.Setenv("XDG_CONFIG_HOME", t.TempDir()) // no file there: defaults
	if o, err = parseFlags([]string{"--camera", "x", mnt}, &bytes.Buffer{}); err != nil || o.thumbnails || o.cacheSize != 256<<20 {
		t.Errorf("without a config file: %v, %+v", err, o)
	}
}

func TestConfigBadLines(t *testing.T) {
	mnt := t.TempDir()
	tests := map[string]struct {
		text string
		line int
		say  string
	}{
		"unknown flag":  {"thumbnails\n--no-such 1\n", 2, "unknown flag --no-such"},
		"bad value":     {"# c\n\ncache-size lots\n", 3, "not a size"},
		"missing value": {"camera\n", 1, "--camera needs a value"},
		"bad bool":      {"thumbnails maybe\n", 1, "--thumbnails maybe"},
		"not a flag":    {"--\n", 1, "is not a flag"},
		"config itself": {"config /etc/x\n", 1, "cannot be set in the config file"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := writeConfig(t, tc.text)
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), []string{"--camera", "x", mnt}, &stdout, &stderr)
			if code := exitCode(err, &stderr); code != exitUsage {
				t.Errorf("exit status %d, want %d (%v)", code, exitUsage, err)
			}
			where := p + ":" + string(rune('0'+tc.line)) + ": "
			if !strings.Contains(stderr.String(), where) || !strings.Contains(stderr.String(), tc.say) {
				t.Errorf("stderr lacks %q and %q:\n%s", where, tc.say, stderr.String())
			}
		})
	}
	t.Run("explicit missing", func(t *testing.T) {
		_, err := parseFlags([]string{"--config", filepath.Join(t.TempDir(), "none"), mnt}, &bytes.Buffer{})
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("--config of a missing file: %v, want exit status 2", err)
		}
	})
	t.Run("help despite a bad config", func(t *testing.T) {
		writeConfig(t, "nonsense here\n")
		var stdout bytes.Buffer
		if o, err := parseFlags([]string{"--help"}, &stdout); err != nil || o != nil || stdout.Len() == 0 {
			t.Errorf("--help with a bad config: %v", err)
		}
	})
}

// --help lists every flag of the FlagSet with an example, on stdout, exit
// status 0; the man page documents every flag too.
func TestHelpListsEveryFlag(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	fl := newCLI(io.Discard, io.Discard, nil).root.Flags()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"--help"}, &stdout, &stderr)
	if code := exitCode(err, &stderr); code != exitOK || stderr.Len() != 0 {
		t.Fatalf("--help: exit %d, stderr %q", code, stderr.String())
	}
	help := stdout.String()
	man, err := os.ReadFile("../../docs/airnef-mount.1")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	fl.VisitAll(func(f *pflag.Flag) {
		n++
		block := regexp.MustCompile(`(?m)^  (-\w, )?--` + regexp.QuoteMeta(f.Name) + `( [^\n]*)?\n(      [^\n]*\n)*`).FindString(help)
		if block == "" {
			t.Errorf("--help does not list --%s", f.Name)
		} else if !strings.Contains(block, "example: ") {
			t.Errorf("--help has no example for --%s (add one to flagExamples)", f.Name)
		}
		roff := `\-\-` + strings.ReplaceAll(f.Name, "-", `\-`)
		if !bytes.Contains(man, []byte(".BI "+roff)) && !bytes.Contains(man, []byte(".B "+roff)) && !bytes.Contains(man, []byte(".BR "+roff)) {
			t.Errorf("the man page does not document --%s", f.Name)
		}
	})
	if n < 20 {
		t.Errorf("only %d flags", n)
	}
	for _, want := range []string{"Send to Computer", "fusermount3 -u", "Deleting:", "read-only", "status"} {
		if !strings.Contains(help, want) {
			t.Errorf("--help lacks %q", want)
		}
	}
}

func TestVersionLine(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	version, commit = "v1.2.3", "0123abc"
	if got := versionLine(); !strings.HasPrefix(got, "airnef-mount v1.2.3 (commit 0123abc, go") {
		t.Errorf("versionLine = %q", got)
	}
	version, commit = "dev", ""
	if got := versionLine(); !strings.Contains(got, "(commit ") {
		t.Errorf("versionLine without stamps = %q", got)
	}
}

func TestIsPictureOrMovie(t *testing.T) {
	tests := map[string]struct {
		name   string
		format mtp.ObjectFormat
		want   bool
	}{
		"jpeg":          {"DSC_0001.JPG", mtp.FormatEXIFJPEG, true},
		"nef undefined": {"DSC_0002.NEF", mtp.FormatUndefined, true},
		"arw":           {"DSC00003.ARW", mtp.FormatUndefined, true},
		"cr2 code":      {"IMG_0001.XYZ", mtp.FormatCanonCR2, true},
		"heif":          {"a.HIF", mtp.FormatHEIF, true},
		"movie":         {"MVI_0001.MOV", mtp.FormatQuickTime, false},
		"text":          {"notes.txt", mtp.FormatText, false},
	}
	for name, tc := range tests {
		if got := isPicture(&tree.Object{Name: tc.name, Format: tc.format}); got != tc.want {
			t.Errorf("%s: isPicture = %v", name, got)
		}
	}
	movies := map[string]struct {
		name   string
		format mtp.ObjectFormat
		want   bool
	}{
		"quicktime":       {"MVI_0001.MOV", mtp.FormatQuickTime, true},
		"mp4 undefined":   {"C0001.MP4", mtp.FormatUndefined, true},
		"avchd":           {"00001.MTS", mtp.FormatUndefined, true},
		"avi code":        {"CLIP.XYZ", mtp.FormatAVI, true},
		"jpeg":            {"DSC_0001.JPG", mtp.FormatEXIFJPEG, false},
		"wav (a memo)":    {"DSC_0001.WAV", mtp.FormatWAV, false},
		"nef undefined":   {"DSC_0002.NEF", mtp.FormatUndefined, false},
		"folder is never": {"100NIKON", mtp.FormatAssociation, false},
	}
	for name, tc := range movies {
		if got := isMovie(&tree.Object{Name: tc.name, Format: tc.format}); got != tc.want {
			t.Errorf("%s: isMovie = %v", name, got)
		}
	}
}

func TestStatusPrintsFigures(t *testing.T) {
	mnt := t.TempDir()
	os.Mkdir(filepath.Join(mnt, ".airnef"), 0o755)
	stats := func(fromCamera int) string {
		return "session connected Sony ILCE-7M3\ncamera_make Sony\ncamera_model ILCE-7M3\ncamera_serial 123\n" +
			"mounted_at 2025-01-02T03:04:05Z\nuptime_seconds 100\nobjects_listed 1234\nfiles_read 7\nbytes_served 3145728\n" +
			"hits 90\nmisses 5\nwaits 5\nfetches 12\nfetch_errors 0\nbytes " + "1048576\n" +
			"bytes_from_camera " + strconv.Itoa(fromCamera) + "\nthumbnails_made 3\nthumbnails_skipped 1\nthumbnails_failed 0\nthumbnails_pending 2\nthumbnail_bytes 4096\n"
	}
	file := filepath.Join(mnt, ".airnef", "stats")
	os.WriteFile(file, []byte(stats(10<<20)), 0o644)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"status", "--interval", "0", mnt}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"camera:      Sony ILCE-7M3 (serial 123)", "session:     connected Sony ILCE-7M3",
		"objects:     1234 listed", "read:        3.0 MiB in 7 files", "cache:       90.0% hit rate", "rate:        102.4 KiB/s on average",
		"thumbnails:  3 made, 1 already there, 0 failed, 2 waiting"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	// A listing in progress: objects done and known, time left.
	os.WriteFile(file, []byte(stats(10<<20)+"objects 1240\nlisting_folders 1\nlisting_done 1200\nlisting_known 3400\nlisting_left_seconds 43\n"), 0o644)
	out.Reset()
	if err := run(context.Background(), []string{"status", "--interval", "0", mnt}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"objects:     1240 listed\n", "listing:     1 folder: 1200 of 3400 objects described, about 43s left"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, out.String())
		}
	}
	os.WriteFile(file, []byte(stats(10<<20)), 0o644)
	// The rate now: 2 MiB more while status waits.
	go func() {
		time.Sleep(100 * time.Millisecond)
		os.WriteFile(file, []byte(stats(12<<20)), 0o644)
	}()
	out.Reset()
	if err := run(context.Background(), []string{"status", "--interval", "500ms", mnt}, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`rate: +([0-9.]+) MiB/s now`).FindStringSubmatch(out.String()); m == nil || m[1] < "3.0" || m[1] > "4.1" {
		t.Errorf("rate now should be about 4 MiB/s:\n%s", out.String())
	}
	var stderr bytes.Buffer
	err := run(context.Background(), []string{"status", t.TempDir()}, &out, &stderr)
	if code := exitCode(err, &stderr); code != exitFailure || !strings.Contains(stderr.String(), "not an airnef-mount mount") {
		t.Errorf("status of a plain directory: %d %s", code, stderr.String())
	}
	if code := exitCode(run(context.Background(), []string{"status", mnt, mnt}, &out, &stderr), &stderr); code != exitUsage {
		t.Errorf("status with two mount points: exit %d", code)
	}
}

// fakeNotifications is an org.freedesktop.Notifications server.
type fakeNotifications struct {
	mu    sync.Mutex
	calls [][]any
}

func (f *fakeNotifications) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, []any{app, summary, body, hints["category"].Value()})
	return uint32(len(f.calls)), nil
}

// startBus runs a private session bus (dbus-daemon) and returns its
// address.
func startBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon is not installed (package dbus-daemon; make deps installs it)")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, daemon, "--session", "--nofork", "--nopidfile", "--print-address=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			addr <- strings.TrimSpace(sc.Text())
		}
	}()
	select {
	case a := <-addr:
		return a
	case <-time.After(10 * time.Second):
		t.Fatal("dbus-daemon printed no address in 10s")
	}
	return ""
}

// An import ends with a journal line and a desktop notification on the
// session bus.
func TestReportImportNotifies(t *testing.T) {
	addr := startBus(t)
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	srv := &fakeNotifications{}
	if err := conn.Export(srv, notifyPath, notifyService); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(notifyService, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("request name: %v %v", reply, err)
	}
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)
	var logBuf lockedBuffer
	log := newTextLogger(&logBuf)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reportImport(ctx, log, importSummary{Camera: "Sony ILCE-7M3", Mountpoint: "/home/u/Cameras/ILCE-7M3-1", Files: 42,
		Bytes: 3 << 30, Duration: 95 * time.Second, Exec: "exit status 0"})
	srv.mu.Lock()
	calls := srv.calls
	srv.mu.Unlock()
	if len(calls) != 1 {
		t.Fatalf("%d notifications, want 1; log:\n%s", len(calls), logBuf.String())
	}
	c := calls[0]
	if c[0] != "airnef-mount" || c[1] != "Sony ILCE-7M3: import finished" ||
		c[2] != "42 files, 3.0 GiB in 1m35s\n--exec: exit status 0" || c[3] != "transfer.complete" {
		t.Errorf("notification %q", c)
	}
	for _, want := range []string{"msg=\"import finished\"", "files=42", "bytes=3221225472", "duration=1m35s", "exec=\"exit status 0\""} {
		if !strings.Contains(logBuf.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logBuf.String())
		}
	}

	// No session bus: the journal line only, and no waiting.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	logBuf.Reset()
	reportImport(ctx, log, importSummary{Files: 1})
	if !strings.Contains(logBuf.String(), "import finished") {
		t.Errorf("no journal line without a bus:\n%s", logBuf.String())
	}
	// A bus nobody answers Notify on: logged, bounded.
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", startBus(t))
	start := time.Now()
	reportImport(ctx, log, importSummary{Files: 1})
	if d := time.Since(start); d > notifyTimeout+2*time.Second {
		t.Errorf("reportImport took %v without a notification server", d)
	}
	if !strings.Contains(logBuf.String(), "desktop notification failed") {
		t.Errorf("failure not logged:\n%s", logBuf.String())
	}
}
