package test

// End-to-end tests of airnef-mount as a service (issue 16): --daemon
// returning once mounted with the real exit status, mount(8) and fstab
// through mount.fuse3 and through a mount.fuse.airnef-mount link, for root
// and for a normal user, systemd's readiness notification on a fake
// NOTIFY_SOCKET, journald priorities, the console log format on a
// terminal. Helpers start with "service".

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serviceEnv is airnef-mount's environment in these tests: its own state,
// cache and config directories.
func serviceEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	return append(append(os.Environ(), "XDG_STATE_HOME="+t.TempDir(), "XDG_CACHE_HOME="+t.TempDir(),
		"XDG_CONFIG_HOME="+t.TempDir()), extra...)
}

// serviceResult is how a command ended.
type serviceResult struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// serviceRun runs name with args, bounded by d, and returns how it ended.
// Its stdout and stderr are pipes: a background process that kept them
// would make this wait until d, and fail.
func serviceRun(t *testing.T, d time.Duration, env []string, name string, args ...string) serviceResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := serviceResult{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	if ctx.Err() != nil {
		t.Fatalf("%s %q did not return within %v (a background process holding its output?)\nstdout:\n%s\nstderr:\n%s", name, args, d, r.stdout, r.stderr)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

// servicePIDs lists the airnef-mount processes whose command line names
// mnt.
func servicePIDs(t *testing.T, mnt string) []int {
	t.Helper()
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if strings.Contains(args[0], "airnef-mount") && strings.Contains(string(b), mnt) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// serviceWaitGone waits (bounded) until no airnef-mount process names mnt.
func serviceWaitGone(t *testing.T, mnt string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for len(servicePIDs(t, mnt)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("airnef-mount for %s still running %v after unmounting: pids %v", mnt, d, servicePIDs(t, mnt))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// serviceKillAll ends whatever airnef-mount still serves mnt (cleanup).
func serviceKillAll(t *testing.T, mnt string) {
	for _, pid := range servicePIDs(t, mnt) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// serviceCheckFiles compares every file of the card with its copy under
// root: bytes and modification time.
func serviceCheckFiles(t *testing.T, root string, files []mountFile) {
	t.Helper()
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(root, f.rel))
		if err != nil {
			t.Errorf("%s: %v", f.rel, err)
			continue
		}
		if f.data != nil && !bytes.Equal(got, f.data) {
			t.Errorf("%s: %d bytes differ from the card's %d", f.rel, len(got), len(f.data))
		}
		if fi, err := os.Stat(filepath.Join(root, f.rel)); err == nil && fi.ModTime().Unix() != f.mtime.Unix() {
			t.Errorf("%s: mtime %v, want %v", f.rel, fi.ModTime(), f.mtime)
		}
	}
}

// --daemon returns once mounted, exit status 0, with the mounted line on
// stdout and nothing held open; the mount serves every byte; the log goes
// to --log-file; unmounting ends the background process.
func TestServiceDaemon(t *testing.T) {
	mountRequireFUSE(t)
	card, files := mountCard(t, mountCardSpec{jpegs: 6})
	sim := mountStartSim(t, card)
	_, airnef := mountBuild(t)
	mnt := mountDir(t)
	t.Cleanup(func() { serviceKillAll(t, mnt) })
	logFile := filepath.Join(t.TempDir(), "airnef.log")
	// Short flags, and flags after the mount point.
	r := serviceRun(t, 60*time.Second, serviceEnv(t), airnef, "-d", mnt, "-c", sim.addr, "--log-file", logFile)
	if r.code != 0 {
		t.Fatalf("airnef-mount -d: exit status %d\nstderr:\n%s", r.code, r.stderr)
	}
	if want := "mounted airnef-mount CamSim (serial 000000000001) at " + mnt + "\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
	if r.stderr != "" {
		t.Errorf("stderr %q: the log belongs in --log-file", r.stderr)
	}
	if !mountIsMounted(t, mnt) {
		t.Fatal("not mounted when airnef-mount -d returned")
	}
	if pids := servicePIDs(t, mnt); len(pids) != 1 {
		t.Errorf("background processes %v, want one", pids)
	}
	serviceCheckFiles(t, mountStorage(t, mnt), files)
	mountRunCmd(t, 30*time.Second, nil, "fusermount3", "-u", mnt)
	serviceWaitGone(t, mnt, 30*time.Second)
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`msg="camera session open"`, "msg=unmounted", `msg="import finished"`} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log file lacks %q:\n%s", want, log)
		}
	}
}

// --daemon's exit status is the background process's: 1 when no camera
// answers, 3 when the camera refuses this computer, 2 on misuse; Ctrl-C
// while connecting stops the background process too.
func TestServiceDaemonExitStatus(t *testing.T) {
	mountRequireFUSE(t)
	_, airnef := mountBuild(t)
	mnt := mountDir(t)
	t.Cleanup(func() { serviceKillAll(t, mnt) })

	t.Run("no camera", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		r := serviceRun(t, 60*time.Second, serviceEnv(t), airnef, "--daemon", "--camera", addr, "--connect-timeout", "3s", mnt)
		if r.code != 1 || !strings.Contains(r.stderr, "(connection refused)") || r.stdout != "" {
			t.Errorf("exit status %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
		}
		if mountIsMounted(t, mnt) {
			t.Error("mounted")
		}
	})

	t.Run("refused", func(t *testing.T) {
		card, _ := mountCard(t, mountCardSpec{jpegs: 1})
		sock := filepath.Join(t.TempDir(), "ctl")
		sim := mountStartSimArgs(t, card, nil, "--control", sock)
		if got := simControlDial(t, sock).do("refuse-init rejected"); got != "ok refuse-init 1" {
			t.Fatalf("refuse-init: %q", got)
		}
		// The refusal's make is asked of the network: not this machine's.
		r := serviceRun(t, 60*time.Second, serviceEnv(t), airnef, "-d", "-c", sim.addr, "--ssdp-interface", "no-such-if", mnt)
		if r.code != 3 || r.stdout != "" || !strings.Contains(r.stderr, "airnef-mount: ") {
			t.Errorf("exit status %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
		}
	})

	t.Run("misuse", func(t *testing.T) {
		r := serviceRun(t, 30*time.Second, serviceEnv(t), airnef, "-d", "-c", "127.0.0.1", "--timeout", "10", mnt)
		if r.code != 2 || !strings.Contains(r.stderr, "--timeout: 10 has no unit; did you mean 10s?") {
			t.Errorf("exit status %d, stderr:\n%s", r.code, r.stderr)
		}
	})

	// A camera that accepts the connection and never answers: airnef-mount
	// -d waits; Ctrl-C ends both processes.
	t.Run("interrupted", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
			}
		}()
		cmd := exec.Command(airnef, "-d", "-c", ln.Addr().String(), "--connect-timeout", "2m", mnt)
		cmd.Env = serviceEnv(t)
		var stderr mountLockedBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Both processes are up once the background one has its own.
		deadline := time.Now().Add(20 * time.Second)
		for len(servicePIDs(t, mnt)) < 2 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // connecting
		cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-done:
			// The background process got the Ctrl-C: it ends quietly
			// with 130, which the starting process passes on.
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 130 || strings.Contains(stderr.String(), "airnef-mount:") {
				t.Errorf("after Ctrl-C while connecting: %v, want exit status 130 and no message; stderr:\n%s", err, stderr.String())
			}
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("airnef-mount -d still waiting 30s after Ctrl-C; stderr:\n%s", stderr.String())
		}
		serviceWaitGone(t, mnt, 30*time.Second)
	})
}

