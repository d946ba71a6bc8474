package test

// End-to-end tests of daily use on a desktop (issue 9): make install, the
// user service, --thumbnails as GIO sees them, the config file, status,
// and a normal user's mount. Helpers start with "daily".

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// dailyMake runs make in the repository with args, bounded.
func dailyMake(t *testing.T, args ...string) string {
	t.Helper()
	mountRequireTool(t, "make")
	return mountRunCmd(t, 5*time.Minute, nil, "make", append([]string{"-C", ".."}, args...)...)
}

// dailyFiles lists the regular files under dir, relative.
func dailyFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files
}

// make install DESTDIR=... installs exactly the program, its man page, the
// user service, the .desktop file and the shell completions; make
// uninstall removes them.
func TestDailyInstall(t *testing.T) {
	dest := t.TempDir()
	bin := t.TempDir()
	dailyMake(t, "install", "DESTDIR="+dest, "BIN="+bin)
	want := []string{"usr/local/bin/airnef-mount", "usr/local/lib/systemd/user/airnef-mount.service",
		"usr/local/share/applications/airnef-mount.desktop", "usr/local/share/bash-completion/completions/airnef-mount",
		"usr/local/share/fish/vendor_completions.d/airnef-mount.fish", "usr/local/share/man/man1/airnef-mount.1",
		"usr/local/share/zsh/site-functions/_airnef-mount"}
	if got := dailyFiles(t, dest); !slices.Equal(got, want) {
		t.Fatalf("installed %q, want exactly %q", got, want)
	}
	prog := filepath.Join(dest, "usr/local/bin/airnef-mount")
	if fi, _ := os.Stat(prog); fi.Mode().Perm() != 0o755 {
		t.Errorf("program mode %v", fi.Mode())
	}
	out := mountRunCmd(t, time.Minute, nil, prog, "--version")
	if !regexp.MustCompile(`^airnef-mount \S+ \(commit [0-9a-f]{7,}`).MatchString(out) {
		t.Errorf("--version printed %q, want the version and the commit", out)
	}
	unit, err := os.ReadFile(filepath.Join(dest, "usr/local/lib/systemd/user/airnef-mount.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"ExecStart=/usr/local/bin/airnef-mount --wait --thumbnails %h/Cameras\n", "Restart=on-failure\n",
		"Type=notify\n", "RestartPreventExitStatus=2 3\n"} {
		if !strings.Contains(string(unit), w) {
			t.Errorf("unit lacks %q:\n%s", w, unit)
		}
	}
	for _, f := range want[1:] {
		if fi, _ := os.Stat(filepath.Join(dest, f)); fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v", f, fi.Mode())
		}
	}
	// The notifications name the desktop entry airnef-mount.
	desktop := filepath.Join(dest, "usr/local/share/applications/airnef-mount.desktop")
	if dfv, err := exec.LookPath("desktop-file-validate"); err == nil {
		mountRunCmd(t, time.Minute, nil, dfv, desktop)
	}
	t.Run("bash completion", func(t *testing.T) {
		dailyBashComplete(t, dest, prog)
	})
	for _, shell := range []string{"zsh", "fish"} {
		if sh, err := exec.LookPath(shell); err == nil { // not installed by make deps
			mountRunCmd(t, time.Minute, nil, sh, "-n", filepath.Join(dest, want[map[string]int{"zsh": 6, "fish": 4}[shell]]))
		}
	}
	dailyMake(t, "uninstall", "DESTDIR="+dest)
	if got := dailyFiles(t, dest); len(got) != 0 {
		t.Errorf("left after uninstall: %q", got)
	}

	t.Run("man page renders", func(t *testing.T) {
		mountRequireTool(t, "groff")
		dailyMake(t, "man")
	})

	// systemd-analyze checks the unit with its ExecStart there: install
	// under a PREFIX that exists.
	t.Run("systemd-analyze verify", func(t *testing.T) {
		sa := mountRequireTool(t, "systemd-analyze")
		prefix := t.TempDir()
		dailyMake(t, "install", "PREFIX="+prefix, "BIN="+bin)
		unitPath := filepath.Join(prefix, "lib/systemd/user/airnef-mount.service")
		b, _ := os.ReadFile(unitPath)
		if !strings.Contains(string(b), "ExecStart="+prefix+"/bin/airnef-mount ") {
			t.Fatalf("ExecStart is not the installed program:\n%s", b)
		}
		// The man page's FILES name what was installed where.
		man, _ := os.ReadFile(filepath.Join(prefix, "share/man/man1/airnef-mount.1"))
		if !strings.Contains(string(man), prefix+"/lib/systemd/user/airnef-mount.service") || strings.Contains(string(man), "/usr/local/") {
			t.Errorf("the installed man page does not follow PREFIX %s", prefix)
		}
		run := t.TempDir()
		os.Chmod(run, 0o700)
		// MANPATH: the unit's Documentation=man:airnef-mount(1) is
		// checked with man.
		mountRunCmd(t, time.Minute, []string{"XDG_RUNTIME_DIR=" + run, "MANPATH=" + filepath.Join(prefix, "share/man")},
			sa, "--user", "verify", unitPath)
		// And it can fail: a unit whose program is not there.
		bad := filepath.Join(t.TempDir(), "airnef-mount.service")
		os.WriteFile(bad, []byte(strings.ReplaceAll(string(b), prefix+"/bin/airnef-mount", "/nonexistent/airnef-mount")), 0o644)
		cmd := exec.Command(sa, "--user", "verify", bad)
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+run, "MANPATH="+filepath.Join(prefix, "share/man"))
		if out, err := cmd.CombinedOutput(); err == nil {
			t.Errorf("systemd-analyze accepted a unit without its program:\n%s", out)
		}
	})
}

