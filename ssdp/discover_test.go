package ssdp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossdp "github.com/koron/go-ssdp"
	"golang.org/x/net/ipv4"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// ---- Tests inside a network namespace ----

// netnsEnv names the test a re-executed test binary runs inside the
// namespace.
const netnsEnv = "AIRNEF_SSDP_NETNS_TEST"

// inNetns runs the calling test again in a new network namespace where only
// lo exists, is up, and routes multicast, so that nothing is ever sent on
// the host's interfaces. It returns true in the namespace (run the test
// body) and false in the parent, which has checked that the child passed.
func inNetns(t *testing.T) bool {
	t.Helper()
	if os.Getenv(netnsEnv) == t.Name() {
		if ifi, err := net.InterfaceByName("lo"); err != nil || ifi.Flags&net.FlagUp == 0 {
			t.Fatalf("in the namespace, lo is not up: %v", err)
		}
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("SSDP tests run in a network namespace of their own (unshare -n), which needs root")
	}
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("SSDP tests need unshare (package util-linux) for a network namespace of their own")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("SSDP tests need ip (package iproute2) to set up their network namespace")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "-n", "sh", "-c",
		`ip link set lo up && ip route add 239.0.0.0/8 dev lo && exec "$0" "$@"`,
		os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout=50s")
	cmd.Env = append(os.Environ(), netnsEnv+"="+t.Name())
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

// testLogger logs to t and counts the candidates dropped.
type testLogger struct {
	t       *testing.T
	mu      sync.Mutex
	dropped []string // LOCATIONs
}

func (l *testLogger) Enabled(context.Context, slog.Level) bool { return true }
func (l *testLogger) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *testLogger) WithGroup(string) slog.Handler            { return l }
func (l *testLogger) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		if r.Message == "ssdp: candidate dropped" && a.Key == "location" {
			l.mu.Lock()
			l.dropped = append(l.dropped, a.Value.String())
			l.mu.Unlock()
		}
		return true
	})
	l.t.Log(b.String())
	return nil
}

func (l *testLogger) droppedLocations() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.dropped...)
}

func loConfig(t *testing.T) (Config, *testLogger) {
	h := &testLogger{t: t}
	return Config{
		Interfaces: []string{"lo"},
		ListenTime: 1500 * time.Millisecond,
		HTTPClient: &http.Client{Timeout: time.Second},
		Logger:     slog.New(h),
	}, h
}

// notifier sends raw NOTIFYs on lo, as a camera does, from 127.0.0.1.
type notifier struct {
	t *testing.T
	p *ipv4.PacketConn
}

func newNotifier(t *testing.T) *notifier {
	t.Helper()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	p := ipv4.NewPacketConn(c)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetMulticastInterface(lo); err != nil {
		t.Fatal(err)
	}
	if err := p.SetMulticastLoopback(true); err != nil {
		t.Fatal(err)
	}
	return &notifier{t, p}
}

// send sends a NOTIFY; location "" leaves LOCATION out (byebye).
func (n *notifier) send(nts, nt, usn, location string) {
	var b strings.Builder
	b.WriteString("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n")
	if location != "" {
		fmt.Fprintf(&b, "LOCATION: %s\r\n", location)
	}
	fmt.Fprintf(&b, "NT: %s\r\nNTS: %s\r\nSERVER: FedoraCore/2 UPnP/1.0 MINT-X/1.8.1\r\nUSN: %s\r\n\r\n", nt, nts, usn)
	dst := &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250), Port: 1900}
	if _, err := n.p.WriteTo([]byte(b.String()), nil, dst); err != nil {
		n.t.Errorf("sending NOTIFY: %v", err)
	}
}

// sonyAlive sends the four NOTIFYs a Sony in Send to Computer sends.
func (n *notifier) sonyAlive(uuid, location string) {
	for _, nt := range []string{"upnp:rootdevice", "urn:microsoft-com:device:mtp:1", uuid, ServiceSony} {
		usn := uuid + "::" + nt
		if nt == uuid {
			usn = uuid
		}
		n.send("ssdp:alive", nt, usn, location)
	}
}

