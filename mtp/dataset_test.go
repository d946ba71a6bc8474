package mtp

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// readHex loads a testdata/*.hex fixture: hex byte pairs separated by
// white space, "#" starting a comment that runs to the end of the line.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var digits strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		digits.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return b
}

var goldenDeviceInfo = DeviceInfo{
	StandardVersion:        100,
	VendorExtensionID:      0x0A,
	VendorExtensionVersion: 100,
	VendorExtensionDesc:    "microsoft.com: 1.0",
	OperationsSupported: []OpCode{
		OpGetDeviceInfo, OpOpenSession, OpCloseSession, OpGetStorageIDs, OpGetStorageInfo,
		OpGetNumObjects, OpGetObjectHandles, OpGetObjectInfo, OpGetObject, OpGetThumb,
		OpGetPartialObject, OpNikonGetEvent, OpNikonGetObjectSize, OpNikonGetPartialObjectEx,
	},
	EventsSupported: []EventCode{
		EventObjectAdded, EventObjectRemoved, EventStoreAdded, EventStoreRemoved, EventStorageInfoChanged,
	},
	DevicePropertiesSupported: []uint16{0x5001, 0x5003, 0xD406},
	CaptureFormats:            []ObjectFormat{FormatEXIFJPEG},
	ImageFormats:              []ObjectFormat{FormatUndefined, FormatAssociation, FormatEXIFJPEG, FormatQuickTime},
	Manufacturer:              "Nikon Corporation",
	Model:                     "D7200",
	DeviceVersion:             "V1.00",
	SerialNumber:              "3012345",
}

var goldenStorageInfo = StorageInfo{
	StorageType:        4,
	FilesystemType:     2,
	MaxCapacity:        31914983424,
	FreeSpaceInBytes:   12345678848,
	FreeSpaceInImages:  1234,
	StorageDescription: "SD Card",
}

var goldenObjectInfo = ObjectInfo{
	StorageID:           0x00010001,
	ObjectFormat:        FormatEXIFJPEG,
	CompressedSize:      6012345,
	ThumbFormat:         FormatJFIF,
	ThumbCompressedSize: 8123,
	ThumbPixWidth:       160,
	ThumbPixHeight:      120,
	ImagePixWidth:       6000,
	ImagePixHeight:      4000,
	ImageBitDepth:       24,
	ParentObject:        2,
	Filename:            "DSC00001.JPG",
	CaptureDate:         "20240315T143025",
	ModificationDate:    "20240315T143025",
}

// dataset is what the three dataset types have in common.
type dataset interface {
	UnmarshalBinary([]byte) error
	AppendBinary([]byte) ([]byte, error)
}

func TestDatasetGolden(t *testing.T) {
	tests := map[string]struct {
		file  string
		fresh func() dataset
		want  dataset
	}{
		"DeviceInfo":  {"deviceinfo_nikon.hex", func() dataset { return new(DeviceInfo) }, &goldenDeviceInfo},
		"StorageInfo": {"storageinfo_sd.hex", func() dataset { return new(StorageInfo) }, &goldenStorageInfo},
		"ObjectInfo":  {"objectinfo_jpeg.hex", func() dataset { return new(ObjectInfo) }, &goldenObjectInfo},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			raw := readHex(t, tc.file)
			got := tc.fresh()
			if err := got.UnmarshalBinary(raw); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("decode:\n got %+v\nwant %+v", got, tc.want)
			}
			enc, err := tc.want.AppendBinary(nil)
			if err != nil {
				t.Fatalf("encode: %v", err)
			}
			if !bytes.Equal(enc, raw) {
				t.Fatalf("encode:\n got % x\nwant % x", enc, raw)
			}
			// AppendBinary appends: a prefix stays in place.
			enc, err = tc.want.AppendBinary([]byte{0xAA})
			if err != nil || enc[0] != 0xAA || !bytes.Equal(enc[1:], raw) {
				t.Fatalf("append to prefix: % x, %v", enc, err)
			}
			// Vendor data after the dataset is ignored.
			tail := tc.fresh()
			if err := tail.UnmarshalBinary(append(raw[:len(raw):len(raw)], 1, 2, 3, 4, 5)); err != nil {
				t.Fatalf("decode with trailing bytes: %v", err)
			}
			if !reflect.DeepEqual(tail, tc.want) {
				t.Fatalf("decode with trailing bytes: %+v", tail)
			}
			// Every truncation is an error and leaves the receiver as it was.
			for n := 0; n < len(raw); n++ {
				short := tc.fresh()
				err := short.UnmarshalBinary(raw[:n])
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("decode of %d/%d bytes: err = %v, want ErrMalformed", n, len(raw), err)
				}
				if !reflect.DeepEqual(short, tc.fresh()) {
					t.Fatalf("decode of %d bytes changed the receiver: %+v", n, short)
				}
			}
		})
	}
}

