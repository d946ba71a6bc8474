package camsim

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// files are the camera's files in path order.
func files(c *Camera) []object {
	fs := c.objects(0xFFFFFFFF, func(o *object) bool { return !o.dir })
	return fs
}

func TestTransferList(t *testing.T) {
	for name, tc := range map[string]struct {
		p      *Personality
		n      int
		code   mtp.ResponseCode
		marked int
	}{
		"nikon, none":   {p: Nikon(), code: mtp.RespNikonNoTransferList},
		"nikon, two":    {p: Nikon(), n: 2, marked: 2},
		"nikon, all":    {p: Nikon(), n: 99, marked: -1},
		"z6 lists it":   {p: mustBody(t, "z6"), n: 1, marked: 1},
		"canon answers": {p: Canon(), n: 2, code: mtp.RespOperationNotSupported},
	} {
		t.Run(name, func(t *testing.T) {
			c := faultCamera(t, Config{Personality: tc.p, TransferList: tc.n, Generate: &CardSpec{Photos: 4, Seed: 1, Size: MinGeneratedSize}})
			s := &session{cam: c, log: c.log}
			r := s.dispatchOp(&txn{op: mtp.OpNikonGetTransferList})
			if tc.code != 0 {
				if r.code != tc.code {
					t.Fatalf("answered %v, want %v", r.code, tc.code)
				}
				return
			}
			all := files(c)
			if tc.marked < 0 {
				tc.marked = len(all)
			}
			hs, err := mtp.DecodeUint32Array(dataOf(t, r))
			if err != nil || len(hs) != tc.marked {
				t.Fatalf("list %v, %v; want %d handles", hs, err, tc.marked)
			}
			slices.SortFunc(all, func(a, b object) int { return strings.Compare(a.rel, b.rel) })
			want := map[uint32]bool{}
			for _, o := range all[:tc.marked] {
				want[o.handle] = true
			}
			for _, h := range hs {
				if !want[h] {
					t.Fatalf("handle %#x is not one of the first %d photos", h, tc.marked)
				}
			}
		})
	}
}

func mustBody(t *testing.T, name string) *Personality {
	b, err := BodyNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	return b.Personality()
}

// dispatchOp runs one operation as the camera does once the session is open.
func (s *session) dispatchOp(t *txn) reply {
	s.sessionID.Store(1)
	return s.dispatch(t)
}

