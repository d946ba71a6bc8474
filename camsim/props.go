package camsim

import (
	"encoding/binary"
	"slices"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// MTP property description form flags.
const (
	formNone     = 0x00
	formDateTime = 0x03
)

// objectProp is one MTP object property the camera supports, for every
// object format.
type objectProp struct {
	code mtp.PropCode
	typ  mtp.DataType
	form uint8
}

var objectProps = []objectProp{
	{mtp.PropStorageID, mtp.TypeUint32, formNone},
	{mtp.PropObjectFormat, mtp.TypeUint16, formNone},
	{mtp.PropProtectionStatus, mtp.TypeUint16, formNone},
	{mtp.PropObjectSize, mtp.TypeUint64, formNone},
	{mtp.PropObjectFileName, mtp.TypeString, formNone},
	{mtp.PropDateCreated, mtp.TypeString, formDateTime},
	{mtp.PropDateModified, mtp.TypeString, formDateTime},
	{mtp.PropParentObject, mtp.TypeUint32, formNone},
}

func findProp(code uint32) (objectProp, bool) {
	i := slices.IndexFunc(objectProps, func(p objectProp) bool { return uint32(p.code) == code })
	if i < 0 {
		return objectProp{}, false
	}
	return objectProps[i], true
}

// propValue is the value of property p of object o.
func (s *session) propValue(o *object, p objectProp) mtp.PropListEntry {
	e := mtp.PropListEntry{Handle: o.handle, Prop: p.code, DataType: p.typ}
	switch p.code {
	case mtp.PropStorageID:
		e.Value = uint64(o.storage)
		if s.cam.s.Quirks.StorageMismatch {
			e.Value++
		}
	case mtp.PropObjectFormat:
		e.Value = uint64(o.format)
	case mtp.PropProtectionStatus:
		e.Value = 0
	case mtp.PropObjectSize:
		e.Value = uint64(o.size)
	case mtp.PropObjectFileName:
		e.Str = o.name()
	case mtp.PropDateCreated, mtp.PropDateModified:
		e.Str = s.date(o)
	case mtp.PropParentObject:
		e.Value = uint64(o.parent)
	}
	return e
}

// knownFormat reports whether objects of format f can exist here.
func (s *session) knownFormat(f uint32) bool {
	return slices.Contains(s.cam.imageFormats(), mtp.ObjectFormat(f))
}

// getObjectPropsSupported is MTP GetObjectPropsSupported(ObjectFormat).
func (s *session) getObjectPropsSupported(t *txn) reply {
	if !s.knownFormat(t.param(0)) {
		return fail(mtp.RespInvalidObjectFormatCode)
	}
	codes := make([]mtp.PropCode, len(objectProps))
	for i, p := range objectProps {
		codes[i] = p.code
	}
	return okData(appendUint16Array(nil, codes))
}

// getObjectPropDesc is MTP GetObjectPropDesc(PropCode, ObjectFormat):
//
//	u16 PropertyCode
//	u16 DataType
//	u8  GetSet (0: get only)
//	... DefaultValue (zero, or the empty string)
//	u32 GroupCode
//	u8  FormFlag (no form data follows for None and DateTime)
func (s *session) getObjectPropDesc(t *txn) reply {
	p, ok := findProp(t.param(0))
	if !ok {
		return fail(mtp.RespInvalidObjectPropCode)
	}
	if !s.knownFormat(t.param(1)) {
		return fail(mtp.RespInvalidObjectFormatCode)
	}
	b := binary.LittleEndian.AppendUint16(nil, uint16(p.code))
	b = binary.LittleEndian.AppendUint16(b, uint16(p.typ))
	b = append(b, 0)
	if p.typ == mtp.TypeString {
		b = append(b, 0)
	} else {
		b = append(b, make([]byte, p.typ.Size())...)
	}
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = append(b, p.form)
	return okData(b)
}

// propListHeader is what AppendPropList writes before the first value of
// a one-element list: count, handle, property code, data type.
const propListHeader = 4 + 4 + 2 + 2

// getObjectPropValue is MTP GetObjectPropValue(Handle, PropCode).
func (s *session) getObjectPropValue(t *txn) reply {
	o, _, ok := s.cam.object(t.param(0))
	if !ok {
		return fail(mtp.RespInvalidObjectHandle)
	}
	p, ok := findProp(t.param(1))
	if !ok {
		return fail(mtp.RespInvalidObjectPropCode)
	}
	b, err := mtp.AppendPropList(nil, []mtp.PropListEntry{s.propValue(&o, p)})
	if err != nil {
		return fail(mtp.RespGeneralError)
	}
	return okData(b[propListHeader:])
}

// getObjectPropList is MTP GetObjectPropList(Handle, ObjectFormat,
// PropCode, GroupCode, Depth). Handle 0xFFFFFFFF is every object (Depth
// ignored); otherwise Depth 0 is the object itself and Depth d the objects
// 1..d levels below it (0xFFFFFFFF: all levels), handle 0 being the root.
// PropCode 0xFFFFFFFF is every property; groups are not supported.
func (s *session) getObjectPropList(t *txn) reply {
	h, format, prop, depth := t.param(0), t.param(1), t.param(2), t.param(4)
	props := objectProps
	switch prop {
	case 0:
		return fail(mtp.RespSpecByGroupUnsupported)
	case 0xFFFFFFFF:
	default:
		p, ok := findProp(prop)
		if !ok {
			return fail(mtp.RespInvalidObjectPropCode)
		}
		props = []objectProp{p}
	}
	var objs []object
	switch {
	case h == 0xFFFFFFFF:
		objs = s.cam.objects(0xFFFFFFFF, func(*object) bool { return true })
	case depth == 0:
		if h == 0 {
			break
		}
		o, _, ok := s.cam.object(h)
		if !ok {
			return fail(mtp.RespInvalidObjectHandle)
		}
		objs = []object{o}
	default:
		if h != 0 {
			if _, _, ok := s.cam.object(h); !ok {
				return fail(mtp.RespInvalidObjectHandle)
			}
		}
		objs = s.below(h, depth)
	}
	var list []mtp.PropListEntry
	kept := 0
	for _, o := range objs {
		if format != 0 && uint32(o.format) != format {
			continue
		}
		kept++
		if s.cam.s.Quirks.PropListDrops && kept%2 == 0 {
			continue // quirks.go
		}
		for _, p := range props {
			list = append(list, s.propValue(&o, p))
		}
	}
	b, err := mtp.AppendPropList(nil, list)
	if err != nil {
		return fail(mtp.RespGeneralError)
	}
	return okData(b)
}

// below returns the objects 1..depth levels below the folder h (0: the
// root), in handle order.
func (s *session) below(h, depth uint32) []object {
	all := s.cam.objects(0xFFFFFFFF, func(*object) bool { return true })
	children := map[uint32][]object{}
	for _, o := range all {
		children[o.parent] = append(children[o.parent], o)
	}
	var out []object
	level := []uint32{h}
	for d := uint32(0); d < depth && len(level) > 0; d++ {
		var next []uint32
		for _, p := range level {
			for _, c := range children[p] {
				out = append(out, c)
				next = append(next, c.handle)
			}
		}
		level = next
	}
	sortObjects(out)
	return out
}
