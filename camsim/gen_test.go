package camsim

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// genSize is the size of the files of genCard: enough for every part
// of a RAW at its share of the file, small enough to read whole often.
const genSize = 2 << 20

// genCard is a generated card of the personality p, its files genSize
// bytes, and its files.
func genCard(p *Personality, photos int) (*genMedium, []entry) {
	m := newGenMedium(CardSpec{Photos: photos, Seed: 7, Size: genSize, Video: 3 << 20}, p.Layout, p.Manufacturer, p.Model, time.UTC)
	es, _ := m.walk()
	var files []entry
	for _, e := range es {
		if !e.dir {
			files = append(files, e)
		}
	}
	return m, files
}

// readWhole reads every byte of the generated file e.
func readWhole(t *testing.T, m *genMedium, e entry) []byte {
	t.Helper()
	r, err := m.open(e.rel)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, e.size)
	if n, err := r.ReadAt(b, 0); n != len(b) || err != nil {
		t.Fatalf("%s: read %d of %d: %v", e.rel, n, len(b), err)
	}
	return b
}

// jpegSegments walks a JPEG's markers up to its first scan and returns
// them in order ("D8", "E1", "DB", ...) with where the scan starts.
func jpegSegments(t *testing.T, b []byte) ([]string, int) {
	t.Helper()
	var out []string
	p := 2
	out = append(out, "D8")
	for p+4 <= len(b) {
		if b[p] != 0xFF {
			t.Fatalf("no marker at %d", p)
		}
		m := b[p+1]
		out = append(out, strings.ToUpper(string("0123456789abcdef"[m>>4])+string("0123456789abcdef"[m&15])))
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		p += 2 + n
		if m == 0xDA {
			return out, p
		}
	}
	t.Fatal("no scan")
	return nil, 0
}

// A generated JPEG is shaped like a camera's: SOI, the EXIF APP1 segment
// (capture date, thumbnail), the picture's own segments, and the padding
// only after the scan; it decodes to the picture and its thumbnail is
// GetThumb's.
func TestGeneratedJPEGShape(t *testing.T) {
	for _, p := range []*Personality{Nikon(), Canon(), Generic()} {
		t.Run(p.Name, func(t *testing.T) {
			m, files := genCard(p, 6)
			for _, e := range files {
				if !strings.HasSuffix(e.rel, ".JPG") {
					continue
				}
				b := readWhole(t, m, e)
				segs, scan := jpegSegments(t, b)
				if got := strings.Join(segs, " "); got != "D8 E1 DB C0 C4 DA" {
					t.Errorf("%s: segments %s, want SOI, APP1, then the picture's (DQT SOF0 DHT SOS)", e.rel, got)
				}
				if scan > 32<<10 {
					t.Errorf("%s: the scan starts at %d, want within the first 32 KiB", e.rel, scan)
				}
				if !bytes.HasSuffix(b, []byte{0xFF, 0xD9}) {
					t.Errorf("%s: no EOI at the end", e.rel)
				}
				img, err := jpeg.Decode(bytes.NewReader(b))
				if err != nil || img.Bounds().Dx() != genWidth || img.Bounds().Dy() != genHeight {
					t.Errorf("%s: decodes to %v, %v", e.rel, img.Bounds(), err)
				}
				app1 := b[10 : 4+int(binary.BigEndian.Uint16(b[4:]))]
				if !strings.Contains(string(app1), exifDateOf(e)) {
					t.Errorf("%s: EXIF lacks the capture date %s", e.rel, exifDateOf(e))
				}
				want, _ := m.thumb(e.rel, false)
				if got := exifThumb(bytes.NewReader(b)); got == nil || !bytes.Equal(got, want) {
					t.Errorf("%s: EXIF thumbnail (%d bytes) is not the camera's (%d)", e.rel, len(got), len(want))
				}
			}
		})
	}
}

func exifDateOf(e entry) string { return e.mtime.Format("2006:01:02 15:04:05") }

