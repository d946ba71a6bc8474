package camsim

import (
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// TestNikonGetEvent: a Nikon queues its events for GetEvent (0x90C7),
// lists the operation, and sends nothing on the event connection.
func TestNikonGetEvent(t *testing.T) {
	dir, _ := vendorCard(t, ".NEF")
	cam, addr := startCamera(t, Config{Dir: dir, Personality: Nikon(), Location: time.UTC, PollInterval: -1})
	cl := dial(t, addr)
	cl.probe()
	cl.open()
	var di mtp.DeviceInfo
	if err := di.UnmarshalBinary(cl.must(mtp.OpGetDeviceInfo).data); err != nil {
		t.Fatal(err)
	}
	if !di.Supports(mtp.OpNikonGetEvent) || !slices.Contains(di.EventsSupported, mtp.EventObjectAdded) {
		t.Errorf("DeviceInfo: GetEvent %v, events %v", di.Supports(mtp.OpNikonGetEvent), di.EventsSupported)
	}
	getEvents := func() mtp.NikonEvents {
		t.Helper()
		var l mtp.NikonEvents
		if err := l.UnmarshalBinary(cl.must(mtp.OpNikonGetEvent).data); err != nil {
			t.Fatal(err)
		}
		return l
	}
	if l := getEvents(); len(l) != 0 {
		t.Fatalf("events before any change: %+v", l)
	}
	before := cl.handles(0xFFFFFFFF, 0, 0)
	writeFile(t, filepath.Join(dir, "DCIM/100NIKON/DSC_0043.JPG"), testJPEG(t, 64, 48), time.Time{})
	if err := cam.Rescan(); err != nil {
		t.Fatal(err)
	}
	var h uint32
	for _, x := range cl.handles(0xFFFFFFFF, 0, 0) {
		if !slices.Contains(before, x) {
			h = x
		}
	}
	if want := (mtp.NikonEvents{{Code: mtp.EventObjectAdded, Params: []uint32{h}}}); !reflect.DeepEqual(getEvents(), want) {
		t.Fatalf("after a shot: want %+v", want)
	}
	if l := getEvents(); len(l) != 0 {
		t.Fatalf("events returned twice: %+v", l)
	}
	if ev, err := cl.event(300 * time.Millisecond); err == nil {
		t.Fatalf("event %#x on the event connection", ev.Code)
	}
}

// TestCanonNoEvents: the Canon personality reports nothing, so a host
// must list again to see a change.
func TestCanonNoEvents(t *testing.T) {
	dir, _ := vendorCard(t, ".CR2")
	cam, addr := startCamera(t, Config{Dir: dir, Personality: Canon(), Location: time.UTC, PollInterval: -1})
	cl := dial(t, addr)
	cl.open()
	var di mtp.DeviceInfo
	if err := di.UnmarshalBinary(cl.must(mtp.OpGetDeviceInfo).data); err != nil {
		t.Fatal(err)
	}
	// The 6D lists ObjectAdded among its events, yet an EOS body reports
	// changes through its own GetEvent (libgphoto2 ptp_check_event: "EOS
	// has no normal PTP events"), which reports nothing here.
	if !slices.Equal(di.EventsSupported, Canon().Body.Events) || di.Supports(mtp.OpNikonGetEvent) {
		t.Errorf("DeviceInfo lists events %v", di.EventsSupported)
	}
	writeFile(t, filepath.Join(dir, "DCIM/100NIKON/IMG_0043.JPG"), testJPEG(t, 64, 48), time.Time{})
	if err := cam.Rescan(); err != nil {
		t.Fatal(err)
	}
	if ev, err := cl.event(300 * time.Millisecond); err == nil {
		t.Fatalf("event %#x on the event connection", ev.Code)
	}
	if _, ok := cl.byName()["IMG_0043.JPG"]; !ok {
		t.Fatal("the new file is not listed")
	}
}
