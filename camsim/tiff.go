package camsim

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// A tiffBuilder lays out a TIFF structure as cameras write them: the EXIF
// data of a JPEG, or a whole RAW file (NEF, CR2 and ARW are TIFF files).
// Nodes are placed in the order added, each at an even offset from the
// TIFF header; IFD entries refer to other nodes by offset and length, so a
// layout is written once every node's place is known.
type tiffBuilder struct {
	bo    byteOrder
	nodes []*tiffNode // the header first
	ifd0  *tiffNode   // the first IFD, which the header points to
	// cr2Raw, when set, makes the header CR2's: 16 bytes, "CR", version
	// 2.0 and the offset of the IFD of the RAW data.
	cr2Raw *tiffNode
}

// byteOrder is binary.LittleEndian or binary.BigEndian.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// newTIFF starts a structure in byte order bo; set ifd0 (and cr2Raw)
// before writing it.
func newTIFF(bo byteOrder, cr2 bool) *tiffBuilder {
	b := &tiffBuilder{bo: bo}
	hdr := 8
	if cr2 {
		hdr = 16
	}
	b.add(&tiffNode{data: make([]byte, hdr)})
	return b
}

// writeHeader fills in the header: byte order, 42, where IFD0 is (and
// CR2's fields).
func (b *tiffBuilder) writeHeader() {
	h := b.nodes[0].data
	if b.bo == byteOrder(binary.BigEndian) {
		copy(h, "MM")
	} else {
		copy(h, "II")
	}
	b.bo.PutUint16(h[2:], 42)
	if b.ifd0 != nil {
		b.bo.PutUint32(h[4:], uint32(b.ifd0.at))
	}
	if b.cr2Raw != nil && len(h) >= 16 {
		copy(h[8:], "CR\x02\x00")
		b.bo.PutUint32(h[12:], uint32(b.cr2Raw.at))
	}
}

// A tiffNode is one part of the structure: an IFD with its out-of-line
// values, stored bytes, a JPEG whose padding is computed when read, or
// pseudo-random filler (a RAW's sensor data).
type tiffNode struct {
	ifd  *tiffIFD
	data []byte
	jpeg *paddedJPEG
	fill int64
	at   int64 // offset from the TIFF header, set by layout
}

// paddedJPEG is a JPEG of a camera's size: the encoded picture through the
// end of its scan, then COM segments of pseudo-random bytes before EOI (so
// a reader finds the picture's header first and skips the rest).
type paddedJPEG struct {
	head []byte // SOI through the end of the scan
	pad  int64  // bytes of COM segments (0 or at least 4)
}

func (j *paddedJPEG) size() int64 { return int64(len(j.head)) + j.pad + 2 }

// tiffIFD is an image file directory and the IFD after it (nil: none).
type tiffIFD struct {
	entries []tiffEntry
	next    *tiffNode
}

// tiffEntry is one tag. Its value is val (in the builder's byte order),
// or the LONG offsets of refs, or the LONG length of lenOf.
type tiffEntry struct {
	tag, typ uint16
	count    uint32
	val      []byte
	refs     []*tiffNode
	lenOf    *tiffNode
}

// TIFF field types.
const (
	tiffByte      = 1
	tiffASCII     = 2
	tiffShort     = 3
	tiffLong      = 4
	tiffRational  = 5
	tiffUndefined = 7
)

// add places nodes after those added before.
func (b *tiffBuilder) add(nodes ...*tiffNode) {
	b.nodes = append(b.nodes, nodes...)
}

// newIFD is an IFD node of entries, not yet placed (add places it).
func newIFD(entries ...tiffEntry) *tiffNode { return &tiffNode{ifd: &tiffIFD{entries: entries}} }

func (b *tiffBuilder) ascii(tag uint16, s string) tiffEntry {
	return tiffEntry{tag: tag, typ: tiffASCII, count: uint32(len(s) + 1), val: append([]byte(s), 0)}
}

func (b *tiffBuilder) short(tag uint16, v ...uint16) tiffEntry {
	var val []byte
	for _, x := range v {
		val = b.bo.AppendUint16(val, x)
	}
	return tiffEntry{tag: tag, typ: tiffShort, count: uint32(len(v)), val: val}
}

func (b *tiffBuilder) long(tag uint16, v ...uint32) tiffEntry {
	var val []byte
	for _, x := range v {
		val = b.bo.AppendUint32(val, x)
	}
	return tiffEntry{tag: tag, typ: tiffLong, count: uint32(len(v)), val: val}
}

