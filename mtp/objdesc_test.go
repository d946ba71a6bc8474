package mtp

import (
	"fmt"
	"reflect"
	"testing"
)

// props builds the entries of one object as the simulator (and an MTP
// camera answering GetObjectPropList with every property) sends them.
func props(h, storage uint32, format ObjectFormat, size uint64, name, created, modified string, parent uint32) []PropListEntry {
	return []PropListEntry{
		{Handle: h, Prop: PropStorageID, DataType: TypeUint32, Value: uint64(storage)},
		{Handle: h, Prop: PropObjectFormat, DataType: TypeUint16, Value: uint64(format)},
		{Handle: h, Prop: PropProtectionStatus, DataType: TypeUint16},
		{Handle: h, Prop: PropObjectSize, DataType: TypeUint64, Value: size},
		{Handle: h, Prop: PropObjectFileName, DataType: TypeString, Str: name},
		{Handle: h, Prop: PropDateCreated, DataType: TypeString, Str: created},
		{Handle: h, Prop: PropDateModified, DataType: TypeString, Str: modified},
		{Handle: h, Prop: PropParentObject, DataType: TypeUint32, Value: uint64(parent)},
	}
}

// without returns list minus the entries of property p.
func without(list []PropListEntry, p PropCode) []PropListEntry {
	var out []PropListEntry
	for _, e := range list {
		if e.Prop != p {
			out = append(out, e)
		}
	}
	return out
}

// replaced returns list with the entry of property p replaced by e.
func replaced(list []PropListEntry, e PropListEntry) []PropListEntry {
	out := append([]PropListEntry(nil), list...)
	for i := range out {
		if out[i].Prop == e.Prop {
			e.Handle = out[i].Handle
			out[i] = e
		}
	}
	return out
}