// repeat calls f every 200 ms until the test ends, starting now.
func repeat(t *testing.T, f func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			f()
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

func discoverLo(t *testing.T, cfg Config) []Camera {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	cams, err := Discover(ctx, cfg)
	if err != nil {
		t.Fatalf("Discover: %v", err)
	}
	if d := time.Since(start); d < cfg.ListenTime || d > cfg.ListenTime+3*time.Second {
		t.Errorf("Discover took %v with ListenTime %v", d, cfg.ListenTime)
	}
	return cams
}

// TestDiscoverSearchGoSSDP: a go-ssdp Advertiser, which only answers
// M-SEARCH (it sends no NOTIFY unless told), is found by our search.
func TestDiscoverSearchGoSSDP(t *testing.T) {
	if !inNetns(t) {
		return
	}
	srv := describe(t)
	lo, err := interfaces([]string{"lo"})
	if err != nil {
		t.Fatal(err)
	}
	const uuid = "uuid:00000000-0001-0010-8000-98f17039c6fc"
	var adv *gossdp.Advertiser
	err = withInterfaces(lo, func() (err error) {
		adv, err = gossdp.Advertise(ServiceSony, uuid+"::"+ServiceSony, srv.URL+"/sony-a7s.xml",
			"FedoraCore/2 UPnP/1.0 MINT-X/1.8.1", 1800)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adv.Close() })

	cfg, _ := loConfig(t)
	cams := discoverLo(t, cfg)
	if len(cams) != 1 {
		t.Fatalf("found %d cameras, want 1: %+v", len(cams), cams)
	}
	c := cams[0]
	if c.Addr != "127.0.0.1:15740" || c.Manufacturer != "Sony Corporation" || c.Model != "ILCE-7S" ||
		c.Vendor != mtp.VendorSony || c.Smartphone || c.Service != ServiceSony || c.USN != uuid+"::"+ServiceSony ||
		c.Location != srv.URL+"/sony-a7s.xml" {
		t.Errorf("camera = %+v", c)
	}
}

// TestDiscoverNotify: cameras that only send NOTIFY (nothing here answers
// M-SEARCH) are found by listening; the other NTs of the same camera are
// ignored, and a camera is reported once however often it announces.
func TestDiscoverNotify(t *testing.T) {
	if !inNetns(t) {
		return
	}
	srv := describe(t)
	n := newNotifier(t)
	repeat(t, func() {
		n.sonyAlive("uuid:00000000-0001-0010-8000-98f17039c6fc", srv.URL+"/sony-a7s.xml")
	})
	cfg, log := loConfig(t)
	cams := discoverLo(t, cfg)
	if len(cams) != 1 {
		t.Fatalf("found %d cameras, want 1: %+v", len(cams), cams)
	}
	if c := cams[0]; c.Addr != "127.0.0.1:15740" || c.Manufacturer != "Sony Corporation" || c.Model != "ILCE-7S" {
		t.Errorf("camera = %+v", c)
	}
	if d := log.droppedLocations(); len(d) != 0 {
		t.Errorf("dropped %v", d)
	}
}

// TestDiscoverDropsUnverified: candidates whose description is missing,
// not XML, not a device description, or too slow are dropped (each fetched
// once), Sony smartphone services are reported as such, a Sony TV's
// ScalarWebAPI is not, and one camera per host is reported.
func TestDiscoverDropsUnverified(t *testing.T) {
	if !inNetns(t) {
		return
	}
	srv := describe(t)
	// A second server on another loopback address, for a second camera.
	ln, err := net.Listen("tcp4", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	srv2 := httptest.NewUnstartedServer(srv.Config.Handler)
	srv2.Listener.Close()
	srv2.Listener = ln
	srv2.Start()
	t.Cleanup(srv2.Close)

	n := newNotifier(t)
	bad := []string{"/missing.xml", "/not-a-description.html", "/wrong-root.xml", "/no-model.xml", "/slow"}
	repeat(t, func() {
		for i, p := range bad {
			n.send("ssdp:alive", ServiceSony, fmt.Sprintf("uuid:bad-%d::%s", i, ServiceSony), srv.URL+p)
		}
		n.send("ssdp:alive", ServiceSonyRemote, "uuid:tv::"+ServiceSonyRemote, srv.URL+"/sony-tv.xml")
		n.send("ssdp:alive", ServiceCanon, "uuid:canon::"+ServiceCanon, srv.URL+"/canon-6d.xml")
		n.send("ssdp:alive", ServiceSonyPush, "uuid:phone::"+ServiceSonyPush, srv2.URL+"/sony-smartphone-dms.xml")
	})
	cfg, log := loConfig(t)
	cams := discoverLo(t, cfg)
	if len(cams) != 2 {
		t.Fatalf("found %d cameras, want 2: %+v", len(cams), cams)
	}
	if c := cams[0]; c.Host != "127.0.0.1" || c.Addr != "127.0.0.1:15740" || c.Model != "Canon EOS 6D" ||
		c.Vendor != mtp.VendorCanon || c.Serial != "012345678901" || c.Smartphone {
		t.Errorf("camera 0 = %+v", c)
	}
	if c := cams[1]; c.Host != "127.0.0.2" || c.Addr != "" || !c.Smartphone || c.Vendor != mtp.VendorSony {
		t.Errorf("camera 1 = %+v", c)
	}
	dropped := log.droppedLocations()
	want := append(bad, "/sony-tv.xml")
	if len(dropped) != len(want) {
		t.Errorf("dropped %d candidates, want %d (each once): %v", len(dropped), len(want), dropped)
	}
	for _, p := range want {
		found := false
		for _, d := range dropped {
			found = found || d == srv.URL+p
		}
		if !found {
			t.Errorf("%s not dropped", p)
		}
	}
}

// gssdpAnnouncer starts Debian's libgssdp announcing st on lo, or skips.
func gssdpAnnouncer(t *testing.T, st, usn, location string) *exec.Cmd {
	t.Helper()
	const python = "/usr/bin/python3"
	check := exec.Command(python, "-c", `import gi; gi.require_version("GSSDP", "1.6"); from gi.repository import GSSDP`)
	if out, err := check.CombinedOutput(); err != nil {
		t.Skipf("GSSDP from Python is missing (apt-get install python3-gi gir1.2-gssdp-1.6): %v\n%s", err, out)
	}
	cmd := exec.Command(python, filepath.Join("testdata", "announce.py"), st, usn, location)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan struct{})
	go func() { cmd.Wait(); close(waited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-waited
	})
	ready := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(stdout)
		ready <- s.Scan() && s.Text() == "ready"
		io.Copy(io.Discard, stdout)
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("GSSDP announcer did not start")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("GSSDP announcer not ready after 10 s")
	}
	return cmd
}

