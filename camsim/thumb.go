package camsim

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/jpeg"
	"io"
)

// thumbMax is the longer side of a thumbnail, as in the 160×120 EXIF
// thumbnails cameras store.
const thumbMax = 160

// thumbSize is the size of the thumbnail of a w×h image: the longer side
// thumbMax (or less for smaller images), the aspect ratio kept.
func thumbSize(w, h uint32) (tw, th uint32) {
	if w == 0 || h == 0 {
		return 0, 0
	}
	if w <= thumbMax && h <= thumbMax {
		return w, h
	}
	if w >= h {
		return thumbMax, max(1, uint32(uint64(h)*thumbMax/uint64(w)))
	}
	return max(1, uint32(uint64(w)*thumbMax/uint64(h))), thumbMax
}

// makeThumb decodes the JPEG in r and returns a small JPEG of it, averaging
// each thumbnail pixel over its source area.
func makeThumb(r io.Reader) ([]byte, error) {
	src, err := jpeg.Decode(r)
	if err != nil {
		return nil, err
	}
	b := src.Bounds()
	tw, th := thumbSize(uint32(b.Dx()), uint32(b.Dy()))
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
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 80}); err != nil {
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
	if len(t) < 8 {
		return nil
	}
	var u16 func([]byte) uint16
	var u32 func([]byte) uint32
	switch string(t[:2]) {
	case "II":
		u16, u32 = binary.LittleEndian.Uint16, binary.LittleEndian.Uint32
	case "MM":
		u16, u32 = binary.BigEndian.Uint16, binary.BigEndian.Uint32
	default:
		return nil
	}
	// ifd returns the entries of the IFD at off and the next IFD's offset.
	ifd := func(off uint32) (entries []byte, next uint32, ok bool) {
		if uint64(off)+2 > uint64(len(t)) {
			return nil, 0, false
		}
		n := uint64(u16(t[off:]))
		end := uint64(off) + 2 + 12*n
		if end+4 > uint64(len(t)) {
			return nil, 0, false
		}
		return t[off+2 : end], u32(t[end:]), true
	}
	_, ifd1, ok := ifd(u32(t[4:]))
	if !ok || ifd1 == 0 {
		return nil
	}
	entries, _, ok := ifd(ifd1)
	if !ok {
		return nil
	}
	var off, size uint32
	for e := entries; len(e) >= 12; e = e[12:] {
		switch u16(e) {
		case 0x0201: // JPEGInterchangeFormat
			off = u32(e[8:])
		case 0x0202: // JPEGInterchangeFormatLength
			size = u32(e[8:])
		}
	}
	if size < 4 || uint64(off)+uint64(size) > uint64(len(t)) {
		return nil
	}
	thumb := t[off : off+size]
	if thumb[0] != 0xFF || thumb[1] != 0xD8 {
		return nil
	}
	return bytes.Clone(thumb)
}