// A generated RAW is the make's TIFF container: its header, the
// thumbnail and previews where the format keeps them, and the camera's
// thumbnail is the file's.
func TestGeneratedRAWShape(t *testing.T) {
	tests := []struct {
		p      *Personality
		ext    string
		head   string
		thumb  bool  // the JPEG thumbnail is in the file (NEF's is RGB)
		jpegs  int   // embedded JPEGs
		deeper int64 // the thumbnail lies at least this far in (after CR2's preview)
	}{
		{Nikon(), ".NEF", "MM\x00*\x00\x00\x00\x08", false, 1, 0},
		{Canon(), ".CR2", "II*\x00\x10\x00\x00\x00CR\x02\x00", true, 2, genSize / cr2PreviewShare},
		{Sony(), ".ARW", "II*\x00\x08\x00\x00\x00", true, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.ext, func(t *testing.T) {
			m, files := genCard(tc.p, 8)
			raws := 0
			for _, e := range files {
				if !strings.HasSuffix(e.rel, tc.ext) {
					continue
				}
				raws++
				b := readWhole(t, m, e)
				if !bytes.HasPrefix(b, []byte(tc.head)) {
					t.Errorf("%s starts % x", e.rel, b[:16])
				}
				if !bytes.Contains(b[:64<<10], []byte(exifDateOf(e))) {
					t.Errorf("%s: no capture date in its first 64 KiB", e.rel)
				}
				spans := tiffJPEGs(bytes.NewReader(b), e.size)
				if len(spans) != tc.jpegs {
					t.Fatalf("%s: embedded JPEGs %+v, want %d", e.rel, spans, tc.jpegs)
				}
				for _, sp := range spans {
					if _, err := jpeg.Decode(bytes.NewReader(b[sp.off : sp.off+sp.n])); err != nil {
						t.Errorf("%s: JPEG at %d does not decode: %v", e.rel, sp.off, err)
					}
				}
				want, _ := m.thumb(e.rel, false)
				jpegName := strings.TrimSuffix(e.rel, tc.ext) + ".JPG"
				if pair, _ := m.thumb(jpegName, false); !bytes.Equal(pair, want) {
					t.Errorf("%s: thumbnail differs from its JPEG's", e.rel)
				}
				if tc.thumb {
					th := spans[0]
					if !bytes.Equal(b[th.off:th.off+th.n], want) || th.off < tc.deeper {
						t.Errorf("%s: thumbnail at %d (%d bytes) is not the camera's", e.rel, th.off, th.n)
					}
				}
				if got, err := thumbFromFile(bytes.NewReader(b), e.size, false); err != nil || len(got) == 0 {
					t.Errorf("%s: no thumbnail found in the file: %v", e.rel, err)
				}
			}
			if raws == 0 {
				t.Fatal("no RAW file on the card")
			}
		})
	}
}

// Reading any piece of a generated file alone, from another generator,
// gives the same bytes as reading the whole.
func TestGeneratedPieces(t *testing.T) {
	for _, p := range []*Personality{Nikon(), Canon(), Sony()} {
		a, files := genCard(p, 4)
		b, _ := genCard(p, 4)
		for _, e := range files {
			whole := readWhole(t, a, e)
			r, _ := b.open(e.rel)
			for _, off := range []int64{0, 1, 7, 100, 4095, 70000, 1 << 20, e.size / 2, e.size - 5000, e.size - 2, e.size - 1} {
				if off < 0 || off >= e.size {
					continue
				}
				q := make([]byte, min(100_000, e.size-off))
				if n, _ := r.ReadAt(q, off); n != len(q) || !bytes.Equal(q, whole[off:off+int64(n)]) {
					t.Errorf("%s at %d: differs", e.rel, off)
				}
			}
		}
	}
}