// dailyBashComplete completes command lines in bash with the installed
// completion script, as bash-completion would load it.
func dailyBashComplete(t *testing.T, dest, prog string) {
	bash := mountRequireTool(t, "bash")
	const lib = "/usr/share/bash-completion/bash_completion" // cobra's script needs it
	if _, err := os.Stat(lib); err != nil {
		t.Skip("bash-completion is not installed (make deps installs it)")
	}
	script := filepath.Join(dest, "usr/local/share/bash-completion/completions/airnef-mount")
	complete := func(words ...string) []string {
		t.Helper()
		// The script calls the program (its __complete command) by
		// name: PATH finds the installed one.
		cmd := fmt.Sprintf(`source `+lib+`; source %q; COMP_WORDS=(%s); COMP_CWORD=%d; COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; __start_airnef-mount; printf '%%s\n' "${COMPREPLY[@]}"`,
			script, dailyQuoteWords(words), len(words)-1)
		c := exec.Command(bash, "-c", cmd)
		c.Env = append(os.Environ(), "PATH="+filepath.Dir(prog)+":"+os.Getenv("PATH"))
		out, err := c.Output() // compopt complains on stderr outside a real completion
		if err != nil {
			t.Fatalf("bash: %v", err)
		}
		return strings.Fields(string(out))
	}
	if got := complete("airnef-mount", "dis"); !slices.Equal(got, []string{"discover"}) {
		t.Errorf("airnef-mount dis<TAB>: %q", got)
	}
	if got := complete("airnef-mount", "--debug", ""); !slices.Equal(got, []string{"ptp", "fuse", "cache", "all"}) {
		t.Errorf("--debug <TAB>: %q", got)
	}
	if got := complete("airnef-mount", "--log-l"); !slices.Equal(got, []string{"--log-level"}) && !slices.Equal(got, []string{"--log-level="}) {
		t.Errorf("--log-l<TAB>: %q", got)
	}
	if got := complete("airnef-mount", "completion", ""); !slices.Contains(got, "bash") || !slices.Contains(got, "fish") {
		t.Errorf("completion <TAB>: %q", got)
	}
	// The mount point after a SOURCE: directories only.
	os.WriteFile(filepath.Join(dest, "usr-file"), nil, 0o644)
	if got := complete("airnef-mount", "192.168.1.1", filepath.Join(dest, "us")); !slices.Equal(got, []string{filepath.Join(dest, "usr")}) {
		t.Errorf("airnef-mount 192.168.1.1 %s/us<TAB>: %q", dest, got)
	}
	os.Remove(filepath.Join(dest, "usr-file"))
}