// TestDiscoverGSSDP: a third-party responder (libgssdp) announcing a Sony
// service is found, its description fetched from this test.
func TestDiscoverGSSDP(t *testing.T) {
	if !inNetns(t) {
		return
	}
	srv := describe(t)
	const usn = "uuid:00000000-0001-0010-8000-98f17039c6fc::" + ServiceSony
	gssdpAnnouncer(t, ServiceSony, usn, srv.URL+"/sony-a7s.xml")
	cfg, _ := loConfig(t)
	cams := discoverLo(t, cfg)
	if len(cams) != 1 {
		t.Fatalf("found %d cameras, want 1: %+v", len(cams), cams)
	}
	if c := cams[0]; c.Addr != "127.0.0.1:15740" || c.Manufacturer != "Sony Corporation" || c.Model != "ILCE-7S" ||
		c.USN != usn || c.Service != ServiceSony {
		t.Errorf("camera = %+v", c)
	}
}

// watchLo runs Watch on lo until the test ends, passing announcements on.
func watchLo(t *testing.T, cfg Config) <-chan Announcement {
	ctx, cancel := context.WithCancel(t.Context())
	ch := make(chan Announcement, 100)
	done := make(chan error, 1)
	go func() {
		done <- Watch(ctx, cfg, func(a Announcement) {
			select {
			case ch <- a:
			default:
				t.Errorf("announcement not read: %+v", a)
			}
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Watch returned %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Watch did not return 5 s after its context ended")
		}
	})
	return ch
}

