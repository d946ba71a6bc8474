package camsim

import (
	"bytes"
	"encoding/binary"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// probe sends a Probe Request on the event connection and reads the answer.
func (cl *client) probe() {
	cl.t.Helper()
	cl.evt.send(&ptpip.ProbeRequest{})
	recvAs[*ptpip.ProbeResponse](cl.evt)
}

// vendorCard is a card with a JPEG and a RAW taken at an odd second.
func vendorCard(t *testing.T, raw string) (dir string, shot time.Time) {
	t.Helper()
	dir = t.TempDir()
	shot = time.Date(2024, 5, 6, 15, 5, 41, 0, time.UTC)
	writeFile(t, filepath.Join(dir, "DCIM/100NIKON/DSC_0042.JPG"), testJPEG(t, 200, 100), shot)
	writeFile(t, filepath.Join(dir, "DCIM/100NIKON/DSC_0042"+raw), randomBytes(300<<10, 5), shot)
	return dir, shot
}

// TestNikon checks the Nikon make's mechanics, with every Nikon operation
// the simulator implements listed (nikonMake): bodies list fewer.
func TestNikon(t *testing.T) {
	dir, _ := vendorCard(t, ".NEF")
	cam, addr := startCamera(t, Config{Dir: dir, Personality: nikonMake(), Location: time.UTC, PollInterval: -1})
	cl := dial(t, addr)
	cl.probe()
	cl.open()
	var di mtp.DeviceInfo
	if err := di.UnmarshalBinary(cl.must(mtp.OpGetDeviceInfo).data); err != nil {
		t.Fatal(err)
	}
	if di.VendorExtensionID != 0xA || !strings.HasPrefix(di.Manufacturer, "Nikon") || mtp.DetectVendor(&di) != mtp.VendorNikon {
		t.Errorf("identity %#x %q", di.VendorExtensionID, di.Manufacturer)
	}
	for op, want := range map[mtp.OpCode]bool{mtp.OpNikonGetObjectSize: true, mtp.OpNikonGetPartialObjectEx: true,
		mtp.OpGetObjectPropList: false, mtp.OpAndroidGetPartialObject64: false} {
		if slices.Contains(di.OperationsSupported, op) != want {
			t.Errorf("%v listed: %v, want %v", op, !want, want)
		}
	}
	names := cl.byName()
	// Handles: slot 1, folder 100, file 42; the JPG and NEF share the
	// number and differ in the low bits.
	jpg, nef, folder := names["DSC_0042.JPG"], names["DSC_0042.NEF"], names["100NIKON"]
	if jpg>>28 != 1 || (jpg>>18)&0x3FF != 100 || (jpg>>4)&0x3FFF != 42 || nef&^0xF != jpg&^0xF || nef == jpg {
		t.Errorf("handles JPG %#x NEF %#x", jpg, nef)
	}
	if folder != 1<<28|100<<18 {
		t.Errorf("folder handle %#x", folder)
	}
	oi := cl.objectInfo(nef)
	if oi.ObjectFormat != mtp.FormatUndefined {
		t.Errorf("NEF format %v, want Undefined (0x3000)", oi.ObjectFormat)
	}
	// 15:05:41 reported with the seconds halved.
	if oi.CaptureDate != "20240506T150520" || oi.ModificationDate != "20240506T150520" {
		t.Errorf("dates %q %q", oi.CaptureDate, oi.ModificationDate)
	}
	// One End Data carries the whole data phase.
	r := cl.must(mtp.OpGetObject, nef)
	if !slices.Equal(r.pieces, []int{300 << 10}) || r.last != ptpip.PacketEndData {
		t.Errorf("data phase pieces %v", r.pieces)
	}
	r = cl.must(mtp.OpNikonGetObjectSize, nef)
	if len(r.data) != 8 || binary.LittleEndian.Uint64(r.data) != 300<<10 {
		t.Errorf("GetObjectSize % x", r.data)
	}
	r = cl.must(mtp.OpNikonGetPartialObjectEx, nef, 1000, 0, 10, 0)
	if !bytes.Equal(r.data, randomBytes(300<<10, 5)[1000:1010]) || !slices.Equal(r.resp.Params, []uint32{10}) {
		t.Errorf("GetPartialObjectEx: % x %v", r.data, r.resp.Params)
	}

	// A new shot: GeneralError from GetObjectInfo for about a second.
	writeFile(t, filepath.Join(dir, "DCIM/100NIKON/DSC_0043.JPG"), testJPEG(t, 20, 20), time.Now())
	if err := cam.Rescan(); err != nil {
		t.Fatal(err)
	}
	var shot uint32
	for _, f := range cam.Files() {
		if f.Path == "DCIM/100NIKON/DSC_0043.JPG" {
			shot = f.Handle
		}
	}
	cl.want(mtp.RespGeneralError, mtp.OpGetObjectInfo, shot)
	time.Sleep(Nikon().ShotSettle)
	cl.must(mtp.OpGetObjectInfo, shot)
}

func TestNikonHangs(t *testing.T) {
	dir, _ := vendorCard(t, ".NEF")
	cam, addr := startCamera(t, Config{Dir: dir, Personality: Nikon(), PollInterval: -1})
	// A Nikon takes one connection at a time: wait for the last to end.
	gone := func() {
		t.Helper()
		for deadline := time.Now().Add(ioTimeout); cam.Connections() != 0; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("connection not closed")
			}
		}
	}

	// No probe, first operation at once: never answered.
	cl := dial(t, addr)
	cl.cmd.send(&ptpip.OperationRequest{DataPhase: ptpip.DataPhaseNoneOrIn, Code: uint16(mtp.OpOpenSession), Params: []uint32{1}})
	if p, err := cl.cmd.tryRecv(1500 * time.Millisecond); err == nil {
		t.Fatalf("answered %s without the probe", p.Type())
	}
	cl.cmd.c.Close()
	gone()

	// A second of grace works as well as the probe.
	cl = dial(t, addr)
	time.Sleep(probeGrace)
	cl.open()
	// A session closed within a second of opening: the next Init hangs,
	// the one after works.
	cl.must(mtp.OpCloseSession)
	cl.cmd.c.Close()
	gone()
	c := dialRaw(t, addr)
	c.send(&ptpip.InitCommandRequest{GUID: hostGUID, Name: "next", Version: ptpip.Version})
	if p, err := c.tryRecv(time.Second); err == nil {
		t.Fatalf("Init answered with %s after a quick close", p.Type())
	}
	c.c.Close()
	cl = dial(t, addr)
	cl.probe()
	cl.open()
}

