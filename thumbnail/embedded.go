package thumbnail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
)

// ErrNone is returned when a file has no thumbnail: the camera keeps none
// and the file embeds none that Embedded finds.
var ErrNone = errors.New("thumbnail: none in the camera or the file")

// Bounds of Embedded's reads: it never reads a file whole, only its
// header, the IFDs it follows and the one image it picks.
const (
	// embeddedHead is read first: a JPEG's EXIF segment, a RAW's first
	// IFDs and often its thumbnail lie within it; the cache fetches the
	// same block for it as for any smaller read.
	embeddedHead = 64 << 10
	// MaxEmbedded bounds the embedded JPEG Embedded returns: thumbnails
	// are a few KiB and previews a few hundred, a full-size JPEG (NEF's
	// JpgFromRaw, CR2's IFD0) megabytes.
	MaxEmbedded = 1 << 20
	// embeddedReads bounds the reads after the head (IFDs, values, the
	// image), so that a hostile file cannot make Embedded walk it.
	embeddedReads = 24
	maxIFDs       = 16 // IFDs visited, all chains and SubIFDs together
	// thumbEnough is the size of an embedded JPEG that is surely a
	// thumbnail (EXIF's are 160×120, a few KiB): once one is found, IFDs
	// that only hold previews are not read.
	thumbEnough   = 64 << 10
	maxIFDEntries = 1024 // entries of one IFD
)

// Embedded returns the smallest JPEG thumbnail or preview embedded in the
// image file r of size bytes, read with a few ranged reads (its first
// 64 KiB, then only the IFDs it follows and the image it picks): a JPEG's
// EXIF thumbnail (IFD1); in a TIFF-based RAW (NEF, CR2, ARW, DNG, PEF)
// the JPEGs of IFD0, IFD1, the following IFDs and their SubIFDs
// (JPEGInterchangeFormat, or a single JPEG strip) and a Nikon maker
// note's PreviewImage. It returns ErrNone when there is none, and never
// more than MaxEmbedded bytes.
func Embedded(r io.ReaderAt, size int64) ([]byte, error) {
	f := &embeddedFile{r: r, size: size}
	head, err := f.read(0, min(size, embeddedHead))
	if err != nil {
		return nil, err
	}
	f.head = head
	switch {
	case len(head) >= 4 && head[0] == 0xFF && head[1] == 0xD8:
		at, n, ok := f.exifSegment()
		if !ok {
			return nil, ErrNone
		}
		f.walkTIFF(at, n)
	case len(head) >= 8 && (string(head[:4]) == "II*\x00" || string(head[:4]) == "MM\x00*"):
		f.walkTIFF(0, size)
	default:
		return nil, ErrNone
	}
	slices.SortStableFunc(f.found, func(a, b span) int { return int(a.n - b.n) })
	for _, s := range f.found {
		b, err := f.read(s.at, s.n)
		if err != nil {
			return nil, err
		}
		if b[0] == 0xFF && b[1] == 0xD8 {
			return b, nil
		}
	}
	return nil, ErrNone
}

// span is a JPEG an IFD points to.
type span struct{ at, n int64 }

// embeddedFile is the file Embedded reads, its head, the reads it made
// and the JPEGs it found.
type embeddedFile struct {
	r     io.ReaderAt
	size  int64
	head  []byte
	reads int
	ifds  int
	found []span
}

var errBudget = errors.New("thumbnail: embedded image not found within the read budget")

