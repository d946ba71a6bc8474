package test

// End-to-end tests of connecting as a person sees it (issue 16): the
// progress lines, a silent address, a camera waiting for its user, Ctrl-C
// while connecting, an existing mount found first, and Init Fail told
// apart by what the camera said and which make it is. The tests that let
// airnef-mount look for the camera's announcement (a refusal from a camera
// of unknown make) run in a network namespace of their own (discNetns).
// Helpers start with "conn".

import (
	"log/slog"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// connStderrLines waits (bounded) until the process's stderr holds want.
func connWaitStderr(t *testing.T, run *mountRun, want string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for !strings.Contains(run.stderr.String(), want) {
		if time.Since(start) > within {
			t.Fatalf("stderr did not say %q within %v:\n%s", want, within, run.stderr.String())
		}
		select {
		case <-run.done:
			if !strings.Contains(run.stderr.String(), want) {
				t.Fatalf("airnef-mount ended (%v) without saying %q:\n%s", run.err, want, run.stderr.String())
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
	return time.Since(start)
}

// connFinal is the last line airnef-mount wrote on stderr.
func connFinal(run *mountRun) string {
	lines := strings.Split(strings.TrimSpace(run.stderr.String()), "\n")
	return lines[len(lines)-1]
}

// A camera that makes its user accept this computer (Canon): after a few
// seconds without the Init answer, the user is told to look at the camera;
// once accepted, it mounts.
func TestConnectDelayedInit(t *testing.T) {
	mountRequireFUSE(t)
	_, addr := faultSim(t, camsim.Config{Personality: camsim.Canon(), Generate: faultCard(), AuthDelay: 6 * time.Second})
	mnt := mountDir(t)
	run := mountLaunch(t, addr, mnt)
	connWaitStderr(t, run, "connecting to "+addr+" ...", 10*time.Second)
	took := connWaitStderr(t, run, "the camera answered; on a Canon, accept this computer on the camera's screen", 15*time.Second)
	if took > 10*time.Second {
		t.Errorf("the hint came %v after connecting began", took)
	}
	if err := run.waitMounted(30 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// Ctrl-C while connecting ends the program at once with exit status 130
// and no error message.
func TestConnectInterrupted(t *testing.T) {
	_, addr := faultSim(t, camsim.Config{Personality: camsim.Canon(), Generate: faultCard(), AuthDelay: time.Hour})
	run := mountLaunch(t, addr, t.TempDir())
	connWaitStderr(t, run, "connecting to", 10*time.Second)
	time.Sleep(200 * time.Millisecond) // the Init Command Request is out
	start := time.Now()
	run.cmd.Process.Signal(syscall.SIGINT)
	if code := run.exitCode(10 * time.Second); code != 130 {
		t.Errorf("exit status %d, want 130", code)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("exit %v after Ctrl-C", d)
	}
	if s := run.stderr.String(); strings.Contains(s, "airnef-mount:") || strings.Contains(s, "level=ERROR") {
		t.Errorf("Ctrl-C was reported as a failure:\n%s", s)
	}
}

// A mount point that is already an airnef-mount mount is refused before
// anything is sent to the camera.
func TestConnectExistingMount(t *testing.T) {
	mountRequireFUSE(t)
	_, addr := faultSim(t, camsim.Config{Generate: faultCard()})
	mnt := mountDir(t)
	mountStart(t, addr, mnt)
	other, otherAddr := faultSim(t, camsim.Config{Personality: camsim.Canon(), Generate: faultCard(), AuthDelay: time.Hour})
	run := mountLaunch(t, otherAddr, mnt)
	if code := run.exitCode(10 * time.Second); code != 2 {
		t.Errorf("exit status %d, want 2", code)
	}
	if s := connFinal(run); !strings.Contains(s, mnt+" is already mounted by airnef-mount") {
		t.Errorf("last line %q", s)
	}
	if n := other.Inits(); n != 0 {
		t.Errorf("the second camera got %d Init Command Requests", n)
	}
	if !strings.HasPrefix(mountStats(t, mnt)["session"], "connected") {
		t.Error("the first mount was disturbed")
	}
}

// A camera that already serves another client answers Init Fail busy: the
// second airnef-mount says so (not "refused", not pairing), exit status 1.
func TestConnectBusy(t *testing.T) {
	mountRequireFUSE(t)
	_, addr := faultSim(t, camsim.Config{Personality: camsim.Nikon(), Generate: faultCard()})
	mountStart(t, addr, mountDir(t))
	run := mountLaunch(t, addr, mountDir(t))
	if code := run.exitCode(30 * time.Second); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	last := connFinal(run)
	if !strings.Contains(last, "busy with another client") || strings.Contains(last, "pair") || strings.Contains(last, "--guid") {
		t.Errorf("last line %q, want the busy diagnosis only", last)
	}
}

// An address where nothing answers at all: said after a few seconds, and
// the end comes in seconds, not after --connect-timeout. In a namespace,
// the address is reached through a veth pair whose other end has no
// address, and a fixed neighbour entry keeps ARP from failing: every
// packet goes out and nothing ever comes back.
func TestConnectSilentAddress(t *testing.T) {
	if !discNetns(t, 60*time.Second) {
		return
	}
	for _, c := range [][]string{
		{"ip", "link", "add", "silent0", "type", "veth", "peer", "name", "silent1"},
		{"ip", "addr", "add", "10.99.0.1/24", "dev", "silent0"},
		{"ip", "link", "set", "silent0", "up"},
		{"ip", "link", "set", "silent1", "up"},
		{"ip", "neigh", "add", "10.99.0.2", "lladdr", "02:00:00:00:00:99", "dev", "silent0", "nud", "permanent"},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Skipf("%q: %v: %s (no veth here)", c, err, out)
		}
	}
	run := mountLaunch(t, "10.99.0.2", t.TempDir())
	start := time.Now()
	took := connWaitStderr(t, run, "no answer from 10.99.0.2:15740 yet", 15*time.Second)
	t.Logf("warned after %v", took.Round(time.Millisecond))
	if code := run.exitCode(40 * time.Second); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if d := time.Since(start); d > 40*time.Second {
		t.Errorf("gave up after %v, want well before --connect-timeout (60s)", d)
	}
	if s := connFinal(run); !strings.Contains(s, "no answer from 10.99.0.2:15740 within") {
		t.Errorf("last line %q", s)
	}
}

// Init Fail told apart by the camera's reason and its make (from its
// announcement when it makes one): a Sony gets its GUID advice, a Canon
// its pairing, a camera that does not announce itself (a Nikon) neither.
func TestConnectInitFail(t *testing.T) {
	if !discNetns(t, 120*time.Second) {
		return
	}
	tests := map[string]struct {
		p          *camsim.Personality
		refuse     string // refuse-init reason; "" for a Sony paired elsewhere
		ssdp       bool
		code       int
		say, never string
	}{
		"sony paired elsewhere": {p: camsim.Sony(), ssdp: true, code: 3, say: "--guid", never: "Nikon"},
		"canon rejected":        {p: camsim.Canon(), refuse: "rejected", ssdp: true, code: 3, say: "the Canon at", never: "--guid"},
		"nikon rejected":        {p: camsim.Nikon(), refuse: "rejected", code: 3, say: "on a Nikon", never: "--guid"},
		"unspecified":           {p: camsim.Nikon(), refuse: "unspecified", code: 3, say: "without saying why", never: "--guid"},
		"busy":                  {p: camsim.Canon(), refuse: "busy", ssdp: true, code: 1, say: "busy with another client", never: "refused"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := camsim.Config{Personality: tc.p, Generate: faultCard(),
				Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))}
			if tc.refuse == "" {
				cfg.SonyPairedMAC = net.HardwareAddr{2, 0, 0, 0, 0, 9}
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
			if tc.refuse != "" {
				if a := cam.Control("refuse-init " + tc.refuse); !strings.HasPrefix(a, "ok") {
					t.Fatal(a)
				}
			}
			if tc.ssdp {
				if err := cam.StartSSDP(camsim.SSDPConfig{Interface: "lo", Interval: 500 * time.Millisecond}); err != nil {
					t.Fatal(err)
				}
			}
			run := mountLaunch(t, addr, t.TempDir(), "--ssdp-interface", "lo")
			if code := run.exitCode(60 * time.Second); code != tc.code {
				t.Errorf("exit status %d, want %d", code, tc.code)
			}
			last := connFinal(run)
			if !strings.HasPrefix(last, "airnef-mount: ") || !strings.Contains(last, tc.say) || strings.Contains(last, tc.never) {
				t.Errorf("last line %q: want it to say %q, not %q", last, tc.say, tc.never)
			}
		})
	}
}
