package thumbnail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airnef-mount/airnef-mount/camsim"
)

// countingReader counts the reads made of r and the bytes they asked.
type countingReader struct {
	r            io.ReaderAt
	reads, bytes int
}

func (c *countingReader) ReadAt(p []byte, off int64) (int, error) {
	c.reads++
	c.bytes += len(p)
	return c.r.ReadAt(p, off)
}

// simFiles starts a simulated camera of personality p on a generated card
// and returns it with its photos.
func simFiles(t *testing.T, p *camsim.Personality) (*camsim.Camera, []camsim.File) {
	t.Helper()
	cam, err := camsim.New(camsim.Config{Personality: p, Generate: &camsim.CardSpec{Photos: 4, Seed: 9, Size: 3 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cam.Close() })
	var files []camsim.File
	for _, f := range cam.Files() {
		if !f.Dir {
			files = append(files, f)
		}
	}
	return cam, files
}

// Embedded finds each generated photo's thumbnail (a NEF's preview) with
// a few small reads, and it is the one exiftool extracts.
func TestEmbeddedGenerated(t *testing.T) {
	et, _ := exec.LookPath("exiftool")
	tag := map[string]string{".JPG": "ThumbnailImage", ".CR2": "ThumbnailImage", ".ARW": "ThumbnailImage", ".NEF": "PreviewImage"}
	for _, p := range []*camsim.Personality{camsim.Nikon(), camsim.Canon(), camsim.Sony()} {
		t.Run(p.Name, func(t *testing.T) {
			cam, files := simFiles(t, p)
			for _, f := range files {
				ext := filepath.Ext(f.Path)
				if tag[ext] == "" {
					continue
				}
				r, closer, err := cam.Open(f.Slot, f.Path)
				if err != nil {
					t.Fatal(err)
				}
				defer closer.Close()
				cr := &countingReader{r: r}
				got, err := Embedded(cr, f.Size)
				if err != nil {
					t.Fatalf("%s: %v", f.Path, err)
				}
				cfg, err := jpeg.DecodeConfig(bytes.NewReader(got))
				if err != nil || cfg.Width < 128 {
					t.Errorf("%s: %dx%d, %v", f.Path, cfg.Width, cfg.Height, err)
				}
				// The head, then for a CR2 the IFDs 2 MB in: never more
				// than a few small reads, never the file.
				if cr.reads > 10 || cr.bytes > 160<<10 {
					t.Errorf("%s: %d reads of %d bytes", f.Path, cr.reads, cr.bytes)
				}
				if et == "" {
					continue
				}
				whole := make([]byte, f.Size)
				r.ReadAt(whole, 0)
				path := filepath.Join(t.TempDir(), filepath.Base(f.Path))
				os.WriteFile(path, whole, 0o644)
				want, err := exec.Command(et, "-b", "-"+tag[ext], path).Output()
				if err != nil || !bytes.Equal(got, want) {
					t.Errorf("%s: not exiftool's %s (%d bytes, %v)", f.Path, tag[ext], len(want), err)
				}
			}
		})
	}
}

// tiffFile is a little-endian TIFF structure: header, then IFDs each of
// entries (tag, type, count, value) and a next offset, at the offsets
// given, in a file of size bytes (the rest zero) with extra bytes placed.
type tiffIFDSpec struct {
	at      uint32
	entries [][4]uint32
	next    uint32
}

func tiffFile(size int, ifd0 uint32, ifds []tiffIFDSpec, extra map[int][]byte) []byte {
	b := make([]byte, size)
	copy(b, "II*\x00")
	binary.LittleEndian.PutUint32(b[4:], ifd0)
	for _, d := range ifds {
		p := int(d.at)
		binary.LittleEndian.PutUint16(b[p:], uint16(len(d.entries)))
		p += 2
		for _, e := range d.entries {
			binary.LittleEndian.PutUint16(b[p:], uint16(e[0]))
			binary.LittleEndian.PutUint16(b[p+2:], uint16(e[1]))
			binary.LittleEndian.PutUint32(b[p+4:], e[2])
			binary.LittleEndian.PutUint32(b[p+8:], e[3])
			p += 12
		}
		binary.LittleEndian.PutUint32(b[p:], d.next)
	}
	for at, x := range extra {
		copy(b[at:], x)
	}
	return b
}

func TestEmbeddedCases(t *testing.T) {
	thumb := jpegBytes(t, 160, 120)
	preview := noisyJPEG(t, 400, 300) // over thumbEnough
	small := jpegBytes(t, 640, 480)   // a preview of a few KiB
	long := func(tag, v uint32) [4]uint32 { return [4]uint32{tag, 4, 1, v} }
	n := uint32(len(thumb))
	var chain []tiffIFDSpec
	for i := range uint32(100) {
		chain = append(chain, tiffIFDSpec{at: 8 + 20*i, entries: [][4]uint32{long(0x0100, 1)}, next: 8 + 20*(i+1)})
	}
	tests := map[string]struct {
		data     []byte
		want     []byte
		maxReads int
	}{
		"smallest of two": {tiffFile(400_000, 8, []tiffIFDSpec{
			{8, [][4]uint32{long(0x0201, 100_000), long(0x0202, uint32(len(preview)))}, 200},
			{200, [][4]uint32{long(0x0201, 300_000), long(0x0202, n)}, 0},
		}, map[int][]byte{100_000: preview, 300_000: thumb}), thumb, 4},
		"IFD1 read after a small JPEG in IFD0": {tiffFile(3_000_000, 8, []tiffIFDSpec{
			{8, [][4]uint32{long(0x0201, 100_000), long(0x0202, uint32(len(small)))}, 2_500_000},
			{2_500_000, [][4]uint32{long(0x0201, 2_600_000), long(0x0202, n)}, 0},
		}, map[int][]byte{100_000: small, 2_600_000: thumb}), thumb, 4},
		"a thumbnail in IFD1 ends the walk": {tiffFile(3_000_000, 8, []tiffIFDSpec{
			{8, [][4]uint32{long(0x0100, 1)}, 200},
			{200, [][4]uint32{long(0x0201, 1000), long(0x0202, n)}, 2_500_000},
			{2_500_000, [][4]uint32{long(0x0201, 2_600_000), long(0x0202, 100)}, 0},
		}, map[int][]byte{1000: thumb, 2_600_000: thumb[:100]}), thumb, 1},
		"strip of old JPEG": {tiffFile(200_000, 8, []tiffIFDSpec{
			{8, [][4]uint32{{0x0103, 3, 1, 6}, long(0x0111, 150_000), long(0x0117, n)}, 0},
		}, map[int][]byte{150_000: thumb}), thumb, 2},
		"uncompressed strip is no JPEG": {tiffFile(200_000, 8, []tiffIFDSpec{
			{8, [][4]uint32{{0x0103, 3, 1, 1}, long(0x0111, 150_000), long(0x0117, n)}, 0},
		}, map[int][]byte{150_000: thumb}), nil, 1},
		"too big": {tiffFile(MaxEmbedded+100_000, 8, []tiffIFDSpec{
			{8, [][4]uint32{long(0x0201, 100), long(0x0202, MaxEmbedded+1)}, 0},
		}, map[int][]byte{100: thumb}), nil, 1},
		"not a JPEG there": {tiffFile(100_000, 8, []tiffIFDSpec{
			{8, [][4]uint32{long(0x0201, 70_000), long(0x0202, 5000)}, 0},
		}, nil), nil, 2},
		"beyond the end": {tiffFile(10_000, 8, []tiffIFDSpec{
			{8, [][4]uint32{long(0x0201, 9_000), long(0x0202, 5000)}, 0},
		}, nil), nil, 1},
		"IFD is its own next": {tiffFile(1000, 8, []tiffIFDSpec{
			{8, [][4]uint32{long(0x0100, 1)}, 8},
		}, nil), nil, 1},
		"huge entry count": {tiffFile(1000, 8, nil, map[int][]byte{8: {0xFF, 0xFF}}), nil, 1},
		"SubIFDs everywhere": {tiffFile(200_000, 8, []tiffIFDSpec{
			{8, [][4]uint32{{0x014A, 4, 1_000_000_000, 150_000}, {0x014A, 4, 3, 190_000}}, 0},
		}, nil), nil, 3},
		"a hundred chained IFDs": {tiffFile(200_000, 8, chain, nil), nil, 1},
		"chained IFDs far apart": {tiffFile(3_000_000, 100_000, []tiffIFDSpec{
			{100_000, [][4]uint32{long(0x0100, 1)}, 1_000_000}, {1_000_000, [][4]uint32{long(0x0100, 1)}, 100_000},
		}, nil), nil, 5},
		"JPEG without EXIF":        {jpegBytes(t, 64, 64), nil, 1},
		"empty":                    {nil, nil, 1},
		"three bytes":              {[]byte("II*"), nil, 1},
		"MM header, no IFD":        {[]byte("MM\x00*\x00\x00\x00\x00"), nil, 1},
		"JPEG with a lying APP1":   {[]byte("\xFF\xD8\xFF\xE1\xFF\xFFExif\x00\x00II*\x00\x08\x00\x00\x00"), nil, 1},
		"JPEG segment of length 0": {[]byte("\xFF\xD8\xFF\xE0\x00\x00"), nil, 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cr := &countingReader{r: bytes.NewReader(tc.data)}
			got, err := Embedded(cr, int64(len(tc.data)))
			switch {
			case tc.want != nil && (err != nil || !bytes.Equal(got, tc.want)):
				t.Errorf("got %d bytes, %v; want the %d-byte JPEG", len(got), err, len(tc.want))
			case tc.want == nil && !errors.Is(err, ErrNone):
				t.Errorf("got %d bytes, %v; want ErrNone", len(got), err)
			}
			if cr.reads > tc.maxReads {
				t.Errorf("%d reads, want at most %d", cr.reads, tc.maxReads)
			}
		})
	}
}