// read returns n bytes at off, from the head if it holds them, else with
// one read of the file (counted against embeddedReads).
func (f *embeddedFile) read(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > f.size || n > f.size-off {
		return nil, fmt.Errorf("thumbnail: %d bytes at %d beyond the file's %d", n, off, f.size)
	}
	if off+n <= int64(len(f.head)) {
		return f.head[off : off+n], nil
	}
	if f.reads > embeddedReads {
		return nil, errBudget
	}
	f.reads++
	b := make([]byte, n)
	k, err := f.r.ReadAt(b, off)
	if k == len(b) {
		return b, nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return nil, err
}

// exifSegment finds a JPEG's APP1 "Exif" segment among the segments
// before the image data and returns where its TIFF structure is.
func (f *embeddedFile) exifSegment() (at, n int64, ok bool) {
	h := f.head
	for p := 2; p+4 <= len(h); {
		if h[p] != 0xFF {
			return 0, 0, false
		}
		m := h[p+1]
		switch {
		case m == 0xFF: // fill byte
			p++
			continue
		case m == 0xD8 || m == 0x01 || m >= 0xD0 && m <= 0xD7:
			p += 2
			continue
		case m == 0xDA || m == 0xD9: // the image data: no EXIF after it
			return 0, 0, false
		}
		seg := int(binary.BigEndian.Uint16(h[p+2:]))
		if seg < 2 {
			return 0, 0, false
		}
		if m == 0xE1 && p+10 <= len(h) && string(h[p+4:p+10]) == "Exif\x00\x00" && seg > 8 {
			return int64(p + 10), int64(seg - 8), true
		}
		p += 2 + seg
	}
	return 0, 0, false
}

// TIFF tags Embedded follows.
const (
	tagCompression    = 0x0103
	tagStripOffsets   = 0x0111
	tagStripBytes     = 0x0117
	tagSubIFDs        = 0x014A
	tagJPEGOffset     = 0x0201 // JPEGInterchangeFormat: ThumbnailOffset, PreviewImageStart, JpgFromRawStart
	tagJPEGLength     = 0x0202
	tagExifIFD        = 0x8769
	tagMakerNote      = 0x927C
	tagNikonPreview   = 0x0011 // Nikon maker note: PreviewIFD
	compressionOldJPG = 6
	compressionJPEG   = 7
)

// tiff is a TIFF structure of n bytes at base in the file: offsets in it
// count from base.
type tiff struct {
	f       *embeddedFile
	base, n int64
	bo      binary.ByteOrder
}

// walkTIFF collects the JPEGs of the TIFF structure of n bytes at base.
func (f *embeddedFile) walkTIFF(base, n int64) {
	hdr, err := f.read(base, min(8, n))
	if err != nil || len(hdr) < 8 {
		return
	}
	t := &tiff{f: f, base: base, n: n}
	switch string(hdr[:4]) {
	case "II*\x00":
		t.bo = binary.LittleEndian
	case "MM\x00*":
		t.bo = binary.BigEndian
	default:
		return
	}
	seen := map[int64]bool{}
	// IFD0, IFD1 (the thumbnail's) and the IFDs chained after them until
	// a thumbnail is found; then, if none was, the Exif IFD (a Nikon maker note's
	// preview) and the SubIFDs (NEF's JpgFromRaw, DNG's previews), which
	// may lie megabytes in.
	var subs, exifs []int64
	for off, i := int64(t.bo.Uint32(hdr[4:])), 0; off != 0 && i < maxIFDs && (i <= 1 || !f.thumbFound()); i++ {
		next, s, exif := t.ifd(off, seen)
		subs = append(subs, s...)
		if exif != 0 {
			exifs = append(exifs, exif)
		}
		off = next
	}
	for _, exif := range exifs {
		if f.thumbFound() {
			return
		}
		t.exif(exif, seen)
	}
	for _, s := range subs {
		if f.thumbFound() {
			return
		}
		t.ifd(s, seen)
	}
}

// thumbFound reports whether a JPEG of a thumbnail's size was found: no
// need to read further IFDs for a smaller one.
func (f *embeddedFile) thumbFound() bool {
	for _, s := range f.found {
		if s.n <= thumbEnough {
			return true
		}
	}
	return false
}

// entry is one IFD entry: its tag, type, count and the 4 bytes of its
// value or offset.
type entry struct {
	tag, typ uint16
	count    uint32
	value    []byte
}

// u32 is the entry's first value as a number (SHORT or LONG).
func (t *tiff) u32(e entry) int64 {
	if e.typ == 3 {
		return int64(t.bo.Uint16(e.value))
	}
	return int64(t.bo.Uint32(e.value))
}

// entries reads the IFD at off and returns its entries and the next IFD's
// offset.
func (t *tiff) entries(off int64, seen map[int64]bool) ([]entry, int64) {
	if off < 8 || off >= t.n || seen[off] || t.f.ifds >= maxIFDs {
		return nil, 0
	}
	seen[off] = true
	t.f.ifds++
	cnt, err := t.f.read(t.base+off, 2)
	if err != nil {
		return nil, 0
	}
	n := int64(t.bo.Uint16(cnt))
	if n == 0 || n > maxIFDEntries || off+2+12*n+4 > t.n {
		return nil, 0
	}
	b, err := t.f.read(t.base+off+2, 12*n+4)
	if err != nil {
		return nil, 0
	}
	es := make([]entry, n)
	for i := range es {
		e := b[12*i:]
		es[i] = entry{tag: t.bo.Uint16(e), typ: t.bo.Uint16(e[2:]), count: t.bo.Uint32(e[4:]), value: e[8:12]}
	}
	return es, int64(t.bo.Uint32(b[12*n:]))
}

// ifd collects the JPEGs of the IFD at off and returns the next IFD's
// offset, its SubIFDs and its Exif IFD.
func (t *tiff) ifd(off int64, seen map[int64]bool) (next int64, subs []int64, exif int64) {
	es, next := t.entries(off, seen)
	var jpegAt, jpegLen, strip, stripLen, compression int64 = -1, -1, -1, -1, 0
	for _, e := range es {
		switch e.tag {
		case tagJPEGOffset:
			jpegAt = t.u32(e)
		case tagJPEGLength:
			jpegLen = t.u32(e)
		case tagCompression:
			compression = t.u32(e)
		case tagStripOffsets:
			if e.count == 1 {
				strip = t.u32(e)
			}
		case tagStripBytes:
			if e.count == 1 {
				stripLen = t.u32(e)
			}
		case tagExifIFD:
			exif = t.u32(e)
		case tagSubIFDs:
			subs = t.offsets(e)
		}
	}
	t.add(jpegAt, jpegLen)
	if compression == compressionOldJPG || compression == compressionJPEG {
		t.add(strip, stripLen)
	}
	return next, subs, exif
}

// offsets reads the LONG (or IFD) offsets of a SubIFDs entry, at most a
// few.
func (t *tiff) offsets(e entry) []int64 {
	n := min(int64(e.count), 4)
	if e.typ != 4 && e.typ != 13 || n == 0 {
		return nil
	}
	b := e.value
	if e.count > 1 {
		at := int64(t.bo.Uint32(e.value))
		if at+4*n > t.n {
			return nil
		}
		var err error
		if b, err = t.f.read(t.base+at, 4*n); err != nil {
			return nil
		}
	}
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(t.bo.Uint32(b[4*i:]))
	}
	return out
}

