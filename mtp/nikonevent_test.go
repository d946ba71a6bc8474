package mtp

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

func TestNikonEventsUnmarshal(t *testing.T) {
	tests := map[string]struct {
		in   []byte
		want NikonEvents
		err  error
	}{
		"empty": {in: []byte{0, 0}, want: nil},
		"one added": {
			in:   []byte{1, 0, 0x02, 0x40, 0x05, 0x00, 0x01, 0x90},
			want: NikonEvents{{Code: EventObjectAdded, Params: []uint32{0x90010005}}},
		},
		"two, padded": {
			in: []byte{2, 0, 0x02, 0x40, 1, 0, 0, 0, 0x03, 0x40, 2, 0, 0, 0, 0xEE},
			want: NikonEvents{
				{Code: EventObjectAdded, Params: []uint32{1}},
				{Code: EventObjectRemoved, Params: []uint32{2}},
			},
		},
		"no count":        {in: []byte{1}, err: ErrMalformed},
		"nothing":         {in: nil, err: ErrMalformed},
		"count too large": {in: []byte{2, 0, 0x02, 0x40, 1, 0, 0, 0}, err: ErrMalformed},
		"huge count":      {in: []byte{0xFF, 0xFF, 0x02, 0x40}, err: ErrMalformed},
		"cut parameter":   {in: []byte{1, 0, 0x02, 0x40, 1, 0}, err: ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got NikonEvents
			err := got.UnmarshalBinary(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestNikonEventsAppend(t *testing.T) {
	l := NikonEvents{{Code: EventObjectAdded, Params: []uint32{0x12345678}}, {Code: EventStoreFull}}
	got, err := l.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{2, 0, 0x02, 0x40, 0x78, 0x56, 0x34, 0x12, 0x0A, 0x40, 0, 0, 0, 0}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got % x, want % x", got, want)
	}
	if _, err := make(NikonEvents, 1<<16).AppendBinary(nil); err == nil {
		t.Fatal("65536 events encoded")
	}
}

func TestNikonGetEvent(t *testing.T) {
	info := &DeviceInfo{VendorExtensionID: 0x0A, Manufacturer: "Nikon", OperationsSupported: []OpCode{OpNikonGetEvent}}
	data := []byte{1, 0, 0x02, 0x40, 7, 0, 0, 0}
	d, f := newFake(t, info, ok(data))
	evs, err := d.NikonGetEvent(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := []Event{{Code: EventObjectAdded, Params: []uint32{7}}}; !reflect.DeepEqual(evs, want) {
		t.Fatalf("events %+v, want %+v", evs, want)
	}
	wantCalls(t, f, Request{Code: OpNikonGetEvent})

	d, _ = newFake(t, info, func(Request) fakeReply { return fakeReply{code: RespOperationNotSupported} })
	if _, err := d.NikonGetEvent(context.Background()); !errors.Is(err, RespOperationNotSupported) {
		t.Fatalf("refused: %v", err)
	}
	d, _ = newFake(t, info, ok([]byte{3, 0}))
	if _, err := d.NikonGetEvent(context.Background()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short list: %v", err)
	}
}

// FuzzNikonEvents checks that no input panics and that whatever decodes
// re-encodes and decodes to the same events.
func FuzzNikonEvents(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var l NikonEvents
		if err := l.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := l.AppendBinary(nil)
		if err != nil {
			t.Fatalf("decoded %d events but cannot encode them: %v", len(l), err)
		}
		var back NikonEvents
		if err := back.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(l, back) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", back, l)
		}
	})
}