func TestCanon(t *testing.T) {
	dir, _ := vendorCard(t, ".CR2")
	big := filepath.Join(dir, "DCIM/100NIKON/MVI_0001.MOV")
	const size = 5<<30 + 99
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Skipf("no sparse file: %v", err)
	}
	f.WriteAt([]byte("past4G"), 4<<30+8)
	f.Close()
	_, addr := startCamera(t, Config{Dir: dir, Personality: canonMake(), Location: time.UTC, PollInterval: -1})
	cl := dial(t, addr)
	cl.open()
	names := cl.byName()
	cr2, mov := names["DSC_0042.CR2"], names["MVI_0001.MOV"]
	oi := cl.objectInfo(cr2)
	if oi.ObjectFormat != mtp.FormatCanonCR2 || oi.CaptureDate != "20240506T150541.0" {
		t.Errorf("CR2: format %v, date %q", oi.ObjectFormat, oi.CaptureDate)
	}
	r := cl.must(mtp.OpGetObject, cr2)
	for i, n := range r.pieces {
		if i < len(r.pieces)-1 && n != 16<<10 {
			t.Errorf("piece %d of %d bytes", i, n)
		}
	}
	if want := (300<<10 + 16<<10 - 1) / (16 << 10); len(r.pieces) != want {
		t.Errorf("%d pieces, want %d", len(r.pieces), want)
	}
	// GetObjectInfo64: ObjectInfo with a u64 CompressedSize, as package
	// mtp reads it.
	r = cl.must(mtp.OpCanonEOSGetObjectInfo64, mov)
	if len(r.data) < 16 || binary.LittleEndian.Uint32(r.data) != storageID || binary.LittleEndian.Uint64(r.data[8:]) != size {
		t.Errorf("GetObjectInfo64 % x", r.data[:min(len(r.data), 16)])
	}
	var rest mtp.ObjectInfo
	narrow := append(append([]byte(nil), r.data[:8]...), 0xFF, 0xFF, 0xFF, 0xFF)
	if err := rest.UnmarshalBinary(append(narrow, r.data[16:]...)); err != nil || rest.Filename != "MVI_0001.MOV" {
		t.Errorf("GetObjectInfo64 rest: %+v %v", rest, err)
	}
	r = cl.must(mtp.OpCanonEOSGetPartialObjectEx64, mov, 8, 1, 6)
	if string(r.data) != "past4G" {
		t.Errorf("GetPartialObjectEx64: %q", r.data)
	}
	r = cl.must(mtp.OpCanonEOSGetPartialObject64, cr2, 1000, 10)
	if !bytes.Equal(r.data, randomBytes(300<<10, 5)[1000:1010]) {
		t.Errorf("GetPartialObject64: % x", r.data)
	}
}

func TestCanonAuthAndProbeRefuse(t *testing.T) {
	dir, _ := vendorCard(t, ".CR2")
	_, addr := startCamera(t, Config{Dir: dir, Personality: Canon(), AuthDelay: 400 * time.Millisecond, ProbeRefuse: true, PollInterval: -1})
	start := time.Now()
	cl := dial(t, addr)
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Errorf("Init Ack after %v", el)
	}
	cl.evt.send(&ptpip.ProbeRequest{})
	if p, err := cl.evt.tryRecv(ioTimeout); err == nil {
		t.Errorf("probe answered with %s", p.Type())
	}
	if p, err := cl.cmd.tryRecv(ioTimeout); err == nil {
		t.Errorf("command connection alive: %s", p.Type())
	}
}

