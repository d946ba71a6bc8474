package test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
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

// Our client (ptpip + mtp) against the simulated camera: what the mount
// does underneath, checked without FUSE.

// clientGUID is the host GUID of these tests; its last 6 bytes are zero like
// every airnef-mount host GUID.
var clientGUID = [16]byte{0xa1, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70, 0x81, 0x92, 0xa3}

// clientCard is a card with nested folders, JPEGs, a RAW file, a file of
// several MiB whose bytes are pseudo-random (so a misplaced block shows),
// and an empty file.
func clientCard(t *testing.T) string {
	t.Helper()
	dir, _ := gphotoCard(t)
	big := make([]byte, 5<<20+12345)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	more := map[string][]byte{
		"DCIM/101TEST/BIG_0001.MOV": big,
		"DCIM/101TEST/EMPTY.TXT":    nil,
		"MISC/deep/er/NOTE.TXT":     []byte("a file three folders down\n"),
	}
	for name, b := range more {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// clientDial opens a session with the camera at addr the way the mount does:
// handshake, GetDeviceInfo, OpenSession.
func clientDial(t *testing.T, ctx context.Context, addr string) (*ptpip.Session, *mtp.Device) {
	t.Helper()
	s, err := ptpip.Dial(ctx, addr, ptpip.Config{
		GUID: clientGUID, Name: "airnef-mount test",
		ConnectTimeout: 10 * time.Second, Timeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { s.Close() })
	d := mtp.NewDevice(s, nil)
	if _, err := d.GetDeviceInfo(ctx); err != nil {
		t.Fatal(err)
	}
	if err := d.OpenSession(ctx, s.ConnectionNumber()); err != nil {
		t.Fatal(err)
	}
	return s, d
}

// clientObject is one object as the client sees it.
type clientObject struct {
	handle uint32
	info   *mtp.ObjectInfo
	size   uint64
}

// clientEnumerate lists every object of every storage with the flat
// GetObjectHandles(storage, 0, 0) and one GetObjectInfo each, and returns
// them by path below the storage (folders end in "/").
func clientEnumerate(t *testing.T, ctx context.Context, d *mtp.Device) map[string]clientObject {
	t.Helper()
	ids, err := d.GetStorageIDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 1 || ids[0] != 0x00010001 {
		t.Fatalf("storage IDs %#x, want [0x10001]", ids)
	}
	si, err := d.GetStorageInfo(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if si.StorageDescription != "Card 1" {
		t.Errorf("StorageDescription %q, want Card 1", si.StorageDescription)
	}
	handles, err := d.GetObjectHandles(ctx, ids[0], 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	n, err := d.GetNumObjects(ctx, ids[0], 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if int(n) != len(handles) {
		t.Errorf("GetNumObjects %d, GetObjectHandles %d", n, len(handles))
	}
	byHandle := map[uint32]*mtp.ObjectInfo{}
	for _, h := range handles {
		oi, err := d.GetObjectInfo(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		byHandle[h] = oi
	}
	var pathOf func(h uint32, depth int) string
	pathOf = func(h uint32, depth int) string {
		oi := byHandle[h]
		if oi == nil || depth > 64 {
			t.Fatalf("object %#x: parent chain broken", h)
		}
		name := oi.Filename
		if oi.ObjectFormat == mtp.FormatAssociation {
			name += "/"
		}
		if oi.ParentObject == 0 || oi.ParentObject == 0xFFFFFFFF {
			return name
		}
		return pathOf(oi.ParentObject, depth+1) + name
	}
	objs := map[string]clientObject{}
	for h, oi := range byHandle {
		size, err := d.ObjectSize(ctx, h, oi)
		if err != nil {
			t.Fatal(err)
		}
		objs[pathOf(h, 0)] = clientObject{handle: h, info: oi, size: size}
	}
	return objs
}

// clientWalk lists dir as the camera should show it.
func clientWalk(t *testing.T, dir string) map[string]fs.FileInfo {
	t.Helper()
	want := map[string]fs.FileInfo{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if e.IsDir() {
			rel += "/"
		}
		fi, err := e.Info()
		want[rel] = fi
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return want
}

// clientRead reads a whole object in chunks of the given size with ReadAt,
// the mount's read path.
func clientRead(ctx context.Context, d *mtp.Device, o clientObject, chunk uint32) ([]byte, error) {
	var b bytes.Buffer
	for off := int64(0); off < int64(o.size); off += int64(chunk) {
		n := min(uint64(chunk), o.size-uint64(off))
		got, err := d.ReadAt(ctx, o.handle, off, uint32(n), &b)
		if err != nil {
			return nil, err
		}
		if uint64(got) != n {
			return nil, fmt.Errorf("ReadAt(%d, %d) gave %d bytes", off, n, got)
		}
	}
	return b.Bytes(), nil
}

func TestClientEnumeratesAndReadsEveryFile(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := clientCard(t)
	_, port := gphotoCamera(t, dir)
	s, d := clientDial(t, ctx, net.JoinHostPort("127.0.0.1", port))

	if got := d.Info().Model; got != "Sim Model 7" {
		t.Errorf("model %q", got)
	}
	got := clientEnumerate(t, ctx, d)
	want := clientWalk(t, dir)
	if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
		t.Fatalf("camera lists\n%q\nthe card has\n%q", g, w)
	}
	for p, o := range got {
		fi := want[p]
		if mt, ok := mtp.ParseDate(o.info.CaptureDate, time.Local); !ok || !mt.Equal(fi.ModTime().Truncate(time.Second)) {
			t.Errorf("%s: capture date %q, file mtime %v", p, o.info.CaptureDate, fi.ModTime())
		}
		if strings.HasSuffix(p, "/") {
			continue
		}
		if o.size != uint64(fi.Size()) {
			t.Errorf("%s: size %d, want %d", p, o.size, fi.Size())
		}
		disk, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		// Two chunk sizes: one that divides nothing evenly, and the 1 MiB
		// of today's tools.
		for _, chunk := range []uint32{1<<20 + 4093, 1 << 20} {
			b, err := clientRead(ctx, d, o, chunk)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			if !bytes.Equal(b, disk) {
				t.Fatalf("%s: %d bytes read in chunks of %d differ from the file", p, len(b), chunk)
			}
		}
		if o.size < 2<<20 {
			var whole bytes.Buffer
			if err := d.GetObject(ctx, o.handle, &whole); err != nil {
				t.Fatalf("%s: GetObject: %v", p, err)
			}
			if !bytes.Equal(whole.Bytes(), disk) {
				t.Errorf("%s: GetObject bytes differ", p)
			}
		}
	}

	// Random ranges of the big file, including ones crossing 1 MiB.
	big := got["DCIM/101TEST/BIG_0001.MOV"]
	disk, _ := os.ReadFile(filepath.Join(dir, "DCIM", "101TEST", "BIG_0001.MOV"))
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50 {
		off := rng.Int64N(int64(big.size))
		n := uint32(rng.Int64N(min(int64(big.size)-off, 3<<20)) + 1)
		var b bytes.Buffer
		if _, err := d.ReadAt(ctx, big.handle, off, n, &b); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Bytes(), disk[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d, %d) differs from the file", off, n)
		}
	}

	// A vanished object is an error the caller can recognise, and the
	// session survives it.
	if _, err := d.GetObjectInfo(ctx, 0x7fff0000); !errors.Is(err, mtp.RespInvalidObjectHandle) {
		t.Errorf("GetObjectInfo of a bad handle: %v, want InvalidObjectHandle", err)
	}
	if err := d.CloseSession(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Err(); err != nil {
		t.Errorf("session ended with %v", err)
	}
}

func TestClientSeesAddedAndRemovedFiles(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := clientCard(t)
	_, port := gphotoCamera(t, dir)
	s, d := clientDial(t, ctx, net.JoinHostPort("127.0.0.1", port))

	p := filepath.Join(dir, "DCIM", "100TEST", "NEW_0100.JPG")
	if err := os.WriteFile(p, gphotoJPEG(t, 32, 32, 9), 0o644); err != nil {
		t.Fatal(err)
	}
	added := clientEvent(t, ctx, s, mtp.EventObjectAdded)
	oi, err := d.GetObjectInfo(ctx, added.Params[0])
	if err != nil {
		t.Fatal(err)
	}
	if oi.Filename != "NEW_0100.JPG" || oi.ObjectFormat != mtp.FormatEXIFJPEG {
		t.Errorf("added object is %q format %v", oi.Filename, oi.ObjectFormat)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	removed := clientEvent(t, ctx, s, mtp.EventObjectRemoved)
	if removed.Params[0] != added.Params[0] {
		t.Errorf("ObjectRemoved %#x, ObjectAdded was %#x", removed.Params[0], added.Params[0])
	}
	if _, err := d.GetObjectInfo(ctx, added.Params[0]); !errors.Is(err, mtp.RespInvalidObjectHandle) {
		t.Errorf("GetObjectInfo of the removed object: %v", err)
	}
}

// clientEvent waits for the first event with the given code.
func clientEvent(t *testing.T, ctx context.Context, s *ptpip.Session, code mtp.EventCode) mtp.Event {
	t.Helper()
	for {
		select {
		case e, ok := <-s.Events():
			if !ok {
				t.Fatalf("event channel closed waiting for %v: %v", code, s.Err())
			}
			if e.Code == code && len(e.Params) > 0 {
				return e
			}
		case <-ctx.Done():
			t.Fatalf("no %v event", code)
		}
	}
}

// TestClientWire captures our client's session with the simulator on
// loopback and has tshark's PTP/IP dissector look for malformed packets.
func TestClientWire(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := clientCard(t)
	_, port := gphotoCamera(t, dir)
	stop := wireCapture(t, ctx, port)

	s, d := clientDial(t, ctx, net.JoinHostPort("127.0.0.1", port))
	for p, o := range clientEnumerate(t, ctx, d) {
		if strings.HasSuffix(p, "/") {
			continue
		}
		if _, err := clientRead(ctx, d, o, 1<<20); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		var thumb bytes.Buffer
		d.GetThumb(ctx, o.handle, &thumb) // NoThumbnailPresent is a fine answer here
	}
	if err := d.CloseSession(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()

	decode := stop()
	if out := decode("-Y", "_ws.malformed"); out != "" {
		t.Errorf("tshark finds malformed packets in our client's session:\n%s", out)
	}
	// Proof that tshark decoded PTP/IP at all: it saw our GUID and name.
	names := decode("-Y", "ptpip.pktType == 1", "-T", "fields", "-e", "ptpip.guid", "-e", "ptpip.name")
	if want := fmt.Sprintf("%x", clientGUID[:]); !strings.Contains(strings.ReplaceAll(names, ":", ""), want) ||
		!strings.Contains(names, "airnef-mount test") {
		t.Errorf("tshark saw Init Command Request %q, want GUID %s and our name", names, want)
	}
}