// exif follows the Exif IFD at off to a Nikon maker note: "Nikon\0",
// version 2.x, two bytes, then a TIFF structure of its own whose
// PreviewIFD points to the PreviewImage (ExifTool's MakerNotes.pm and
// Nikon.pm).
func (t *tiff) exif(off int64, seen map[int64]bool) {
	es, _ := t.entries(off, seen)
	for _, e := range es {
		if e.tag != tagMakerNote || e.count < 18 {
			continue
		}
		at := int64(t.bo.Uint32(e.value))
		if at+int64(e.count) > t.n {
			return
		}
		sig, err := t.f.read(t.base+at, 10)
		if err != nil || !bytes.HasPrefix(sig, []byte("Nikon\x00\x02")) {
			return
		}
		note := &tiff{f: t.f, base: t.base + at + 10, n: int64(e.count) - 10}
		hdr, err := t.f.read(note.base, 8)
		if err != nil {
			return
		}
		switch string(hdr[:4]) {
		case "II*\x00":
			note.bo = binary.LittleEndian
		case "MM\x00*":
			note.bo = binary.BigEndian
		default:
			return
		}
		noteSeen := map[int64]bool{} // its offsets count from its own header
		mes, _ := note.entries(int64(note.bo.Uint32(hdr[4:])), noteSeen)
		for _, me := range mes {
			if me.tag == tagNikonPreview {
				note.ifd(note.u32(me), noteSeen)
			}
		}
		return
	}
}

// add records a JPEG of n bytes at off in the structure, if it fits in it
// and within MaxEmbedded.
func (t *tiff) add(off, n int64) {
	if off <= 0 || n < 4 || n > MaxEmbedded || off > t.n || n > t.n-off {
		return
	}
	t.f.found = append(t.f.found, span{t.base + off, n})
}