// dailyQuoteWords quotes words for a bash array.
func dailyQuoteWords(words []string) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// dailyGIOThumb asks GIO, as a file manager does, for the thumbnail of
// file, looking in cacheHome.
func dailyGIOThumb(t *testing.T, gio, cacheHome, file string) map[string]string {
	t.Helper()
	out := mountRunCmd(t, 30*time.Second, []string{"XDG_CACHE_HOME=" + cacheHome},
		gio, "info", "-a", "thumbnail::path,thumbnail::is-valid", file)
	attrs := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ": "); ok {
			attrs[k] = v
		}
	}
	return attrs
}

// With --thumbnails, listing the folders makes a thumbnail of every
// picture that GIO finds valid, from GetThumb alone: no byte of any file
// is read from the camera. status then prints the figures.
func TestDailyThumbnails(t *testing.T) {
	mountRequireFUSE(t)
	gio := mountRequireTool(t, "gio")
	card, files := mountCard(t, mountCardSpec{jpegs: 9, bigSize: 3 << 20})
	sim := mountStartSim(t, card)
	mnt := mountDir(t)
	cacheHome := t.TempDir()
	run := mountStartEnv(t, []string{"XDG_CACHE_HOME=" + cacheHome}, sim.addr, mnt, "--thumbnails")
	storage := mountStorage(t, mnt)

	// Listing (readdir) is what queues thumbnails; stat is not reading.
	walked := mountWalk(t, storage)
	var pictures []string
	for _, f := range files {
		if strings.HasSuffix(f.rel, ".JPG") {
			pictures = append(pictures, f.rel)
		}
	}
	if len(walked) != len(files) || len(pictures) != 9 {
		t.Fatalf("walked %d files of %d, %d pictures", len(walked), len(files), len(pictures))
	}
	deadline := time.Now().Add(60 * time.Second)
	var stats map[string]string
	for {
		stats = mountStats(t, mnt)
		if mountStatInt(t, stats, "thumbnails_made") >= int64(len(pictures)) && mountStatInt(t, stats, "thumbnails_pending") == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("thumbnails not made within 60s: %v", stats)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := mountStatInt(t, stats, "thumbnails_failed"); n != 0 {
		t.Errorf("%d thumbnails failed", n)
	}
	for _, rel := range pictures {
		p := filepath.Join(storage, rel)
		attrs := dailyGIOThumb(t, gio, cacheHome, p)
		if attrs["thumbnail::is-valid"] != "TRUE" || !strings.HasPrefix(attrs["thumbnail::path"], filepath.Join(cacheHome, "thumbnails", "normal")+"/") {
			t.Errorf("%s: gio sees %v, want a valid thumbnail in %s", rel, attrs, cacheHome)
			continue
		}
		if fi, err := os.Stat(attrs["thumbnail::path"]); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: thumbnail file %v", rel, err)
		}
	}
	// The movie has no thumbnail made for it; and nothing else was written
	// in the cache directory.
	if attrs := dailyGIOThumb(t, gio, cacheHome, filepath.Join(storage, "DCIM/100TEST/MVI_0001.MOV")); attrs["thumbnail::path"] != "" {
		t.Errorf("movie has a thumbnail: %v", attrs)
	}
	if got := dailyFiles(t, filepath.Join(cacheHome, "thumbnails")); len(got) != len(pictures) {
		t.Errorf("thumbnail cache holds %d files, want %d: %q", len(got), len(pictures), got)
	}
	stats = mountStats(t, mnt)
	for _, k := range []string{"bytes_from_camera", "bytes_served", "files_read", "fetches"} {
		if n := mountStatInt(t, stats, k); n != 0 {
			t.Errorf("%s = %d: making thumbnails read file content", k, n)
		}
	}
	if tb := mountStatInt(t, stats, "thumbnail_bytes"); tb <= 0 || tb > int64(len(pictures))*64<<10 {
		t.Errorf("thumbnail_bytes %d for %d thumbnails", tb, len(pictures))
	}

	// Listing again fetches nothing more.
	mountWalk(t, storage)
	time.Sleep(200 * time.Millisecond)
	if again := mountStats(t, mnt); again["thumbnail_bytes"] != stats["thumbnail_bytes"] {
		t.Errorf("a second listing fetched thumbnails again: %s -> %s bytes", stats["thumbnail_bytes"], again["thumbnail_bytes"])
	}

	// Read one file, then status prints the figures.
	data, err := os.ReadFile(filepath.Join(storage, pictures[0]))
	if err != nil {
		t.Fatal(err)
	}
	_, airnef := mountBuild(t)
	out := mountRunCmd(t, 30*time.Second, nil, airnef, "status", "--interval", "200ms", mnt)
	for _, want := range []string{
		"camera:      airnef-mount CamSim (serial 000000000001)", // as the mounted line says
		"session:     connected",
		fmt.Sprintf("read:        %s in 1 files", dailyHuman(len(data))),
		"cache:       ", "hit rate",
		"rate:        ", "/s now",
		fmt.Sprintf("thumbnails:  %d made", len(pictures)),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	// Files and folders: at least every file.
	if m := regexp.MustCompile(`objects: +(\d+) listed`).FindStringSubmatch(out); m == nil || dailyAtoi(t, m[1]) < len(files) {
		t.Errorf("status objects line wrong, want at least %d listed:\n%s", len(files), out)
	}
	run.cmd.Process.Signal(os.Interrupt)
	if code := run.exitCode(30 * time.Second); code != 0 {
		t.Errorf("exit status %d", code)
	}
	if !strings.Contains(run.stderr.String(), "import finished") || !strings.Contains(run.stderr.String(), "files=1") {
		t.Errorf("no import summary in the log:\n%s", run.stderr.String())
	}
}

func dailyAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func dailyHuman(n int) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f KiB", float64(n)/1024)
}

