package test

// End-to-end tests of discovery: `airnef-mount discover` and mounting
// without --camera, against a third-party SSDP announcer (GSSDP from
// Debian's python3-gi) and against the simulator's own announcements,
// which Debian's gssdp-discover must see too. Every SSDP test runs in a
// network namespace of its own (discNetns): nothing is ever sent on the
// host's network. Helpers start with "disc".

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/ptpip"
	"github.com/airnef-mount/airnef-mount/ssdp"
)

// discNetnsEnv names the test a re-executed test binary runs in the
// namespace.
const discNetnsEnv = "AIRNEF_TEST_NETNS"

// discNetns runs the calling test again in a new network namespace where
// only lo exists, is up and routes multicast. It returns true in the
// namespace (run the test body there) and false in the parent, which has
// checked that the child passed.
func discNetns(t *testing.T, within time.Duration) bool {
	t.Helper()
	if os.Getenv(discNetnsEnv) == t.Name() {
		if ifi, err := net.InterfaceByName("lo"); err != nil || ifi.Flags&net.FlagUp == 0 {
			t.Fatalf("in the namespace, lo is not up: %v", err)
		}
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("SSDP tests run in a network namespace of their own (unshare -n), which needs root")
	}
	for _, tool := range []string{"unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("SSDP tests need %s (util-linux, iproute2) for a network namespace", tool)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), within+20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "unshare", "-n", "sh", "-c",
		`ip link set lo up && ip route add 239.0.0.0/8 dev lo && exec "$0" "$@"`,
		os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout="+within.String())
	cmd.Env = append(os.Environ(), discNetnsEnv+"="+t.Name())
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("in a network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("test in the network namespace: %v", err)
	}
	if !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("test did not pass in the network namespace")
	}
	return false
}

// discRun runs airnef-mount with args (bounded) and returns its stdout,
// stderr and exit status.
func discRun(t *testing.T, d time.Duration, args ...string) (string, string, int) {
	t.Helper()
	_, airnef := mountBuild(t)
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, airnef, args...)
	cmd.Env = append(os.Environ(), "XDG_STATE_HOME="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("airnef-mount %q: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return stdout.String(), stderr.String(), code
}

// discGSSDP starts ptpip's GSSDP announcer script (Debian's python3 with
// gir1.2-gssdp-1.6) for st/usn/location and waits until it is ready.
func discGSSDP(t *testing.T, st, usn, location string) {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no Debian /usr/bin/python3 (python3-gi, gir1.2-gssdp-1.6)")
	}
	if err := exec.Command(py, "-c", `import gi; gi.require_version("GSSDP", "1.6")`).Run(); err != nil {
		t.Skip("GSSDP 1.6 introspection data not installed (gir1.2-gssdp-1.6, python3-gi)")
	}
	cmd := exec.Command(py, "../ssdp/testdata/announce.py", st, usn, location)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ready <- sc.Scan() && sc.Text() == "ready"
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the GSSDP announcer did not say ready")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the GSSDP announcer did not start within 10s")
	}
}