// serviceNamespace runs script as root in a mount namespace of its own,
// where /usr/local/bin holds the airnef-mount under test (mount.fuse3
// finds it there through the PATH mount(8) gives it), and /dev/fuse may be
// opened by everyone (fusermount3, for a normal user's mount). Nothing it
// mounts is seen outside. It returns the script's output.
func serviceNamespace(t *testing.T, env []string, script string) string {
	t.Helper()
	mountRequireTool(t, "unshare")
	mountRequireTool(t, "mount.fuse3")
	_, airnef := mountBuild(t)
	dev := t.TempDir()
	os.Chmod(dev, 0o755)
	prelude := fmt.Sprintf(`set -e
mount --make-rprivate /
mount --bind %q /usr/local/bin
mknod %q/fuse c 10 229 && chmod 666 %q/fuse && mount --bind %q/fuse /dev/fuse
`, filepath.Dir(airnef), dev, dev, dev)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "sh", "-c", prelude+script)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("script: %v\n%s\n%s", err, script, out)
	}
	return string(out)
}

// mount -t fuse.airnef-mount and an fstab line, through mount.fuse3 (as
// installed by make install: airnef-mount on mount's PATH), with -o
// options mapped to flags and standard ones accepted; mount returns once
// mounted, umount ends the process.
func TestServiceMountHelper(t *testing.T) {
	mountRequireFUSE(t)
	card, files := mountCard(t, mountCardSpec{jpegs: 5})
	sim := mountStartSim(t, card)
	mnt := mountDir(t)
	t.Cleanup(func() { serviceKillAll(t, mnt) })
	out := t.TempDir()
	copy1, copy2 := filepath.Join(out, "1"), filepath.Join(out, "2")
	fstab := filepath.Join(t.TempDir(), "fstab")
	os.WriteFile(fstab, fmt.Appendf(nil, "%s %s fuse.airnef-mount noauto,user,cache_size=64MiB,metadata_cache=false,x-gvfs-hide 0 0\n", sim.addr, mnt), 0o644)
	got := serviceNamespace(t, serviceEnv(t), fmt.Sprintf(`
mount -t fuse.airnef-mount %[1]s %[2]q -o ro,nodev,nosuid,noexec,cache_size=64MiB,umask=027,gid=12345,allow_other,_netdev
echo "mount status $?"
grep " %[2]s " /proc/self/mountinfo
stat -c 'mode %%a gid %%g' %[2]q/*/DCIM
cp -a %[2]q/*/. %[3]q
umount %[2]q
mount --bind %[5]q /etc/fstab
mount %[2]q
cp -a %[2]q/*/. %[4]q
umount %[2]q
echo done
`, sim.addr, mnt, copy1, copy2, fstab))
	for _, want := range []string{"mount status 0", " - fuse.airnef-mount " + sim.addr + " ro,", "allow_other", "mode 750 gid 12345", "done"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	serviceCheckFiles(t, copy1, files)
	serviceCheckFiles(t, copy2, files)
	serviceWaitGone(t, mnt, 30*time.Second)
}

// A link /sbin/mount.fuse.airnef-mount makes mount(8) run the program
// directly, with its own -s, -n, -v and the user option.
func TestServiceMountHelperLink(t *testing.T) {
	mountRequireFUSE(t)
	_, airnef := mountBuild(t)
	card, files := mountCard(t, mountCardSpec{jpegs: 3})
	sim := mountStartSim(t, card)
	mnt := mountDir(t)
	t.Cleanup(func() { serviceKillAll(t, mnt) })
	sbin := t.TempDir()
	os.Chmod(sbin, 0o755)
	if err := os.Symlink(airnef, filepath.Join(sbin, "mount.fuse.airnef-mount")); err != nil {
		t.Fatal(err)
	}
	fstab := filepath.Join(t.TempDir(), "fstab")
	os.WriteFile(fstab, fmt.Appendf(nil, "%s %s fuse.airnef-mount noauto,users,nodev,frobnicate 0 0\n", sim.addr, mnt), 0o644)
	copied := filepath.Join(t.TempDir(), "copy")
	// /sbin is /usr/sbin: mount(8) looks for helpers there.
	got := serviceNamespace(t, serviceEnv(t), fmt.Sprintf(`
mount --bind %[1]q /usr/sbin
mount --bind %[4]q /etc/fstab
if mount %[2]q 2>&1; then echo "unknown option accepted"; fi
mount -s -v %[2]q
cp -a %[2]q/*/. %[3]q
umount %[2]q
echo done
`, sbin, mnt, copied, fstab))
	for _, want := range []string{"-o frobnicate: unknown option", "done"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "unknown option accepted") {
		t.Errorf("an unknown fstab option was accepted without -s:\n%s", got)
	}
	serviceCheckFiles(t, copied, files)
	serviceWaitGone(t, mnt, 30*time.Second)
}

// A normal user mounts and unmounts an fstab line marked user with the
// real mount and umount: mount(8) runs the helper without HOME and PATH,
// so airnef-mount finds them itself.
func TestServiceFstabUser(t *testing.T) {
	mountRequireFUSE(t)
	setpriv := mountRequireTool(t, "setpriv")
	mountRequireTool(t, "useradd")
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
	base, err := os.MkdirTemp("", "airnef-service-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	os.Chmod(base, 0o755)
	for _, d := range []string{"mnt", "state", "cache", "copy"} {
		os.Mkdir(filepath.Join(base, d), 0o755)
		os.Chown(filepath.Join(base, d), uid, gid)
	}
	mnt := filepath.Join(base, "mnt")
	t.Cleanup(func() {
		serviceKillAll(t, mnt)
		if mountIsMounted(t, mnt) {
			exec.Command("umount", "-l", mnt).Run()
		}
	})
	card, files := mountCard(t, mountCardSpec{jpegs: 3})
	sim := mountStartSim(t, card)
	fstab := filepath.Join(base, "fstab")
	os.WriteFile(fstab, fmt.Appendf(nil, "%s %s fuse.airnef-mount noauto,user,cache_size=64MiB 0 0\n", sim.addr, mnt), 0o644)
	as := fmt.Sprintf("%s --reuid=%d --regid=%d --clear-groups --", setpriv, uid, gid)
	// mount(8) keeps XDG_STATE_HOME and XDG_CACHE_HOME, and takes HOME
	// away: the config file is looked for in the user's home from the
	// user database, not in root's (which the user may not read).
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + base,
		"XDG_STATE_HOME=" + filepath.Join(base, "state"), "XDG_CACHE_HOME=" + filepath.Join(base, "cache")}
	got := serviceNamespace(t, env, fmt.Sprintf(`
mount --bind %[1]q /etc/fstab
%[2]s mount %[3]q
grep " %[3]s " /proc/self/mountinfo
%[2]s cp -a %[3]q/"Card 1"/. %[4]q
%[2]s umount %[3]q
echo done
`, fstab, as, mnt, filepath.Join(base, "copy")))
	for _, want := range []string{"user_id=" + u.Uid, "done"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	serviceCheckFiles(t, filepath.Join(base, "copy"), files)
	if _, err := os.Stat(filepath.Join(base, "state", "airnef-mount")); err != nil {
		t.Errorf("the user's state is not in XDG_STATE_HOME: %v", err)
	}
	serviceWaitGone(t, mnt, 30*time.Second)
}

// serviceNotifySocket listens like systemd's notification socket and
// delivers each datagram.
func serviceNotifySocket(t *testing.T) (string, <-chan string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	msgs := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()
	return path, msgs
}

func serviceNextNotify(t *testing.T, msgs <-chan string) string {
	t.Helper()
	select {
	case m, ok := <-msgs:
		if !ok {
			t.Fatal("notification socket closed")
		}
		return m
	case <-time.After(30 * time.Second):
		t.Fatal("no notification within 30s")
	}
	return ""
}

// Under systemd (Type=notify), READY=1 comes once mounted, STOPPING=1 at
// SIGTERM; with the journal as stderr, each log line carries its syslog
// priority.
func TestServiceSystemdNotify(t *testing.T) {
	mountRequireFUSE(t)
	card, _ := mountCard(t, mountCardSpec{jpegs: 2})
	sim := mountStartSim(t, card)
	mnt := mountDir(t)
	sock, msgs := serviceNotifySocket(t)
	// The journal's stream: a file whose device and inode are in
	// JOURNAL_STREAM, as systemd sets them.
	journal, err := os.Create(filepath.Join(t.TempDir(), "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer journal.Close()
	var st syscall.Stat_t
	syscall.Fstat(int(journal.Fd()), &st)
	_, airnef := mountBuild(t)
	cmd := exec.Command(airnef, "--camera", sim.addr, "--debug", "ptp", mnt)
	cmd.Env = serviceEnv(t, "NOTIFY_SOCKET="+sock, fmt.Sprintf("JOURNAL_STREAM=%d:%d", st.Dev, st.Ino))
	cmd.Stderr = journal
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	done := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	ready := serviceNextNotify(t, msgs)
	if want := "READY=1\nSTATUS=mounted airnef-mount CamSim (serial 000000000001) at " + mnt; ready != want {
		t.Errorf("first notification %q, want %q", ready, want)
	}
	if !mountIsMounted(t, mnt) {
		t.Error("READY=1 before the mount")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if m := serviceNextNotify(t, msgs); m != "STOPPING=1" {
		t.Errorf("at SIGTERM: %q, want STOPPING=1", m)
	}
	select {
	case <-done:
		if waitErr != nil {
			t.Errorf("exit after SIGTERM: %v", waitErr)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30s after SIGTERM")
	}
	b, _ := os.ReadFile(journal.Name())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	prio := map[string]bool{}
	for _, l := range lines {
		if len(l) < 3 || l[0] != '<' || l[2] != '>' || strings.Contains(l, "time=") {
			t.Errorf("journal line without its priority, or dated: %q", l)
			continue
		}
		prio[l[:3]] = true
		if lv := map[string]string{"<7>": "level=DEBUG", "<6>": "level=INFO", "<4>": "level=WARN", "<3>": "level=ERROR"}[l[:3]]; !strings.HasPrefix(l[3:], lv) {
			t.Errorf("priority %s on %q", l[:3], l)
		}
	}
	if !prio["<6>"] || !prio["<7>"] {
		t.Errorf("journal lines lack info or debug priorities:\n%s", b)
	}
}

// --wait under systemd is ready once it listens for cameras.
func TestServiceSystemdNotifyWait(t *testing.T) {
	mountRequireFUSE(t)
	mountRequireTool(t, "unshare")
	_, airnef := mountBuild(t)
	dir := t.TempDir()
	sock, msgs := serviceNotifySocket(t)
	// SSDP in a network namespace of its own, with its loopback up.
	cmd := exec.Command("unshare", "--net", "sh", "-c", `ip link set lo up && exec "$0" "$@"`, airnef, "--wait", dir)
	cmd.Env = serviceEnv(t, "NOTIFY_SOCKET="+sock)
	var stderr mountLockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
		}
	}()
	if m := serviceNextNotify(t, msgs); m != "READY=1\nSTATUS=waiting for cameras at "+dir {
		t.Errorf("notification %q; stderr:\n%s", m, stderr.String())
	}
}

// On a terminal the log is short: no dates, no GUIDs; elsewhere it keeps
// the structured format.
func TestServiceConsoleLog(t *testing.T) {
	script := mountRequireTool(t, "script")
	_, airnef := mountBuild(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	mnt := t.TempDir()
	// script(1) gives the program a terminal.
	r := serviceRun(t, 60*time.Second, serviceEnv(t), script, "-q", "-e", "-c",
		fmt.Sprintf("%s --camera %s --connect-timeout 2s %s", airnef, addr, mnt), "/dev/null")
	if r.code != 1 {
		t.Errorf("exit status %d:\n%s", r.code, r.stdout)
	}
	if !strings.Contains(r.stdout, "connecting to "+addr+" ...") || strings.Contains(r.stdout, "time=") ||
		strings.Contains(r.stdout, "guid") || !strings.Contains(r.stdout, "airnef-mount: nothing at ") {
		t.Errorf("terminal output:\n%s", r.stdout)
	}
	r = serviceRun(t, 60*time.Second, serviceEnv(t), airnef, "--camera", addr, "--connect-timeout", "2s", mnt)
	if !strings.Contains(r.stderr, `time=`) || !strings.Contains(r.stderr, `level=INFO msg="connecting to `+addr+` ..."`) {
		t.Errorf("structured log expected off a terminal:\n%s", r.stderr)
	}
}
