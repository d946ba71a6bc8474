package mtp

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func u32s(v ...uint32) []byte {
	b, _ := AppendUint32Array(nil, v)
	return b
}

func TestNikonTransferList(t *testing.T) {
	nikon := &DeviceInfo{Manufacturer: "Nikon Corporation", VendorExtensionID: vendorIDNikon}
	for name, tc := range map[string]struct {
		reply fakeReply
		want  []uint32
		err   error
	}{
		"marked":        {reply: fakeReply{data: u32s(0x10, 0x11, 0x20)}, want: []uint32{0x10, 0x11, 0x20}},
		"repeats, zero": {reply: fakeReply{data: u32s(0x10, 0, 0x10)}, want: []uint32{0x10}},
		"empty list":    {reply: fakeReply{data: u32s()}, want: []uint32{}},
		"none marked":   {reply: fakeReply{code: RespNikonNoTransferList}, err: ErrNoTransferList},
		"wu-1a":         {reply: fakeReply{code: RespNikonWU1aNoTransferList}, err: ErrNoTransferList},
		"not supported": {reply: fakeReply{code: RespOperationNotSupported}, err: RespOperationNotSupported},
		"short":         {reply: fakeReply{data: []byte{5, 0, 0, 0, 1, 0, 0, 0}}, err: ErrMalformed},
		"too many":      {reply: fakeReply{data: u32s(1, 2, 3, 4)}, err: ErrTooManyObjects},
	} {
		t.Run(name, func(t *testing.T) {
			d, f := newFake(t, nikon, func(Request) fakeReply { return tc.reply })
			d.SetMaxObjects(3)
			got, err := d.NikonTransferList(context.Background())
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(append([]uint32{}, got...), tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
			// Asked although the DeviceInfo does not list it (a J4).
			wantCalls(t, f, Request{Code: OpNikonGetTransferList})
		})
	}
	// The response code stays visible under ErrNoTransferList.
	d, _ := newFake(t, nikon, func(Request) fakeReply { return fakeReply{code: RespNikonWU1aNoTransferList} })
	if _, err := d.NikonTransferList(context.Background()); !errors.Is(err, RespNikonWU1aNoTransferList) {
		t.Fatalf("err = %v, want the WU-1a's code", err)
	}
}

func TestDateTime(t *testing.T) {
	info := &DeviceInfo{Manufacturer: "Nikon Corporation", DevicePropertiesSupported: []uint16{0x5011}}
	if !info.SupportsProp(DevicePropDateTime) || info.SupportsProp(DevicePropCanonEOSUTCTime) {
		t.Fatal("SupportsProp")
	}
	cur, _ := AppendString(nil, "20240315T143025")
	d, f := newFake(t, info, func(r Request) fakeReply {
		if r.Code == OpGetDevicePropValue {
			return fakeReply{data: cur}
		}
		return fakeReply{}
	})
	s, err := d.DateTime(context.Background())
	if err != nil || s != "20240315T143025" {
		t.Fatalf("DateTime = %q, %v", s, err)
	}
	when := time.Date(2026, 12, 5, 8, 9, 10, 0, time.FixedZone("x", 3600))
	if err := d.SetDateTime(context.Background(), when); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, f, Request{Code: OpGetDevicePropValue, Params: []uint32{0x5011}},
		Request{Code: OpSetDevicePropValue, Params: []uint32{0x5011}})
	want, _ := AppendString(nil, "20261205T080910")
	if !bytes.Equal(f.outs[1], want) {
		t.Fatalf("set sent % x, want % x", f.outs[1], want)
	}

	// A refusal is the camera's code; a broken string is ErrMalformed.
	d, _ = newFake(t, info, func(Request) fakeReply { return fakeReply{code: RespAccessDenied} })
	if err := d.SetDateTime(context.Background(), when); !errors.Is(err, RespAccessDenied) {
		t.Fatalf("err = %v", err)
	}
	d, _ = newFake(t, info, func(Request) fakeReply { return fakeReply{data: []byte{9, 'a', 0}} })
	if _, err := d.DateTime(context.Background()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v", err)
	}
}