// TestDiscoverThirdPartyAnnouncer: `airnef-mount discover` finds a Sony
// service announced by GSSDP (not our code), verified by the description
// the test serves, and prints ADDRESS MANUFACTURER MODEL SERVICE.
func TestDiscoverThirdPartyAnnouncer(t *testing.T) {
	if !discNetns(t, 40*time.Second) {
		return
	}
	desc, err := os.ReadFile("../ssdp/testdata/sony-a7s.xml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(desc) }))
	t.Cleanup(srv.Close)
	const usn = "uuid:00000000-0001-0010-8000-98f17039c6fc::" + ssdp.ServiceSony
	discGSSDP(t, ssdp.ServiceSony, usn, srv.URL+"/DeviceDescription.xml")
	stdout, stderr, code := discRun(t, 20*time.Second, "discover", "--listen-time", "2s")
	if code != 0 {
		t.Fatalf("discover: exit status %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	want := "127.0.0.1:15740\tSony Corporation\tILCE-7S\t" + ssdp.ServiceSony + "\n"
	if stdout != want {
		t.Errorf("discover printed %q, want %q", stdout, want)
	}
}

// TestDiscoverNothing: no camera is exit status 1 with advice about the
// network and the firewall.
func TestDiscoverNothing(t *testing.T) {
	if !discNetns(t, 30*time.Second) {
		return
	}
	stdout, stderr, code := discRun(t, 20*time.Second, "discover", "--listen-time", "1s")
	if code != 1 || stdout != "" {
		t.Fatalf("discover with no camera: exit status %d, stdout %q; want 1 and nothing", code, stdout)
	}
	for _, say := range []string{"same network", "UDP port 1900", "firewall"} {
		if !strings.Contains(stderr, say) {
			t.Errorf("the advice does not mention %q:\n%s", say, stderr)
		}
	}
	// And a mount without --camera says the same.
	_, stderr, code = discRun(t, 20*time.Second, "--listen-time", "1s", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "UDP port 1900") {
		t.Errorf("mount without --camera and no camera: exit status %d\n%s", code, stderr)
	}
}

// TestDiscoverSmartphoneMode: a Sony in "Send to Smartphone" gets the
// sentence telling the user to choose Send to Computer.
func TestDiscoverSmartphoneMode(t *testing.T) {
	if !discNetns(t, 40*time.Second) {
		return
	}
	desc, err := os.ReadFile("../ssdp/testdata/sony-smartphone-dms.xml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(desc) }))
	t.Cleanup(srv.Close)
	discGSSDP(t, ssdp.ServiceSonyPush, "uuid:00000000-0000-1010-8000-f0bf97e7e9d0::"+ssdp.ServiceSonyPush, srv.URL+"/dms.xml")
	stdout, stderr, code := discRun(t, 20*time.Second, "discover", "--listen-time", "2s")
	if code != 1 || stdout != "" {
		t.Errorf("discover: exit status %d, stdout %q; want 1, nothing", code, stdout)
	}
	if !strings.Contains(stderr, `choose "Send to Computer"`) {
		t.Errorf("no Send to Computer advice:\n%s", stderr)
	}
}

// discSony starts a simulated Sony on 127.0.0.1:15740 (the port discovery
// implies) announcing itself on lo.
func discSony(t *testing.T, cfg camsim.Config) *camsim.Camera {
	t.Helper()
	cfg.Personality = camsim.Sony()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	cam, err := camsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cam.Start(fmt.Sprintf("127.0.0.1:%d", ptpip.Port)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cam.Close() })
	if err := cam.StartSSDP(camsim.SSDPConfig{Interface: "lo", Interval: 500 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	return cam
}

// TestDiscoverSimulator: Debian's gssdp-discover sees the simulator's
// announcement, our discover finds it, and a mount without --camera
// mounts it.
func TestDiscoverSimulator(t *testing.T) {
	if !discNetns(t, 60*time.Second) {
		return
	}
	mountRequireFUSE(t)
	gssdp := mountRequireTool(t, "gssdp-discover")
	card, _ := mountCard(t, mountCardSpec{jpegs: 3})
	cam := discSony(t, camsim.Config{Dir: card})

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, gssdp, "-i", "lo", "-t", ssdp.ServiceSony, "-n", "3").CombinedOutput()
	if err != nil {
		t.Fatalf("gssdp-discover: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "resource available") || !strings.Contains(string(out), cam.Location()) {
		t.Errorf("gssdp-discover did not see the simulator at %s:\n%s", cam.Location(), out)
	}

	stdout, stderr, code := discRun(t, 20*time.Second, "discover", "--listen-time", "1500ms")
	want := "127.0.0.1:15740\tSony Corporation\tILCE-7M3\t" + ssdp.ServiceSony + "\n"
	if code != 0 || stdout != want {
		t.Errorf("discover: exit status %d, stdout %q, want %q\n%s", code, stdout, want, stderr)
	}

	mnt := mountDir(t)
	r := mountStart(t, "", mnt, "--listen-time", "1500ms", "--guid", "00112233445566778899000000000000")
	if !strings.Contains(r.line, "Sony Corporation ILCE-7M3") {
		t.Errorf("mounted %q", r.line)
	}
	if _, err := os.Stat(filepath.Join(mountStorage(t, mnt), "DCIM")); err != nil {
		t.Error(err)
	}
	r.stop()
	if st, _ := cam.SonyState(); st != camsim.SonyAsleep {
		t.Errorf("after unmount the camera is %s, want asleep", st)
	}
}