func TestDescribeObjects(t *testing.T) {
	jpeg := props(7, 0x10001, FormatEXIFJPEG, 6012345, "DSC_0001.JPG", "20240315T120000", "20240316T080000", 3)
	jpegInfo := &ObjectInfo{
		StorageID: 0x10001, ObjectFormat: FormatEXIFJPEG, CompressedSize: 6012345, ParentObject: 3,
		Filename: "DSC_0001.JPG", CaptureDate: "20240315T120000", ModificationDate: "20240316T080000",
	}
	folder := props(3, 0x10001, FormatAssociation, 0, "100NIKON", "", "", 2)
	folderInfo := &ObjectInfo{StorageID: 0x10001, ObjectFormat: FormatAssociation, ParentObject: 2, Filename: "100NIKON"}
	huge := props(9, 0x10001, FormatUndefined, 5<<30+17, "MVI_0001.MOV", "20240315T120000", "", 3)
	hugeInfo := &ObjectInfo{
		StorageID: 0x10001, ObjectFormat: FormatUndefined, CompressedSize: 0xFFFFFFFF, ParentObject: 3,
		Filename: "MVI_0001.MOV", CaptureDate: "20240315T120000",
	}
	withInfo := func(info *ObjectInfo, f func(*ObjectInfo)) *ObjectInfo {
		cp := *info
		f(&cp)
		return &cp
	}
	tests := map[string]struct {
		list []PropListEntry
		want []ObjectDesc
	}{
		"empty":    {nil, []ObjectDesc{}},
		"one file": {jpeg, []ObjectDesc{{Handle: 7, Info: jpegInfo, Size: 6012345}}},
		"list order kept, not handle order": {
			append(append(append([]PropListEntry{}, jpeg...), folder...), huge...),
			[]ObjectDesc{{7, jpegInfo, 6012345}, {3, folderInfo, 0}, {9, hugeInfo, 5<<30 + 17}},
		},
		"interleaved entries": {
			[]PropListEntry{jpeg[0], folder[0], jpeg[1], folder[1], jpeg[2], folder[2], jpeg[3], folder[3],
				jpeg[4], folder[4], jpeg[5], folder[5], jpeg[6], folder[6], jpeg[7], folder[7]},
			[]ObjectDesc{{7, jpegInfo, 6012345}, {3, folderInfo, 0}},
		},
		"exactly 4 GiB - 1 is unknown in 32 bits": {
			replaced(jpeg, PropListEntry{Prop: PropObjectSize, DataType: TypeUint64, Value: 0xFFFFFFFF}),
			[]ObjectDesc{{7, withInfo(jpegInfo, func(i *ObjectInfo) { i.CompressedSize = 0xFFFFFFFF }), 0xFFFFFFFF}},
		},
		"size as u32": {
			replaced(jpeg, PropListEntry{Prop: PropObjectSize, DataType: TypeUint32, Value: 6012345}),
			[]ObjectDesc{{7, jpegInfo, 6012345}},
		},
		"size as u128 with a zero high half": {
			replaced(jpeg, PropListEntry{Prop: PropObjectSize, DataType: TypeUint128, Value: 6012345}),
			[]ObjectDesc{{7, jpegInfo, 6012345}},
		},
		"no dates, no storage, no protection": {
			without(without(without(without(jpeg, PropDateCreated), PropDateModified), PropStorageID), PropProtectionStatus),
			[]ObjectDesc{{7, withInfo(jpegInfo, func(i *ObjectInfo) { i.CaptureDate, i.ModificationDate, i.StorageID = "", "", 0 }), 6012345}},
		},
		"unknown and vendor properties ignored": {
			append(append([]PropListEntry{{Handle: 7, Prop: 0xD001, DataType: TypeInt8, Value: 0xFE}}, jpeg...),
				PropListEntry{Handle: 7, Prop: PropPersistentUID, DataType: TypeUint128, Value: 1, Hi: 2}),
			[]ObjectDesc{{7, jpegInfo, 6012345}},
		},
		"last value wins": {
			append(append([]PropListEntry{}, jpeg...), PropListEntry{Handle: 7, Prop: PropObjectFileName, DataType: TypeString, Str: "B.JPG"}),
			[]ObjectDesc{{7, withInfo(jpegInfo, func(i *ObjectInfo) { i.Filename = "B.JPG" }), 6012345}},
		},
		"no format":   {without(jpeg, PropObjectFormat), []ObjectDesc{{Handle: 7}}},
		"no filename": {without(jpeg, PropObjectFileName), []ObjectDesc{{Handle: 7}}},
		"no size":     {without(jpeg, PropObjectSize), []ObjectDesc{{Handle: 7}}},
		"no parent":   {without(jpeg, PropParentObject), []ObjectDesc{{Handle: 7}}},
		"an incomplete object does not spoil the next": {
			append(without(folder, PropParentObject), jpeg...),
			[]ObjectDesc{{Handle: 3}, {7, jpegInfo, 6012345}},
		},
		"size as a string": {
			replaced(jpeg, PropListEntry{Prop: PropObjectSize, DataType: TypeString, Str: "6012345"}),
			[]ObjectDesc{{Handle: 7}},
		},
		"negative size": {
			replaced(jpeg, PropListEntry{Prop: PropObjectSize, DataType: TypeInt64, Value: 1 << 63}),
			[]ObjectDesc{{Handle: 7}},
		},
		"size over 64 bits": {
			replaced(jpeg, PropListEntry{Prop: PropObjectSize, DataType: TypeUint128, Value: 1, Hi: 1}),
			[]ObjectDesc{{Handle: 7}},
		},
		"format wider than 16 bits": {
			replaced(jpeg, PropListEntry{Prop: PropObjectFormat, DataType: TypeUint32, Value: 0x13801}),
			[]ObjectDesc{{Handle: 7}},
		},
		"parent wider than 32 bits": {
			replaced(jpeg, PropListEntry{Prop: PropParentObject, DataType: TypeUint64, Value: 1 << 32}),
			[]ObjectDesc{{Handle: 7}},
		},
		"filename as a number": {
			replaced(jpeg, PropListEntry{Prop: PropObjectFileName, DataType: TypeUint32, Value: 1}),
			[]ObjectDesc{{Handle: 7}},
		},
		"a bad value after a good one removes it": {
			append(append([]PropListEntry{}, jpeg...), PropListEntry{Handle: 7, Prop: PropParentObject, DataType: TypeString, Str: "x"}),
			[]ObjectDesc{{Handle: 7}},
		},
		"a date of the wrong type is left empty": {
			replaced(jpeg, PropListEntry{Prop: PropDateCreated, DataType: TypeUint32, Value: 5}),
			[]ObjectDesc{{7, withInfo(jpegInfo, func(i *ObjectInfo) { i.CaptureDate = "" }), 6012345}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := DescribeObjects(tc.list)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got  %s\nwant %s", descString(got), descString(tc.want))
			}
		})
	}
}

func descString(ds []ObjectDesc) string {
	s := "["
	for _, d := range ds {
		if d.Info == nil {
			s += fmt.Sprintf("{%#x <nil> %d} ", d.Handle, d.Size)
			continue
		}
		s += fmt.Sprintf("{%#x %+v %d} ", d.Handle, *d.Info, d.Size)
	}
	return s + "]"
}
