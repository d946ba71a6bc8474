package camsim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"slices"
)

// thumbMax is the longer side of a thumbnail, as in the 160×120 EXIF
// thumbnails cameras store.
const thumbMax = 160

// largeThumbMax is the longer side of Nikon's large thumbnail
// (GetLargeThumb, 0x90C4): the 640-pixel previews of its bodies.
const largeThumbMax = 640

// maxEmbedded bounds an embedded JPEG the simulator decodes to make a
// thumbnail of a RAW on disk.
const maxEmbedded = 16 << 20

// thumbSize is the size of the thumbnail of a w×h image: the longer side
// thumbMax (or less for smaller images), the aspect ratio kept.
func thumbSize(w, h uint32) (tw, th uint32) { return fitSize(w, h, thumbMax) }

// fitSize is w×h shrunk to a longer side of at most limit, the aspect
// ratio kept.
func fitSize(w, h, limit uint32) (tw, th uint32) {
	if w == 0 || h == 0 {
		return 0, 0
	}
	if w <= limit && h <= limit {
		return w, h
	}
	if w >= h {
		return limit, max(1, uint32(uint64(h)*uint64(limit)/uint64(w)))
	}
	return max(1, uint32(uint64(w)*uint64(limit)/uint64(h))), limit
}

// thumbFromFile is the thumbnail a camera keeps of the file r of size
// bytes (large: Nikon's large one): a JPEG's EXIF thumbnail, or one made
// from its picture; the smallest JPEG a TIFF-based RAW embeds (for large,
// the largest), scaled down when bigger than a thumbnail; nil for other
// files.
func thumbFromFile(r io.ReaderAt, size int64, large bool) ([]byte, error) {
	limit := uint32(thumbMax)
	if large {
		limit = largeThumbMax
	}
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, nil
	}
	switch {
	case magic[0] == 0xFF && magic[1] == 0xD8:
		if !large {
			if t := exifThumb(r); t != nil {
				return t, nil
			}
		}
		return makeThumb(io.NewSectionReader(r, 0, size), limit)
	case string(magic[:]) == "II*\x00" || string(magic[:]) == "MM\x00*":
		spans := tiffJPEGs(r, size)
		if len(spans) == 0 {
			return nil, nil
		}
		sp := spans[0]
		if large {
			sp = spans[len(spans)-1]
		}
		data := make([]byte, sp.n)
		if _, err := r.ReadAt(data, sp.off); err != nil {
			return nil, nil
		}
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(data)); err == nil && uint32(max(cfg.Width, cfg.Height)) <= limit {
			return data, nil
		}
		return makeThumb(bytes.NewReader(data), limit)
	}
	return nil, nil
}

// maxThumbSource bounds the pixels of a JPEG the simulator decodes to
// make a thumbnail: a 50-megapixel camera's, not a header's lie.
const maxThumbSource = 50_000_000

