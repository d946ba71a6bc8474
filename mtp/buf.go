package mtp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrMalformed is wrapped by every decoding error: the camera sent a dataset
// that does not follow the PTP layout (too short, a length larger than the
// data, an unknown data type). Test with errors.Is.
var ErrMalformed = errors.New("mtp: malformed dataset")

// le is the byte order of every PTP dataset.
var le = binary.LittleEndian

// readBuf is a little-endian cursor that never panics: a read past the end
// sets a sticky error and returns zero, so a decoder checks err once
// (archive/zip's readBuf, cryptobyte.String).
type readBuf struct {
	b   []byte
	err error
}

// fail records the first error; later ones are dropped because they are
// consequences of the first.
func (r *readBuf) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
	}
}

// take returns the next n bytes, or nil after recording an error when fewer
// remain.
func (r *readBuf) take(n int, what string) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail("%s: need %d bytes, %d left", what, n, len(r.b))
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *readBuf) u8(what string) uint8 {
	p := r.take(1, what)
	if p == nil {
		return 0
	}
	return p[0]
}

func (r *readBuf) u16(what string) uint16 {
	p := r.take(2, what)
	if p == nil {
		return 0
	}
	return le.Uint16(p)
}

func (r *readBuf) u32(what string) uint32 {
	p := r.take(4, what)
	if p == nil {
		return 0
	}
	return le.Uint32(p)
}

func (r *readBuf) u64(what string) uint64 {
	p := r.take(8, what)
	if p == nil {
		return 0
	}
	return le.Uint64(p)
}

// count reads a u32 array count and checks, before anything is allocated,
// that count elements of at least minSize bytes each fit in what is left. A
// corrupt count of 0xFFFFFFFF therefore costs nothing.
func (r *readBuf) count(minSize int, what string) int {
	n := r.u32(what + " count")
	if r.err != nil {
		return 0
	}
	if uint64(n)*uint64(minSize) > uint64(len(r.b)) {
		r.fail("%s: %d elements of %d bytes do not fit in %d bytes", what, n, minSize, len(r.b))
		return 0
	}
	return int(n)
}

// u16Array reads a PTP array of 16-bit values: u32 count, then count × u16.
// An empty array decodes as nil.
func (r *readBuf) u16Array(what string) []uint16 {
	n := r.count(2, what)
	if n == 0 {
		return nil
	}
	v := make([]uint16, n)
	for i := range v {
		v[i] = r.u16(what)
	}
	return v
}

// u32Array reads a PTP array of 32-bit values: u32 count, then count × u32.
// An empty array decodes as nil.
func (r *readBuf) u32Array(what string) []uint32 {
	n := r.count(4, what)
	if n == 0 {
		return nil
	}
	v := make([]uint32, n)
	for i := range v {
		v[i] = r.u32(what)
	}
	return v
}

func appendU8(b []byte, v uint8) []byte   { return append(b, v) }
func appendU16(b []byte, v uint16) []byte { return le.AppendUint16(b, v) }
func appendU32(b []byte, v uint32) []byte { return le.AppendUint32(b, v) }
func appendU64(b []byte, v uint64) []byte { return le.AppendUint64(b, v) }

// appendCount appends a u32 array count, or fails when n does not fit.
func appendCount(b []byte, n int, what string) ([]byte, error) {
	if uint64(n) > math.MaxUint32 {
		return b, fmt.Errorf("mtp: %s: %d elements do not fit a u32 count", what, n)
	}
	return appendU32(b, uint32(n)), nil
}

// appendU16Array appends a PTP array of 16-bit values.
func appendU16Array[T ~uint16](b []byte, v []T, what string) ([]byte, error) {
	b, err := appendCount(b, len(v), what)
	if err != nil {
		return b, err
	}
	for _, x := range v {
		b = appendU16(b, uint16(x))
	}
	return b, nil
}

// u16sAs converts a decoded []uint16 into a slice of a named 16-bit type
// (OpCode, EventCode, ObjectFormat), keeping nil as nil.
func u16sAs[T ~uint16](v []uint16) []T {
	if v == nil {
		return nil
	}
	out := make([]T, len(v))
	for i, x := range v {
		out[i] = T(x)
	}
	return out
}

// DecodeUint32Array decodes a PTP array of u32 (GetStorageIDs,
// GetObjectHandles). A count beyond the data is an error found before
// allocating; trailing bytes are ignored; an empty array is nil.
func DecodeUint32Array(b []byte) ([]uint32, error) {
	r := readBuf{b: b}
	v := r.u32Array("uint32 array")
	if r.err != nil {
		return nil, r.err
	}
	return v, nil
}

// AppendUint32Array appends v as a PTP array of u32. It fails only when v
// has more than 2³²-1 elements.
func AppendUint32Array(b []byte, v []uint32) ([]byte, error) {
	b, err := appendCount(b, len(v), "uint32 array")
	if err != nil {
		return b, err
	}
	for _, x := range v {
		b = appendU32(b, x)
	}
	return b, nil
}
