package test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// Every body of the simulator's table (camsim/bodies.go), end to end: the
// mount copies its card byte for byte with the listing its DeviceInfo
// offers, and gphoto2 lists and downloads the same card.

// bodiesCard is a card for p: a DCF folder of p's make with two JPEGs, two
// RAWs and a movie, dated two seconds apart (a D7200's halved seconds then
// round-trip). The first RAW decodes as a JPEG, so the camera has a
// thumbnail of it, as of a real RAW; the second has none. It returns the
// directory, the files, and the name of the thumbnail-less RAW.
func bodiesCard(t *testing.T, p *camsim.Personality) (string, map[string][]byte, string) {
	t.Helper()
	dir := t.TempDir()
	l := p.Layout
	folder := "DCIM/100" + l.FolderSuffix
	bare := folder + "/" + l.FilePrefix + "0004" + l.RawExt
	files := map[string][]byte{
		folder + "/" + l.FilePrefix + "0001.JPG": gphotoJPEG(t, 320, 240, 1),
		// Over 1 MiB for gphoto2's partial reads, padded after the picture
		// as cameras pad their JPEGs: the simulator makes the thumbnail of
		// a JPEG without one from its picture, and 1400 x 1050 pixels took
		// it 0.5 s under the race detector, past gphoto2's 2.5 s on a busy
		// machine.
		folder + "/" + l.FilePrefix + "0002.JPG":          slices.Concat(gphotoJPEG(t, 320, 240, 2), make([]byte, 1200<<10)),
		folder + "/" + l.FilePrefix + "0002" + l.RawExt:   gphotoJPEG(t, 640, 480, 3),
		folder + "/" + l.FilePrefix + "0003" + l.VideoExt: bytes.Repeat([]byte("not a movie "), 3000),
		bare: bytes.Repeat([]byte("not really a raw file "), 20000),
	}
	when := time.Date(2024, 5, 6, 15, 4, 10, 0, time.Local)
	for rel, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, when, when); err != nil {
			t.Fatal(err)
		}
		when = when.Add(2 * time.Second)
	}
	return dir, files, bare
}

// bodiesGUID is the host GUID a body accepts: a Sony never paired takes a
// zero tail.
func bodiesGUID(p *camsim.Personality) string {
	if p.Make == "sony" {
		return sonyZeroGUID
	}
	return hexGUID(clientGUID)
}

func hexGUID(g [16]byte) string { return fmt.Sprintf("%x", g[:]) }

// TestBodiesMount mounts every body and copies its card with cp -a, byte
// for byte. The listing takes the body's
// fastest way: GetObjectInfoEx on an EOS, GetObjectPropList on a Sony (its
// DeviceInfo lists it), one GetObjectInfo per object on a Nikon.
func TestBodiesMount(t *testing.T) {
	mountRequireFUSE(t)
	mountBuild(t)
	for _, b := range camsim.Bodies() {
		t.Run(b.Name, func(t *testing.T) {
			p := b.Personality()
			dir, files, _ := bodiesCard(t, p)
			cam, port := simStart(t, camsim.Config{Dir: dir, Personality: p})
			mnt := mountDir(t)
			r := mountStart(t, net.JoinHostPort("127.0.0.1", port), mnt, "--guid", bodiesGUID(p), "--metadata-cache=false")
			dst := t.TempDir()
			mountRunCmd(t, 60*time.Second, nil, "cp", "-a", mountStorage(t, mnt)+"/.", dst)
			for rel, want := range files {
				got, err := os.ReadFile(filepath.Join(dst, filepath.FromSlash(rel)))
				if err != nil {
					t.Errorf("%s not copied: %v", rel, err)
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: %d bytes copied differ from the card's %d", rel, len(got), len(want))
				}
			}
			ops := map[string]int{}
			for _, op := range []mtp.OpCode{mtp.OpCanonEOSGetObjectInfoEx, mtp.OpGetObjectPropList, mtp.OpGetObjectInfo} {
				ops[op.String()] = cam.OpCount(op)
			}
			t.Logf("%s (%s %s): listing operations %v", b.Name, b.Manufacturer, b.Model, ops)
			switch p.Make {
			case "canon":
				if ops["CanonEOSGetObjectInfoEx"] == 0 || ops["GetObjectInfo"] != 0 {
					t.Errorf("an EOS listed with %v, want GetObjectInfoEx and no GetObjectInfo", ops)
				}
			case "sony":
				if ops["GetObjectPropList"] == 0 || ops["GetObjectInfo"] > 1 {
					t.Errorf("a Sony listed with %v, want GetObjectPropList (GetObjectInfo for DCIM at most)", ops)
				}
			case "nikon":
				if ops["GetObjectInfo"] < len(files) {
					t.Errorf("a Nikon listed with %v, want one GetObjectInfo per object", ops)
				}
			}
			r.stop()
		})
	}
}

