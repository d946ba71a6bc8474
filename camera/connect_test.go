package camera

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
	"github.com/airnef-mount/airnef-mount/sonyauth"
	"github.com/airnef-mount/airnef-mount/ssdp"
)

// startSim serves a simulated camera on 127.0.0.1:0 until the test ends.
func startSim(t *testing.T, cfg camsim.Config) (*camsim.Camera, string) {
	t.Helper()
	cfg.Generate = &camsim.CardSpec{Photos: 1, Size: 256 << 10}
	cfg.Logger = testLog(t)
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

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), nil))
}

// testConnector is a Connector for ids that identifies a refusing camera
// as identified says (no SSDP on the test machine's network).
func testConnector(t *testing.T, ids *Identities, identified ...mtp.Vendor) *Connector {
	c := NewConnector(Config{Identities: ids, ConnectTimeout: 10 * time.Second, Timeout: 10 * time.Second,
		Logger: testLog(t), PTPLogger: testLog(t)})
	c.identify = func(context.Context, string) mtp.Vendor {
		if len(identified) == 0 {
			return mtp.VendorGeneric
		}
		return identified[0]
	}
	return c
}

var testHost = [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}

// A Sony paired with this machine under another system refuses this host's
// GUID and its zero tail, and takes the MAC-derived GUID, which Connect then
// offers first at the next Send to Computer. Close(true) puts it to sleep.
func TestConnectSonyIdentityOrder(t *testing.T) {
	mac := sonyauth.Candidate{Iface: "eth9", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 7}}
	mac.GUID, _ = sonyauth.MACGUID(mac.MAC)
	cam, addr := startSim(t, camsim.Config{Personality: camsim.Sony(), SonyPairedMAC: mac.MAC})
	c := testConnector(t, &Identities{first: testHost, persisted: testHost, locals: []sonyauth.Candidate{mac}, retry: true}, mtp.VendorSony)

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := c.Connect(ctx, addr, mtp.VendorGeneric)
	if err != nil {
		t.Fatal(err)
	}
	if s.Vendor != mtp.VendorSony || s.Info.Model != "ILCE-7M3" {
		t.Errorf("session vendor %v model %q", s.Vendor, s.Info.Model)
	}
	if st, _ := cam.SonyState(); st != camsim.SonySending {
		t.Errorf("Sony state %q after Connect, want %q", st, camsim.SonySending)
	}
	s.Close(true)
	if st, _ := cam.SonyState(); st != camsim.SonyAsleep {
		t.Errorf("Sony state %q after Close(true), want %q", st, camsim.SonyAsleep)
	}

	if err := cam.Press(); err != nil {
		t.Fatal(err)
	}
	s, err = c.Connect(ctx, addr, mtp.VendorSony)
	if err != nil {
		t.Fatal(err)
	}
	s.Close(false)
	want := [][16]byte{testHost, sonyauth.ZeroTail(testHost), mac.GUID, mac.GUID}
	if got := cam.SonyInitGUIDs(); !slices.Equal(got, want) {
		t.Errorf("GUIDs offered %x, want %x", got, want)
	}
}

// A refusal is a *RefusedError that says what to do for the make the
// camera announces: a GUID given alone is not retried; a Sony that refuses
// every GUID is paired elsewhere; a camera that does not announce itself
// gets no Sony advice and no GUID retries.
func TestConnectRefused(t *testing.T) {
	tests := map[string]struct {
		ids        *Identities
		identified mtp.Vendor
		offers     int
		say, never string
	}{
		"sony fixed":  {FixedIdentity(testHost), mtp.VendorSony, 1, "the Sony at ", "Nikon"},
		"sony all":    {&Identities{first: testHost, persisted: testHost, locals: []sonyauth.Candidate{}, retry: true}, mtp.VendorSony, 2, "paired with another computer", "Nikon"},
		"unannounced": {&Identities{first: testHost, persisted: testHost, locals: []sonyauth.Candidate{}, retry: true}, mtp.VendorGeneric, 1, "on a Nikon", "--guid"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cam, addr := startSim(t, camsim.Config{Personality: camsim.Sony(), SonyPairedMAC: net.HardwareAddr{2, 0, 0, 0, 0, 9}})
			_, err := testConnector(t, tc.ids, tc.identified).Connect(t.Context(), addr, mtp.VendorGeneric)
			var refused *RefusedError
			if !errors.As(err, &refused) || !strings.Contains(err.Error(), tc.say) || strings.Contains(err.Error(), tc.never) {
				t.Fatalf("Connect = %v, want a *RefusedError saying %q, not %q", err, tc.say, tc.never)
			}
			if n := len(cam.SonyInitGUIDs()); n != tc.offers {
				t.Errorf("%d GUIDs offered, want %d", n, tc.offers)
			}
		})
	}
}

// Nothing listening: an error that says so, not a refusal.
func TestConnectNoCamera(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = testConnector(t, FixedIdentity(testHost)).Connect(t.Context(), addr, mtp.VendorGeneric)
	var refused *RefusedError
	if err == nil || errors.As(err, &refused) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("Connect = %v", err)
	}
}

