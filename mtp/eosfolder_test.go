package mtp

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The entry libgphoto2 quotes decodes to the object its GetObjectInfo
// describes there: handle, storage, format and size agree.
func TestEOSFolderGolden(t *testing.T) {
	raw := readHex(t, "eosfolder_img0199.hex")
	var f EOSFolder
	if err := f.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	want := EOSFolder{{Handle: 0x92740c72, StorageID: 0x00020001, Format: FormatEXIFJPEG, Flags: 0x21,
		Size: 2217241, Name: "IMG_0199.JPG", Terminated: true, Time: 0x4d987c10}}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("decode:\n got %+v\nwant %+v", f, want)
	}
	// The encoder writes the decoded fields at the same offsets and zero
	// where libgphoto2 decodes nothing.
	enc, err := f.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, undecoded := range [][2]int{{8 + 12, 8 + 16}, {8 + 17, 8 + 20}, {8 + 24, 8 + 32}} {
		copy(raw[undecoded[0]:undecoded[1]], make([]byte, undecoded[1]-undecoded[0]))
	}
	if !bytes.Equal(enc, raw) {
		t.Fatalf("encode:\n got % x\nwant % x", enc, raw)
	}
	for n := 1; n < len(raw); n++ {
		var g EOSFolder
		if err := g.UnmarshalBinary(raw[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("decode of %d bytes: err = %v", n, err)
		}
	}
	d := f.Describe(0x92740000)
	if len(d) != 1 || d[0].Info == nil {
		t.Fatalf("describe: %+v", d)
	}
	info := d[0].Info
	// 0x4d987c10 is 2011-04-03 13:54:24 on the camera's clock.
	if info.Filename != "IMG_0199.JPG" || info.ParentObject != 0x92740000 || info.StorageID != 0x00020001 ||
		info.CompressedSize != 2217241 || d[0].Size != 2217241 || info.ProtectionStatus != 1 ||
		info.CaptureDate != "20110403T135424" || info.ModificationDate != info.CaptureDate {
		t.Fatalf("describe: %+v size %d", info, d[0].Size)
	}
}

func TestEOSFolderMalformed(t *testing.T) {
	entry := func(size uint32) []byte {
		b := le.AppendUint32(nil, size)
		return append(b, make([]byte, eosEntryFields)...)
	}
	tests := map[string][]byte{
		"empty":          {},
		"huge count":     {0xFF, 0xFF, 0xFF, 0xFF},
		"count over":     append(le.AppendUint32(nil, 2), entry(eosEntryMin)...),
		"short entry":    append(le.AppendUint32(nil, 1), entry(eosEntryMin-1)...),
		"entry past end": append(le.AppendUint32(nil, 1), entry(eosEntryMin+4)...),
		"zero size":      append(le.AppendUint32(nil, 1), entry(0)...),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			var f EOSFolder
			if err := f.UnmarshalBinary(b); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
	// A longer entry is read, its extra bytes skipped, and the next one
	// follows it; trailing bytes are ignored.
	long := append(le.AppendUint32(nil, eosEntryMin+8), make([]byte, eosEntryFields+8)...)
	long[4] = 7 // handle of the first
	b := append(le.AppendUint32(nil, 2), long...)
	second, _ := EOSFolder{{Handle: 9, Name: "B.JPG", Terminated: true}}.AppendBinary(nil)
	b = append(append(b, second[4:]...), 0xEE, 0xEE)
	var f EOSFolder
	if err := f.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if len(f) != 2 || f[0].Handle != 7 || f[1].Handle != 9 || f[1].Name != "B.JPG" {
		t.Fatalf("decoded %+v", f)
	}
}

// Entries a listing cannot trust whole are left undescribed: the caller
// asks GetObjectInfo for them.
func TestEOSFolderDescribe(t *testing.T) {
	shot := time.Date(2024, 3, 1, 8, 30, 5, 0, time.FixedZone("camera", 3600))
	f := EOSFolder{
		{Handle: 1, Format: FormatAssociation, Name: "100CANON", Terminated: true, Time: EOSTime(shot)},
		{Handle: 2, Format: FormatEXIFJPEG, Name: "IMG_0001.JPG", Terminated: true, Size: 0xFFFFFFFF},
		{Handle: 3, Name: "LONG_NAME_OF_16B", Terminated: false},
		{Handle: 4, Name: "", Terminated: true},
		{Handle: 5, Name: "\xff\xfe.JPG", Terminated: true},
	}
	d := f.Describe(0)
	if d[0].Info == nil || d[0].Info.CaptureDate != "20240301T083005" || d[0].Info.ParentObject != 0 {
		t.Errorf("folder: %+v", d[0].Info)
	}
	if d[1].Info == nil || d[1].Info.CaptureDate != "" || d[1].Info.CompressedSize != 0xFFFFFFFF || d[1].Size != 0 {
		t.Errorf("4 GiB file: %+v size %d", d[1].Info, d[1].Size)
	}
	for i := 2; i < len(d); i++ {
		if d[i].Info != nil || d[i].Handle != f[i].Handle {
			t.Errorf("entry %d described: %+v", i, d[i])
		}
	}
	if EOSTime(time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)) != 0 {
		t.Error("a date before 1970 has a time")
	}
}

