package camsim

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"image/jpeg"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// allOps is every operation the simulator implements; a personality's Ops
// choose among them, and DeviceInfo lists exactly those.
var allOps map[mtp.OpCode]opFunc

func init() {
	allOps = map[mtp.OpCode]opFunc{
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
		mtp.OpGetObjectPropsSupported:   (*session).getObjectPropsSupported,
		mtp.OpGetObjectPropDesc:         (*session).getObjectPropDesc,
		mtp.OpGetObjectPropValue:        (*session).getObjectPropValue,
		mtp.OpGetObjectPropList:         (*session).getObjectPropList,
		mtp.OpAndroidGetPartialObject64: (*session).getPartialObject64,

		mtp.OpNikonGetObjectSize:         (*session).nikonGetObjectSize,
		mtp.OpNikonGetPartialObjectEx:    (*session).nikonGetPartialObjectEx,
		mtp.OpNikonGetEvent:              (*session).nikonGetEvent,
		mtp.OpNikonGetLargeThumb:         (*session).nikonGetLargeThumb,
		mtp.OpNikonGetTransferList:       (*session).nikonGetTransferList,
		mtp.OpGetDevicePropValue:         (*session).getDevicePropValue,
		mtp.OpSetDevicePropValue:         (*session).setDevicePropValue,
		mtp.OpCanonEOSSetDevicePropValue: (*session).canonSetDevicePropValue,

		mtp.OpCanonEOSGetObjectInfoEx:      (*session).canonGetObjectInfoEx,
		mtp.OpCanonEOSSetRemoteMode:        (*session).canonSetMode,
		mtp.OpCanonEOSSetEventMode:         (*session).canonSetMode,
		mtp.OpCanonEOSGetEvent:             (*session).canonGetEvent,
		mtp.OpCanonEOSGetObjectInfo64:      (*session).canonGetObjectInfo64,
		mtp.OpCanonEOSGetPartialObject64:   (*session).canonGetPartialObject64,
		mtp.OpCanonEOSGetPartialObjectEx64: (*session).canonGetPartialObjectEx64,
	}
}

// events lists the events the camera sends.
var events = []mtp.EventCode{mtp.EventObjectAdded, mtp.EventObjectRemoved, mtp.EventObjectInfoChanged}

// events lists the events the camera reports in DeviceInfo: its body's,
// else none for a camera that reports nothing.
func (c *Camera) events() []mtp.EventCode {
	switch {
	case c.p.Body != nil:
		return c.p.Body.Events
	case c.p.Events == EventsNone:
		return nil
	}
	return events
}

// nikonGetEvent answers Nikon's GetEvent (0x90C7) with the events queued
// for this session since the last call.
func (s *session) nikonGetEvent(*txn) reply {
	s.cam.mu.Lock()
	q := s.queued
	s.queued = nil
	s.cam.mu.Unlock()
	return encode(mtp.NikonEvents(q))
}

// imageFormats is every format an object can have, sorted.
func (c *Camera) imageFormats() []mtp.ObjectFormat {
	set := map[mtp.ObjectFormat]bool{mtp.FormatUndefined: true, mtp.FormatAssociation: true}
	for _, f := range c.p.Formats {
		set[f] = true
	}
	return slices.Sorted(maps.Keys(set))
}

// deviceInfo is the GetDeviceInfo dataset: a body's published lists, or
// what a personality without a body implements.
func (c *Camera) deviceInfo() *mtp.DeviceInfo {
	di := &mtp.DeviceInfo{
		StandardVersion:        100,
		VendorExtensionID:      c.p.VendorExtensionID,
		VendorExtensionVersion: c.p.VendorExtensionVersion,
		VendorExtensionDesc:    c.p.VendorExtensionDesc,
		OperationsSupported:    slices.Sorted(maps.Keys(c.ops)),
		EventsSupported:        c.events(),
		ImageFormats:           c.imageFormats(),
		Manufacturer:           c.s.Manufacturer,
		Model:                  c.s.Model,
		DeviceVersion:          c.s.DeviceVersion,
		SerialNumber:           c.s.Serial,
	}
	if b := c.p.Body; b != nil {
		di.OperationsSupported = b.Ops
		di.DevicePropertiesSupported = b.Props
		di.CaptureFormats = b.CaptureFormats
		di.ImageFormats = b.PlaybackFormats
	}
	return di
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
	s.opened = time.Now()
	s.log.Info("session open", "session", id, "tid", t.tid)
	return ok()
}

func (s *session) closeSession(*txn) reply {
	s.sessionID.Store(0)
	s.endSession()
	s.log.Info("session closed")
	return ok()
}

func (s *session) getStorageIDs(*txn) reply {
	ids := make([]uint32, len(s.cam.cards))
	for i, cd := range s.cam.cards {
		ids[i] = cd.storage
	}
	b, _ := mtp.AppendUint32Array(nil, ids)
	return okData(b)
}

