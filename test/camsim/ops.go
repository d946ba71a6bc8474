package camsim

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"image/jpeg"
	"io"
	"maps"
	"slices"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// genericOps is what a generic MTP-capable camera implements; DeviceInfo
// lists exactly these operations.
func genericOps() map[mtp.OpCode]opFunc {
	return map[mtp.OpCode]opFunc{
		mtp.OpGetDeviceInfo:             (*session).getDeviceInfo,
		mtp.OpOpenSession:               (*session).openSession,
		mtp.OpCloseSession:              (*session).closeSession,
		mtp.OpGetStorageIDs:             (*session).getStorageIDs,
		mtp.OpGetStorageInfo:            (*session).getStorageInfo,
		mtp.OpGetNumObjects:             (*session).getNumObjects,
		mtp.OpGetObjectHandles:          (*session).getObjectHandles,
		mtp.OpGetObjectInfo:             (*session).getObjectInfo,
		mtp.OpGetObject:                 (*session).getObject,
		mtp.OpGetThumb:                  (*session).getThumb,
		mtp.OpGetPartialObject:          (*session).getPartialObject,
		mtp.OpGetObjectPropsSupport:     (*session).getObjectPropsSupported,
		mtp.OpGetObjectPropDesc:         (*session).getObjectPropDesc,
		mtp.OpGetObjectPropValue:        (*session).getObjectPropValue,
		mtp.OpGetObjectPropList:         (*session).getObjectPropList,
		mtp.OpAndroidGetPartialObject64: (*session).getPartialObject64,
	}
}

// events lists the events the camera sends.
var events = []mtp.EventCode{mtp.EventObjectAdded, mtp.EventObjectRemoved, mtp.EventObjectInfoChanged}