func dataOf(t *testing.T, r reply) []byte {
	t.Helper()
	if r.code != mtp.RespOK || r.data == nil {
		t.Fatalf("answered %v without data", r.code)
	}
	b, err := io.ReadAll(r.data)
	if r.closer != nil {
		r.closer.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMarkControlAndRefuseUnmarked(t *testing.T) {
	c := faultCamera(t, Config{Personality: mustBody(t, "z6"), TransferList: 1, RefuseUnmarked: true,
		Generate: &CardSpec{Photos: 3, Seed: 1, Size: MinGeneratedSize}})
	s := &session{cam: c, log: c.log}
	all := files(c)
	read := func(o object) mtp.ResponseCode {
		return s.dispatchOp(&txn{op: mtp.OpNikonGetPartialObjectEx, params: []uint32{o.handle, 0, 0, 10, 0}}).code
	}
	if read(all[0]) != mtp.RespOK || read(all[1]) != mtp.RespAccessDenied {
		t.Fatalf("reads: marked %v, unmarked %v", read(all[0]), read(all[1]))
	}
	// Listing is not refused.
	if r := s.dispatchOp(&txn{op: mtp.OpGetObjectInfo, params: []uint32{all[1].handle}}); r.code != mtp.RespOK {
		t.Fatalf("GetObjectInfo of an unmarked photo: %v", r.code)
	}
	for _, step := range []struct{ cmd, answer string }{
		{"mark " + all[1].rel, "ok 2"},
		{"mark DCIM/*/*", fmt.Sprintf("ok %d", len(all))},
		{"unmark " + all[0].rel, fmt.Sprintf("ok %d", len(all)-1)},
		{"mark nothing/here", "error"},
		{"mark [", "error"},
		{"unmark all", "ok 0"},
		{"mark " + all[2].rel, "ok 1"},
	} {
		if got := c.Control(step.cmd); !strings.HasPrefix(got, step.answer) {
			t.Fatalf("%q answered %q, want %q", step.cmd, got, step.answer)
		}
	}
	if read(all[2]) != mtp.RespOK || read(all[0]) != mtp.RespAccessDenied {
		t.Fatal("reads do not follow the marks")
	}
	if st := c.Control("state"); !strings.Contains(st, " marked=1") {
		t.Fatalf("state %q", st)
	}
	if got := faultCamera(t, Config{Personality: Canon()}).Control("mark x"); !strings.HasPrefix(got, "error") {
		t.Fatalf("a Canon marked: %q", got)
	}
}

func TestClock(t *testing.T) {
	loc := time.FixedZone("cam", 2*3600)
	t.Run("nikon", func(t *testing.T) {
		c := faultCamera(t, Config{Personality: Nikon(), ClockOffset: -time.Hour, Location: loc})
		s := &session{cam: c, log: c.log}
		str, _, err := mtp.DecodeString(dataOf(t, s.dispatchOp(&txn{op: mtp.OpGetDevicePropValue, params: []uint32{0x5011}})))
		got, ok := mtp.ParseDate(str, loc)
		if err != nil || !ok || time.Since(got) < 59*time.Minute || time.Since(got) > 61*time.Minute {
			t.Fatalf("clock %q (%v), want an hour behind", str, err)
		}
		if strings.Contains(c.Control("state"), "clock=") {
			t.Fatal("clock= before a host set it")
		}
		val, _ := mtp.AppendString(nil, "20261205T101112")
		if r := s.dispatchOp(&txn{op: mtp.OpSetDevicePropValue, params: []uint32{0x5011}, data: val}); r.code != mtp.RespOK {
			t.Fatalf("set: %v", r.code)
		}
		if c.ClockSet() != "20261205T101112" || !strings.Contains(c.Control("state"), " clock=20261205T101112") {
			t.Fatalf("recorded %q; state %q", c.ClockSet(), c.Control("state"))
		}
		bad, _ := mtp.AppendString(nil, "tomorrow")
		for _, tc := range []struct {
			tx   *txn
			code mtp.ResponseCode
		}{
			{&txn{op: mtp.OpSetDevicePropValue, params: []uint32{0x5011}, data: bad}, mtp.RespInvalidDevicePropValue},
			{&txn{op: mtp.OpSetDevicePropValue, params: []uint32{0x5011}, data: []byte{9}}, mtp.RespInvalidDevicePropFormat},
			{&txn{op: mtp.OpGetDevicePropValue, params: []uint32{0x5001}}, mtp.RespDevicePropNotSupported},
		} {
			if r := s.dispatchOp(tc.tx); r.code != tc.code {
				t.Errorf("%v %v: %v, want %v", tc.tx.op, tc.tx.data, r.code, tc.code)
			}
		}
	})
	t.Run("canon", func(t *testing.T) {
		c := faultCamera(t, Config{Personality: Canon(), Location: loc})
		s := &session{cam: c, log: c.log}
		if r := s.dispatchOp(&txn{op: mtp.OpGetDevicePropValue, params: []uint32{0x5011}}); r.code != mtp.RespDevicePropNotSupported {
			t.Fatalf("a Canon read DateTime: %v", r.code)
		}
		when := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
		data := mtp.AppendCanonEOSProp(nil, mtp.DevicePropCanonEOSUTCTime, uint32(when.Unix()))
		if r := s.dispatchOp(&txn{op: mtp.OpCanonEOSSetDevicePropValue, data: data}); r.code != mtp.RespOK {
			t.Fatalf("set: %v", r.code)
		}
		if c.ClockSet() != "20261205T100000" {
			t.Fatalf("recorded %q, want the UTC time in the camera's zone", c.ClockSet())
		}
		short := binary.LittleEndian.AppendUint32(nil, 4)
		if r := s.dispatchOp(&txn{op: mtp.OpCanonEOSSetDevicePropValue, data: short}); r.code != mtp.RespInvalidDevicePropFormat {
			t.Fatalf("a short record: %v", r.code)
		}
	})
	t.Run("sony", func(t *testing.T) {
		c := faultCamera(t, Config{Personality: Sony()})
		s := &session{cam: c, log: c.log}
		// Its DeviceInfo lists no DateTime (camlibs' dumps).
		if r := s.dispatchOp(&txn{op: mtp.OpGetDevicePropValue, params: []uint32{0x5011}}); r.code != mtp.RespDevicePropNotSupported {
			t.Fatalf("a Sony read DateTime: %v", r.code)
		}
	})
}

func TestSonyModeConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		p    *Personality
		mode string
		ok   bool
	}{
		"sony smartphone":  {Sony(), SonyModeSmartphone, true},
		"sony computer":    {Sony(), SonyModeComputer, true},
		"nikon smartphone": {Nikon(), SonyModeSmartphone, false},
		"sony other":       {Sony(), "tv", false},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := New(Config{Personality: tc.p, SonyMode: tc.mode, Generate: &CardSpec{Photos: 1, Seed: 1, Size: MinGeneratedSize}})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v", err)
			}
		})
	}
}