// noisyJPEG is a w×h JPEG of noise: tens of KiB, like a camera's preview.
func noisyJPEG(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.Uint32())
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	if b.Len() <= thumbEnough {
		t.Fatalf("noise of %d bytes", b.Len())
	}
	return b.Bytes()
}

// FuzzEmbedded: no input panics; a result is a JPEG's start, within
// MaxEmbedded, found within the read budget.
func FuzzEmbedded(f *testing.F) {
	thumb := jpegBytes(f, 16, 16)
	f.Add(tiffFile(4000, 8, []tiffIFDSpec{
		{8, [][4]uint32{{0x0201, 4, 1, 1000}, {0x0202, 4, 1, uint32(len(thumb))}}, 0},
	}, map[int][]byte{1000: thumb}))
	f.Add([]byte("\xFF\xD8\xFF\xE1\x00\x10Exif\x00\x00MM\x00*\x00\x00\x00\x08"))
	f.Add(jpegBytes(f, 8, 8))
	f.Fuzz(func(t *testing.T, data []byte) {
		cr := &countingReader{r: bytes.NewReader(data)}
		got, err := Embedded(cr, int64(len(data)))
		if cr.reads > embeddedReads+2 || cr.bytes > embeddedHead+embeddedReads*(12*maxIFDEntries+6)+MaxEmbedded {
			t.Fatalf("%d reads of %d bytes", cr.reads, cr.bytes)
		}
		if err != nil {
			if got != nil {
				t.Fatalf("bytes with an error: %v", err)
			}
			return
		}
		if len(got) < 4 || len(got) > MaxEmbedded || got[0] != 0xFF || got[1] != 0xD8 {
			t.Fatalf("got % x...", got[:min(len(got), 8)])
		}
		if !bytes.Contains(data, got) {
			t.Fatal("got bytes that are not in the file")
		}
	})
}

func TestEmbeddedNotTIFF(t *testing.T) {
	for _, s := range []string{"\x00\x00\x00\x14ftypqt  ", "RIFF....AVI ", "IIRO\x08\x00\x00\x00"} {
		if _, err := Embedded(strings.NewReader(s), int64(len(s))); !errors.Is(err, ErrNone) {
			t.Errorf("%q: %v, want ErrNone", s, err)
		}
	}
}
