package camsim

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/jpeg"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// cardTime is the mtime of every test file; in cardZone it is
// 2024-03-15 20:00:25 wall time.
var (
	cardTime = time.Date(2024, 3, 15, 14, 30, 25, 0, time.UTC)
	cardZone = time.FixedZone("IST", 5*3600+1800)
)

const cardDate = "20240315T200025"

func testJPEG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for y := range h {
		for x := range w {
			i := img.PixOffset(x, y)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = uint8(x), uint8(y), uint8(rng.IntN(256)), 255
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// makeCard fills a card directory and returns it with the files that must
// be on the card, by slash path.
func makeCard(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		"DCIM/100TEST/IMG_0001.JPG": testJPEG(t, 320, 240),
		"DCIM/100TEST/IMG_0002.JPG": randomBytes(300_000, 2), // named JPEG, does not decode
		"DCIM/100TEST/DSC_0003.NEF": randomBytes(128<<10, 3), // a whole number of data chunks
		"DCIM/100TEST/EMPTY.TXT":    {},
		"DCIM/101TEST/MOV_0004.MOV": randomBytes(1000, 4),
	}
	for rel, b := range files {
		writeFile(t, filepath.Join(dir, rel), b, cardTime)
	}
	// Not on the card: dotfiles, dot folders, symlinks.
	writeFile(t, filepath.Join(dir, ".hidden"), []byte("x"), time.Time{})
	writeFile(t, filepath.Join(dir, "DCIM/.trash/OLD.JPG"), []byte("x"), time.Time{})
	if err := os.Symlink("IMG_0001.JPG", filepath.Join(dir, "DCIM/100TEST/LINK.JPG")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"DCIM/100TEST", "DCIM/101TEST", "DCIM"} {
		if err := os.Chtimes(filepath.Join(dir, d), cardTime, cardTime); err != nil {
			t.Fatal(err)
		}
	}
	return dir, files
}

func TestHandshake(t *testing.T) {
	dir, _ := makeCard(t)
	cam, addr := startCamera(t, Config{Dir: dir, Model: "Model X", Personality: Generic()})

	// A probe before any init is answered: the connection is not yet
	// either kind.
	c := dialRaw(t, addr)
	c.send(&ptpip.ProbeRequest{})
	recvAs[*ptpip.ProbeResponse](c)
	c.send(&ptpip.InitCommandRequest{GUID: hostGUID, Name: "old airnef", Version: 1})
	ack := recvAs[*ptpip.InitCommandAck](c)
	if ack.ConnectionNumber == 0 || ack.GUID != cam.GUID() || ack.Name != "Model X" || ack.Version != ptpip.Version {
		t.Errorf("ack %+v, want a connection number, GUID %x, name Model X, version 1.0", ack, cam.GUID())
	}
	if cam.GUID() == ([16]byte{}) {
		t.Error("zero camera GUID")
	}

	cl := dial(t, addr)
	if cl.ack.ConnectionNumber == ack.ConnectionNumber {
		t.Errorf("two command connections share connection number %d", ack.ConnectionNumber)
	}
	// Probes on both connections of a session.
	for _, k := range []*conn{cl.cmd, cl.evt} {
		k.send(&ptpip.ProbeRequest{})
		recvAs[*ptpip.ProbeResponse](k)
	}
	cl.open()
	cl.must(mtp.OpGetStorageIDs)

	// An event connection for an unknown, or already attached,
	// connection number is refused.
	for _, n := range []uint32{0, 999, cl.ack.ConnectionNumber} {
		e := dialRaw(t, addr)
		e.send(&ptpip.InitEventRequest{ConnectionNumber: n})
		if f := recvAs[*ptpip.InitFail](e); f.Reason == 0 {
			t.Errorf("Init Fail reason 0 for connection %d", n)
		}
	}
	// An unknown protocol version is refused.
	v := dialRaw(t, addr)
	v.send(&ptpip.InitCommandRequest{GUID: hostGUID, Name: "future", Version: 0x00020000})
	recvAs[*ptpip.InitFail](v)

	// The session still works.
	cl.must(mtp.OpGetDeviceInfo)
}

func TestCommandConnectionEndsEvents(t *testing.T) {
	dir, _ := makeCard(t)
	_, addr := startCamera(t, Config{Dir: dir})
	cl := dial(t, addr)
	cl.cmd.c.Close()
	if _, err := cl.evt.tryRecv(ioTimeout); err == nil {
		t.Fatal("event connection still open after its command connection closed")
	}
}

func TestMaxConnections(t *testing.T) {
	dir, _ := makeCard(t)
	p := Generic()
	p.MaxConnections = 1
	_, addr := startCamera(t, Config{Dir: dir, Personality: p})
	cl := dial(t, addr)
	c := dialRaw(t, addr)
	c.send(&ptpip.InitCommandRequest{GUID: hostGUID, Name: "second", Version: ptpip.Version})
	if f := recvAs[*ptpip.InitFail](c); f.Reason != ptpip.FailBusy {
		t.Errorf("reason %d, want busy", f.Reason)
	}
	cl.must(mtp.OpGetDeviceInfo)
}

func TestDeviceInfo(t *testing.T) {
	dir, _ := makeCard(t)
	cam, addr := startCamera(t, Config{Dir: dir, Model: "M1", Serial: "S42", Manufacturer: "Acme"})
	cl := dial(t, addr)
	check := func(r result) {
		t.Helper()
		var di mtp.DeviceInfo
		if err := di.UnmarshalBinary(r.data); err != nil {
			t.Fatal(err)
		}
		if di.Model != "M1" || di.SerialNumber != "S42" || di.Manufacturer != "Acme" {
			t.Errorf("identity %q %q %q", di.Manufacturer, di.Model, di.SerialNumber)
		}
		if di.VendorExtensionID != 6 || di.VendorExtensionDesc != "microsoft.com: 1.0;" {
			t.Errorf("vendor extension %#x %q", di.VendorExtensionID, di.VendorExtensionDesc)
		}
		// Exactly what is implemented.
		if want := slices.Sorted(maps.Keys(cam.ops)); !slices.Equal(di.OperationsSupported, want) {
			t.Errorf("operations %v, want %v", di.OperationsSupported, want)
		}
		for _, op := range []mtp.OpCode{mtp.OpGetPartialObject, mtp.OpGetObjectPropList, mtp.OpAndroidGetPartialObject64, mtp.OpGetThumb} {
			if !slices.Contains(di.OperationsSupported, op) {
				t.Errorf("%s not listed", op)
			}
		}
		if slices.Contains(di.OperationsSupported, mtp.OpDeleteObject) {
			t.Error("DeleteObject listed")
		}
		for _, f := range []mtp.ObjectFormat{mtp.FormatEXIFJPEG, mtp.FormatAssociation, mtp.FormatUndefined} {
			if !slices.Contains(di.ImageFormats, f) {
				t.Errorf("format %s not listed", f)
			}
		}
	}
	check(cl.must(mtp.OpGetDeviceInfo)) // outside a session
	cl.open()
	check(cl.must(mtp.OpGetDeviceInfo))
}

func TestSessionRules(t *testing.T) {
	dir, _ := makeCard(t)
	_, addr := startCamera(t, Config{Dir: dir})
	cl := dial(t, addr)
	cl.want(mtp.RespSessionNotOpen, mtp.OpGetStorageIDs)
	cl.want(mtp.RespSessionNotOpen, mtp.OpGetObjectHandles, 0xFFFFFFFF, 0, 0)
	cl.want(mtp.RespSessionNotOpen, mtp.OpCloseSession)
	cl.want(mtp.RespOperationNotSupported, mtp.OpDeleteObject, 1)
	cl.want(mtp.RespInvalidParameter, mtp.OpOpenSession, 0)
	cl.tid = 0 // libgphoto2 opens with transaction ID 0
	cl.open()
	r := cl.do(mtp.OpOpenSession, 7)
	if r.code() != mtp.RespSessionAlreadyOpen || !slices.Equal(r.resp.Params, []uint32{1}) {
		t.Errorf("second OpenSession: %s %v", r.code(), r.resp.Params)
	}
	cl.want(mtp.RespOperationNotSupported, mtp.OpDeleteObject, 1)
	cl.want(mtp.RespOperationNotSupported, 0x9999)
	cl.must(mtp.OpCloseSession)
	cl.want(mtp.RespSessionNotOpen, mtp.OpGetStorageIDs)
	cl.must(mtp.OpOpenSession, 2)
	cl.must(mtp.OpGetStorageIDs)
}

func TestStorage(t *testing.T) {
	dir, _ := makeCard(t)
	_, addr := startCamera(t, Config{Dir: dir, VolumeLabel: "NIKON D7200"})
	cl := dial(t, addr)
	cl.open()
	ids, err := mtp.DecodeUint32Array(cl.must(mtp.OpGetStorageIDs).data)
	if err != nil || !slices.Equal(ids, []uint32{0x00010001}) {
		t.Fatalf("storage IDs %#x, %v", ids, err)
	}
	var si mtp.StorageInfo
	if err := si.UnmarshalBinary(cl.must(mtp.OpGetStorageInfo, 0x00010001).data); err != nil {
		t.Fatal(err)
	}
	if si.StorageDescription != "Card 1" || si.VolumeLabel != "NIKON D7200" || si.MaxCapacity == 0 || si.FreeSpaceInBytes > si.MaxCapacity {
		t.Errorf("storage info %+v", si)
	}
	cl.want(mtp.RespInvalidStorageID, mtp.OpGetStorageInfo, 0x00020001)
}

func TestObjectTree(t *testing.T) {
	dir, files := makeCard(t)
	_, addr := startCamera(t, Config{Dir: dir, Location: cardZone})
	cl := dial(t, addr)
	cl.open()

	all := cl.handles(0xFFFFFFFF, 0, 0)
	info := map[uint32]mtp.ObjectInfo{}
	paths := map[string]uint32{}
	for _, h := range all {
		info[h] = cl.objectInfo(h)
	}
	var pathOf func(h uint32) string
	pathOf = func(h uint32) string {
		oi := info[h]
		if oi.ParentObject == 0 {
			return oi.Filename
		}
		return pathOf(oi.ParentObject) + "/" + oi.Filename
	}
	for _, h := range all {
		paths[pathOf(h)] = h
	}
	want := []string{"DCIM", "DCIM/100TEST", "DCIM/101TEST"}
	for rel := range files {
		want = append(want, rel)
	}
	if got := slices.Sorted(maps.Keys(paths)); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("card holds %q, want %q", got, slices.Sorted(slices.Values(want)))
	}

	formats := map[string]mtp.ObjectFormat{
		"DCIM": mtp.FormatAssociation, "DCIM/100TEST/IMG_0001.JPG": mtp.FormatEXIFJPEG,
		"DCIM/100TEST/IMG_0002.JPG": mtp.FormatEXIFJPEG, "DCIM/100TEST/DSC_0003.NEF": mtp.FormatUndefined,
		"DCIM/100TEST/EMPTY.TXT": mtp.FormatText, "DCIM/101TEST/MOV_0004.MOV": mtp.FormatQuickTime,
	}
	for rel, f := range formats {
		oi := info[paths[rel]]
		if oi.ObjectFormat != f || oi.StorageID != 0x00010001 {
			t.Errorf("%s: format %s storage %#x, want %s", rel, oi.ObjectFormat, oi.StorageID, f)
		}
		if oi.CaptureDate != cardDate || oi.ModificationDate != cardDate {
			t.Errorf("%s: dates %q %q, want %q", rel, oi.CaptureDate, oi.ModificationDate, cardDate)
		}
		if b, ok := files[rel]; ok && oi.CompressedSize != uint32(len(b)) {
			t.Errorf("%s: size %d, want %d", rel, oi.CompressedSize, len(b))
		}
		if wantAssoc := uint16(0); f == mtp.FormatAssociation {
			wantAssoc = 1
			if oi.AssociationType != wantAssoc {
				t.Errorf("%s: association type %d", rel, oi.AssociationType)
			}
		}
	}
	if oi := info[paths["DCIM/100TEST/IMG_0001.JPG"]]; oi.ImagePixWidth != 320 || oi.ImagePixHeight != 240 {
		t.Errorf("JPEG size %dx%d", oi.ImagePixWidth, oi.ImagePixHeight)
	}

	dcim, f100 := paths["DCIM"], paths["DCIM/100TEST"]
	tests := map[string]struct {
		storage, format, parent uint32
		want                    []string
	}{
		"root level":    {0xFFFFFFFF, 0, 0xFFFFFFFF, []string{"DCIM"}},
		"root by store": {0x00010001, 0, 0xFFFFFFFF, []string{"DCIM"}},
		"folder":        {0x00010001, 0, dcim, []string{"DCIM/100TEST", "DCIM/101TEST"}},
		"files":         {0xFFFFFFFF, 0, f100, []string{"DCIM/100TEST/DSC_0003.NEF", "DCIM/100TEST/EMPTY.TXT", "DCIM/100TEST/IMG_0001.JPG", "DCIM/100TEST/IMG_0002.JPG"}},
		"JPEG flat":     {0xFFFFFFFF, uint32(mtp.FormatEXIFJPEG), 0, []string{"DCIM/100TEST/IMG_0001.JPG", "DCIM/100TEST/IMG_0002.JPG"}},
		"JPEG in DCIM":  {0xFFFFFFFF, uint32(mtp.FormatEXIFJPEG), dcim, nil},
		"folders":       {0xFFFFFFFF, uint32(mtp.FormatAssociation), 0, []string{"DCIM", "DCIM/100TEST", "DCIM/101TEST"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got []string
			for _, h := range cl.handles(tc.storage, tc.format, tc.parent) {
				got = append(got, pathOf(h))
			}
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			n := cl.must(mtp.OpGetNumObjects, tc.storage, tc.format, tc.parent)
			if !slices.Equal(n.resp.Params, []uint32{uint32(len(tc.want))}) || n.hasData {
				t.Errorf("GetNumObjects: %v, want %d", n.resp.Params, len(tc.want))
			}
		})
	}
	cl.want(mtp.RespInvalidStorageID, mtp.OpGetObjectHandles, 0x00020001, 0, 0)
	cl.want(mtp.RespInvalidObjectHandle, mtp.OpGetObjectHandles, 0xFFFFFFFF, 0, 0x7777)
	cl.want(mtp.RespInvalidParentObject, mtp.OpGetObjectHandles, 0xFFFFFFFF, 0, paths["DCIM/100TEST/EMPTY.TXT"])
	cl.want(mtp.RespInvalidObjectHandle, mtp.OpGetObjectInfo, 0)
	cl.want(mtp.RespInvalidObjectHandle, mtp.OpGetObjectInfo, 0x7777)

	// Handles are stable while the process runs, across connections.
	cl2 := dial(t, addr)
	cl2.open()
	if got := cl2.handles(0xFFFFFFFF, 0, 0); !slices.Equal(got, all) {
		t.Errorf("second connection sees handles %v, first %v", got, all)
	}
}

