package camera

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// TestSyncClock connects to each make with Config.SyncClock and checks what
// the simulated camera was set to, and that without it nothing is set.
func TestSyncClock(t *testing.T) {
	loc := time.FixedZone("cam", 3*3600)
	for name, tc := range map[string]struct {
		p      *camsim.Personality
		offset time.Duration
		sync   bool
		set    bool   // the camera's clock was set
		log    string // what the log says
	}{
		"nikon off":     {p: camsim.Nikon(), offset: -time.Hour, sync: true, set: true, log: "set the camera's clock"},
		"nikon right":   {p: camsim.Nikon(), offset: time.Second, sync: true, log: "the camera's clock is right"},
		"nikon no flag": {p: camsim.Nikon(), offset: -time.Hour},
		"canon always":  {p: camsim.Canon(), sync: true, set: true, log: "set the Canon's clock"},
		"sony cannot":   {p: camsim.Sony(), offset: -time.Hour, sync: true, log: "does not let a computer set its clock"},
		"generic":       {p: camsim.Generic(), offset: -time.Hour, sync: true, log: "does not let a computer set its clock"},
		"nikon refuses": {p: refusingNikon(t), offset: -time.Hour, sync: true, log: "the camera refused to set its clock"},
	} {
		t.Run(name, func(t *testing.T) {
			cam, addr := startSim(t, camsim.Config{Personality: tc.p, ClockOffset: tc.offset, Location: loc})
			var logs bytes.Buffer
			// A zero tail: what an unpaired Sony accepts.
			c := NewConnector(Config{Identities: FixedIdentity([16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}), ConnectTimeout: 10 * time.Second, Timeout: 10 * time.Second,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)), SyncClock: tc.sync, Location: loc})
			c.identify = func(context.Context, string) mtp.Vendor { return mtp.VendorGeneric }
			cs, err := c.Connect(context.Background(), addr, mtp.VendorGeneric)
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close(false)
			set := cam.ClockSet()
			if (set != "") != tc.set {
				t.Fatalf("camera clock set to %q; want set %v; log:\n%s", set, tc.set, logs.String())
			}
			if tc.set {
				at, ok := mtp.ParseDate(set, loc)
				if d := time.Since(at).Abs(); !ok || d > 3*time.Second {
					t.Fatalf("set to %q, %v off now", set, d)
				}
			}
			if tc.log != "" && !strings.Contains(logs.String(), tc.log) {
				t.Fatalf("log lacks %q:\n%s", tc.log, logs.String())
			}
			if !tc.sync && strings.Contains(logs.String(), "sync-clock") {
				t.Fatalf("without the flag the log says:\n%s", logs.String())
			}
		})
	}
}

// refusingNikon is a D7200 that lists DateTime but answers
// OperationNotSupported to SetDevicePropValue.
func refusingNikon(t *testing.T) *camsim.Personality {
	b, err := camsim.BodyNamed("d7200")
	if err != nil {
		t.Fatal(err)
	}
	return b.Without(mtp.OpSetDevicePropValue).Personality()
}