// Each way of failing gets its own sentence, with the make's advice, and
// only refusals are *RefusedError (exit status 3).
func TestDiagnose(t *testing.T) {
	const addr = "192.168.1.1:15740"
	wrap := func(err error) error { return fmt.Errorf("ptpip: connect %s: command connection: %w", addr, err) }
	timeout := &net.OpError{Op: "dial", Net: "tcp", Err: os.ErrDeadlineExceeded}
	tests := map[string]struct {
		err        error
		vendor     mtp.Vendor
		accepted   bool
		refused    bool
		say, never string
	}{
		"busy nikon":     {err: &ptpip.InitFailError{Reason: ptpip.FailBusy}, vendor: mtp.VendorNikon, accepted: true, say: "busy with another client", never: "refused"},
		"busy unknown":   {err: &ptpip.InitFailError{Reason: ptpip.FailBusy}, accepted: true, say: "another airnef-mount", never: "--guid"},
		"rejected sony":  {err: &ptpip.InitFailError{Reason: ptpip.FailRejectedInitiator}, vendor: mtp.VendorSony, accepted: true, refused: true, say: "--guid", never: "Nikon"},
		"rejected canon": {err: &ptpip.InitFailError{Reason: ptpip.FailRejectedInitiator}, vendor: mtp.VendorCanon, accepted: true, refused: true, say: "pair it with this computer again", never: "--guid"},
		"rejected nikon": {err: &ptpip.InitFailError{Reason: ptpip.FailRejectedInitiator}, vendor: mtp.VendorNikon, accepted: true, refused: true, say: "the Nikon at", never: "--guid"},
		"unspecified":    {err: &ptpip.InitFailError{Reason: ptpip.FailUnspecified}, accepted: true, refused: true, say: "without saying why (Init Fail reason 3)"},
		"port closed":    {err: wrap(syscall.ECONNREFUSED), say: "connection refused"},
		"silent":         {err: wrap(timeout), say: "no answer from " + addr + " within 10s"},
		"prompt":         {err: wrap(context.DeadlineExceeded), accepted: true, say: "accept this computer on the camera's screen"},
		"no route":       {err: wrap(syscall.EHOSTUNREACH), say: "cannot be reached"},
	}
	c := testConnector(t, FixedIdentity(testHost))
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			err := c.diagnose(tc.err, addr, tc.vendor, testHost, tc.accepted)
			var refused *RefusedError
			if errors.As(err, &refused) != tc.refused {
				t.Errorf("refusal %t, want %t", !tc.refused, tc.refused)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.say) || (tc.never != "" && strings.Contains(msg, tc.never)) || strings.Contains(msg, "\n") {
				t.Errorf("%q: want one line saying %q, not %q", msg, tc.say, tc.never)
			}
		})
	}
}

// Another camera answering at the address is closed, and the camera that
// was mounted is waited for.
func TestRedialOtherCamera(t *testing.T) {
	a, addrA := startSim(t, camsim.Config{Personality: camsim.Nikon(), Serial: "1111"})
	b, addrB := startSim(t, camsim.Config{Personality: camsim.Nikon(), Serial: "2222"})
	c := testConnector(t, FixedIdentity(testHost))
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	old, err := c.Connect(ctx, addrA, mtp.VendorGeneric)
	if err != nil {
		t.Fatal(err)
	}
	old.Close(false)

	var dials []string
	r := &redial{first: 10 * time.Millisecond, max: 10 * time.Millisecond, log: testLog(t),
		connect: func(ctx context.Context, addr string, hint mtp.Vendor) (*Session, error) {
			// The address answers with camera B first, then A again.
			to := addrA
			if len(dials) == 0 {
				to = addrB
			}
			dials = append(dials, to)
			return c.Connect(ctx, to, hint)
		},
		watch: func(context.Context, func(ssdp.Announcement)) error {
			t.Error("watched SSDP for a Nikon")
			return nil
		},
	}
	back := make(chan *Session, 1)
	r.run(ctx, old, back)
	s := <-back
	defer s.Close(false)
	if s.Info.SerialNumber != "1111" || len(dials) != 2 {
		t.Fatalf("back serial %q after dialling %v", s.Info.SerialNumber, dials)
	}
	if n := b.OpenSessions(); n != 0 {
		t.Errorf("camera B has %d open sessions, want its session closed", n)
	}
	if n := a.OpenSessions(); n != 1 {
		t.Errorf("camera A has %d open sessions, want 1", n)
	}
}

// End waits for the transaction in flight, calls idle before the goodbye
// (so the caller can stop what would ask the camera next), then sends
// CloseSession: the session is never broken under its goodbye.
func TestEndAfterTransactionInFlight(t *testing.T) {
	cam, addr := startSim(t, camsim.Config{Personality: camsim.Nikon()})
	c := testConnector(t, FixedIdentity(testHost))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := c.Connect(ctx, addr, mtp.VendorNikon)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(minSessionAge) // no wait in End
	ids := cam.OpCount(mtp.OpGetStorageIDs)
	cam.Control("stall 500ms")
	inFlight := make(chan error, 1)
	go func() {
		_, err := s.Device.GetStorageIDs(ctx)
		inFlight <- err
	}()
	for cam.OpCount(mtp.OpGetStorageIDs) == ids {
		time.Sleep(5 * time.Millisecond)
	}
	started := time.Now()
	idled := make(chan struct{})
	s.End(false, func() {
		// The stalled answer takes 500 ms: idle before it is idle while
		// the transaction is in flight. (The caller's goroutine may get
		// its answer a moment after End saw the transaction end.)
		if d := time.Since(started); d < 400*time.Millisecond {
			t.Errorf("idle called %v into a 500 ms transaction", d)
		}
		select {
		case err := <-inFlight:
			if err != nil {
				t.Errorf("the transaction in flight: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("the transaction in flight never ended")
		}
		if n := cam.OpCount(mtp.OpCloseSession); n != 0 {
			t.Errorf("CloseSession before idle: %d", n)
		}
		close(idled)
	})
	select {
	case <-idled:
	default:
		t.Fatal("End never called idle")
	}
	if n := cam.OpCount(mtp.OpCloseSession); n != 1 {
		t.Errorf("CloseSession sent %d times, want 1", n)
	}
}
