package mtp

import (
	"bytes"
	"context"
	"fmt"
	"time"
	"unicode/utf8"
)

// Canon EOS GetObjectInfoEx (0x9109) describes every object of one folder
// in one operation: libgphoto2 lists an EOS folder with it
// (camlibs/ptp2/ptp.c ptp_list_folder_eos, ptp_canon_eos_getobjectinfoex)
// rather than one GetObjectInfo per object. Its data phase, as
// libgphoto2's decoder reads it (ptp-pack.c ptp_unpack_Canon_EOS_FE):
//
//	u32 count
//	count × entry {
//	    u32 entry size, this field included (56 in libgphoto2's dumps)
//	    +0  u32 ObjectHandle
//	    +4  u32 StorageID
//	    +8  u16 ObjectFormat
//	    +16 u8  flags (bit 0: read-only)
//	    +20 u32 size
//	    +32 16 bytes file name, NUL-padded (libgphoto2 keeps 12 characters)
//	    +48 u32 time: the camera's wall clock in seconds since 1970 read
//	        as UTC (libgphoto2's dump of IMG_0199.JPG: two hours ahead of
//	        the same date from GetObjectInfo, read on a host in CEST)
//	}
//
// Offsets after the size field. libgphoto2 reads nothing else; the other
// bytes (+12, +17..+19, +24..+31) are not decoded here either.
const (
	eosEntryFields = 52                 // the fields after the size, up to the end of the time
	eosEntryMin    = 4 + eosEntryFields // the smallest entry that holds every field
	eosNameLen     = 16                 // the name field, +32 to +48
)

// EOSListAll is GetObjectInfoEx's third parameter as libgphoto2 sends it
// (0x100000; its meaning is not documented).
const EOSListAll = 0x100000

// EOSFolderEntry is one entry of a GetObjectInfoEx answer.
type EOSFolderEntry struct {
	Handle    uint32
	StorageID uint32
	Format    ObjectFormat
	Flags     uint8
	Size      uint32
	// Name is the file name field up to its first NUL. Terminated is
	// false when the 16-byte field holds no NUL: the name may be cut.
	Name       string
	Terminated bool
	Time       uint32
}

// EOSFolder is the data phase of GetObjectInfoEx.
type EOSFolder []EOSFolderEntry

// UnmarshalBinary decodes a GetObjectInfoEx data phase. Entries longer
// than eosEntryMin have their extra bytes skipped; a count larger than the
// entries, an entry shorter than its fields or one running past the data
// is ErrMalformed. Bytes after the last entry are ignored.
func (f *EOSFolder) UnmarshalBinary(b []byte) error {
	r := &readBuf{b: b}
	n := r.count(eosEntryMin, "GetObjectInfoEx entries")
	if r.err != nil {
		return r.err
	}
	var out EOSFolder
	if n > 0 {
		out = make(EOSFolder, n)
	}
	for i := range out {
		size := r.u32("entry size")
		if r.err == nil && (size < eosEntryMin || uint64(size-4) > uint64(len(r.b))) {
			r.fail("GetObjectInfoEx entry %d: size %d, at least %d and at most %d", i, size, eosEntryMin, len(r.b)+4)
		}
		p := r.take(int(size)-4, "entry")
		if r.err != nil {
			return r.err
		}
		e := &out[i]
		e.Handle = le.Uint32(p[0:])
		e.StorageID = le.Uint32(p[4:])
		e.Format = ObjectFormat(le.Uint16(p[8:]))
		e.Flags = p[16]
		e.Size = le.Uint32(p[20:])
		name := p[32 : 32+eosNameLen]
		if k := bytes.IndexByte(name, 0); k >= 0 {
			e.Name, e.Terminated = string(name[:k]), true
		} else {
			e.Name = string(name)
		}
		e.Time = le.Uint32(p[48:])
	}
	*f = out
	return nil
}