func TestGeneratedCard(t *testing.T) {
	spec := CardSpec{Photos: 5, Seed: 11, Folders: 2, Video: 5 << 30}
	gen := func() *genMedium {
		return newGenMedium(spec, Nikon().Layout, "Nikon Corporation", "D7200", time.UTC)
	}
	a, b := gen(), gen()
	ea, _ := a.walk()
	eb, _ := b.walk()
	if !slices.EqualFunc(ea, eb, func(x, y entry) bool { return x.rel == y.rel && x.size == y.size && x.mtime.Equal(y.mtime) }) {
		t.Fatal("same seed, different cards")
	}
	var jpegs, raws, videos int
	for i, e := range ea {
		if i > 0 && !e.dir && e.mtime.Before(ea[i-1].mtime) && !strings.HasSuffix(e.rel, ".MOV") {
			t.Errorf("%s taken before the file before it", e.rel)
		}
		switch filepath.Ext(e.rel) {
		case ".JPG":
			jpegs++
			if e.size < 4_000_000 || e.size > 9_000_000 {
				t.Errorf("%s: %d bytes", e.rel, e.size)
			}
			ra, _ := a.open(e.rel)
			whole := make([]byte, e.size)
			if n, err := ra.ReadAt(whole, 0); n != len(whole) || err != nil {
				t.Fatalf("%s: %d, %v", e.rel, n, err)
			}
			img, err := jpeg.Decode(bytes.NewReader(whole))
			if err != nil || img.Bounds().Dx() != genWidth {
				t.Errorf("%s does not decode: %v", e.rel, err)
			}
			if th := exifThumb(bytes.NewReader(whole)); th == nil {
				t.Errorf("%s has no EXIF thumbnail", e.rel)
			}
			// Any piece read alone, from another generator, equals
			// the same bytes of the whole.
			rb, _ := b.open(e.rel)
			for _, off := range []int64{0, 3, 100, 70000, e.size / 2, e.size - 5000, e.size - 1} {
				p := make([]byte, min(4096, e.size-off))
				if n, _ := rb.ReadAt(p, off); n != len(p) || !bytes.Equal(p, whole[off:off+int64(n)]) {
					t.Errorf("%s at %d: differs", e.rel, off)
				}
			}
		case ".NEF":
			raws++
		case ".MOV":
			videos++
			r, _ := a.open(e.rel)
			p := make([]byte, 10)
			if n, err := r.ReadAt(p, e.size-5); n != 5 || err == nil {
				t.Errorf("read at the end: %d, %v", n, err)
			}
		}
	}
	if jpegs != 5 || raws == 0 || raws == 5 || videos != 1 {
		t.Errorf("%d JPEGs, %d RAWs, %d movies", jpegs, raws, videos)
	}
	if !slices.ContainsFunc(ea, func(e entry) bool { return e.rel == "DCIM/101NIKON" }) {
		t.Error("no second folder")
	}
	if _, err := padSegments(2); err == nil {
		t.Error("2 bytes of padding accepted")
	}
	for _, n := range []int64{0, 4, maxSegment, maxSegment + 1, maxSegment + 3, 5*maxSegment + 2} {
		segs, err := padSegments(n)
		var sum int64
		for _, s := range segs {
			sum += s
			if s < 4 || s > maxSegment {
				t.Errorf("padding %d: segment of %d", n, s)
			}
		}
		if err != nil || sum != n {
			t.Errorf("padding %d: %v, %v", n, segs, err)
		}
	}
}

func TestSecondSlot(t *testing.T) {
	dir, _ := makeCard(t)
	dir2, _ := vendorCard(t, ".NEF")
	_, addr := startCamera(t, Config{Generate: &CardSpec{Photos: 2, Seed: 1, Size: MinGeneratedSize}, Dir2: dir2, PollInterval: -1})
	_ = dir
	cl := dial(t, addr)
	cl.open()
	ids, err := mtp.DecodeUint32Array(cl.must(mtp.OpGetStorageIDs).data)
	if err != nil || !slices.Equal(ids, []uint32{0x00010001, 0x00020001}) {
		t.Fatalf("storage IDs %#x, %v", ids, err)
	}
	var si mtp.StorageInfo
	if err := si.UnmarshalBinary(cl.must(mtp.OpGetStorageInfo, 0x00020001).data); err != nil || si.StorageDescription != "Card 2" {
		t.Errorf("slot 2: %+v %v", si, err)
	}
	in2 := cl.handles(0x00020001, 0, 0)
	all := cl.handles(0xFFFFFFFF, 0, 0)
	if len(in2) != 4 || len(all) <= len(in2) {
		t.Errorf("%d objects in slot 2, %d in all", len(in2), len(all))
	}
	for _, h := range in2 {
		if oi := cl.objectInfo(h); oi.StorageID != 0x00020001 {
			t.Errorf("%s in storage %#x", oi.Filename, oi.StorageID)
		}
	}
	if _, err := New(Config{Dir: dir, Generate: &CardSpec{Photos: 1}}); err == nil {
		t.Error("--dir and a generated card both in slot 1")
	}
}
