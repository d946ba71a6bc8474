package mtp

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// The fuzz targets check, for every decoder, that no input panics and that
// whatever decodes re-encodes and decodes to the same value. Seeds live in
// testdata/fuzz/<Name>/; `make fuzz` runs each target for a while.

// fuzzDataset runs the dataset round-trip property for one dataset type.
func fuzzDataset[T any, P interface {
	*T
	dataset
}](t *testing.T, b []byte) {
	var v T
	if err := P(&v).UnmarshalBinary(b); err != nil {
		return
	}
	enc, err := P(&v).AppendBinary(nil)
	if err != nil {
		t.Fatalf("decoded %+v but cannot encode it: %v", v, err)
	}
	var back T
	if err := P(&back).UnmarshalBinary(enc); err != nil {
		t.Fatalf("re-decode: %v", err)
	}
	if !reflect.DeepEqual(v, back) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, v)
	}
}

func FuzzDeviceInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzDataset[DeviceInfo](t, b) })
}

func FuzzStorageInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzDataset[StorageInfo](t, b) })
}

func FuzzObjectInfo(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) { fuzzDataset[ObjectInfo](t, b) })
}

func FuzzString(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		s, rest, err := DecodeString(b)
		if err != nil {
			return
		}
		enc, err := AppendString(nil, s)
		if err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", s, err)
		}
		back, tail, err := DecodeString(append(enc, rest...))
		if err != nil || back != s || string(tail) != string(rest) {
			t.Fatalf("round trip: %q rest %x, %v; want %q rest %x", back, tail, err, s, rest)
		}
	})
}

func FuzzPropList(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := DecodePropList(b)
		if err != nil {
			return
		}
		enc, err := AppendPropList(nil, list)
		if err != nil {
			t.Fatalf("decoded %+v but cannot encode it: %v", list, err)
		}
		back, err := DecodePropList(enc)
		if err != nil || !reflect.DeepEqual(back, list) {
			t.Fatalf("round trip: %+v, %v; want %+v", back, err, list)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	east := time.FixedZone("", 5*3600+1800)
	f.Fuzz(func(t *testing.T, s string) {
		for _, loc := range []*time.Location{time.UTC, east, nil} {
			got, ok := ParseDate(s, loc)
			if !ok {
				if !got.IsZero() {
					t.Fatalf("ParseDate(%q) = %v with false", s, got)
				}
				continue
			}
			f := FormatDate(got)
			back, ok := ParseDate(f, got.Location())
			if !ok || !back.Equal(got.Truncate(time.Second)) {
				t.Fatalf("ParseDate(%q) = %v; FormatDate %q parses as %v, %v", s, got, f, back, ok)
			}
		}
	})
}

// FuzzDescribeObjects decodes a property list and describes its objects:
// never a panic, one description per distinct handle in the list's order,
// and a described object's sizes agree with each other.
func FuzzDescribeObjects(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		list, err := DecodePropList(b)
		if err != nil {
			return
		}
		descs := DescribeObjects(list)
		seen := map[uint32]bool{}
		var order []uint32
		for _, e := range list {
			if !seen[e.Handle] {
				seen[e.Handle] = true
				order = append(order, e.Handle)
			}
		}
		if len(descs) != len(order) {
			t.Fatalf("%d descriptions for %d handles", len(descs), len(order))
		}
		for i, d := range descs {
			if d.Handle != order[i] {
				t.Fatalf("description %d is of %#x, want %#x", i, d.Handle, order[i])
			}
			if d.Info == nil {
				if d.Size != 0 {
					t.Fatalf("undescribed %#x has size %d", d.Handle, d.Size)
				}
				continue
			}
			if want := uint32(min(d.Size, 0xFFFFFFFF)); d.Info.CompressedSize != want {
				t.Fatalf("%#x: CompressedSize %d for size %d", d.Handle, d.Info.CompressedSize, d.Size)
			}
		}
	})
}

// FuzzPropListStream decodes a property list in pieces (their sizes drawn
// from seed), as a data phase arrives, and whole: the same elements or
// the same kind of error, and never more than one element held back.
func FuzzPropListStream(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte, seed uint64) {
		whole, werr := DecodePropList(b)
		var got []PropListEntry
		p := &propListParser{entry: func(e *PropListEntry) error {
			got = append(got, *e)
			return nil
		}}
		var err error
		for rest, s := b, seed; len(rest) > 0 && err == nil; s = s*6364136223846793005 + 1442695040888963407 {
			n := min(len(rest), 1+int(s>>40)%700)
			_, err = p.Write(rest[:n])
			rest = rest[n:]
			if len(p.carry) > 520 {
				t.Fatalf("%d bytes held back", len(p.carry))
			}
		}
		if err == nil {
			err = p.close()
		}
		if (err == nil) != (werr == nil) || (err != nil && !errors.Is(err, ErrMalformed)) {
			t.Fatalf("in pieces: %v; whole: %v", err, werr)
		}
		if err == nil && !reflect.DeepEqual(got, whole) {
			t.Fatalf("in pieces %+v, whole %+v", got, whole)
		}
	})
}