func TestCanonEOSSetUTCTime(t *testing.T) {
	d, f := newFake(t, &DeviceInfo{Manufacturer: "Canon Inc."}, func(Request) fakeReply { return fakeReply{} })
	when := time.Unix(0x65F45A81, 0)
	if err := d.CanonEOSSetUTCTime(context.Background(), when); err != nil {
		t.Fatal(err)
	}
	wantCalls(t, f, Request{Code: OpCanonEOSSetDevicePropValue})
	want := []byte{12, 0, 0, 0, 0x7C, 0xD1, 0, 0, 0x81, 0x5A, 0xF4, 0x65}
	if !bytes.Equal(f.outs[0], want) {
		t.Fatalf("sent % x, want % x", f.outs[0], want)
	}
	p, v, err := DecodeCanonEOSProp(f.outs[0])
	if err != nil || p != DevicePropCanonEOSUTCTime || !bytes.Equal(v, want[8:]) {
		t.Fatalf("decode: %v %x %v", p, v, err)
	}
	if err := d.CanonEOSSetUTCTime(context.Background(), time.Unix(-1, 0)); err == nil {
		t.Fatal("a time before 1970 was sent")
	}
}

func TestDecodeCanonEOSProp(t *testing.T) {
	for name, tc := range map[string]struct {
		in  []byte
		p   DevicePropCode
		val []byte
		err error
	}{
		"u32":         {in: []byte{12, 0, 0, 0, 0x7C, 0xD1, 0, 0, 1, 2, 3, 4}, p: 0xD17C, val: []byte{1, 2, 3, 4}},
		"extra bytes": {in: []byte{12, 0, 0, 0, 0x7C, 0xD1, 0, 0, 1, 2, 3, 4, 9}, p: 0xD17C, val: []byte{1, 2, 3, 4}},
		"short":       {in: []byte{12, 0, 0}, err: ErrMalformed},
		"size beyond": {in: []byte{16, 0, 0, 0, 0x7C, 0xD1, 0, 0, 1, 2, 3, 4}, err: ErrMalformed},
		"size small":  {in: []byte{4, 0, 0, 0, 0x7C, 0xD1, 0, 0}, err: ErrMalformed},
		"wide code":   {in: []byte{8, 0, 0, 0, 0x7C, 0xD1, 1, 0}, err: ErrMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			p, v, err := DecodeCanonEOSProp(tc.in)
			if !errors.Is(err, tc.err) || (err == nil && (p != tc.p || !bytes.Equal(v, tc.val))) {
				t.Fatalf("got %v %x %v", p, v, err)
			}
		})
	}
}

func FuzzTransferList(f *testing.F) {
	f.Add(u32s(1, 2, 3))
	f.Add(u32s())
	f.Add([]byte{0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		hs, err := decodeTransferList(b, int64(len(b)), 1<<10)
		if err != nil {
			return
		}
		seen := map[uint32]bool{}
		for _, h := range hs {
			if h == 0 || h == 0xFFFFFFFF || seen[h] {
				t.Fatalf("handle %#x kept in %v", h, hs)
			}
			seen[h] = true
		}
	})
}

func FuzzCanonEOSProp(f *testing.F) {
	f.Add(AppendCanonEOSProp(nil, DevicePropCanonEOSUTCTime, 1700000000))
	f.Add([]byte{8, 0, 0, 0, 0x11, 0x50, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, v, err := DecodeCanonEOSProp(b)
		if err != nil || len(v) != 4 {
			return
		}
		back := AppendCanonEOSProp(nil, p, le.Uint32(v))
		if !bytes.Equal(back, b[:12]) {
			t.Fatalf("round trip % x -> % x", b[:12], back)
		}
	})
}
