package mtp

import (
	"bytes"
	"errors"
	"reflect"
	"testing"
)

func TestPropListGolden(t *testing.T) {
	raw := []byte{
		5, 0, 0, 0, // 5 elements
		// handle 1, ObjectSize (0xDC04), UINT64 6012345
		1, 0, 0, 0, 0x04, 0xDC, 0x08, 0x00, 0xB9, 0xBD, 0x5B, 0, 0, 0, 0, 0,
		// handle 1, ObjectFileName (0xDC07), STR "A.JPG"
		1, 0, 0, 0, 0x07, 0xDC, 0xFF, 0xFF, 6, 'A', 0, '.', 0, 'J', 0, 'P', 0, 'G', 0, 0, 0,
		// handle 2, ProtectionStatus (0xDC03), UINT16 1
		2, 0, 0, 0, 0x03, 0xDC, 0x04, 0x00, 1, 0,
		// handle 2, vendor 0xD001, INT8 -2
		2, 0, 0, 0, 0x01, 0xD0, 0x01, 0x00, 0xFE,
		// handle 3, PersistentUID (0xDC41), UINT128 lo 0x0807060504030201, hi 0x100F0E0D0C0B0A09
		3, 0, 0, 0, 0x41, 0xDC, 0x0A, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
	}
	want := []PropListEntry{
		{Handle: 1, Prop: PropObjectSize, DataType: TypeUint64, Value: 6012345},
		{Handle: 1, Prop: PropObjectFileName, DataType: TypeString, Str: "A.JPG"},
		{Handle: 2, Prop: PropProtectionStatus, DataType: TypeUint16, Value: 1},
		{Handle: 2, Prop: 0xD001, DataType: TypeInt8, Value: 0xFE},
		{Handle: 3, Prop: PropPersistentUID, DataType: TypeUint128, Value: 0x0807060504030201, Hi: 0x100F0E0D0C0B0A09},
	}
	got, err := DecodePropList(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("decode:\n got %+v\nwant %+v", got, want)
	}
	if got[3].Int() != -2 || got[0].Uint() != 6012345 {
		t.Fatalf("Int() = %d, Uint() = %d", got[3].Int(), got[0].Uint())
	}
	enc, err := AppendPropList(nil, want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, raw) {
		t.Fatalf("encode:\n got % x\nwant % x", enc, raw)
	}
	for n := 0; n < len(raw); n++ {
		if _, err := DecodePropList(raw[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("decode of %d bytes: err = %v", n, err)
		}
	}
}

func TestPropListMalformed(t *testing.T) {
	tests := map[string][]byte{
		"huge count":      {0xFF, 0xFF, 0xFF, 0x0F, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		"array type":      {1, 0, 0, 0, 1, 0, 0, 0, 0x04, 0xDC, 0x06, 0x40, 0, 0, 0, 0},
		"unknown type":    {1, 0, 0, 0, 1, 0, 0, 0, 0x04, 0xDC, 0x00, 0x00, 0},
		"string too long": {1, 0, 0, 0, 1, 0, 0, 0, 0x07, 0xDC, 0xFF, 0xFF, 9, 'a', 0},
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := DecodePropList(in); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestPropListEncodeErrors(t *testing.T) {
	tests := map[string]PropListEntry{
		"u8 overflow":      {DataType: TypeUint8, Value: 0x100},
		"i32 overflow":     {DataType: TypeInt32, Value: 1 << 32},
		"hi on u64":        {DataType: TypeUint64, Hi: 1},
		"string on u16":    {DataType: TypeUint16, Str: "x"},
		"value on string":  {DataType: TypeString, Value: 1},
		"unsupported type": {DataType: 0x4006},
	}
	for name, e := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := AppendPropList(nil, []PropListEntry{e}); err == nil {
				t.Fatal("AppendPropList succeeded")
			}
		})
	}
}

func TestPropListEntryInt(t *testing.T) {
	tests := []struct {
		e    PropListEntry
		want int64
	}{
		{PropListEntry{DataType: TypeInt8, Value: 0x80}, -128},
		{PropListEntry{DataType: TypeUint8, Value: 0x80}, 128},
		{PropListEntry{DataType: TypeInt16, Value: 0xFFFF}, -1},
		{PropListEntry{DataType: TypeInt32, Value: 0x7FFFFFFF}, 0x7FFFFFFF},
		{PropListEntry{DataType: TypeInt32, Value: 0x80000000}, -0x80000000},
		{PropListEntry{DataType: TypeInt64, Value: 1 << 63}, -1 << 63},
	}
	for _, tc := range tests {
		if got := tc.e.Int(); got != tc.want {
			t.Errorf("%v %#x: Int() = %d, want %d", tc.e.DataType, tc.e.Value, got, tc.want)
		}
	}
}