// rational is num/den pairs.
func (b *tiffBuilder) rational(tag uint16, v ...uint32) tiffEntry {
	var val []byte
	for _, x := range v {
		val = b.bo.AppendUint32(val, x)
	}
	return tiffEntry{tag: tag, typ: tiffRational, count: uint32(len(v) / 2), val: val}
}

func (b *tiffBuilder) undefined(tag uint16, v []byte) tiffEntry {
	return tiffEntry{tag: tag, typ: tiffUndefined, count: uint32(len(v)), val: v}
}

// offsets is a LONG entry holding where nodes are.
func (b *tiffBuilder) offsets(tag uint16, nodes ...*tiffNode) tiffEntry {
	return tiffEntry{tag: tag, typ: tiffLong, count: uint32(len(nodes)), refs: nodes}
}

// length is a LONG entry holding the size of n.
func (b *tiffBuilder) length(tag uint16, n *tiffNode) tiffEntry {
	return tiffEntry{tag: tag, typ: tiffLong, count: 1, lenOf: n}
}

func (e *tiffEntry) valueLen() int {
	if e.refs != nil || e.lenOf != nil {
		return 4 * int(e.count)
	}
	return len(e.val)
}

func (n *tiffNode) size() int64 {
	switch {
	case n.ifd != nil:
		s := int64(2 + 12*len(n.ifd.entries) + 4)
		for _, e := range n.ifd.entries {
			if l := e.valueLen(); l > 4 {
				s += int64(l + l&1)
			}
		}
		return s
	case n.jpeg != nil:
		return n.jpeg.size()
	case n.fill > 0:
		return n.fill
	}
	return int64(len(n.data))
}

// layout places every node and returns the structure's size.
func (b *tiffBuilder) layout() int64 {
	var at int64
	for _, n := range b.nodes {
		at += at & 1
		n.at = at
		at += n.size()
	}
	return at
}

// encodeIFD returns the bytes of the IFD node n, once laid out.
func (b *tiffBuilder) encodeIFD(n *tiffNode) []byte {
	entries := slices.Clone(n.ifd.entries)
	slices.SortStableFunc(entries, func(x, y tiffEntry) int { return int(x.tag) - int(y.tag) })
	out := b.bo.AppendUint16(nil, uint16(len(entries)))
	var extra []byte
	extraAt := n.at + int64(2+12*len(entries)+4)
	for _, e := range entries {
		val := e.val
		switch {
		case e.refs != nil:
			val = nil
			for _, r := range e.refs {
				val = b.bo.AppendUint32(val, uint32(r.at))
			}
		case e.lenOf != nil:
			val = b.bo.AppendUint32(nil, uint32(e.lenOf.size()))
		}
		out = b.bo.AppendUint16(out, e.tag)
		out = b.bo.AppendUint16(out, e.typ)
		out = b.bo.AppendUint32(out, e.count)
		if len(val) <= 4 {
			out = append(out, val...)
			out = append(out, make([]byte, 4-len(val))...)
			continue
		}
		out = b.bo.AppendUint32(out, uint32(extraAt+int64(len(extra))))
		extra = append(extra, val...)
		if len(val)&1 == 1 {
			extra = append(extra, 0)
		}
	}
	var next uint32
	if n.ifd.next != nil {
		next = uint32(n.ifd.next.at)
	}
	out = b.bo.AppendUint32(out, next)
	return append(out, extra...)
}

// pieces returns the laid-out structure as the pieces of a generated file
// starting at base.
func (b *tiffBuilder) pieces(base int64) []piece {
	b.writeHeader()
	var ps pieceList
	var at int64
	for _, n := range b.nodes {
		if n.at > at {
			ps.lit(base+at, make([]byte, n.at-at))
		}
		switch {
		case n.ifd != nil:
			ps.lit(base+n.at, b.encodeIFD(n))
		case n.jpeg != nil:
			ps.lit(base+n.at, n.jpeg.head)
			if n.jpeg.pad > 0 {
				ps.com(base+n.at+int64(len(n.jpeg.head)), n.jpeg.pad)
			}
			ps.lit(base+n.at+n.jpeg.size()-2, []byte{0xFF, 0xD9})
		case n.fill > 0:
			ps.stream(base+n.at, n.fill)
		default:
			ps.lit(base+n.at, n.data)
		}
		at = n.at + n.size()
	}
	return ps.p
}

// bytes returns a structure that holds only stored bytes (EXIF data, a
// maker note) as one slice.
func (b *tiffBuilder) bytes() ([]byte, error) {
	size := b.layout()
	out := make([]byte, 0, size)
	for _, p := range b.pieces(0) {
		if p.lit == nil {
			return nil, fmt.Errorf("camsim: TIFF structure of %d bytes is not all stored", size)
		}
		out = append(out, p.lit...)
	}
	return out, nil
}
