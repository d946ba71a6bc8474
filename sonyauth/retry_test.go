package sonyauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestCandidates(t *testing.T) {
	host := guidHex(t, "a1b2c3d4e5f6a7b8c9d0000000000000")
	eth := Candidate{Iface: "eth0", GUID: guidHex(t, "0000000000000000ffff080027f5164f")}
	wlan := Candidate{Iface: "wlan0", GUID: guidHex(t, "0000000000000000ffffa4c3f085ac2d")}
	bridge := Candidate{Iface: "br0", GUID: eth.GUID} // a bridge carrying eth0's MAC
	explicit := guidHex(t, "00112233445566778899aabbccddeeff")
	dirty := guidHex(t, "a1b2c3d4e5f6a7b8c9d0112233445566") // host GUID file edited by hand

	tests := map[string]struct {
		first, persisted [16]byte
		local            []Candidate
		want             [][16]byte
	}{
		"default: host GUID first, then MACs": {
			first: host, persisted: host, local: []Candidate{eth, wlan},
			want: [][16]byte{host, eth.GUID, wlan.GUID},
		},
		"explicit GUID, then host, then MACs": {
			first: explicit, persisted: host, local: []Candidate{eth, wlan},
			want: [][16]byte{explicit, host, eth.GUID, wlan.GUID},
		},
		"--guid=mac already tried eth0": {
			first: eth.GUID, persisted: host, local: []Candidate{eth, bridge, wlan},
			want: [][16]byte{eth.GUID, host, wlan.GUID},
		},
		"persisted GUID is given a zero tail": {
			first: dirty, persisted: dirty, local: nil,
			want: [][16]byte{dirty, host},
		},
		"no interfaces": {
			first: host, persisted: host,
			want: [][16]byte{host},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Candidates(tc.first, tc.persisted, tc.local)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %x\nwant %x", got, tc.want)
			}
			// Deterministic: the same input gives the same plan.
			if again := Candidates(tc.first, tc.persisted, tc.local); !slices.Equal(got, again) {
				t.Error("plan differs between calls")
			}
		})
	}
}

var errRejected = errors.New("init fail reason 1")

type rejectedErr struct{ guid [16]byte }

func (e *rejectedErr) Error() string { return fmt.Sprintf("camera rejected %x", e.guid) }
func (e *rejectedErr) Unwrap() error { return errRejected }

func isRejected(err error) bool { return errors.Is(err, errRejected) }

func plan(n int) [][16]byte {
	p := make([][16]byte, n)
	for i := range p {
		p[i][0] = byte(i + 1)
	}
	return p
}

func TestTryGUIDsFirstSuccess(t *testing.T) {
	cands := plan(4)
	var dialed [][16]byte
	got, err := TryGUIDs(t.Context(), cands, func(_ context.Context, g [16]byte) error {
		dialed = append(dialed, g)
		if g == cands[2] {
			return nil
		}
		return &rejectedErr{g}
	}, isRejected)
	if err != nil {
		t.Fatal(err)
	}
	if got != cands[2] {
		t.Errorf("accepted %x, want %x", got, cands[2])
	}
	if !slices.Equal(dialed, cands[:3]) {
		t.Errorf("dialed %x, want %x (stop at the first success)", dialed, cands[:3])
	}
}

func TestTryGUIDsAllRejected(t *testing.T) {
	cands := [][16]byte{
		guidHex(t, "a1b2c3d4e5f6a7b8c9d0000000000000"),
		guidHex(t, "0000000000000000ffff080027f5164f"),
	}
	var dialed int
	_, err := TryGUIDs(t.Context(), cands, func(_ context.Context, g [16]byte) error {
		dialed++
		return &rejectedErr{g}
	}, isRejected)
	var pe *PairedElsewhereError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v, want *PairedElsewhereError", err)
	}
	if dialed != 2 || !slices.Equal(pe.Tried, cands) {
		t.Errorf("dialed %d, Tried %x; want each candidate once", dialed, pe.Tried)
	}
	var last *rejectedErr
	if !errors.As(err, &last) || last.guid != cands[1] {
		t.Errorf("error does not unwrap to the last refusal: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"paired with another computer", "PlayMemories", "Windows or macOS",
		"a1b2c3d4e5f6a7b8c9d0000000000000", "0000000000000000ffff080027f5164f",
		"--guid=mac:IFACE", "--guid HEX", "reset the camera's network settings",
		"(the MAC addresses of the interfaces present were tried)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}

	// No MAC GUID was tried: the advice offers --guid=mac instead.
	_, err = TryGUIDs(t.Context(), cands[:1], func(_ context.Context, g [16]byte) error { return &rejectedErr{g} }, isRejected)
	if msg := err.Error(); !strings.Contains(msg, "use --guid=mac to offer") || strings.Contains(msg, "were tried)") {
		t.Errorf("advice for a plan without MAC GUIDs:\n%s", msg)
	}
}

func TestTryGUIDsOtherErrorStops(t *testing.T) {
	unreachable := errors.New("connection refused")
	cands := plan(3)
	var dialed int
	_, err := TryGUIDs(t.Context(), cands, func(_ context.Context, g [16]byte) error {
		dialed++
		if dialed == 2 {
			return unreachable
		}
		return &rejectedErr{g}
	}, isRejected)
	if !errors.Is(err, unreachable) {
		t.Fatalf("error %v, want the dial error", err)
	}
	var pe *PairedElsewhereError
	if errors.As(err, &pe) {
		t.Error("a non-rejection reported as paired elsewhere")
	}
	if dialed != 2 {
		t.Errorf("dialed %d times, want 2 (stop at the first other error)", dialed)
	}
}

func TestTryGUIDsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	var dialed int
	_, err := TryGUIDs(ctx, plan(3), func(_ context.Context, g [16]byte) error {
		dialed++
		cancel() // the user gives up while the first attempt is refused
		return &rejectedErr{g}
	}, isRejected)
	if !errors.Is(err, context.Canceled) || dialed != 1 {
		t.Errorf("error %v after %d dials; want context.Canceled after 1", err, dialed)
	}
}

func TestTryGUIDsEmpty(t *testing.T) {
	_, err := TryGUIDs(t.Context(), nil, func(context.Context, [16]byte) error {
		t.Fatal("dial called with no candidates")
		return nil
	}, isRejected)
	if !errors.Is(err, ErrNoCandidates) {
		t.Errorf("error %v, want ErrNoCandidates", err)
	}
}