// The binary reads the config file, lets the command line win, refuses a
// bad line with exit status 2 naming file:line, and prints --help on
// stdout with exit status 0.
func TestDailyConfigAndHelp(t *testing.T) {
	_, airnef := mountBuild(t)
	home := t.TempDir()
	cfg := filepath.Join(home, "airnef-mount", "config")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.WriteFile(cfg, []byte("# ok\nthumbnails\nblock-size 64KiB\n"), 0o644)
	env := append(os.Environ(), "XDG_CONFIG_HOME="+home)
	cmd := exec.Command(airnef, "--camera", "127.0.0.1", t.TempDir())
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), "--block-size 64KiB is not a positive multiple") {
		t.Errorf("config's block-size not honoured: %v\n%s", err, out)
	}
	// Overridden on the command line: it then gets as far as the camera.
	cmd = exec.Command(airnef, "--block-size", "128KiB", "--camera", "127.0.0.1:1", "--connect-timeout", "2s", t.TempDir())
	cmd.Env = env
	out, _ = cmd.CombinedOutput()
	if strings.Contains(string(out), "block-size") || !strings.Contains(string(out), "connection refused") {
		t.Errorf("command line did not override the config:\n%s", out)
	}
	os.WriteFile(cfg, []byte("thumbnails\n\nno-such-flag 3\n"), 0o644)
	cmd = exec.Command(airnef, "--camera", "127.0.0.1", t.TempDir())
	cmd.Env = env
	out, err = cmd.CombinedOutput()
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), cfg+":3: unknown flag --no-such-flag") {
		t.Errorf("bad config line: %v\n%s", err, out)
	}
	cmd = exec.Command(airnef, "--help")
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() != 0 || !strings.Contains(stdout.String(), "--thumbnails") {
		t.Errorf("--help: %v, stdout %d bytes, stderr %q", err, stdout.Len(), stderr.String())
	}
}

