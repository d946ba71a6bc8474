package test

// End-to-end tests of Sony's "Send to Computer": the simulated Sony's
// rules seen from a client, the mount's GUID retry, the "Sending..." and
// sleep commands on the wire, one session per Send to Computer, a session
// lost mid-copy and its recovery, and gphoto2 against the same camera.
// The simulator runs in the test process (its state is read directly);
// airnef-mount runs as a subprocess. Helpers start with "sony".

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
	"github.com/airnef-mount/airnef-mount/sonyauth"
)

// sonyZeroGUID is Airnef's default GUID: a zero tail, which an unpaired
// Sony accepts.
const sonyZeroGUID = "00112233445566778899000000000000"

// The two 0x9280 payloads of the mount: "Sending..." (libgphoto2's and
// PlayMemories' bytes) and sleep.
const (
	sonySendingHex = "02000000020000000000000000000000" + "0101"
	sonySleepHex   = "00000000050000000000000000000000"
)

// sonyCard makes a Sony card: dated folders at the root, ARW and JPEG
// files. It returns the directory and every file's bytes by path.
func sonyCard(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(5, 5))
	files := map[string][]byte{
		"2024-03-15/DSC00001.ARW": nil,
		"2024-03-15/DSC00002.JPG": mountJPEG(t, 2),
		"2024-03-16/DSC00003.ARW": nil,
		"2024-03-16/DSC00004.JPG": mountJPEG(t, 4),
	}
	for rel, data := range files {
		if data == nil {
			data = make([]byte, 700<<10+r.IntN(4096))
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			files[rel] = data
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, files
}

// sonyStart starts a simulated Sony in the test process on 127.0.0.1:0.
func sonyStart(t *testing.T, cfg camsim.Config) (*camsim.Camera, string) {
	t.Helper()
	cfg.Personality = camsim.Sony()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	cam, err := camsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := cam.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cam.Close() })
	return cam, addr
}

func sonyState(t *testing.T, cam *camsim.Camera) camsim.SonyState {
	t.Helper()
	st, err := cam.SonyState()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sonyCheckCopy reads every file through the mount and compares bytes.
func sonyCheckCopy(t *testing.T, storage string, files map[string][]byte) {
	t.Helper()
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(storage, rel))
		if err != nil {
			t.Errorf("read %s: %v", rel, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes differ from the card's %d", rel, len(got), len(want))
		}
	}
}

// TestSonyMount: mount an unpaired Sony with a zero-tail GUID, copy
// byte-exact; the camera shows "Sending..." while mounted, gets no second
// Init while the session lives (keep-alives included), and sleeps after
// unmount; its record of 0x9280 payloads holds exactly the two commands.
func TestSonyMount(t *testing.T) {
	mountRequireFUSE(t)
	card, files := sonyCard(t)
	cam, addr := sonyStart(t, camsim.Config{Dir: card})
	mnt := mountDir(t)
	r := mountStart(t, addr, mnt, "--guid", sonyZeroGUID)
	start := time.Now() // after the mount: the first mount builds the binary
	if st := sonyState(t, cam); st != camsim.SonySending {
		t.Errorf("mounted: camera state %s, want sending", st)
	}
	storage := mountStorage(t, mnt)
	sonyCheckCopy(t, storage, files)
	// Dated folders carry no date: the mount takes it from the name.
	fi, err := os.Stat(filepath.Join(storage, "2024-03-16"))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2024, 3, 16, 0, 0, 0, 0, time.Local); !fi.ModTime().Equal(want) {
		t.Errorf("folder mtime %v, want %v", fi.ModTime(), want)
	}
	// The session lives past a keep-alive with no second Init.
	time.Sleep(time.Until(start.Add(7 * time.Second)))
	if n := cam.OpCount(mtp.OpGetDeviceInfo); n < 2 {
		t.Errorf("GetDeviceInfo %d times: no keep-alive in 7s", n)
	}
	if n := cam.Inits(); n != 1 {
		t.Errorf("%d Init Command Requests while mounted, want 1", n)
	}
	r.stop()
	if code := r.exitCode(20 * time.Second); code != 0 {
		t.Errorf("exit status %d", code)
	}
	if st := sonyState(t, cam); st != camsim.SonyAsleep {
		t.Errorf("after unmount: camera state %s, want asleep", st)
	}
	var got []string
	for _, c := range cam.SonyCommands() {
		got = append(got, hex.EncodeToString(c))
	}
	if want := []string{sonySendingHex, sonySleepHex}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("0x9280 payloads %q, want %q", got, want)
	}
	if n := cam.OpCount(mtp.OpSonyCommandReply); n != 2 {
		t.Errorf("0x9281 %d times, want 2 (one after each 0x9280)", n)
	}
}