// makeThumb decodes the JPEG in r and returns a small JPEG of it, its
// longer side at most limit, averaging each thumbnail pixel over its
// source area.
func makeThumb(r io.ReadSeeker, limit uint32) ([]byte, error) {
	cfg, err := jpeg.DecodeConfig(r)
	if err != nil {
		return nil, err
	}
	if int64(cfg.Width)*int64(cfg.Height) > maxThumbSource {
		return nil, fmt.Errorf("camsim: a JPEG of %dx%d pixels is too large to make a thumbnail of", cfg.Width, cfg.Height)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	src, err := jpeg.Decode(r)
	if err != nil {
		return nil, err
	}
	b := src.Bounds()
	tw, th := fitSize(uint32(b.Dx()), uint32(b.Dy()), limit)
	dst := image.NewRGBA(image.Rect(0, 0, int(tw), int(th)))
	for y := 0; y < int(th); y++ {
		y0 := b.Min.Y + y*b.Dy()/int(th)
		y1 := max(y0+1, b.Min.Y+(y+1)*b.Dy()/int(th))
		for x := 0; x < int(tw); x++ {
			x0 := b.Min.X + x*b.Dx()/int(tw)
			x1 := max(x0+1, b.Min.X+(x+1)*b.Dx()/int(tw))
			var sr, sg, sb, n uint64
			// Sample at most 4×4 points per pixel: enough for a thumbnail.
			for sy := y0; sy < y1; sy += max(1, (y1-y0)/4) {
				for sx := x0; sx < x1; sx += max(1, (x1-x0)/4) {
					cr, cg, cb, _ := src.At(sx, sy).RGBA()
					sr, sg, sb, n = sr+uint64(cr), sg+uint64(cg), sb+uint64(cb), n+1
				}
			}
			dst.Set(x, y, color.RGBA64{uint16(sr / n), uint16(sg / n), uint16(sb / n), 0xFFFF})
		}
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: thumbQuality}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// exifThumb returns the thumbnail a camera embeds in a JPEG's EXIF data
// (IFD1's JPEGInterchangeFormat), or nil. Only the file's first 64 KiB are
// read, where the APP1 segment holding it is.
func exifThumb(r io.ReaderAt) []byte {
	head := make([]byte, 64<<10)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	if len(head) < 4 || head[0] != 0xFF || head[1] != 0xD8 {
		return nil
	}
	for p := 2; p+4 <= len(head); {
		if head[p] != 0xFF {
			return nil
		}
		marker := head[p+1]
		if marker == 0xD8 || marker == 0x01 || marker >= 0xD0 && marker <= 0xD7 {
			p += 2 // no length
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // image data: no EXIF before it
			return nil
		}
		seg := int(head[p+2])<<8 | int(head[p+3])
		if seg < 2 || p+2+seg > len(head) {
			return nil
		}
		body := head[p+4 : p+2+seg]
		if marker == 0xE1 && len(body) > 6 && string(body[:6]) == "Exif\x00\x00" {
			return tiffThumb(body[6:])
		}
		p += 2 + seg
	}
	return nil
}

// tiffThumb finds the JPEG thumbnail in the TIFF structure of EXIF data.
func tiffThumb(t []byte) []byte {
	spans := tiffJPEGs(bytes.NewReader(t), int64(len(t)))
	for _, sp := range spans {
		if sp.ifd1 {
			return bytes.Clone(t[sp.off : sp.off+sp.n])
		}
	}
	return nil
}

// jpegSpan is where a TIFF structure holds a JPEG; ifd1 says it is IFD1's
// (the EXIF thumbnail).
type jpegSpan struct {
	off, n int64
	ifd1   bool
}

// tiffJPEGs lists the JPEGs a TIFF structure of size bytes in r points
// to, smallest first: JPEGInterchangeFormat in IFD0, IFD1 and SubIFDs
// (thumbnails, ARW's preview, NEF's JpgFromRaw) and single JPEG strips
// (CR2's IFD0). Each starts with SOI and is at most maxEmbedded bytes.
func tiffJPEGs(r io.ReaderAt, size int64) []jpegSpan {
	var hdr [8]byte
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return nil
	}
	var bo binary.ByteOrder
	switch string(hdr[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return nil
	}
	var out []jpegSpan
	seen := map[int64]bool{}
	var visit func(off int64, depth, index int)
	visit = func(off int64, depth, index int) {
		if off < 8 || off >= size || seen[off] || depth > 2 || len(seen) > 32 {
			return
		}
		seen[off] = true
		var cnt [2]byte
		if _, err := r.ReadAt(cnt[:], off); err != nil {
			return
		}
		n := int64(bo.Uint16(cnt[:]))
		ents := make([]byte, 12*n+4)
		if _, err := r.ReadAt(ents, off+2); err != nil {
			return
		}
		var jpegAt, jpegLen, strip, stripLen, compression int64
		var subs []int64
		for i := range n {
			e := ents[12*i:]
			tag, typ, count, val := bo.Uint16(e), bo.Uint16(e[2:]), bo.Uint32(e[4:]), int64(bo.Uint32(e[8:]))
			if typ == tiffShort && count == 1 {
				val = int64(bo.Uint16(e[8:]))
			}
			switch tag {
			case tagJPEGInterchange:
				jpegAt = val
			case tagJPEGInterchangeLen:
				jpegLen = val
			case tagCompression:
				compression = val
			case tagStripOffsets:
				if count == 1 {
					strip = val
				}
			case tagStripByteCounts:
				if count == 1 {
					stripLen = val
				}
			case tagSubIFDs:
				if count == 1 {
					subs = append(subs, val)
					break
				}
				arr := make([]byte, 4*min(count, 8))
				if _, err := r.ReadAt(arr, val); err == nil {
					for j := 0; j < len(arr); j += 4 {
						subs = append(subs, int64(bo.Uint32(arr[j:])))
					}
				}
			}
		}
		add := func(at, l int64) {
			if l < 4 || l > maxEmbedded || at <= 0 || at+l > size {
				return
			}
			var soi [2]byte
			if _, err := r.ReadAt(soi[:], at); err == nil && soi[0] == 0xFF && soi[1] == 0xD8 {
				out = append(out, jpegSpan{off: at, n: l, ifd1: depth == 0 && index == 1})
			}
		}
		add(jpegAt, jpegLen)
		if compression == compressionJPEG {
			add(strip, stripLen)
		}
		for _, s := range subs {
			visit(s, depth+1, 0)
		}
		if depth == 0 {
			visit(int64(bo.Uint32(ents[12*n:])), 0, index+1)
		}
	}
	visit(int64(bo.Uint32(hdr[4:])), 0, 0)
	slices.SortStableFunc(out, func(a, b jpegSpan) int { return int(a.n - b.n) })
	return out
}