// exiftool, a program written by no one here, reads the generated files
// as the make's: file type, capture date, and each embedded image where
// ExifTool's tag tables say the format keeps it.
func TestGeneratedExiftool(t *testing.T) {
	et, err := exec.LookPath("exiftool")
	if err != nil {
		t.Skip("exiftool not installed (Debian: libimage-exiftool-perl)")
	}
	dir := t.TempDir()
	type want struct {
		fileType string
		images   []string // tags that extract a JPEG
	}
	wants := map[string]want{
		".JPG": {"JPEG", []string{"ThumbnailImage"}},
		".NEF": {"NEF", []string{"PreviewImage", "JpgFromRaw"}},
		".CR2": {"CR2", []string{"ThumbnailImage", "PreviewImage"}},
		".ARW": {"ARW", []string{"ThumbnailImage", "PreviewImage"}},
	}
	for _, p := range []*Personality{Nikon(), Canon(), Sony()} {
		m, files := genCard(p, 3)
		for _, e := range files {
			w, ok := wants[filepath.Ext(e.rel)]
			if !ok {
				continue
			}
			path := filepath.Join(dir, p.Name+"_"+filepath.Base(e.rel))
			if err := os.WriteFile(path, readWhole(t, m, e), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(et, "-j", "-validate", "-warning", "-error", "-FileType", "-DateTimeOriginal", "-Make", "-Model", path).Output()
			if err != nil {
				t.Fatalf("exiftool %s: %v", path, err)
			}
			var got []map[string]any
			if err := json.Unmarshal(out, &got); err != nil || len(got) != 1 {
				t.Fatalf("exiftool -j: %v\n%s", err, out)
			}
			g := got[0]
			if g["FileType"] != w.fileType || g["DateTimeOriginal"] != exifDateOf(e) || g["Make"] != p.Manufacturer || g["Model"] != p.Model {
				t.Errorf("%s: exiftool sees %v", e.rel, g)
			}
			if g["Validate"] != "OK" || g["Warning"] != nil || g["Error"] != nil {
				t.Errorf("%s: exiftool finds fault: %v", e.rel, g)
			}
			for _, tag := range w.images {
				img, err := exec.Command(et, "-b", "-"+tag, path).Output()
				if err != nil {
					t.Fatalf("exiftool -b -%s: %v", tag, err)
				}
				if _, err := jpeg.DecodeConfig(bytes.NewReader(img)); err != nil {
					t.Errorf("%s: %s is not a JPEG (%d bytes): %v", e.rel, tag, len(img), err)
				}
				if tag == "ThumbnailImage" {
					if th, _ := m.thumb(e.rel, false); !bytes.Equal(img, th) {
						t.Errorf("%s: exiftool's thumbnail is not the camera's", e.rel)
					}
				}
			}
		}
	}
}

// Python's PIL decodes a generated JPEG whole, with no warning, and
// opens a NEF and a CR2 as the TIFF they are (an ARW, like Sony's, it
// does not know).
func TestGeneratedPIL(t *testing.T) {
	py := "/usr/bin/python3" // Debian's, with python3-pil
	if err := exec.Command(py, "-c", "import PIL").Run(); err != nil {
		t.Skip("PIL not installed (Debian: python3-pil)")
	}
	dir := t.TempDir()
	var paths []string
	for _, p := range []*Personality{Nikon(), Canon(), Sony()} {
		m, files := genCard(p, 4)
		for _, e := range files {
			if filepath.Ext(e.rel) == ".MOV" || filepath.Ext(e.rel) == ".MP4" {
				continue
			}
			path := filepath.Join(dir, p.Name+"_"+filepath.Base(e.rel))
			os.WriteFile(path, readWhole(t, m, e), 0o644)
			paths = append(paths, path)
		}
	}
	script := `
import sys, warnings
from PIL import Image
warnings.simplefilter("error")
for p in sys.argv[1:]:
    try:
        with Image.open(p) as im:
            if p.endswith(".JPG"):
                im.load()
            print(p.rsplit("/", 1)[1], im.format, im.size[0], im.size[1])
    except Image.UnidentifiedImageError:
        print(p.rsplit("/", 1)[1], "unidentified - -")
`
	out, err := exec.Command(py, append([]string{"-c", script}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("PIL: %v\n%s", err, out)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(l)
		want := "TIFF"
		switch filepath.Ext(f[0]) {
		case ".JPG":
			want = "JPEG"
		case ".ARW": // no ImageWidth in IFD0, as in Sony's files: PIL does not know them
			want = "unidentified"
		}
		if len(f) != 4 || f[1] != want || f[2] == "0" {
			t.Errorf("PIL: %s", l)
		}
	}
	if n := strings.Count(string(out), "\n"); n != len(paths) {
		t.Errorf("PIL read %d of %d files:\n%s", n, len(paths), out)
	}
}

// Every photo, RAW included, and the movie have a camera thumbnail, and
// Nikon's GetLargeThumb answers the preview where it is offered.
func TestGeneratedThumbs(t *testing.T) {
	p := Nikon()
	p.Ops = append(p.Ops, mtp.OpNikonGetLargeThumb)
	p.ProbeRequired, p.QuickCloseHang = false, false
	_, addr := startCamera(t, Config{Personality: p, Generate: &CardSpec{Photos: 6, Seed: 7, Video: 3 << 20}})
	cl := dial(t, addr)
	cl.open()
	kinds := map[string]int{}
	for name, h := range cl.byName() {
		ext := filepath.Ext(name)
		if ext == "" {
			continue
		}
		kinds[ext]++
		oi := cl.objectInfo(h)
		r := cl.must(mtp.OpGetThumb, h)
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(r.data))
		if err != nil || cfg.Width != thumbMax || oi.ThumbCompressedSize != uint32(len(r.data)) || oi.ThumbPixWidth != uint32(cfg.Width) {
			t.Errorf("%s: thumbnail %dx%d (%v), ObjectInfo %d bytes %dx%d", name, cfg.Width, cfg.Height, err, oi.ThumbCompressedSize, oi.ThumbPixWidth, oi.ThumbPixHeight)
		}
		if ext == ".MOV" {
			cl.want(mtp.RespNoThumbnailPresent, mtp.OpNikonGetLargeThumb, h)
			continue
		}
		large := cl.must(mtp.OpNikonGetLargeThumb, h)
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(large.data)); err != nil || cfg.Width != genWidth {
			t.Errorf("%s: large thumbnail %dx%d, %v", name, cfg.Width, cfg.Height, err)
		}
	}
	if kinds[".JPG"] != 6 || kinds[".NEF"] == 0 || kinds[".MOV"] != 1 {
		t.Errorf("card holds %v", kinds)
	}
}