// TestSonyNoSleep: --camera-sleep=false ends the session without the
// sleep command; the camera stays in Send to Computer.
func TestSonyNoSleep(t *testing.T) {
	mountRequireFUSE(t)
	card, _ := sonyCard(t)
	cam, addr := sonyStart(t, camsim.Config{Dir: card})
	mnt := mountDir(t)
	r := mountStart(t, addr, mnt, "--guid", sonyZeroGUID, "--camera-sleep=false")
	r.stop()
	if code := r.exitCode(20 * time.Second); code != 0 {
		t.Errorf("exit status %d", code)
	}
	if st := sonyState(t, cam); st != camsim.SonySending {
		t.Errorf("camera state %s, want sending (not put to sleep)", st)
	}
	if n := len(cam.SonyCommands()); n != 1 {
		t.Errorf("%d 0x9280 commands, want 1 (Sending... only)", n)
	}
}

// TestSonyUnmountWhileListing: an unmount while the mount lists the card
// in the background (every operation takes 300 ms) still puts the camera
// to sleep: the listing's transaction in flight is waited for, not cut.
func TestSonyUnmountWhileListing(t *testing.T) {
	mountRequireFUSE(t)
	card, _ := sonyCard(t)
	cam, addr := sonyStart(t, camsim.Config{Dir: card, Latency: 300 * time.Millisecond})
	mnt := mountDir(t)
	r := mountStart(t, addr, mnt, "--guid", sonyZeroGUID)
	r.stop()
	if code := r.exitCode(30 * time.Second); code != 0 {
		t.Errorf("exit status %d", code)
	}
	if st := sonyState(t, cam); st != camsim.SonyAsleep {
		t.Errorf("after unmount: camera state %s, want asleep", st)
	}
	if n := len(cam.SonyCommands()); n != 2 {
		t.Errorf("%d 0x9280 commands, want 2 (Sending... and sleep)", n)
	}
}