func FuzzEOSFolder(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var v EOSFolder
		if err := v.UnmarshalBinary(b); err != nil {
			return
		}
		enc, err := v.AppendBinary(nil)
		if err != nil {
			t.Fatalf("decoded %+v but cannot encode it: %v", v, err)
		}
		var back EOSFolder
		if err := back.UnmarshalBinary(enc); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(v, back) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", back, v)
		}
		v.Describe(1)
	})
}

func TestCanonEOSGetObjectInfoEx(t *testing.T) {
	ctx := context.Background()
	folder := EOSFolder{{Handle: 5, StorageID: 0x00010001, Format: FormatEXIFJPEG, Size: 1234, Name: "IMG_0001.JPG", Terminated: true}}
	raw, err := folder.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	d, f := newFake(t, &DeviceInfo{}, ok(raw))
	if _, err := d.CanonEOSGetObjectInfoEx(ctx, 0x00010001, 0xFFFFFFFF); !errors.Is(err, RespOperationNotSupported) {
		t.Fatalf("err = %v, want OperationNotSupported", err)
	}
	wantCalls(t, f) // no round trip

	d, f = newFake(t, &DeviceInfo{OperationsSupported: []OpCode{OpCanonEOSGetObjectInfoEx}}, ok(raw))
	got, err := d.CanonEOSGetObjectInfoEx(ctx, 0x00010001, 0xFFFFFFFF)
	if err != nil || !reflect.DeepEqual(got, folder) {
		t.Fatalf("GetObjectInfoEx = %+v, %v", got, err)
	}
	wantCalls(t, f, Request{Code: OpCanonEOSGetObjectInfoEx, Params: []uint32{0x00010001, 0xFFFFFFFF, 0x100000}})

	d, _ = newFake(t, &DeviceInfo{OperationsSupported: []OpCode{OpCanonEOSGetObjectInfoEx}}, ok(raw))
	d.SetMaxObjects(1) // the answer counts against the object limit: here 1 of 1
	if got, err := d.CanonEOSGetObjectInfoEx(ctx, 0x00010001, 0xFFFFFFFF); err != nil || !reflect.DeepEqual(got, folder) {
		t.Fatalf("GetObjectInfoEx at the object limit = %+v, %v", got, err)
	}
	two := slices.Concat([]byte{2, 0, 0, 0}, raw[4:], raw[4:])
	d, _ = newFake(t, &DeviceInfo{OperationsSupported: []OpCode{OpCanonEOSGetObjectInfoEx}}, ok(two))
	d.SetMaxObjects(1)
	if _, err := d.CanonEOSGetObjectInfoEx(ctx, 0x00010001, 0xFFFFFFFF); !errors.Is(err, ErrTooManyObjects) || !strings.Contains(err.Error(), "lists 2") {
		t.Fatalf("2 objects over a limit of 1: err = %v, want ErrTooManyObjects", err)
	}
	d, _ = newFake(t, &DeviceInfo{OperationsSupported: []OpCode{OpCanonEOSGetObjectInfoEx}}, ok(raw[:20]))
	if _, err := d.CanonEOSGetObjectInfoEx(ctx, 0x00010001, 0xFFFFFFFF); !errors.Is(err, ErrMalformed) {
		t.Fatalf("truncated answer: err = %v, want ErrMalformed", err)
	}
}
