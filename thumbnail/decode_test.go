package thumbnail

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"runtime"
	"sync"
	"testing"
)

// rawPNG is a PNG of w×h pixels of the given bit depth and colour type
// whose rows (all zero) are compressed as they are written, so that a
// picture of any size costs its compressed bytes; rows < 0 writes an
// IDAT of one empty zlib stream instead (a header that lies).
func rawPNG(w, h uint32, depth, colorType byte, rows int) []byte {
	chunk := func(b []byte, typ string, data []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, 0)
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	if rows > 0 {
		row := make([]byte, 1+(int(w)*int(depth)+7)/8)
		for range rows {
			zw.Write(row)
		}
	}
	zw.Close()
	b := chunk([]byte("\x89PNG\r\n\x1a\n"), "IHDR", ihdr)
	b = chunk(b, "IDAT", z.Bytes())
	return chunk(b, "IEND", nil)
}

// hugePNG is a valid 16,000 x 16,000 1-bit PNG (31 KB), made once.
var hugePNG = sync.OnceValue(func() []byte { return rawPNG(16000, 16000, 1, 0, 16000) })

// jpegHeader is the start of a JPEG whose frame header (SOF marker sof)
// declares w×h pixels in 3 components, with no image data.
func jpegHeader(sof byte, w, h uint16) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(8, 8, color.RGBA{1, 2, 3, 255}), nil); err != nil {
		panic(err)
	}
	j := b.Bytes()
	for p := 2; p+4 < len(j); p += 2 + int(binary.BigEndian.Uint16(j[p+2:])) {
		if j[p+1] == 0xC0 {
			out := bytes.Clone(j)
			out[p+1] = sof
			binary.BigEndian.PutUint16(out[p+5:], h)
			binary.BigEndian.PutUint16(out[p+7:], w)
			return out
		}
	}
	panic("no SOF0")
}

// allocated is the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// Images whose decoding would take more than MaxDecodeBytes are refused
// from their header, without a big allocation; others decode.
func TestDecodeBounds(t *testing.T) {
	var small, gifb bytes.Buffer
	png.Encode(&small, testImage(200, 100, color.RGBA{9, 8, 7, 255}))
	gif.Encode(&gifb, testImage(64, 64, color.RGBA{200, 0, 0, 255}), nil)
	baseline := jpegBytes(t, 1500, 1000)
	tests := map[string]struct {
		data []byte
		err  error
	}{
		"png bomb":             {rawPNG(1_000_000, 1_000_000, 8, 0, -1), ErrTooLarge},
		"png 16000x16000":      {hugePNG(), ErrTooLarge},
		"png rgba 4000x4000":   {rawPNG(4000, 4000, 8, 6, -1), ErrTooLarge},
		"jpeg 65500x65500":     {jpegHeader(0xC0, 65500, 65500), ErrTooLarge},
		"jpeg progressive 2k":  {jpegHeader(0xC2, 2000, 2000), ErrTooLarge},
		"jpeg baseline 2k":     {jpegHeader(0xC0, 2000, 2000), ErrDecode}, // allowed, then no scan
		"png 16-bit 3000x3000": {rawPNG(3000, 3000, 16, 6, -1), ErrTooLarge},
		"jpeg 1500x1000":       {baseline, nil},
		"png 200x100":          {small.Bytes(), nil},
		"gif 64x64":            {gifb.Bytes(), nil},
		"garbage":              {[]byte("not an image at all"), ErrDecode},
		"empty":                {nil, ErrDecode},
		"too many bytes":       {make([]byte, MaxInput+1), ErrTooLarge},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var img image.Image
			var err error
			n := allocated(func() { img, err = decode(tc.data) })
			if !errors.Is(err, tc.err) || (tc.err == nil) != (img != nil) {
				t.Fatalf("decode: %v, %v; want %v", img != nil, err, tc.err)
			}
			if errors.Is(tc.err, ErrTooLarge) && n > 1<<20 {
				t.Errorf("refusing allocated %d bytes", n)
			}
		})
	}
}

// Write refuses a bomb with ErrTooLarge, writes nothing and keeps a
// valid thumbnail there.
func TestWriteRefuses(t *testing.T) {
	c := NewCache(t.TempDir())
	e := Entry{URI: "file:///m/BOMB.JPG", MTime: 1, Size: 2}
	for _, data := range [][]byte{rawPNG(1_000_000, 1_000_000, 8, 0, -1), hugePNG()} {
		if err := c.Write(e, data); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Write: %v, want ErrTooLarge", err)
		}
	}
	if _, err := os.Stat(c.Path(e.URI)); !os.IsNotExist(err) {
		t.Errorf("a refused image left a file: %v", err)
	}
}

// The scaler holds the output's sums and one source row, not the source:
// shrinking a 4000x3000 picture allocates well under its 48 MB.
func TestScaleMemory(t *testing.T) {
	src := image.NewGray(image.Rect(0, 0, 4000, 3000))
	for i := range src.Pix {
		src.Pix[i] = uint8(i)
	}
	var out *image.NRGBA
	n := allocated(func() { out = scale(src, NormalSize) })
	if out.Bounds().Dx() != 128 || out.Bounds().Dy() != 96 {
		t.Fatalf("scaled to %v", out.Bounds())
	}
	if n > 4<<20 {
		t.Errorf("scaling allocated %d MiB", n>>20)
	}
}

// FuzzDecode: no input panics, and what decodes stays within the bound.
func FuzzDecode(f *testing.F) {
	var small bytes.Buffer
	png.Encode(&small, testImage(20, 10, color.RGBA{9, 8, 7, 255}))
	f.Add(small.Bytes())
	f.Add(rawPNG(1_000_000, 1_000_000, 8, 0, -1))
	f.Add(jpegHeader(0xC2, 300, 200))
	f.Add(jpegBytes(f, 64, 48))
	f.Fuzz(func(t *testing.T, data []byte) {
		img, err := decode(data)
		if err != nil {
			if img != nil || !errors.Is(err, ErrDecode) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("decode: %v, %v", img != nil, err)
			}
			return
		}
		b := img.Bounds()
		if int64(b.Dx())*int64(b.Dy()) > MaxDecodeBytes {
			t.Fatalf("decoded %v", b)
		}
		scale(img, NormalSize)
	})
}