// Listing a card of thousands of files describes each with its thumbnail:
// the generator stays fast enough for the benchmark's cards.
func BenchmarkGeneratedObjectInfo(b *testing.B) {
	for b.Loop() {
		m, files := genCard(Canon(), 1000)
		for _, e := range files {
			if _, err := m.thumb(e.rel, false); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// Reading a generated file's header, as exiftool does, costs one layout.
func BenchmarkGeneratedHeader(b *testing.B) {
	m, files := genCard(Canon(), 200)
	p := make([]byte, 64<<10)
	i := 0
	for b.Loop() {
		e := files[i%len(files)]
		i++
		r, _ := m.open(e.rel)
		r.ReadAt(p, 0)
	}
}

// FuzzEmbeddedJPEGs: no file on a --dir card panics the simulator's
// walk of its EXIF and TIFF structure, and every JPEG it reports lies in
// the file and starts with SOI.
func FuzzEmbeddedJPEGs(f *testing.F) {
	for _, p := range []*Personality{Nikon(), Canon(), Sony()} {
		m := newGenMedium(CardSpec{Photos: 2, Seed: 1, Size: MinGeneratedSize}, p.Layout, p.Manufacturer, p.Model, time.UTC)
		es, _ := m.walk()
		for _, e := range es {
			if !e.dir {
				r, _ := m.open(e.rel)
				head := make([]byte, 8<<10)
				r.ReadAt(head, 0)
				f.Add(head)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if th := exifThumb(bytes.NewReader(data)); th != nil && !bytes.HasPrefix(th, []byte{0xFF, 0xD8}) {
			t.Fatalf("EXIF thumbnail % x...", th[:min(len(th), 4)])
		}
		for _, sp := range tiffJPEGs(bytes.NewReader(data), int64(len(data))) {
			if sp.off < 0 || sp.n < 4 || sp.off+sp.n > int64(len(data)) || data[sp.off] != 0xFF || data[sp.off+1] != 0xD8 {
				t.Fatalf("span %+v of a %d-byte file", sp, len(data))
			}
		}
	})
}
