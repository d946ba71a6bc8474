package camsim

import (
	"bytes"
	"encoding/binary"
	"path"
	"slices"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// The table is data: check what a transcription slip would break. Every
// body lists the operations a host needs to list and read a card, names
// its source, and has a make.
func TestBodyTable(t *testing.T) {
	names := map[string]bool{}
	makes := map[string]int{}
	for _, b := range Bodies() {
		if names[b.Name] {
			t.Errorf("body %s twice", b.Name)
		}
		names[b.Name] = true
		makes[b.Make]++
		if b.Source == "" || b.Manufacturer == "" || b.Model == "" || b.DeviceVersion == "" {
			t.Errorf("%s: identity or source missing", b.Name)
		}
		for _, op := range []mtp.OpCode{mtp.OpGetDeviceInfo, mtp.OpOpenSession, mtp.OpCloseSession, mtp.OpGetStorageIDs,
			mtp.OpGetStorageInfo, mtp.OpGetObjectHandles, mtp.OpGetObjectInfo, mtp.OpGetObject, mtp.OpGetPartialObject} {
			if !slices.Contains(b.Ops, op) {
				t.Errorf("%s does not list %v", b.Name, op)
			}
		}
		for _, l := range [][]uint16{opsAsU16(b.Ops), eventsAsU16(b.Events), b.Props} {
			if dup := duplicate(l); dup != 0 {
				t.Errorf("%s lists %#04x twice", b.Name, dup)
			}
		}
		if len(b.PlaybackFormats) == 0 || !slices.Contains(b.PlaybackFormats, mtp.FormatEXIFJPEG) {
			t.Errorf("%s plays back no JPEG: %v", b.Name, b.PlaybackFormats)
		}
		p := b.Personality()
		if p.Body == nil || p.Name != b.Name || p.Model != b.Model {
			t.Errorf("%s: personality %q model %q", b.Name, p.Name, p.Model)
		}
	}
	if makes["nikon"] < 3 || makes["canon"] < 3 || makes["sony"] < 3 || len(makes) != 3 {
		t.Errorf("bodies per make: %v", makes)
	}
	for vendor, body := range defaultBodies {
		p, err := PersonalityNamed(vendor)
		if err != nil || p.Name != body {
			t.Errorf("--vendor %s is %v, %v; want body %s", vendor, p, err, body)
		}
	}
	if _, err := BodyNamed("eos-5d"); err == nil {
		t.Error("an unknown body was found")
	}
}

func opsAsU16(l []mtp.OpCode) []uint16 {
	out := make([]uint16, len(l))
	for i, v := range l {
		out[i] = uint16(v)
	}
	return out
}

func eventsAsU16(l []mtp.EventCode) []uint16 {
	out := make([]uint16, len(l))
	for i, v := range l {
		out[i] = uint16(v)
	}
	return out
}

func duplicate(l []uint16) uint16 {
	seen := map[uint16]bool{}
	for _, v := range l {
		if seen[v] {
			return v
		}
		seen[v] = true
	}
	return 0
}

// Each body's camera reports exactly its published lists, answers the
// operations it lists and the simulator implements, and answers
// OperationNotSupported to the ones it lists and the simulator does not.
func TestBodyDeviceInfo(t *testing.T) {
	for _, b := range Bodies() {
		t.Run(b.Name, func(t *testing.T) {
			dir, _ := vendorCard(t, b.Personality().Layout.RawExt)
			_, addr := startCamera(t, Config{Dir: dir, Personality: b.Personality(), Location: time.UTC, PollInterval: -1})
			cl := dial(t, addr)
			if b.Personality().ProbeRequired {
				cl.probe()
			}
			cl.open()
			var di mtp.DeviceInfo
			if err := di.UnmarshalBinary(cl.must(mtp.OpGetDeviceInfo).data); err != nil {
				t.Fatal(err)
			}
			if di.Manufacturer != b.Manufacturer || di.Model != b.Model || di.DeviceVersion != b.DeviceVersion ||
				di.VendorExtensionID != b.VendorExtensionID || di.VendorExtensionVersion != b.VendorExtensionVersion ||
				di.VendorExtensionDesc != b.VendorExtensionDesc {
				t.Errorf("identity %+v", di)
			}
			if !slices.Equal(di.OperationsSupported, b.Ops) || !slices.Equal(di.EventsSupported, b.Events) ||
				!slices.Equal(di.DevicePropertiesSupported, b.Props) || !slices.Equal(di.CaptureFormats, b.CaptureFormats) ||
				!slices.Equal(di.ImageFormats, b.PlaybackFormats) {
				t.Errorf("lists differ from the body's:\n%+v", di)
			}
			for _, op := range b.Ops {
				if _, ok := allOps[op]; !ok {
					cl.want(mtp.RespOperationNotSupported, op)
					break
				}
			}
			names := cl.byName()
			if len(names) == 0 {
				t.Fatal("nothing listed")
			}
		})
	}
}

// An EOS body's GetObjectInfoEx describes each folder as GetObjectInfo
// describes its objects, in the layout libgphoto2 decodes; its remote and
// event modes are accepted and its GetEvent reports nothing.
func TestCanonGetObjectInfoEx(t *testing.T) {
	dir, shot := vendorCard(t, ".CR2")
	writeFile(t, path.Join(dir, "DCIM/100NIKON/A_NAME_LONGER_THAN_16.JPG"), testJPEG(t, 32, 32), shot)
	cam, addr := startCamera(t, Config{Dir: dir, Personality: Canon(), Location: time.FixedZone("camera", 2*3600), PollInterval: -1})
	cl := dial(t, addr)
	cl.open()
	cl.must(mtp.OpCanonEOSSetRemoteMode, 1)
	cl.must(mtp.OpCanonEOSSetEventMode, 1)
	if r := cl.must(mtp.OpCanonEOSGetEvent); !bytes.Equal(r.data, []byte{8, 0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("GetEvent data % x", r.data)
	}
	seen := 0
	var walk func(parent uint32, depth int)
	walk = func(parent uint32, depth int) {
		r := cl.must(mtp.OpCanonEOSGetObjectInfoEx, 0x00010001, parent, mtp.EOSListAll)
		var f mtp.EOSFolder
		if err := f.UnmarshalBinary(r.data); err != nil {
			t.Fatal(err)
		}
		want := cl.handles(0x00010001, 0, parent)
		if len(f) != len(want) {
			t.Fatalf("folder %#x: %d entries, GetObjectHandles lists %d", parent, len(f), len(want))
		}
		if binary.LittleEndian.Uint32(r.data[4:]) != 56 {
			t.Errorf("entry size %d, want 56 as in libgphoto2's dumps", binary.LittleEndian.Uint32(r.data[4:]))
		}
		for i, e := range f {
			seen++
			oi := cl.objectInfo(e.Handle)
			wantName, wantTerm := oi.Filename, len(oi.Filename) < 16
			if len(wantName) > 16 {
				wantName = wantName[:16]
			}
			when, _ := mtp.ParseDate(oi.CaptureDate, time.UTC)
			if e.Handle != want[i] || e.StorageID != oi.StorageID || e.Format != oi.ObjectFormat || e.Size != oi.CompressedSize ||
				e.Name != wantName || e.Terminated != wantTerm || e.Time != mtp.EOSTime(when) {
				t.Errorf("entry %+v, ObjectInfo %+v", e, oi)
			}
			if oi.ObjectFormat == mtp.FormatAssociation {
				walk(e.Handle, depth+1)
			}
		}
	}
	walk(0xFFFFFFFF, 0)
	if seen != len(cam.Files()) {
		t.Errorf("%d entries for %d objects", seen, len(cam.Files()))
	}
	cl.want(mtp.RespInvalidStorageID, mtp.OpCanonEOSGetObjectInfoEx, 0x00020001, 0xFFFFFFFF, mtp.EOSListAll)
	cl.want(mtp.RespInvalidObjectHandle, mtp.OpCanonEOSGetObjectInfoEx, 0x00010001, 0x7777, mtp.EOSListAll)
	jpg := cl.byName()["DSC_0042.JPG"]
	cl.want(mtp.RespInvalidParentObject, mtp.OpCanonEOSGetObjectInfoEx, 0x00010001, jpg, mtp.EOSListAll)
}

// Each quirk changes only what it says.
func TestQuirks(t *testing.T) {
	dir, _ := vendorCard(t, ".NEF")
	t.Run("storage-mismatch", func(t *testing.T) {
		_, addr := startCamera(t, Config{Dir: dir, Personality: Generic(), Quirks: Quirks{StorageMismatch: true}, PollInterval: -1})
		cl := dial(t, addr)
		cl.open()
		for name, h := range cl.byName() {
			if oi := cl.objectInfo(h); oi.StorageID != 0x00010002 {
				t.Errorf("%s: StorageID %#x, want 0x00010002", name, oi.StorageID)
			}
		}
		r := cl.must(mtp.OpGetObjectPropList, 0xFFFFFFFF, 0, uint32(mtp.PropStorageID), 0, 0)
		list, err := mtp.DecodePropList(r.data)
		if err != nil || len(list) == 0 {
			t.Fatalf("prop list %v %v", list, err)
		}
		for _, e := range list {
			if e.Value != 0x00010002 {
				t.Errorf("prop list StorageID %#x", e.Value)
			}
		}
	})
	t.Run("proplist-drops", func(t *testing.T) {
		_, addr := startCamera(t, Config{Dir: dir, Personality: Generic(), Quirks: Quirks{PropListDrops: true}, PollInterval: -1})
		cl := dial(t, addr)
		cl.open()
		all := cl.handles(0xFFFFFFFF, 0, 0)
		r := cl.must(mtp.OpGetObjectPropList, 0xFFFFFFFF, 0, uint32(mtp.PropObjectFileName), 0, 0)
		list, err := mtp.DecodePropList(r.data)
		if err != nil || len(list) != (len(all)+1)/2 {
			t.Fatalf("%d of %d objects in the list, want every other: %v", len(list), len(all), err)
		}
	})
	t.Run("tid-zero", func(t *testing.T) {
		_, addr := startCamera(t, Config{Dir: dir, Personality: Generic(), Quirks: Quirks{TIDZero: true}, PollInterval: -1})
		cl := dial(t, addr)
		cl.cmd.send(&ptpip.OperationRequest{Code: uint16(mtp.OpGetDeviceInfo), TransactionID: 7})
		if p := recvAs[*ptpip.StartData](cl.cmd); p.TransactionID != 0 {
			t.Errorf("Start Data tid %d", p.TransactionID)
		}
		for {
			p := cl.cmd.recv()
			if r, ok := p.(*ptpip.OperationResponse); ok {
				if r.TransactionID != 0 || r.Code != uint16(mtp.RespOK) {
					t.Errorf("response %+v", r)
				}
				break
			}
		}
	})
	var q Quirks
	for _, name := range QuirkNames {
		if err := q.Set(name); err != nil {
			t.Error(err)
		}
	}
	if q != (Quirks{TIDZero: true, StorageMismatch: true, PropListDrops: true, NikonZUnmarked: true}) || q.Set("nope") == nil {
		t.Errorf("Set: %+v", q)
	}
}