// A normal user mounts through fusermount3 where the machine lets it open
// /dev/fuse; elsewhere the test says why it cannot.
func TestDailyNonRoot(t *testing.T) {
	mountRequireFUSE(t) // root, to make the user
	mountRequireTool(t, "useradd")
	setpriv := mountRequireTool(t, "setpriv")
	mountRequireTool(t, "fusermount3")
	const name = "airnef-mount-test"
	u, err := user.Lookup(name)
	if err != nil {
		mountRunCmd(t, time.Minute, nil, "useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name)
		if u, err = user.Lookup(name); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// t.TempDir's parents are root's 0700: make the user's own directory.
	base, err := os.MkdirTemp("", "airnef-daily-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	for _, d := range []string{"mnt", "state", "cache"} {
		if err := os.Mkdir(filepath.Join(base, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error { return os.Chown(p, uid, gid) })
	os.Chmod(base, 0o755)
	mnt := filepath.Join(base, "mnt")
	t.Cleanup(func() {
		if mountIsMounted(t, mnt) {
			exec.Command("umount", "-l", mnt).Run()
		}
	})

	card, files := mountCard(t, mountCardSpec{jpegs: 2})
	sim := mountStartSim(t, card)
	_, airnef := mountBuild(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, setpriv, "--reuid="+u.Uid, "--regid="+u.Gid, "--clear-groups", "--",
		airnef, "--camera", sim.addr, mnt)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + base,
		"XDG_STATE_HOME=" + filepath.Join(base, "state"), "XDG_CACHE_HOME=" + filepath.Join(base, "cache"), "XDG_CONFIG_HOME=" + base}
	var stderr mountLockedBuffer
	cmd.Stderr = &stderr
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	line := make(chan string, 1)
	go func() {
		b := make([]byte, 512)
		n, _ := stdout.Read(b)
		line <- string(b[:n])
	}()
	select {
	case l := <-line:
		if !strings.HasPrefix(l, "mounted ") {
			<-done
			msg := stderr.String()
			if strings.Contains(msg, "/dev/fuse") {
				t.Skipf("a normal user cannot mount on this machine: fusermount3 cannot open /dev/fuse (mode %s): %s", dailyMode("/dev/fuse"), strings.TrimSpace(msg))
			}
			t.Fatalf("airnef-mount as %s: %q\n%s", name, l, msg)
		}
	case <-ctx.Done():
		t.Fatalf("no mount within 60s:\n%s", stderr.String())
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		<-done
	}()
	// Mounted by fusermount3 for that user, read-only, and readable.
	f, ok := mountInfo(t, mnt)
	if !ok || !strings.Contains(strings.Join(f, " "), "user_id="+u.Uid) {
		t.Errorf("mountinfo %q, want user_id=%s", f, u.Uid)
	}
	got := mountWalk(t, mountStorage(t, mnt))
	if len(got) != len(files) {
		t.Errorf("user's mount shows %d files, want %d", len(got), len(files))
	}
	mountRunCmd(t, 30*time.Second, nil, setpriv, "--reuid="+u.Uid, "--regid="+u.Gid, "--clear-groups", "--", "fusermount3", "-u", mnt)
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("airnef-mount after fusermount3 -u: %v\n%s", err, stderr.String())
		}
		done <- err
	case <-time.After(30 * time.Second):
		t.Error("airnef-mount still running 30s after fusermount3 -u")
	}
}

func dailyMode(p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%04o", fi.Mode().Perm())
}