func next(t *testing.T, ch <-chan Announcement, kind AnnouncementKind, within time.Duration) Announcement {
	t.Helper()
	deadline := time.After(within)
	for {
		select {
		case a := <-ch:
			if a.Kind == kind {
				return a
			}
			t.Logf("skipping %v announcement from %s", a.Kind, a.From)
		case <-deadline:
			t.Fatalf("no %v announcement within %v", kind, within)
		}
	}
}

// TestWatchByeBye: Watch reports a verified alive, then the byebye of the
// same camera with what it knew of it, timestamps in order.
func TestWatchByeBye(t *testing.T) {
	if !inNetns(t) {
		return
	}
	srv := describe(t)
	cfg, _ := loConfig(t)
	cfg.SearchInterval = -1
	ch := watchLo(t, cfg)
	n := newNotifier(t)
	const usn = "uuid:00000000-0000-0000-0001-60128b7c1e2a::" + ServiceCanon
	time.Sleep(300 * time.Millisecond) // Watch is listening
	before := time.Now()
	n.send("ssdp:alive", "upnp:rootdevice", "uuid:x::upnp:rootdevice", srv.URL+"/canon-6d.xml")
	n.send("ssdp:alive", ServiceCanon, usn, srv.URL+"/canon-6d.xml")
	alive := next(t, ch, AnnounceAlive, 5*time.Second)
	if c := alive.Camera; c.Addr != "127.0.0.1:15740" || c.Model != "Canon EOS 6D" || c.USN != usn || alive.Search {
		t.Errorf("alive = %+v", alive)
	}
	if alive.Time.Before(before) || !strings.HasPrefix(alive.From, "127.0.0.1:") {
		t.Errorf("alive Time %v (sent after %v), From %q", alive.Time, before, alive.From)
	}
	n.send("ssdp:byebye", "upnp:rootdevice", "uuid:x::upnp:rootdevice", "")
	n.send("ssdp:byebye", ServiceCanon, usn, "")
	bye := next(t, ch, AnnounceByeBye, 5*time.Second)
	if c := bye.Camera; c.Addr != "127.0.0.1:15740" || c.Model != "Canon EOS 6D" || c.USN != usn {
		t.Errorf("byebye camera = %+v", c)
	}
	if !bye.Time.After(alive.Time) {
		t.Errorf("byebye Time %v not after alive Time %v", bye.Time, alive.Time)
	}
	// A byebye from a camera never seen still names its USN.
	n.send("ssdp:byebye", ServiceSony, "uuid:unknown::"+ServiceSony, "")
	bye = next(t, ch, AnnounceByeBye, 5*time.Second)
	if c := bye.Camera; c.USN != "uuid:unknown::"+ServiceSony || c.Service != ServiceSony || c.Addr != "" {
		t.Errorf("unknown byebye camera = %+v", c)
	}
	select {
	case a := <-ch:
		t.Errorf("unexpected announcement %+v", a)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestWatchGSSDP: Watch finds libgssdp's announcement (by its NOTIFY or its
// answer to our M-SEARCH) and reports the byebye libgssdp sends when it
// stops.
func TestWatchGSSDP(t *testing.T) {
	if !inNetns(t) {
		return
	}
	srv := describe(t)
	cfg, _ := loConfig(t)
	cfg.SearchInterval = 500 * time.Millisecond
	ch := watchLo(t, cfg)
	time.Sleep(300 * time.Millisecond)
	const usn = "uuid:00000000-0001-0010-8000-98f17039c6fc::" + ServiceSony
	cmd := gssdpAnnouncer(t, ServiceSony, usn, srv.URL+"/sony-a7s.xml")
	alive := next(t, ch, AnnounceAlive, 5*time.Second)
	if c := alive.Camera; c.Addr != "127.0.0.1:15740" || c.Model != "ILCE-7S" || c.USN != usn {
		t.Errorf("alive = %+v", alive)
	}
	// Repeated searches are answered again.
	for {
		if a := next(t, ch, AnnounceAlive, 5*time.Second); a.Search {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	bye := next(t, ch, AnnounceByeBye, 5*time.Second)
	if c := bye.Camera; c.USN != usn || c.Addr != "127.0.0.1:15740" {
		t.Errorf("byebye camera = %+v", c)
	}
}

// TestDiscoverCancel: Discover returns promptly with ctx's error.
func TestDiscoverCancel(t *testing.T) {
	if !inNetns(t) {
		return
	}
	cfg, _ := loConfig(t)
	cfg.ListenTime = 10 * time.Second
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Discover(ctx, cfg)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Discover returned %v after its context ended", d)
	}
}

// TestDiscoverPortTaken: with UDP 1900 held by a program that does not
// share it (here a minimal responder that answers M-SEARCH itself),
// Discover cannot listen for NOTIFY but still finds the camera by
// searching.
func TestDiscoverPortTaken(t *testing.T) {
	if !inNetns(t) {
		return
	}
	srv := describe(t)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{Port: 1900}) // no SO_REUSEADDR
	if err != nil {
		t.Fatal(err)
	}
	p := ipv4.NewPacketConn(c)
	lo, _ := net.InterfaceByName("lo")
	if err := p.JoinGroup(lo, &net.UDPAddr{IP: net.IPv4(239, 255, 255, 250)}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { c.Close(); wg.Wait() })
	var searches sync.Map
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, 2048)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			req := string(buf[:n])
			if !strings.HasPrefix(req, "M-SEARCH ") || !strings.Contains(req, "ST: "+ServiceCanon+"\r\n") {
				continue
			}
			searches.Store(from.String(), true)
			resp := "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: " + srv.URL + "/canon-6d.xml\r\n" +
				"SERVER: Camera OS/1.0 UPnP/1.0 Canon Device Discovery/1.0\r\nST: " + ServiceCanon + "\r\n" +
				"USN: uuid:00000000-0000-0000-0001-60128b7c1e2a::" + ServiceCanon + "\r\n\r\n"
			c.WriteToUDP([]byte(resp), from)
		}
	}()

	cfg, _ := loConfig(t)
	var warned bool
	cfg.Logger = slog.New(&funcHandler{f: func(r slog.Record) {
		t.Log(r.Message)
		warned = warned || (r.Level == slog.LevelWarn && strings.Contains(r.Message, "cannot listen"))
	}})
	cams := discoverLo(t, cfg)
	if !warned {
		t.Error("no warning that Discover cannot listen")
	}
	if len(cams) != 1 || cams[0].Model != "Canon EOS 6D" || cams[0].Addr != "127.0.0.1:15740" {
		t.Fatalf("cameras = %+v", cams)
	}
	n := 0
	searches.Range(func(any, any) bool { n++; return true })
	if n != searchRounds {
		t.Errorf("%d M-SEARCH sockets for the Canon service, want %d rounds", n, searchRounds)
	}
}

// funcHandler passes each record to f, on the caller's goroutine.
type funcHandler struct {
	mu sync.Mutex
	f  func(slog.Record)
}

func (h *funcHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *funcHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *funcHandler) WithGroup(string) slog.Handler            { return h }
func (h *funcHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.f(r)
	return nil
}

func TestDiscoverBadInterface(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	cams, err := Discover(ctx, Config{Interfaces: []string{"no-such-if0"}})
	if err == nil || !strings.Contains(err.Error(), "no-such-if0") {
		t.Fatalf("Discover on a missing interface = %v, %v; want an error naming it", cams, err)
	}
	err = Watch(ctx, Config{Interfaces: []string{"no-such-if0"}}, func(a Announcement) {
		t.Errorf("announcement %+v", a)
	})
	if err == nil {
		t.Fatal("Watch on a missing interface: no error")
	}
}