func TestDatasetMalformed(t *testing.T) {
	devRaw := readHex(t, "deviceinfo_nikon.hex")
	// Offset of the OperationsSupported count: 2+4+2 + (1+19*2) + 2.
	const opsCount = 2 + 4 + 2 + 1 + 19*2 + 2
	hugeOps := bytes.Clone(devRaw)
	copy(hugeOps[opsCount:], []byte{0xFF, 0xFF, 0xFF, 0xFF})
	longDesc := bytes.Clone(devRaw)
	longDesc[8] = 0xFF // VendorExtensionDesc claims 255 units

	objRaw := readHex(t, "objectinfo_jpeg.hex")
	// The Filename count is the first byte after the 52 fixed bytes.
	longName := bytes.Clone(objRaw)
	longName[52] = 200

	tests := map[string]struct {
		in []byte
		v  dataset
	}{
		"device info array count 0xFFFFFFFF": {hugeOps, new(DeviceInfo)},
		"device info string beyond data":     {longDesc, new(DeviceInfo)},
		"object info name beyond data":       {longName, new(ObjectInfo)},
		"storage info empty":                 {nil, new(StorageInfo)},
		"object info empty":                  {[]byte{}, new(ObjectInfo)},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if err := tc.v.UnmarshalBinary(tc.in); !errors.Is(err, ErrMalformed) {
				t.Fatalf("err = %v, want ErrMalformed", err)
			}
		})
	}
}

func TestDatasetEncodeErrors(t *testing.T) {
	long := strings.Repeat("x", MaxStringUnits+1)
	tests := map[string]dataset{
		"device info model":      &DeviceInfo{Model: long},
		"storage info label":     &StorageInfo{VolumeLabel: long},
		"object info keywords":   &ObjectInfo{Keywords: long},
		"object info name NUL":   &ObjectInfo{Filename: "a\x00b"},
		"device info serial max": &DeviceInfo{SerialNumber: strings.Repeat("é", MaxStringUnits+1)},
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := v.AppendBinary(nil); err == nil {
				t.Fatal("AppendBinary succeeded")
			}
		})
	}
}

func TestUint32Array(t *testing.T) {
	tests := map[string]struct {
		in   []byte
		want []uint32
		ok   bool
	}{
		"empty":          {[]byte{0, 0, 0, 0}, nil, true},
		"two":            {[]byte{2, 0, 0, 0, 1, 0, 1, 0, 2, 0, 1, 0}, []uint32{0x00010001, 0x00010002}, true},
		"trailing bytes": {[]byte{1, 0, 0, 0, 7, 0, 0, 0, 9}, []uint32{7}, true},
		"no count":       {[]byte{1, 0}, nil, false},
		"short element":  {[]byte{1, 0, 0, 0, 7, 0, 0}, nil, false},
		"huge count":     {[]byte{0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}, nil, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := DecodeUint32Array(tc.in)
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			enc, err := AppendUint32Array(nil, got)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.in[:4+4*len(got)]; !bytes.Equal(enc, want) {
				t.Fatalf("encode: % x, want % x", enc, want)
			}
		})
	}
}