// imageFormats is every format an object can have, sorted.
func (c *Camera) imageFormats() []mtp.ObjectFormat {
	set := map[mtp.ObjectFormat]bool{mtp.FormatUndefined: true, mtp.FormatAssociation: true}
	for _, f := range c.p.Formats {
		set[f] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func (c *Camera) deviceInfo() *mtp.DeviceInfo {
	return &mtp.DeviceInfo{
		StandardVersion:        100,
		VendorExtensionID:      c.p.VendorExtensionID,
		VendorExtensionVersion: c.p.VendorExtensionVersion,
		VendorExtensionDesc:    c.p.VendorExtensionDesc,
		OperationsSupported:    slices.Sorted(maps.Keys(c.ops)),
		EventsSupported:        events,
		ImageFormats:           c.imageFormats(),
		Manufacturer:           c.s.Manufacturer,
		Model:                  c.s.Model,
		DeviceVersion:          c.s.DeviceVersion,
		SerialNumber:           c.s.Serial,
	}
}

// encode answers OK with an encoded dataset as data.
func encode(v interface{ AppendBinary([]byte) ([]byte, error) }) reply {
	b, err := v.AppendBinary(nil)
	if err != nil {
		return fail(mtp.RespGeneralError)
	}
	return okData(b)
}

func (s *session) getDeviceInfo(*txn) reply { return encode(s.cam.deviceInfo()) }

func (s *session) openSession(t *txn) reply {
	id := t.param(0)
	if cur := s.sessionID.Load(); cur != 0 {
		return reply{code: mtp.RespSessionAlreadyOpen, params: []uint32{cur}}
	}
	if id == 0 {
		return fail(mtp.RespInvalidParameter)
	}
	s.sessionID.Store(id)
	s.log.Info("session open", "session", id, "tid", t.tid)
	return ok()
}

func (s *session) closeSession(*txn) reply {
	s.sessionID.Store(0)
	s.log.Info("session closed")
	return ok()
}

func (s *session) getStorageIDs(*txn) reply {
	b, _ := mtp.AppendUint32Array(nil, []uint32{storageID})
	return okData(b)
}

func (s *session) getStorageInfo(t *txn) reply {
	if t.param(0) != storageID {
		return fail(mtp.RespInvalidStorageID)
	}
	capacity, free, err := s.cam.card.space()
	if err != nil {
		s.log.Warn("statfs", "dir", s.cam.s.Dir, "err", err)
		return fail(mtp.RespStoreNotAvailable)
	}
	return encode(&mtp.StorageInfo{
		StorageType:        0x0004, // removable RAM (a memory card)
		FilesystemType:     0x0002, // generic hierarchical
		AccessCapability:   0x0001, // read-only without object deletion: the card is never written
		MaxCapacity:        capacity,
		FreeSpaceInBytes:   free,
		FreeSpaceInImages:  0xFFFFFFFF, // not used
		StorageDescription: "Card 1",
		VolumeLabel:        s.cam.s.VolumeLabel,
	})
}

// selectObjects applies the (StorageID, ObjectFormat, Parent) selection of
// GetNumObjects and GetObjectHandles: storage 0xFFFFFFFF is every storage,
// format 0 every format, parent 0 every object flat and 0xFFFFFFFF the
// root level; another parent lists that folder.
func (s *session) selectObjects(t *txn) ([]object, mtp.ResponseCode) {
	storage, format, parent := t.param(0), t.param(1), t.param(2)
	if storage != 0xFFFFFFFF && storage != storageID {
		return nil, mtp.RespInvalidStorageID
	}
	switch parent {
	case 0:
	case 0xFFFFFFFF:
		parent = 0
	default:
		p, ok := s.cam.card.get(parent)
		if !ok {
			return nil, mtp.RespInvalidObjectHandle
		}
		if !p.dir {
			return nil, mtp.RespInvalidParentObject
		}
	}
	all := t.param(2) == 0
	return s.cam.card.list(func(o *object) bool {
		return (format == 0 || uint32(o.format) == format) && (all || o.parent == parent)
	}), mtp.RespOK
}

func (s *session) getNumObjects(t *txn) reply {
	objs, code := s.selectObjects(t)
	if code != mtp.RespOK {
		return fail(code)
	}
	return ok(uint32(len(objs)))
}

func (s *session) getObjectHandles(t *txn) reply {
	objs, code := s.selectObjects(t)
	if code != mtp.RespOK {
		return fail(code)
	}
	hs := make([]uint32, len(objs))
	for i, o := range objs {
		hs[i] = o.handle
	}
	b, _ := mtp.AppendUint32Array(nil, hs)
	return okData(b)
}

// size32 is an object size as ObjectInfo's CompressedSize carries it:
// 0xFFFFFFFF for 4 GiB and more (the real size is ObjectSize, 0xDC04).
func size32(n int64) uint32 {
	if n >= 0xFFFFFFFF {
		return 0xFFFFFFFF
	}
	return uint32(n)
}

func (s *session) date(o *object) string { return mtp.FormatDate(o.mtime.In(s.cam.s.Location)) }

func (s *session) getObjectInfo(t *txn) reply {
	o, ok := s.cam.card.get(t.param(0))
	if !ok {
		return fail(mtp.RespInvalidObjectHandle)
	}
	oi := &mtp.ObjectInfo{
		StorageID:        storageID,
		ObjectFormat:     o.format,
		CompressedSize:   size32(o.size),
		ParentObject:     o.parent,
		Filename:         o.name(),
		CaptureDate:      s.date(&o),
		ModificationDate: s.date(&o),
	}
	if o.dir {
		oi.AssociationType = assocGenericFolder
	}
	if o.width != 0 {
		oi.ImagePixWidth, oi.ImagePixHeight, oi.ImageBitDepth = o.width, o.height, 24
		if thumb := s.thumb(&o); thumb != nil {
			oi.ThumbFormat = mtp.FormatEXIFJPEG
			oi.ThumbCompressedSize = uint32(len(thumb))
			if cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb)); err == nil {
				oi.ThumbPixWidth, oi.ThumbPixHeight = uint32(cfg.Width), uint32(cfg.Height)
			}
		}
	}
	return encode(oi)
}