// TestSonyGUIDs: the mount's answer to Init Fail reason 1 from a camera
// that announces itself as a Sony. Without --guid it offers this host's
// GUID, then its zero tail (the same GUID: the persisted one is made with a
// zero tail), then each local MAC-derived GUID, once each. It runs in a
// network namespace (the camera's announcement is how the mount knows it
// is a Sony), with a veth pair for MAC addresses.
func TestSonyGUIDs(t *testing.T) {
	if !discNetns(t, 150*time.Second) {
		return
	}
	mountRequireFUSE(t)
	for _, c := range [][]string{
		{"ip", "link", "add", "guid0", "type", "veth", "peer", "name", "guid1"},
		{"ip", "link", "set", "guid0", "up"},
		{"ip", "link", "set", "guid1", "up"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Skipf("%q: %v: %s (no veth here)", c, err, out)
		}
	}
	sonyStart := func(t *testing.T, cfg camsim.Config) (*camsim.Camera, string) {
		t.Helper()
		cam, addr := sonyStart(t, cfg)
		if err := cam.StartSSDP(camsim.SSDPConfig{Interface: "lo", Interval: 500 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		return cam, addr
	}
	mountStart := func(t *testing.T, addr, mnt string, args ...string) *mountRun {
		return mountStart(t, addr, mnt, append(args, "--ssdp-interface", "lo")...)
	}
	mountLaunch := func(t *testing.T, addr, mnt string, args ...string) *mountRun {
		return mountLaunch(t, addr, mnt, append(args, "--ssdp-interface", "lo")...)
	}
	local, err := sonyauth.InterfaceGUIDs("")
	if err != nil {
		t.Fatal(err)
	}
	card, files := sonyCard(t)

	t.Run("unpaired", func(t *testing.T) {
		cam, addr := sonyStart(t, camsim.Config{Dir: card})
		mnt := mountDir(t)
		r := mountStart(t, addr, mnt)
		guids := cam.SonyInitGUIDs()
		if len(guids) != 1 || !sonyauth.IsZeroTail(guids[0]) {
			t.Errorf("GUIDs offered %x, want the host's, which has a zero tail", guids)
		}
		sonyCheckCopy(t, mountStorage(t, mnt), files)
		r.stop()
	})

	t.Run("paired with this computer", func(t *testing.T) {
		if len(local) == 0 {
			t.Skip("no local interface with a MAC address")
		}
		paired := local[len(local)-1] // the last one offered: every earlier GUID is refused
		cam, addr := sonyStart(t, camsim.Config{Dir: card, SonyPairedMAC: paired.MAC})
		mnt := mountDir(t)
		r := mountStart(t, addr, mnt)
		guids := cam.SonyInitGUIDs()
		if len(guids) != 1+len(local) || !sonyauth.IsZeroTail(guids[0]) || guids[len(guids)-1] != paired.GUID {
			t.Errorf("GUIDs offered %x, want the host's (zero tail), then the %d MAC GUIDs ending with %x", guids, len(local), paired.GUID)
		}
		if st := sonyState(t, cam); st != camsim.SonySending {
			t.Errorf("camera state %s", st)
		}
		sonyCheckCopy(t, mountStorage(t, mnt), files)
		r.stop()
		// --guid=mac:IFACE offers that interface's GUID first.
		cam2, addr2 := sonyStart(t, camsim.Config{Dir: card, SonyPairedMAC: paired.MAC})
		r = mountStart(t, addr2, mountDir(t), "--guid=mac:"+paired.Iface)
		if g := cam2.SonyInitGUIDs(); len(g) != 1 || g[0] != paired.GUID {
			t.Errorf("--guid=mac:%s offered %x, want %x", paired.Iface, g, paired.GUID)
		}
		r.stop()
	})

	t.Run("paired elsewhere", func(t *testing.T) {
		other, _ := net.ParseMAC("02:00:5e:00:53:01") // documentation range: no local interface has it
		cam, addr := sonyStart(t, camsim.Config{Dir: card, SonyPairedMAC: other})
		mnt := mountDir(t)
		r := mountLaunch(t, addr, mnt)
		if code := r.exitCode(60 * time.Second); code != 3 {
			t.Fatalf("exit status %d, want 3; stderr:\n%s", code, r.stderr.String())
		}
		msg := r.stderr.String()
		for _, say := range []string{"paired with another computer", "--guid=mac", "reset the camera's network settings"} {
			if !strings.Contains(msg, say) {
				t.Errorf("the message does not say %q:\n%s", say, msg)
			}
		}
		if n, want := cam.Inits(), 1+len(local); n != want {
			t.Errorf("%d Init Command Requests, want %d (each GUID once)", n, want)
		}
		if mountIsMounted(t, mnt) {
			t.Error("mounted")
		}
	})
}

// sonyDial opens a PTP/IP session with the simulated Sony as a plain
// client.
func sonyDial(t *testing.T, ctx context.Context, addr, guid string) (*ptpip.Session, *mtp.Device) {
	t.Helper()
	g, err := ptpip.ParseGUID(guid)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ptpip.Dial(ctx, addr, ptpip.Config{GUID: g, Name: "sony-test", ConnectTimeout: 3 * time.Second, Timeout: 3 * time.Second, KeepAlive: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	d := mtp.NewDevice(s, nil)
	if err := d.OpenSession(ctx, s.ConnectionNumber()); err != nil {
		t.Fatal(err)
	}
	return s, d
}

// sonyOp runs one operation with exactly params and returns its code.
func sonyOp(t *testing.T, ctx context.Context, s *ptpip.Session, op mtp.OpCode, params ...uint32) mtp.ResponseCode {
	t.Helper()
	resp, err := s.Do(ctx, mtp.Request{Code: op, Params: params}, nil, 0, io.Discard)
	if err != nil {
		t.Fatalf("%v: %v", op, err)
	}
	return resp.Code
}

// TestSonyCameraRules: what the simulated Sony does, seen from a plain
// client: storage operations answered before "Sending...", DeviceBusy after
// a 0x9280 without its 0x9281, 0x200B without the optional parameters,
// Init Fail for a paired camera, silence for a second Init, give-up.
func TestSonyCameraRules(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	card, _ := sonyCard(t)
	cam, addr := sonyStart(t, camsim.Config{Dir: card, SonyGiveUp: 30 * time.Second})
	s, _ := sonyDial(t, ctx, addr, sonyZeroGUID)
	if st := sonyState(t, cam); st != camsim.SonyConnecting {
		t.Errorf("state %s before Sending, want connecting", st)
	}
	// Airnef 1.1's order (notes §9): storage operations before Sending.
	if c := sonyOp(t, ctx, s, mtp.OpGetStorageIDs); c != mtp.RespOK {
		t.Errorf("GetStorageIDs before Sending: %v, want OK", c)
	}
	// 0x9280 alone: the camera is busy until its 0x9281.
	sending, _ := hex.DecodeString(sonySendingHex)
	resp, err := s.Do(ctx, mtp.Request{Code: mtp.OpSonySendCommand, Params: []uint32{4}}, bytes.NewReader(sending), int64(len(sending)), nil)
	if err != nil || resp.Code != mtp.RespOK {
		t.Fatalf("0x9280: %v %v", resp.Code, err)
	}
	if c := sonyOp(t, ctx, s, mtp.OpGetDeviceInfo); c != mtp.RespDeviceBusy {
		t.Errorf("GetDeviceInfo after a lone 0x9280: %v, want DeviceBusy", c)
	}
	var reply bytes.Buffer
	if resp, err = s.Do(ctx, mtp.Request{Code: mtp.OpSonyCommandReply, Params: []uint32{4}}, nil, 0, &reply); err != nil || resp.Code != mtp.RespOK || reply.Len() != 8192 {
		t.Fatalf("0x9281: %v %v, %d bytes", resp.Code, err, reply.Len())
	}
	if st := sonyState(t, cam); st != camsim.SonySending {
		t.Errorf("state %s after Sending, want sending", st)
	}
	if c := sonyOp(t, ctx, s, mtp.OpGetStorageIDs); c != mtp.RespOK {
		t.Errorf("GetStorageIDs after Sending: %v", c)
	}
	for _, op := range []mtp.OpCode{mtp.OpGetNumObjects, mtp.OpGetObjectHandles} {
		if c := sonyOp(t, ctx, s, op, 0xFFFFFFFF); c != mtp.RespInvalidObjectFormatCode {
			t.Errorf("%v with one parameter: %v, want InvalidObjectFormatCode", op, c)
		}
		if c := sonyOp(t, ctx, s, op, 0xFFFFFFFF, 0, 0); c != mtp.RespOK {
			t.Errorf("%v with three parameters: %v", op, c)
		}
	}
	// A second Init in the same Send to Computer is never answered.
	g, _ := ptpip.ParseGUID(sonyZeroGUID)
	short, cancelShort := context.WithTimeout(ctx, 1500*time.Millisecond)
	_, err = ptpip.Dial(short, addr, ptpip.Config{GUID: g, ConnectTimeout: 1500 * time.Millisecond})
	cancelShort()
	if err == nil {
		t.Error("a second session opened in the same Send to Computer")
	}
	var refused *ptpip.InitFailError
	if errors.As(err, &refused) {
		t.Errorf("a second Init got Init Fail %d, want no answer", refused.Reason)
	}

	// A camera paired with a computer refuses a zero tail, and then
	// takes a new Init on a new connection.
	other, _ := net.ParseMAC("02:00:5e:00:53:02")
	paired, paddr := sonyStart(t, camsim.Config{Dir: card, SonyPairedMAC: other})
	_, err = ptpip.Dial(ctx, paddr, ptpip.Config{GUID: g, ConnectTimeout: 3 * time.Second})
	if !errors.As(err, &refused) || refused.Reason != ptpip.FailRejectedInitiator {
		t.Errorf("zero tail on a paired camera: %v, want Init Fail 1", err)
	}
	mg, _ := sonyauth.MACGUID(other)
	sonyDial(t, ctx, paddr, hex.EncodeToString(mg[:]))
	if n := paired.Inits(); n != 2 {
		t.Errorf("%d Inits, want 2", n)
	}

	// Without "Sending..." the camera gives up and sleeps.
	quick, qaddr := sonyStart(t, camsim.Config{Dir: card, SonyGiveUp: 300 * time.Millisecond})
	qs, qd := sonyDial(t, ctx, qaddr, sonyZeroGUID)
	waitFor(t, 5*time.Second, "the camera to give up", func() bool {
		st, _ := quick.SonyState()
		return st == camsim.SonyAsleep
	})
	if _, err := qd.GetDeviceInfo(ctx); err == nil || qs.Err() == nil {
		t.Errorf("the session still works after the camera gave up: %v", err)
	}
	if _, err := ptpip.Dial(ctx, qaddr, ptpip.Config{GUID: g, ConnectTimeout: 2 * time.Second}); err == nil {
		t.Error("an asleep camera opened a session")
	}
	if err := quick.Press(); err != nil {
		t.Fatal(err)
	}
	sonyDial(t, ctx, qaddr, sonyZeroGUID) // awake again
}

// TestSonyAirnefOrder: Airnef 1.1's order with a Sony, OpenSession,
// GetStorageIDs and GetStorageInfo before the "Sending..." pair, works with
// real Sony cameras (notes §9) and with the simulated one; the
// --strict-sending variant refuses the storage operations until
// "Sending..." as some models do (libgphoto2's RX100M6 issue, notes §4).
func TestSonyAirnefOrder(t *testing.T) {
	card, _ := sonyCard(t)
	sending, _ := hex.DecodeString(sonySendingHex)
	for _, tc := range []struct {
		strict bool
		before mtp.ResponseCode
	}{{false, mtp.RespOK}, {true, mtp.RespAccessDenied}} {
		t.Run(fmt.Sprintf("strict=%v", tc.strict), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, addr := sonyStart(t, camsim.Config{Dir: card, StrictSending: tc.strict})
			s, _ := sonyDial(t, ctx, addr, sonyZeroGUID)
			if c := sonyOp(t, ctx, s, mtp.OpGetStorageIDs); c != tc.before {
				t.Errorf("GetStorageIDs before Sending: %v, want %v", c, tc.before)
			}
			if c := sonyOp(t, ctx, s, mtp.OpGetStorageInfo, 0x00010001); c != tc.before {
				t.Errorf("GetStorageInfo before Sending: %v, want %v", c, tc.before)
			}
			resp, err := s.Do(ctx, mtp.Request{Code: mtp.OpSonySendCommand, Params: []uint32{4}}, bytes.NewReader(sending), int64(len(sending)), nil)
			if err != nil || resp.Code != mtp.RespOK {
				t.Fatalf("0x9280: %v %v", resp.Code, err)
			}
			if resp, err = s.Do(ctx, mtp.Request{Code: mtp.OpSonyCommandReply, Params: []uint32{4}}, nil, 0, io.Discard); err != nil || resp.Code != mtp.RespOK {
				t.Fatalf("0x9281: %v %v", resp.Code, err)
			}
			for _, op := range []mtp.OpCode{mtp.OpGetStorageIDs, mtp.OpGetObjectHandles} {
				params := []uint32{0x00010001}
				if op == mtp.OpGetObjectHandles {
					params = []uint32{0xFFFFFFFF, 0, 0}
				}
				if c := sonyOp(t, ctx, s, op, params...); c != mtp.RespOK {
					t.Errorf("%v after Sending: %v", op, c)
				}
			}
		})
	}
}

// TestSonyGphoto2: Debian's libgphoto2 against the simulated Sony with a
// zero-tail GUID in its settings. The test records what it sends: the
// "Sending..." command over PTP/IP, and (by libgphoto2's history) no
// sleep at exit; the simulator answers it as a camera would and gphoto2
// downloads the card.
func TestSonyGphoto2(t *testing.T) {
	card, files := sonyCard(t)
	cam, addr := sonyStart(t, camsim.Config{Dir: card})
	_, port, _ := net.SplitHostPort(addr)
	g := newGphoto(t, port)
	if err := os.WriteFile(filepath.Join(g.home, ".gphoto", "settings"), []byte("ptp2_ip=guid=00:11:22:33:44:55:66:77:88:99:00:00:00:00:00:00\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := g.run(t, t.TempDir(), "--summary")
	if !strings.Contains(out, "ILCE-7M3") {
		t.Errorf("--summary:\n%s", out)
	}
	var sent []string
	for _, c := range cam.SonyCommands() {
		sent = append(sent, hex.EncodeToString(c))
	}
	t.Logf("gphoto2 --summary sent 0x9280 payloads %q, 0x9281 %d times; camera state %s",
		sent, cam.OpCount(mtp.OpSonyCommandReply), sonyState(t, cam))
	if len(sent) == 0 || sent[0] != sonySendingHex {
		t.Errorf("gphoto2 did not send the Sending... command first: %q", sent)
	}
	if cam.OpCount(mtp.OpSonyCommandReply) != len(sent) {
		t.Errorf("gphoto2 sent %d 0x9280 and %d 0x9281", len(sent), cam.OpCount(mtp.OpSonyCommandReply))
	}
	for _, s := range sent {
		if s == sonySleepHex {
			t.Logf("this libgphoto2 sends the sleep command at exit")
		}
	}
	if st := sonyState(t, cam); st == camsim.SonyConnecting {
		t.Errorf("camera still connecting after gphoto2's session")
	}
	// A second gphoto2 run is a second Init in the same Send to Computer:
	// only after Press (or if gphoto2 put the camera to sleep, after Press
	// too) does the camera answer again.
	if err := cam.Press(); err != nil {
		t.Fatal(err)
	}
	dl := t.TempDir()
	g.run(t, dl, "--get-all-files")
	for rel, want := range files {
		got, err := os.ReadFile(filepath.Join(dl, filepath.Base(rel)))
		if err != nil {
			t.Errorf("gphoto2 did not download %s: %v", rel, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs", rel)
		}
	}
}

// TestSonySessionLost: the camera drops the session mid-copy: the read
// fails with EIO at once (no hang), the mount stays and waits for the
// camera's next announcement; after Press + announce it reconnects and the
// same files read again. SSDP runs in a network namespace.
func TestSonySessionLost(t *testing.T) {
	if !discNetns(t, 90*time.Second) {
		return
	}
	mountRequireFUSE(t)
	card, files := sonyCard(t)
	big := filepath.Join(card, "2024-03-15", "C0001.MP4")
	bigData := make([]byte, 6<<20)
	for i := range bigData {
		bigData[i] = mountPatternByte(int64(i))
	}
	if err := os.WriteFile(big, bigData, 0o644); err != nil {
		t.Fatal(err)
	}
	cam := discSony(t, camsim.Config{Dir: card, Rate: 2 << 20})
	mnt := mountDir(t)
	r := mountStart(t, "127.0.0.1", mnt, "--guid", sonyZeroGUID, "--block-size", "128KiB", "--timeout", "5s")
	storage := mountStorage(t, mnt)

	// Copy the big file; drop the camera one second in.
	cp := exec.Command("cat", filepath.Join(storage, "2024-03-15", "C0001.MP4"))
	cp.Stdout = io.Discard
	var cpErr bytes.Buffer
	cp.Stderr = &cpErr
	if err := cp.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	dropped := time.Now()
	if n := cam.Drop(); n == 0 {
		t.Fatal("nothing to drop")
	}
	done := make(chan error, 1)
	go func() { done <- cp.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(cpErr.String(), "Input/output error") {
			t.Errorf("copy across the drop: %v %q, want an I/O error", err, cpErr.String())
		}
	case <-time.After(10 * time.Second):
		cp.Process.Kill()
		t.Fatal("the copy hangs after the camera dropped the session")
	}
	t.Logf("the copy failed %v after the drop", time.Since(dropped).Round(time.Millisecond))
	// While the camera is gone: EIO at once for what is not cached.
	start := time.Now()
	if _, err := os.ReadFile(filepath.Join(storage, "2024-03-16", "DSC00003.ARW")); !errors.Is(err, syscall.EIO) {
		t.Errorf("read while disconnected: %v, want EIO", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the failing read took %v", d)
	}
	if s := mountStats(t, mnt)["session"]; !strings.HasPrefix(s, "disconnected") {
		t.Errorf("stats session %q", s)
	}
	if n := cam.Inits(); n != 1 {
		t.Errorf("%d Inits before the camera came back, want 1 (the camera never answers a second)", n)
	}

	// The user presses Send to Computer again; the camera announces.
	if err := cam.Press(); err != nil {
		t.Fatal(err)
	}
	if err := cam.Announce(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.HasPrefix(mountStats(t, mnt)["session"], "connected") {
		if time.Now().After(deadline) {
			t.Fatalf("not reconnected 20s after press; stats %q", mountStats(t, mnt)["session"])
		}
		time.Sleep(200 * time.Millisecond)
	}
	if st := sonyState(t, cam); st != camsim.SonySending {
		t.Errorf("state %s after reconnecting, want sending", st)
	}
	got, err := os.ReadFile(filepath.Join(storage, "2024-03-15", "C0001.MP4"))
	if err != nil || !bytes.Equal(got, bigData) {
		t.Errorf("big file after reconnecting: %v (equal %v)", err, bytes.Equal(got, bigData))
	}
	sonyCheckCopy(t, storage, files)
	r.stop()
	if code := r.exitCode(20 * time.Second); code != 0 {
		t.Errorf("exit status %d", code)
	}
	if st := sonyState(t, cam); st != camsim.SonyAsleep {
		t.Errorf("state %s after unmount, want asleep", st)
	}
}