// AppendBinary appends f as a GetObjectInfoEx data phase, entries of
// eosEntryMin bytes. A name longer than the field is cut to it (no NUL
// then), as a name longer than a camera's field cannot be sent.
func (f EOSFolder) AppendBinary(b []byte) ([]byte, error) {
	if uint64(len(f)) > 0xFFFFFFFF {
		return b, fmt.Errorf("GetObjectInfoEx: %d entries", len(f))
	}
	b = le.AppendUint32(b, uint32(len(f)))
	for _, e := range f {
		var p [eosEntryMin]byte
		le.PutUint32(p[0:], eosEntryMin)
		q := p[4:]
		le.PutUint32(q[0:], e.Handle)
		le.PutUint32(q[4:], e.StorageID)
		le.PutUint16(q[8:], uint16(e.Format))
		q[16] = e.Flags
		le.PutUint32(q[20:], e.Size)
		copy(q[32:32+eosNameLen], e.Name)
		le.PutUint32(q[48:], e.Time)
		b = append(b, p[:]...)
	}
	return b, nil
}

// EOSTime is the time field of an entry for the camera wall clock t.
// Times before 1970 or after 2106 do not fit and are 0 (no date).
func EOSTime(t time.Time) uint32 {
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), 0, time.UTC).Unix()
	if wall < 0 || wall > 0xFFFFFFFF {
		return 0
	}
	return uint32(wall)
}

// Describe turns the entries of folder parent (0 for a storage's top
// level) into object descriptions like a property list's, in the same
// order. As libgphoto2 does, an object's parent is the folder asked about
// and its capture and modification dates are the entry's time, written as
// a PTP date of the camera's wall clock (time 0: no date). An entry whose
// name is empty, cut by its field or not UTF-8 has a nil Info: the caller
// asks GetObjectInfo, which sends the whole name.
func (f EOSFolder) Describe(parent uint32) []ObjectDesc {
	out := make([]ObjectDesc, len(f))
	for i, e := range f {
		out[i].Handle = e.Handle
		if e.Name == "" || !e.Terminated || !utf8.ValidString(e.Name) {
			continue
		}
		var date string
		if e.Time != 0 {
			date = FormatDate(time.Unix(int64(e.Time), 0).UTC())
		}
		info := &ObjectInfo{
			StorageID: e.StorageID, ObjectFormat: e.Format, CompressedSize: e.Size,
			ParentObject: parent, Filename: e.Name, CaptureDate: date, ModificationDate: date,
		}
		if e.Flags&1 != 0 {
			info.ProtectionStatus = 1 // read-only
		}
		out[i].Info = info
		if e.Size != sizeUnknown {
			out[i].Size = uint64(e.Size)
		}
	}
	return out
}

// CanonEOSGetObjectInfoEx runs Canon EOS GetObjectInfoEx (0x9109) with
// (storage, parent, EOSListAll), as libgphoto2 does: parent 0xFFFFFFFF is
// the storage's top level. A camera whose DeviceInfo lacks it gets
// RespOperationNotSupported without a round trip. More objects than the
// object limit (SetMaxObjects) is ErrTooManyObjects, found from the count.
func (d *Device) CanonEOSGetObjectInfoEx(ctx context.Context, storage, parent uint32) (EOSFolder, error) {
	if !d.supports(OpCanonEOSGetObjectInfoEx) {
		return nil, fmt.Errorf("canon eos get object info ex %#x: %w", parent, RespOperationNotSupported)
	}
	data, _, err := d.readData(ctx, OpCanonEOSGetObjectInfoEx, []uint32{storage, parent, EOSListAll}, maxPropList)
	if err == nil {
		r := readBuf{b: data}
		n, max := r.u32("GetObjectInfoEx count"), d.objectLimit()
		switch {
		case r.err != nil:
			err = r.err
		case int64(n) > int64(max):
			err = fmt.Errorf("%w: the camera lists %d, the limit is %d", ErrTooManyObjects, n, max)
		default:
			var f EOSFolder
			if err = f.UnmarshalBinary(data); err == nil {
				return f, nil
			}
		}
	}
	return nil, fmt.Errorf("canon eos get object info ex %#x in %#x: %w", parent, storage, err)
}