// thumb returns the thumbnail of o, finding it on first use; nil when o
// has none (not a JPEG, or thumbnails off). A JPEG from a camera carries
// one in its EXIF data, which is returned as it is; for any other JPEG one
// is made from the image.
//
// Its size is part of ObjectInfo, which hosts read before they ask for
// the thumbnail, so GetObjectInfo looks for it: once per file and process,
// which for a JPEG without an EXIF thumbnail costs a decode.
func (s *session) thumb(o *object) []byte {
	if !s.cam.p.Thumbnails || o.width == 0 {
		return nil
	}
	if o.thumb != nil { // found before; empty: none
		return nonEmpty(o.thumb)
	}
	f, err := s.cam.card.open(o)
	if err != nil {
		return nil
	}
	defer f.Close()
	thumb := exifThumb(f)
	if thumb == nil {
		if thumb, err = makeThumb(io.NewSectionReader(f, 0, o.size)); err != nil {
			s.log.Debug("no thumbnail", "file", o.rel, "err", err)
			thumb = []byte{} // do not decode it again
		}
	}
	s.cam.card.setThumb(o, thumb)
	return nonEmpty(thumb)
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func (s *session) getThumb(t *txn) reply {
	o, ok := s.cam.card.get(t.param(0))
	if !ok {
		return fail(mtp.RespInvalidObjectHandle)
	}
	thumb := s.thumb(&o)
	if thumb == nil {
		return fail(mtp.RespNoThumbnailPresent)
	}
	return okData(thumb)
}

// readObject answers with at most n bytes of the object h from offset off,
// read from the file while they are sent. A partial read's response
// carries the number of bytes sent.
func (s *session) readObject(h uint32, off, n uint64, partial bool) reply {
	o, ok := s.cam.card.get(h)
	if !ok {
		return fail(mtp.RespInvalidObjectHandle)
	}
	size := uint64(o.size)
	if off > size {
		return fail(mtp.RespInvalidParameter)
	}
	n = min(n, size-off)
	if n > maxDataIn {
		if !partial {
			// A whole object of 4 GiB or more does not fit a data
			// phase libgphoto2 can read: ask for partial reads.
			return fail(mtp.RespObjectTooLarge)
		}
		n = maxDataIn
	}
	var params []uint32
	if partial {
		params = []uint32{uint32(n)}
	}
	if o.dir {
		return okData(nil, params...) // a folder has no data
	}
	f, err := s.cam.card.open(&o)
	if err != nil {
		s.log.Warn("open", "file", o.rel, "err", err)
		return fail(mtp.RespInvalidObjectHandle) // gone since the last scan
	}
	return reply{code: mtp.RespOK, params: params, data: io.NewSectionReader(f, int64(off), int64(n)), closer: f}
}

func (s *session) getObject(t *txn) reply {
	return s.readObject(t.param(0), 0, ^uint64(0), false)
}

// getPartialObject is PTP GetPartialObject (Handle, Offset, MaxBytes).
func (s *session) getPartialObject(t *txn) reply {
	return s.readObject(t.param(0), uint64(t.param(1)), uint64(t.param(2)), true)
}

// getPartialObject64 is Android's GetPartialObject64 (Handle, OffsetLow,
// OffsetHigh, MaxBytes).
func (s *session) getPartialObject64(t *txn) reply {
	return s.readObject(t.param(0), uint64(t.param(1))|uint64(t.param(2))<<32, uint64(t.param(3)), true)
}

// appendUint16Array appends a PTP array of u16.
func appendUint16Array[T ~uint16](b []byte, v []T) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint16(b, uint16(x))
	}
	return b
}

// sortObjects orders objects by handle.
func sortObjects(objs []object) {
	slices.SortFunc(objs, func(a, b object) int { return cmp.Compare(a.handle, b.handle) })
}
