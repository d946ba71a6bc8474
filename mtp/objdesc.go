package mtp

// ObjectDesc is one object as an object property list (GetObjectPropList)
// describes it: the ObjectInfo fields a listing needs, and the exact size.
type ObjectDesc struct {
	Handle uint32
	// Info holds the ObjectInfo fields the list gives (dates from
	// DateCreated and DateModified, CompressedSize as GetObjectInfo would
	// say it); nil when a required property is missing: the caller then
	// asks GetObjectInfo.
	Info *ObjectInfo
	// Size is the exact 64-bit size from ObjectSize (0 when Info is nil):
	// a file over 4 GiB needs no further query.
	Size uint64
}

// The properties without which an object is not described: its format
// (folder or file), name, size and parent (the folder it is in). StorageID
// and the dates may be missing: a listing then treats the object as on the
// storage asked for and dated as GetObjectInfo would with empty dates.
var requiredProps = [...]PropCode{PropObjectFormat, PropObjectFileName, PropObjectSize, PropParentObject}

// DescribeObjects turns a property list into one description per object,
// in list order. An object missing a required property, or carrying one
// with an impossible type or value, has a nil Info; a repeated property
// takes its last value; others are ignored.
func DescribeObjects(list []PropListEntry) []ObjectDesc {
	// One partial description per handle, in a slice indexed by a map:
	// a list of a whole card holds hundreds of thousands of objects.
	type partial struct {
		handle uint32
		info   ObjectInfo
		size   uint64
		have   uint8 // requiredBit of each required property held
	}
	var parts []partial
	index := map[uint32]int{}
	for _, e := range list {
		i, ok := index[e.Handle]
		if !ok {
			i = len(parts)
			index[e.Handle] = i
			parts = append(parts, partial{handle: e.Handle})
		}
		p := &parts[i]
		ok = true
		switch e.Prop {
		case PropStorageID:
			var v uint64
			if v, ok = propUint(e, 32); ok {
				p.info.StorageID = uint32(v)
			}
		case PropObjectFormat:
			var v uint64
			if v, ok = propUint(e, 16); ok {
				p.info.ObjectFormat = ObjectFormat(v)
			}
		case PropProtectionStatus:
			var v uint64
			if v, ok = propUint(e, 16); ok {
				p.info.ProtectionStatus = uint16(v)
			}
		case PropObjectSize:
			if p.size, ok = propUint(e, 64); !ok {
				p.size = 0
			}
		case PropParentObject:
			var v uint64
			if v, ok = propUint(e, 32); ok {
				p.info.ParentObject = uint32(v)
			}
		case PropObjectFileName:
			if ok = e.DataType == TypeString; ok {
				p.info.Filename = e.Str
			}
		case PropDateCreated:
			if ok = e.DataType == TypeString; ok {
				p.info.CaptureDate = e.Str
			}
		case PropDateModified:
			if ok = e.DataType == TypeString; ok {
				p.info.ModificationDate = e.Str
			}
		default:
			continue
		}
		// A later value replaces an earlier one, a bad one removes it:
		// the description never mixes a value with a refused one.
		if bit := requiredBit(e.Prop); ok {
			p.have |= bit
		} else {
			p.have &^= bit
		}
	}
	out := make([]ObjectDesc, len(parts))
	for i := range parts {
		p := &parts[i]
		out[i].Handle = p.handle
		if p.have == allRequired {
			info := p.info
			info.CompressedSize = uint32(min(p.size, sizeUnknown))
			out[i].Info, out[i].Size = &info, p.size
		}
	}
	return out
}

// allRequired has the requiredBit of every required property.
const allRequired = 1<<len(requiredProps) - 1

// requiredBit is the bit of property p in a set of required properties,
// 0 for a property that is not required.
func requiredBit(p PropCode) uint8 {
	for i, c := range requiredProps {
		if c == p {
			return 1 << i
		}
	}
	return 0
}

// propUint reads e as an unsigned value of at most bits bits: an integer
// type whose value is not negative and fits. A 128-bit value fits when its
// high half is zero.
func propUint(e PropListEntry, bits uint) (uint64, bool) {
	n := e.DataType.Size()
	if e.DataType == TypeString || n == 0 || e.Hi != 0 {
		return 0, false
	}
	if e.DataType.signed() && e.Int() < 0 {
		return 0, false
	}
	v := e.Value
	if bits < 64 && v>>bits != 0 {
		return 0, false
	}
	return v, true
}