func (s *session) getStorageInfo(t *txn) reply {
	cd := s.cam.cardFor(t.param(0))
	if cd == nil {
		return fail(mtp.RespInvalidStorageID)
	}
	capacity, free, err := cd.space()
	if err != nil {
		s.log.Warn("card space", "card", cd.m.String(), "err", err)
		return fail(mtp.RespStoreNotAvailable)
	}
	return encode(&mtp.StorageInfo{
		StorageType:        0x0004, // removable RAM (a memory card)
		FilesystemType:     0x0002, // generic hierarchical
		AccessCapability:   0x0001, // read-only without object deletion: the card is never written
		MaxCapacity:        capacity,
		FreeSpaceInBytes:   free,
		FreeSpaceInImages:  0xFFFFFFFF, // not used
		StorageDescription: fmt.Sprintf("Card %d", cd.slot),
		VolumeLabel:        s.cam.s.VolumeLabel,
	})
}

// selectObjects applies the (StorageID, ObjectFormat, Parent) selection of
// GetNumObjects and GetObjectHandles: storage 0xFFFFFFFF is every storage,
// format 0 every format, parent 0 every object flat and 0xFFFFFFFF the
// root level; another parent lists that folder.
func (s *session) selectObjects(t *txn) ([]object, mtp.ResponseCode) {
	storage, format, parent := t.param(0), t.param(1), t.param(2)
	if storage != 0xFFFFFFFF && s.cam.cardFor(storage) == nil {
		return nil, mtp.RespInvalidStorageID
	}
	switch parent {
	case 0:
	case 0xFFFFFFFF:
		parent = 0
	default:
		p, _, ok := s.cam.object(parent)
		if !ok {
			return nil, mtp.RespInvalidObjectHandle
		}
		if !p.dir {
			return nil, mtp.RespInvalidParentObject
		}
	}
	all := t.param(2) == 0
	return s.cam.objects(storage, func(o *object) bool {
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

// date is the date of o as the camera reports it: local wall time, with
// the personality's quirks (Nikon's halved seconds, Canon's ".0").
func (s *session) date(o *object) string {
	if o.dir && s.cam.p.UndatedFolders {
		return "" // Sony: dated folders carry no date
	}
	t := o.mtime.In(s.cam.s.Location)
	if s.cam.p.HalveSeconds {
		t = t.Add(-time.Duration(t.Second()-t.Second()/2) * time.Second)
	}
	return mtp.FormatDate(t) + s.cam.p.DateTail
}

func (s *session) getObjectInfo(t *txn) reply {
	oi, code := s.objectInfo(t.param(0))
	if code != mtp.RespOK {
		return fail(code)
	}
	return encode(oi)
}

// objectInfo is the ObjectInfo of object h, or the response code that
// refuses it.
func (s *session) objectInfo(h uint32) (*mtp.ObjectInfo, mtp.ResponseCode) {
	o, cd, ok := s.cam.object(h)
	if !ok {
		return nil, mtp.RespInvalidObjectHandle
	}
	if d := s.cam.p.ShotSettle; d > 0 && !o.dir && !o.added.IsZero() && time.Since(o.added) < d {
		// Nikon: the file of a new shot is still being written.
		return nil, mtp.RespGeneralError
	}
	oi := &mtp.ObjectInfo{
		StorageID:        s.reportedStorage(cd),
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
	}
	if thumb := s.thumb(&o, cd); thumb != nil {
		oi.ThumbFormat = mtp.FormatEXIFJPEG
		oi.ThumbCompressedSize = uint32(len(thumb))
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb)); err == nil {
			oi.ThumbPixWidth, oi.ThumbPixHeight = uint32(cfg.Width), uint32(cfg.Height)
		}
	}
	return oi, mtp.RespOK
}

// thumb returns o's thumbnail (medium.thumb: what the camera wrote, or
// made from the picture), found once per file since ObjectInfo carries its
// size; nil when o has none or thumbnails are off.
func (s *session) thumb(o *object, cd *card) []byte {
	if !s.cam.p.Thumbnails || o.dir {
		return nil
	}
	if o.thumb != nil { // found before; empty: none
		return nonEmpty(o.thumb)
	}
	thumb, err := cd.m.thumb(o.rel, false)
	if err != nil {
		s.log.Debug("no thumbnail", "file", o.rel, "err", err)
	}
	if thumb == nil {
		thumb = []byte{} // do not look again
	}
	cd.setThumb(o, thumb)
	return nonEmpty(thumb)
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func (s *session) getThumb(t *txn) reply {
	o, cd, ok := s.cam.object(t.param(0))
	if !ok {
		return fail(mtp.RespInvalidObjectHandle)
	}
	thumb := s.thumb(&o, cd)
	if thumb == nil {
		return fail(mtp.RespNoThumbnailPresent)
	}
	return okData(thumb)
}

// nikonGetLargeThumb answers Nikon's GetLargeThumb (0x90C4, libgphoto2's
// ptp_nikon_getlargethumb) with the picture's preview, a JPEG of at most
// 640 pixels across.
func (s *session) nikonGetLargeThumb(t *txn) reply {
	o, cd, ok := s.cam.object(t.param(0))
	if !ok {
		return fail(mtp.RespInvalidObjectHandle)
	}
	if !s.cam.p.Thumbnails || o.dir {
		return fail(mtp.RespNoThumbnailPresent)
	}
	thumb, err := cd.m.thumb(o.rel, true)
	if err != nil || thumb == nil {
		s.log.Debug("no large thumbnail", "file", o.rel, "err", err)
		return fail(mtp.RespNoThumbnailPresent)
	}
	return okData(thumb)
}

// readSpan is how many of the n bytes asked at off of an object of size
// bytes one read sends, and the response parameters of a partial read (the
// number sent); code is RespOK or the refusal.
func (s *session) readSpan(size, off, n uint64, partial bool) (uint64, []uint32, mtp.ResponseCode) {
	if off > size {
		return 0, nil, mtp.RespInvalidParameter
	}
	n = min(n, size-off)
	if n > s.maxData() {
		if !partial {
			// A whole object of 4 GiB or more does not fit a data
			// phase libgphoto2 can read: ask for partial reads.
			return 0, nil, mtp.RespObjectTooLarge
		}
		n = s.maxData()
	}
	if !partial {
		return n, nil, mtp.RespOK
	}
	return n, []uint32{uint32(n)}, mtp.RespOK
}

// readObject answers with at most n bytes of the object h from offset off,
// read from the file while they are sent. A partial read's response
// carries the number of bytes sent.
func (s *session) readObject(h uint32, off, n uint64, partial bool) reply {
	o, cd, ok := s.cam.object(h)
	if !ok {
		return fail(mtp.RespInvalidObjectHandle)
	}
	n, params, code := s.readSpan(uint64(o.size), off, n, partial)
	if code != mtp.RespOK {
		return fail(code)
	}
	if o.dir {
		return okData(nil, params...) // a folder has no data
	}
	f, err := cd.open(&o)
	if err != nil {
		s.log.Warn("open", "file", o.rel, "err", err)
		return fail(mtp.RespInvalidObjectHandle) // gone since the last scan
	}
	if n > 0 {
		// Read a byte now: a generated file computes its parts on first
		// read, and that belongs before the latency, not on the link.
		var one [1]byte
		f.ReadAt(one[:], int64(off))
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

// nikonGetObjectSize is Nikon GetObjectSize (0x9421, Handle): the size
// as a u64 data phase.
func (s *session) nikonGetObjectSize(t *txn) reply {
	o, _, ok := s.cam.object(t.param(0))
	if !ok {
		return fail(mtp.RespInvalidObjectHandle)
	}
	return okData(binary.LittleEndian.AppendUint64(nil, uint64(o.size)))
}

// nikonGetPartialObjectEx is Nikon GetPartialObjectEx (0x9431: Handle,
// OffsetLow, OffsetHigh, SizeLow, SizeHigh).
func (s *session) nikonGetPartialObjectEx(t *txn) reply {
	off := uint64(t.param(1)) | uint64(t.param(2))<<32
	n := uint64(t.param(3)) | uint64(t.param(4))<<32
	return s.readObject(t.param(0), off, n, true)
}

// canonGetObjectInfo64 is Canon EOS GetObjectInfo64 (0x9170, Handle). No
// public source decodes it; this camera answers what package mtp assumes
// (mtp.Device.ObjectSize): the ObjectInfo dataset with CompressedSize
// widened to a u64, everything else in place.
func (s *session) canonGetObjectInfo64(t *txn) reply {
	oi, code := s.objectInfo(t.param(0))
	if code != mtp.RespOK {
		return fail(code)
	}
	o, _, _ := s.cam.object(t.param(0))
	b, err := oi.AppendBinary(nil)
	if err != nil {
		return fail(mtp.RespGeneralError)
	}
	const sizeAt = 4 + 2 + 2 // StorageID, ObjectFormat, ProtectionStatus
	wide := append([]byte(nil), b[:sizeAt]...)
	wide = binary.LittleEndian.AppendUint64(wide, uint64(o.size))
	return okData(append(wide, b[sizeAt+4:]...))
}

// canonGetPartialObject64 is Canon EOS GetPartialObject64 (0x9172: Handle,
// Offset, MaxBytes), per libgphoto2's ptp.h: a 32-bit offset.
func (s *session) canonGetPartialObject64(t *txn) reply {
	return s.readObject(t.param(0), uint64(t.param(1)), uint64(t.param(2)), true)
}

// canonGetPartialObjectEx64 is Canon EOS GetPartialObjectEx64 (0x9174:
// Handle, OffsetLow, OffsetHigh, MaxBytes).
func (s *session) canonGetPartialObjectEx64(t *txn) reply {
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