// TestBodiesGphoto2 runs gphoto2 --list-files and --get-all-files against
// every body: it lists every file of the card and downloads the same bytes,
// RAWs included (CR2 as 0xB103 "image/x-canon-cr2", ARW as 0xB101
// "image/x-sony-arw", NEF as 0x3000 "application/x-unknown"), except what
// libgphoto2 refuses by design: an object of format Undefined (0x3000)
// without a thumbnail on a camera it does not take for MTP ("we do not
// allow downloading unknown type files", library.c get_file_func), here a
// Nikon's NEF without one. gphoto2 sends no probe and ends its sessions
// within a second: a Nikon's ProbeRequired and QuickCloseHang
// (TestGphoto2Vendors) are off here; a Sony takes one session per Send to
// Computer: it is pressed again between the two runs. The bodies run one
// at a time: gphoto2 gives up on an answer after 2.5 s
// (PTPIP_DEFAULT_TIMEOUT_S and _MS, ptpip.h), and the simulator runs in
// this process, under the race detector on a busy machine.
func TestBodiesGphoto2(t *testing.T) {
	gphotoTool(t, "gphoto2")
	for _, b := range camsim.Bodies() {
		t.Run(b.Name, func(t *testing.T) {
			p := b.Personality()
			p.ProbeRequired, p.QuickCloseHang = false, false
			dir, files, bare := bodiesCard(t, p)
			skipped := map[string]bool{bare: p.Make == "nikon"}
			cam, port := simStart(t, camsim.Config{Dir: dir, Personality: p})
			g := newGphoto(t, port)
			if p.Make == "sony" {
				if err := os.WriteFile(filepath.Join(g.home, ".gphoto", "settings"), []byte("ptp2_ip=guid=00:11:22:33:44:55:66:77:88:99:00:00:00:00:00:00\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := g.run(t, t.TempDir(), "--list-files")
			for rel, data := range files {
				line := regexp.MustCompile(`(?m)^#\d+\s+` + regexp.QuoteMeta(path.Base(rel)) + `\s.*$`).FindString(out)
				if line == "" {
					t.Errorf("%s not listed:\n%s", rel, out)
					continue
				}
				if kb := fmt.Sprintf(" %d KB ", (len(data)+1023)/1024); !strings.Contains(line, kb) && !strings.Contains(line, fmt.Sprintf(" %d KB ", len(data)/1024)) {
					t.Errorf("%s listed as %q, size %d bytes", rel, line, len(data))
				}
				t.Logf("%s: %s", b.Name, strings.Join(strings.Fields(line), " "))
			}
			if p.Make == "sony" {
				if err := cam.Press(); err != nil {
					t.Fatal(err)
				}
			}
			cwd := t.TempDir()
			g.run(t, cwd, "--get-all-files")
			for rel, want := range files {
				got, err := os.ReadFile(filepath.Join(cwd, path.Base(rel)))
				if skipped[rel] {
					if err == nil {
						t.Errorf("%s downloaded: libgphoto2 skips an Undefined object without a thumbnail", rel)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s not downloaded: %v", rel, err)
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: downloaded %d bytes differ from the card's %d", rel, len(got), len(want))
				}
			}
			if p.Make == "canon" && cam.OpCount(mtp.OpCanonEOSGetObjectInfoEx) == 0 {
				t.Error("gphoto2 listed an EOS without GetObjectInfoEx")
			}
		})
	}
}