func TestUnreadableSkipped(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads every file: unreadable files cannot be made")
	}
	dir, _ := makeCard(t)
	p := filepath.Join(dir, "DCIM/100TEST/SECRET.JPG")
	writeFile(t, p, []byte("x"), time.Time{})
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	_, addr := startCamera(t, Config{Dir: dir})
	cl := dial(t, addr)
	cl.open()
	if _, ok := cl.byName()["SECRET.JPG"]; ok {
		t.Error("unreadable file listed")
	}
}

func TestUnreadableSkippedAccess(t *testing.T) {
	dir, files := makeCard(t)
	m := newDirMedium(dir, testLogger(t))
	c := newCard(1, m, Generic().Formats, newHandles(false), testLogger(t))
	denied := map[string]bool{
		filepath.Join(dir, "DCIM/100TEST/IMG_0002.JPG"): true,
		filepath.Join(dir, "DCIM/101TEST"):              true,
	}
	m.access = func(path string, mode uint32) error {
		if denied[path] {
			return os.ErrPermission
		}
		return nil
	}
	if _, err := c.scan(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range c.list(nil, func(*object) bool { return true }) {
		got = append(got, o.rel)
	}
	want := []string{"DCIM", "DCIM/100TEST"}
	for rel := range files {
		if !strings.HasPrefix(rel, "DCIM/101TEST") && rel != "DCIM/100TEST/IMG_0002.JPG" {
			want = append(want, rel)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("card %q, want %q", got, want)
	}
}

func TestReads(t *testing.T) {
	dir, files := makeCard(t)
	// No polling: the file rewritten below must not be seen half written.
	_, addr := startCamera(t, Config{Dir: dir, PollInterval: -1})
	cl := dial(t, addr)
	cl.open()
	names := cl.byName()
	chunk := Generic().DataChunk
	for rel, want := range files {
		h := names[filepath.Base(rel)]
		r := cl.must(mtp.OpGetObject, h)
		if !bytes.Equal(r.data, want) {
			t.Errorf("%s: GetObject returned %d bytes differing from the file's %d", rel, len(r.data), len(want))
		}
		// Generic split: full chunks in Data packets, the rest in End Data.
		var wantPieces []int
		for n := len(want); n > chunk; n -= chunk {
			wantPieces = append(wantPieces, chunk)
		}
		wantPieces = append(wantPieces, len(want)-chunk*len(wantPieces))
		if !slices.Equal(r.pieces, wantPieces) || r.total != uint64(len(want)) {
			t.Errorf("%s: total %d pieces %v, want %d %v", rel, r.total, r.pieces, len(want), wantPieces)
		}
	}

	// Partial reads at random places, 32- and 64-bit.
	want := files["DCIM/100TEST/IMG_0002.JPG"]
	h := names["IMG_0002.JPG"]
	rng := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		off := rng.IntN(len(want) + 1)
		n := rng.IntN(200_000)
		end := min(off+n, len(want))
		r := cl.must(mtp.OpGetPartialObject, h, uint32(off), uint32(n))
		if !bytes.Equal(r.data, want[off:end]) || !slices.Equal(r.resp.Params, []uint32{uint32(end - off)}) {
			t.Fatalf("GetPartialObject(%d, %d): %d bytes, params %v; want %d bytes", off, n, len(r.data), r.resp.Params, end-off)
		}
		r = cl.must(mtp.OpAndroidGetPartialObject64, h, uint32(off), 0, uint32(n))
		if !bytes.Equal(r.data, want[off:end]) || !slices.Equal(r.resp.Params, []uint32{uint32(end - off)}) {
			t.Fatalf("GetPartialObject64(%d, %d): %d bytes, params %v; want %d bytes", off, n, len(r.data), r.resp.Params, end-off)
		}
	}
	r := cl.must(mtp.OpGetPartialObject, h, 0, 0xFFFFFFFF)
	if !bytes.Equal(r.data, want) {
		t.Error("GetPartialObject(0, all ones) is not the whole file")
	}
	cl.want(mtp.RespInvalidParameter, mtp.OpGetPartialObject, h, uint32(len(want)+1), 10)
	cl.want(mtp.RespInvalidParameter, mtp.OpAndroidGetPartialObject64, h, 0, 1, 10)
	cl.want(mtp.RespInvalidObjectHandle, mtp.OpGetObject, 0x7777)
	cl.want(mtp.RespInvalidObjectHandle, mtp.OpGetPartialObject, 0x7777, 0, 10)

	// Reads go to the disk on each request: a file rewritten in place
	// (same size) is served as it is now, not as it was when listed.
	rel := "DCIM/101TEST/MOV_0004.MOV"
	fresh := randomBytes(len(files[rel]), 99)
	if err := os.WriteFile(filepath.Join(dir, rel), fresh, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := cl.must(mtp.OpGetObject, names["MOV_0004.MOV"]); !bytes.Equal(r.data, fresh) {
		t.Error("GetObject served stale bytes")
	}
}

func TestLargeFile(t *testing.T) {
	dir, _ := makeCard(t)
	const size = 5<<30 + 123
	const markAt = 4<<30 + 1000
	p := filepath.Join(dir, "DCIM/100TEST/BIG.MOV")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	mark := []byte("beyond four gibibytes")
	if err := f.Truncate(size); err != nil { // sparse: no disk space used
		t.Skipf("no sparse %d-byte file here: %v", size, err)
	}
	if _, err := f.WriteAt(mark, markAt); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, addr := startCamera(t, Config{Dir: dir})
	cl := dial(t, addr)
	cl.open()
	h := cl.byName()["BIG.MOV"]
	if oi := cl.objectInfo(h); oi.CompressedSize != 0xFFFFFFFF {
		t.Errorf("CompressedSize %#x, want 0xFFFFFFFF", oi.CompressedSize)
	}
	r := cl.must(mtp.OpGetObjectPropValue, h, uint32(mtp.PropObjectSize))
	if len(r.data) != 8 || le64(r.data) != size {
		t.Errorf("ObjectSize % x, want %d", r.data, uint64(size))
	}
	r = cl.must(mtp.OpAndroidGetPartialObject64, h, uint32(markAt&0xFFFFFFFF), uint32(markAt>>32), uint32(len(mark)))
	if !bytes.Equal(r.data, mark) {
		t.Errorf("GetPartialObject64 beyond 4 GiB: %q", r.data)
	}
	r = cl.must(mtp.OpAndroidGetPartialObject64, h, uint32((size-10)&0xFFFFFFFF), uint32((size-10)>>32), 100)
	if len(r.data) != 10 || !slices.Equal(r.resp.Params, []uint32{10}) {
		t.Errorf("read past the end: %d bytes, params %v", len(r.data), r.resp.Params)
	}
	// A data phase over 4 GiB is never sent.
	cl.want(mtp.RespObjectTooLarge, mtp.OpGetObject, h)
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

func TestThumb(t *testing.T) {
	dir, files := makeCard(t)
	// A JPEG whose header reads but whose image does not decode.
	whole := files["DCIM/100TEST/IMG_0001.JPG"]
	writeFile(t, filepath.Join(dir, "DCIM/100TEST/TRUNC.JPG"), whole[:len(whole)/2], time.Time{})
	_, addr := startCamera(t, Config{Dir: dir})
	cl := dial(t, addr)
	cl.open()
	names := cl.byName()
	h := names["IMG_0001.JPG"]
	oi := cl.objectInfo(h)
	r := cl.must(mtp.OpGetThumb, h)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(r.data))
	if err != nil {
		t.Fatalf("thumbnail is not a JPEG: %v", err)
	}
	if cfg.Width != 160 || cfg.Height != 120 {
		t.Errorf("thumbnail %dx%d, want 160x120", cfg.Width, cfg.Height)
	}
	if oi.ThumbFormat != mtp.FormatEXIFJPEG || oi.ThumbCompressedSize != uint32(len(r.data)) || oi.ThumbPixWidth != 160 || oi.ThumbPixHeight != 120 {
		t.Errorf("ObjectInfo thumb %s %d %dx%d; thumbnail has %d bytes", oi.ThumbFormat, oi.ThumbCompressedSize, oi.ThumbPixWidth, oi.ThumbPixHeight, len(r.data))
	}
	if oi := cl.objectInfo(names["TRUNC.JPG"]); oi.ImagePixWidth != 320 {
		t.Errorf("truncated JPEG: width %d, want 320 from its header", oi.ImagePixWidth)
	}
	for _, name := range []string{"IMG_0002.JPG", "DSC_0003.NEF", "DCIM", "TRUNC.JPG", "TRUNC.JPG"} {
		cl.want(mtp.RespNoThumbnailPresent, mtp.OpGetThumb, names[name])
		if oi := cl.objectInfo(names[name]); oi.ThumbFormat != 0 || oi.ThumbCompressedSize != 0 {
			t.Errorf("%s: ObjectInfo announces a thumbnail", name)
		}
	}
	cl.want(mtp.RespInvalidObjectHandle, mtp.OpGetThumb, 0x7777)

	p := Generic()
	p.Thumbnails = false
	_, addr = startCamera(t, Config{Dir: dir, Personality: p})
	cl = dial(t, addr)
	cl.open()
	cl.want(mtp.RespNoThumbnailPresent, mtp.OpGetThumb, cl.byName()["IMG_0001.JPG"])
}

// withEXIFThumb returns img with an EXIF APP1 segment holding thumb as
// IFD1's JPEG thumbnail, in the byte order order ("II" or "MM").
func withEXIFThumb(img, thumb []byte, order string) []byte {
	var bo interface {
		binary.ByteOrder
		binary.AppendByteOrder
	} = binary.LittleEndian
	if order == "MM" {
		bo = binary.BigEndian
	}
	// TIFF header, IFD0 with no entries pointing to IFD1, IFD1 with the
	// two thumbnail tags, then the thumbnail.
	t := append([]byte(order), 0, 0)
	bo.PutUint16(t[2:], 42)
	t = bo.AppendUint32(t, 8)
	t = bo.AppendUint16(t, 0)  // IFD0: no entries
	t = bo.AppendUint32(t, 14) // next: IFD1
	t = bo.AppendUint16(t, 2)
	thumbAt := uint32(14 + 2 + 2*12 + 4)
	for _, e := range [][2]uint32{{0x0201, thumbAt}, {0x0202, uint32(len(thumb))}} {
		t = bo.AppendUint16(t, uint16(e[0]))
		t = bo.AppendUint16(t, 4) // LONG
		t = bo.AppendUint32(t, 1)
		t = bo.AppendUint32(t, e[1])
	}
	t = bo.AppendUint32(t, 0)
	t = append(t, thumb...)
	body := append([]byte("Exif\x00\x00"), t...)
	seg := []byte{0xFF, 0xE1, byte((len(body) + 2) >> 8), byte(len(body) + 2)}
	return slices.Concat(img[:2], seg, body, img[2:])
}

func TestEXIFThumb(t *testing.T) {
	dir, _ := makeCard(t)
	embedded := testJPEG(t, 160, 107)
	for _, order := range []string{"II", "MM"} {
		writeFile(t, filepath.Join(dir, "DCIM/100TEST/EXIF_"+order+".JPG"), withEXIFThumb(testJPEG(t, 900, 600), embedded, order), time.Time{})
	}
	_, addr := startCamera(t, Config{Dir: dir})
	cl := dial(t, addr)
	cl.open()
	names := cl.byName()
	for _, order := range []string{"II", "MM"} {
		h := names["EXIF_"+order+".JPG"]
		oi := cl.objectInfo(h)
		if oi.ImagePixWidth != 900 || oi.ThumbCompressedSize != uint32(len(embedded)) || oi.ThumbPixWidth != 160 || oi.ThumbPixHeight != 107 {
			t.Errorf("%s: ObjectInfo %+v", order, oi)
		}
		if r := cl.must(mtp.OpGetThumb, h); !bytes.Equal(r.data, embedded) {
			t.Errorf("%s: GetThumb is not the embedded thumbnail", order)
		}
	}
}

func TestObjectProps(t *testing.T) {
	dir, files := makeCard(t)
	_, addr := startCamera(t, Config{Dir: dir, Location: cardZone})
	cl := dial(t, addr)
	cl.open()
	names := cl.byName()
	h := names["IMG_0002.JPG"]
	parent := names["100TEST"]

	codes := []mtp.PropCode{mtp.PropStorageID, mtp.PropObjectFormat, mtp.PropProtectionStatus, mtp.PropObjectSize,
		mtp.PropObjectFileName, mtp.PropDateCreated, mtp.PropDateModified, mtp.PropParentObject}
	r := cl.must(mtp.OpGetObjectPropsSupported, uint32(mtp.FormatEXIFJPEG))
	if got := decodeU16s(t, r.data); !slices.Equal(got, codes) {
		t.Errorf("props supported %v, want %v", got, codes)
	}
	cl.want(mtp.RespInvalidObjectFormatCode, mtp.OpGetObjectPropsSupported, 0x3802)

	types := map[mtp.PropCode]mtp.DataType{mtp.PropObjectSize: mtp.TypeUint64, mtp.PropObjectFileName: mtp.TypeString, mtp.PropParentObject: mtp.TypeUint32}
	for code, typ := range types {
		r := cl.must(mtp.OpGetObjectPropDesc, uint32(code), uint32(mtp.FormatEXIFJPEG))
		if len(r.data) < 4 || mtp.PropCode(le16(r.data)) != code || mtp.DataType(le16(r.data[2:])) != typ {
			t.Errorf("desc of %s: % x", code, r.data)
		}
	}
	cl.want(mtp.RespInvalidObjectPropCode, mtp.OpGetObjectPropDesc, 0xDC99, uint32(mtp.FormatEXIFJPEG))

	name, _ := mtp.AppendString(nil, "IMG_0002.JPG")
	date, _ := mtp.AppendString(nil, cardDate)
	values := map[mtp.PropCode][]byte{
		mtp.PropStorageID:      {1, 0, 1, 0},
		mtp.PropObjectFormat:   {0x01, 0x38},
		mtp.PropObjectSize:     {0xe0, 0x93, 0x04, 0, 0, 0, 0, 0}, // 300000
		mtp.PropObjectFileName: name,
		mtp.PropDateCreated:    date,
		mtp.PropDateModified:   date,
		mtp.PropParentObject:   {byte(parent), byte(parent >> 8), byte(parent >> 16), byte(parent >> 24)},
	}
	for code, want := range values {
		if r := cl.must(mtp.OpGetObjectPropValue, h, uint32(code)); !bytes.Equal(r.data, want) {
			t.Errorf("%s = % x, want % x", code, r.data, want)
		}
	}
	cl.want(mtp.RespInvalidObjectPropCode, mtp.OpGetObjectPropValue, h, 0xDC99)
	cl.want(mtp.RespInvalidObjectHandle, mtp.OpGetObjectPropValue, 0x7777, uint32(mtp.PropObjectSize))

	propList := func(params ...uint32) []mtp.PropListEntry {
		t.Helper()
		list, err := mtp.DecodePropList(cl.must(mtp.OpGetObjectPropList, params...).data)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	// One object, every property.
	list := propList(h, 0, 0xFFFFFFFF, 0, 0)
	if len(list) != len(codes) {
		t.Fatalf("%d entries for one object, want %d", len(list), len(codes))
	}
	for i, e := range list {
		if e.Handle != h || e.Prop != codes[i] {
			t.Errorf("entry %d: %+v", i, e)
		}
		switch e.Prop {
		case mtp.PropObjectSize:
			if e.Value != 300_000 || e.DataType != mtp.TypeUint64 {
				t.Errorf("ObjectSize entry %+v", e)
			}
		case mtp.PropObjectFileName:
			if e.Str != "IMG_0002.JPG" {
				t.Errorf("file name entry %+v", e)
			}
		case mtp.PropDateModified:
			if e.Str != cardDate {
				t.Errorf("date entry %+v", e)
			}
		}
	}
	// Every object, one property.
	sizes := map[uint32]uint64{}
	for _, e := range propList(0xFFFFFFFF, 0, uint32(mtp.PropObjectSize), 0, 0) {
		sizes[e.Handle] = e.Value
	}
	if len(sizes) != len(files)+3 {
		t.Errorf("sizes of %d objects, want %d", len(sizes), len(files)+3)
	}
	for rel, b := range files {
		if got := sizes[names[filepath.Base(rel)]]; got != uint64(len(b)) {
			t.Errorf("%s: ObjectSize %d, want %d", rel, got, len(b))
		}
	}
	// One level below a folder; root level; a format filter.
	if got := handlesOf(propList(parent, 0, uint32(mtp.PropObjectFileName), 0, 1)); len(got) != 4 {
		t.Errorf("one level below 100TEST: %v", got)
	}
	if got := handlesOf(propList(0, 0, uint32(mtp.PropObjectFileName), 0, 1)); !slices.Equal(got, []uint32{names["DCIM"]}) {
		t.Errorf("root level: %v", got)
	}
	if got := handlesOf(propList(0, 0, uint32(mtp.PropObjectFileName), 0, 0xFFFFFFFF)); len(got) != len(files)+3 {
		t.Errorf("all levels: %v", got)
	}
	if got := handlesOf(propList(0xFFFFFFFF, uint32(mtp.FormatEXIFJPEG), uint32(mtp.PropObjectFileName), 0, 0)); !slices.Equal(got, []uint32{names["IMG_0001.JPG"], names["IMG_0002.JPG"]}) {
		t.Errorf("JPEGs: %v", got)
	}
	cl.want(mtp.RespSpecByGroupUnsupported, mtp.OpGetObjectPropList, h, 0, 0, 1, 0)
	cl.want(mtp.RespInvalidObjectHandle, mtp.OpGetObjectPropList, 0x7777, 0, 0xFFFFFFFF, 0, 0)
}

func handlesOf(list []mtp.PropListEntry) []uint32 {
	var hs []uint32
	for _, e := range list {
		hs = append(hs, e.Handle)
	}
	return hs
}

func le16(b []byte) uint16 { return uint16(b[0]) | uint16(b[1])<<8 }

func decodeU16s(t *testing.T, b []byte) []mtp.PropCode {
	t.Helper()
	if len(b) < 4 {
		t.Fatalf("array of %d bytes", len(b))
	}
	n := int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24
	if len(b) != 4+2*n {
		t.Fatalf("array of %d elements in %d bytes", n, len(b))
	}
	out := make([]mtp.PropCode, n)
	for i := range out {
		out[i] = mtp.PropCode(le16(b[4+2*i:]))
	}
	return out
}

func TestDataOut(t *testing.T) {
	dir, _ := makeCard(t)
	_, addr := startCamera(t, Config{Dir: dir})
	cl := dial(t, addr)
	cl.open()
	payload := randomBytes(3*maxDataOut/2, 7) // more than the camera keeps
	splits := map[string][]int{
		"one End Data":      {len(payload)},
		"empty End Data":    {len(payload), 0},
		"many with empties": {0, 1, 100, 0, 70_000, len(payload) - 70_101},
	}
	for name, split := range splits {
		for _, dataPhase := range []uint32{ptpip.DataPhaseOut, 0} { // PlayMemories sends 0
			t.Run(name, func(t *testing.T) {
				tid := cl.tid
				cl.tid++
				cl.cmd.send(&ptpip.OperationRequest{DataPhase: dataPhase, Code: uint16(mtp.OpSendObjectInfo), TransactionID: tid, Params: []uint32{0x00010001, 0}})
				cl.cmd.send(&ptpip.StartData{TransactionID: tid, TotalLength: uint64(len(payload))})
				off := 0
				for i, n := range split {
					piece := payload[off : off+n]
					off += n
					if i == len(split)-1 {
						cl.cmd.send(&ptpip.EndData{TransactionID: tid, Payload: piece})
					} else {
						cl.cmd.send(&ptpip.Data{TransactionID: tid, Payload: piece})
					}
				}
				if r := cl.result(mtp.OpSendObjectInfo, tid); r.code() != mtp.RespOperationNotSupported || r.hasData {
					t.Errorf("SendObjectInfo: %s", r.code())
				}
				cl.must(mtp.OpGetStorageIDs) // still in step
			})
		}
	}

	// A data phase whose pieces do not add up is a protocol error: the
	// camera drops the connection.
	tid := cl.tid
	cl.cmd.send(&ptpip.OperationRequest{DataPhase: ptpip.DataPhaseOut, Code: uint16(mtp.OpSendObject), TransactionID: tid})
	cl.cmd.send(&ptpip.StartData{TransactionID: tid, TotalLength: 10})
	cl.cmd.send(&ptpip.EndData{TransactionID: tid, Payload: make([]byte, 9)})
	if p, err := cl.cmd.tryRecv(ioTimeout); err == nil {
		t.Errorf("camera answered a short data phase with %s", p.Type())
	}
}

func TestEvents(t *testing.T) {
	dir, _ := makeCard(t)
	_, addr := startCamera(t, Config{Dir: dir, PollInterval: 50 * time.Millisecond})
	cl := dial(t, addr)
	cl.open()
	before := cl.handles(0xFFFFFFFF, 0, 0)

	waitEvent := func(code mtp.EventCode) uint32 {
		t.Helper()
		ev, err := cl.event(ioTimeout)
		if err != nil {
			t.Fatalf("waiting for %s: %v", code, err)
		}
		if mtp.EventCode(ev.Code) != code || len(ev.Params) != 1 {
			t.Fatalf("event %s %v, want %s", mtp.EventCode(ev.Code), ev.Params, code)
		}
		return ev.Params[0]
	}

	want := testJPEG(t, 64, 48)
	writeFile(t, filepath.Join(dir, "DCIM/100TEST/NEW_0005.JPG"), want, time.Time{})
	h := waitEvent(mtp.EventObjectAdded)
	if slices.Contains(before, h) {
		t.Fatalf("new file got existing handle %d", h)
	}
	oi := cl.objectInfo(h)
	if oi.Filename != "NEW_0005.JPG" || oi.ParentObject != cl.byName()["100TEST"] {
		t.Errorf("new object %+v", oi)
	}
	if r := cl.must(mtp.OpGetObject, h); !bytes.Equal(r.data, want) {
		t.Error("new file's bytes differ")
	}
	if got := cl.handles(0xFFFFFFFF, 0, 0); len(got) != len(before)+1 {
		t.Errorf("%d objects after adding one to %d", len(got), len(before))
	}

	// A new folder with a file: the folder first.
	writeFile(t, filepath.Join(dir, "DCIM/102TEST/A.JPG"), want, time.Time{})
	folder := waitEvent(mtp.EventObjectAdded)
	file := waitEvent(mtp.EventObjectAdded)
	if oi := cl.objectInfo(file); oi.ParentObject != folder || cl.objectInfo(folder).Filename != "102TEST" {
		t.Errorf("folder %d, file's parent %d", folder, oi.ParentObject)
	}

	if err := os.Remove(filepath.Join(dir, "DCIM/100TEST/NEW_0005.JPG")); err != nil {
		t.Fatal(err)
	}
	if got := waitEvent(mtp.EventObjectRemoved); got != h {
		t.Errorf("ObjectRemoved %d, want %d", got, h)
	}
	cl.want(mtp.RespInvalidObjectHandle, mtp.OpGetObjectInfo, h)

	// A folder removed with its file: the file first.
	if err := os.RemoveAll(filepath.Join(dir, "DCIM/102TEST")); err != nil {
		t.Fatal(err)
	}
	if got := waitEvent(mtp.EventObjectRemoved); got != file {
		t.Errorf("first removal %d, want the file %d", got, file)
	}
	if got := waitEvent(mtp.EventObjectRemoved); got != folder {
		t.Errorf("second removal %d, want the folder %d", got, folder)
	}
	if got := cl.handles(0xFFFFFFFF, 0, 0); !slices.Equal(got, before) {
		t.Errorf("handles %v after removals, want %v", got, before)
	}
	// Nothing else is reported.
	if ev, err := cl.event(300 * time.Millisecond); err == nil {
		t.Errorf("unexpected event %s %v", mtp.EventCode(ev.Code), ev.Params)
	}
}

func TestRescanWithoutPolling(t *testing.T) {
	dir, _ := makeCard(t)
	cam, addr := startCamera(t, Config{Dir: dir, PollInterval: -1})
	cl := dial(t, addr)
	cl.open()
	writeFile(t, filepath.Join(dir, "DCIM/100TEST/NEW.JPG"), []byte("x"), time.Time{})
	if _, err := cl.event(500 * time.Millisecond); err == nil {
		t.Fatal("event without polling or Rescan")
	}
	if err := cam.Rescan(); err != nil {
		t.Fatal(err)
	}
	if ev, err := cl.event(ioTimeout); err != nil || mtp.EventCode(ev.Code) != mtp.EventObjectAdded {
		t.Fatalf("after Rescan: %v %v", ev, err)
	}
}

func TestClose(t *testing.T) {
	dir, _ := makeCard(t)
	cam, addr := startCamera(t, Config{Dir: dir})
	cl := dial(t, addr)
	cl.open()
	done := make(chan error, 1)
	go func() { done <- cam.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(ioTimeout):
		t.Fatal("Close hangs with a host connected")
	}
	if _, err := cl.cmd.tryRecv(ioTimeout); err == nil {
		t.Error("command connection open after Close")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still listening after Close")
	}
}

func TestNewErrors(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Config{
		"no dir":      {},
		"missing dir": {Dir: filepath.Join(t.TempDir(), "nope")},
		"file":        {Dir: f},
		"chunk":       {Dir: t.TempDir(), Personality: &Personality{Name: "bad"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
