package mtp

import "fmt"

//go:generate go run ../internal/codenames -type DataType -trimprefix Type -linecomment -hex

// DataType is a PTP/MTP data type code, as carried by object property lists
// and property descriptions.
type DataType uint16

// The data types a property list entry can carry. Arrays (0x4001...) are
// not used by the object properties this program reads and are rejected.
const (
	TypeInt8    DataType = 0x0001 // INT8
	TypeUint8   DataType = 0x0002 // UINT8
	TypeInt16   DataType = 0x0003 // INT16
	TypeUint16  DataType = 0x0004 // UINT16
	TypeInt32   DataType = 0x0005 // INT32
	TypeUint32  DataType = 0x0006 // UINT32
	TypeInt64   DataType = 0x0007 // INT64
	TypeUint64  DataType = 0x0008 // UINT64
	TypeInt128  DataType = 0x0009 // INT128
	TypeUint128 DataType = 0x000A // UINT128
	TypeString  DataType = 0xFFFF // STR
)

// Size is the number of bytes a value of type t takes on the wire, 0 for a
// string (variable) or a type this package does not know.
func (t DataType) Size() int {
	switch t {
	case TypeInt8, TypeUint8:
		return 1
	case TypeInt16, TypeUint16:
		return 2
	case TypeInt32, TypeUint32:
		return 4
	case TypeInt64, TypeUint64:
		return 8
	case TypeInt128, TypeUint128:
		return 16
	}
	return 0
}

// signed reports whether t is a signed integer type.
func (t DataType) signed() bool {
	switch t {
	case TypeInt8, TypeInt16, TypeInt32, TypeInt64, TypeInt128:
		return true
	}
	return false
}

// PropListEntry is one element of an MTP object property list
// (GetObjectPropList, MTP 1.1 appendix E.2.1.1):
//
//	u32 ObjectHandle
//	u16 PropertyCode
//	u16 DataType
//	... value, DataType.Size() bytes, or a PTP string for TypeString
//
// Integers are kept as raw zero-extended bits (Hi: the high 64 of 128),
// read with their sign by Int and Uint; Str holds a string. Fields foreign
// to DataType are zero, and AppendPropList rejects an entry where they are
// not or Value is wider than the type.
type PropListEntry struct {
	Handle   uint32
	Prop     PropCode
	DataType DataType
	Value    uint64 // integer types: the low 64 bits, zero-extended
	Hi       uint64 // 128-bit types: the high 64 bits
	Str      string // TypeString
}

// Uint returns an unsigned integer value (the low 64 bits of a 128-bit one).
func (e PropListEntry) Uint() uint64 { return e.Value }

// Int returns an integer value sign-extended from its type's width. For a
// 128-bit type it returns the low 64 bits.
func (e PropListEntry) Int() int64 {
	switch n := e.DataType.Size(); {
	case n > 0 && n < 8 && e.DataType.signed():
		shift := uint(64 - 8*n)
		return int64(e.Value<<shift) >> shift
	}
	return int64(e.Value)
}

// valid checks that e's fields fit its data type (see PropListEntry).
func (e PropListEntry) valid() error {
	n := e.DataType.Size()
	switch {
	case e.DataType == TypeString:
		if e.Value != 0 || e.Hi != 0 {
			return fmt.Errorf("mtp: %v entry for %v has an integer value", e.DataType, e.Prop)
		}
		return nil
	case n == 0:
		return fmt.Errorf("mtp: unsupported data type %v for %v", e.DataType, e.Prop)
	case e.Str != "":
		return fmt.Errorf("mtp: %v entry for %v has a string value", e.DataType, e.Prop)
	case n < 16 && e.Hi != 0, n < 8 && e.Value>>(8*uint(n)) != 0:
		return fmt.Errorf("mtp: value %#x:%#x does not fit %v for %v", e.Hi, e.Value, e.DataType, e.Prop)
	}
	return nil
}

// minPropListEntry is the smallest element on the wire: handle, property
// code, data type and a one-byte value (an INT8, or an empty string).
const minPropListEntry = 4 + 2 + 2 + 1

// DecodePropList decodes GetObjectPropList data: a u32 count, then the
// elements. A count beyond the data is rejected before allocating; an
// unknown data type is an error (where the next element starts is
// unknown); trailing bytes are ignored; an empty list is nil. (A data
// phase is decoded as it arrives by propListParser, which this uses.)
func DecodePropList(b []byte) ([]PropListEntry, error) {
	r := readBuf{b: b}
	if r.count(minPropListEntry, "property list"); r.err != nil {
		return nil, fmt.Errorf("property list: %w", r.err)
	}
	var list []PropListEntry
	p := &propListParser{entry: func(e *PropListEntry) error {
		list = append(list, *e)
		return nil
	}}
	p.Write(b)
	if err := p.close(); err != nil {
		return nil, err
	}
	return list, nil
}

// AppendPropList appends list as GetObjectPropList data. It fails on an
// entry whose fields do not fit its data type (see PropListEntry) or whose
// string is too long.
func AppendPropList(b []byte, list []PropListEntry) ([]byte, error) {
	b, err := appendCount(b, len(list), "property list")
	if err != nil {
		return b, err
	}
	for i, e := range list {
		if err := e.valid(); err != nil {
			return b, fmt.Errorf("property list element %d: %w", i, err)
		}
		b = appendU32(b, e.Handle)
		b = appendU16(b, uint16(e.Prop))
		b = appendU16(b, uint16(e.DataType))
		switch e.DataType.Size() {
		case 0: // TypeString: valid accepted no other size-0 type
			if b, err = appendStr(b, e.Str, fmt.Sprintf("property list element %d", i)); err != nil {
				return b, err
			}
		case 1:
			b = appendU8(b, uint8(e.Value))
		case 2:
			b = appendU16(b, uint16(e.Value))
		case 4:
			b = appendU32(b, uint32(e.Value))
		case 8:
			b = appendU64(b, e.Value)
		case 16:
			b = appendU64(b, e.Value)
			b = appendU64(b, e.Hi)
		}
	}
	return b, nil
}
