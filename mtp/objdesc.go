package mtp

import "fmt"

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
	var d describer
	for i := range list {
		d.add(&list[i]) // without bounds: never fails
	}
	return d.descs()
}

// describer folds property list elements into one partial description per
// object, as DescribeObjects says, counting the objects and the bytes it
// keeps against its bounds as it goes: Device.DescribeObjects feeds it an
// answer while it arrives.
type describer struct {
	maxObjects int   // most objects; 0: no bound
	maxBytes   int64 // most bytes kept; 0: no bound

	kept int64 // bytes kept: partialBytes per object, and its strings
	n    int   // objects
	// parts holds the partials in chunks of partialChunk: growing
	// never copies what is held.
	parts [][]partial
	index map[uint32]int // handle -> its partial
}

// partialChunk is how many partials a describer allocates at once.
const partialChunk = 1024

// part is the i-th object's partial.
func (d *describer) part(i int) *partial { return &d.parts[i/partialChunk][i%partialChunk] }

// partial is one object's description while its elements arrive: the
// ObjectInfo fields a property list gives, and no more (a whole card's
// worth are held at once).
type partial struct {
	handle     uint32
	storage    uint32
	parent     uint32
	format     ObjectFormat
	protection uint16
	size       uint64
	name       string
	captured   string
	modified   string
	have       uint8 // requiredBit of each required property held
}

// partialBytes is what a describer counts for an object besides its
// strings: the partial and its index entry.
const partialBytes = 128

// describedString reports whether the describer keeps property p's
// string: the others are skipped undecoded.
func describedString(p PropCode) bool {
	return p == PropObjectFileName || p == PropDateCreated || p == PropDateModified
}

// add folds e into its object's description. It fails with
// ErrTooManyObjects for the first object past maxObjects, and with
// ErrTooLarge when what it keeps passes maxBytes.
func (d *describer) add(e *PropListEntry) error {
	i, ok := d.index[e.Handle]
	if !ok {
		if d.maxObjects > 0 && d.n >= d.maxObjects {
			return fmt.Errorf("%w: the property list describes more than %d", ErrTooManyObjects, d.maxObjects)
		}
		if d.index == nil {
			d.index = map[uint32]int{}
		}
		i = d.n
		if i%partialChunk == 0 {
			d.parts = append(d.parts, make([]partial, partialChunk))
		}
		d.n++
		d.index[e.Handle] = i
		d.part(i).handle = e.Handle
		d.kept += partialBytes
	}
	p := d.part(i)
	ok = true
	var str *string // the string property e sets
	switch e.Prop {
	case PropStorageID:
		var v uint64
		if v, ok = propUint(*e, 32); ok {
			p.storage = uint32(v)
		}
	case PropObjectFormat:
		var v uint64
		if v, ok = propUint(*e, 16); ok {
			p.format = ObjectFormat(v)
		}
	case PropProtectionStatus:
		var v uint64
		if v, ok = propUint(*e, 16); ok {
			p.protection = uint16(v)
		}
	case PropObjectSize:
		if p.size, ok = propUint(*e, 64); !ok {
			p.size = 0
		}
	case PropParentObject:
		var v uint64
		if v, ok = propUint(*e, 32); ok {
			p.parent = uint32(v)
		}
	case PropObjectFileName:
		str = &p.name
	case PropDateCreated:
		str = &p.captured
	case PropDateModified:
		str = &p.modified
	default:
		return d.check()
	}
	if str != nil {
		if ok = e.DataType == TypeString; ok {
			d.kept += int64(len(e.Str) - len(*str))
			*str = e.Str
		}
	}
	// A later value replaces an earlier one, a bad one removes it:
	// the description never mixes a value with a refused one.
	if bit := requiredBit(e.Prop); ok {
		p.have |= bit
	} else {
		p.have &^= bit
	}
	return d.check()
}

// check fails once the description keeps more than maxBytes.
func (d *describer) check() error {
	if d.maxBytes > 0 && d.kept > d.maxBytes {
		return fmt.Errorf("%w: descriptions of %d objects keep over %d bytes", ErrTooLarge, d.n, d.maxBytes)
	}
	return nil
}

// descs is the description of every object, in the order of their first
// element.
func (d *describer) descs() []ObjectDesc {
	out := make([]ObjectDesc, d.n)
	for i := range out {
		p := d.part(i)
		out[i].Handle = p.handle
		if p.have == allRequired {
			out[i].Info = &ObjectInfo{
				StorageID: p.storage, ObjectFormat: p.format, ProtectionStatus: p.protection,
				CompressedSize: uint32(min(p.size, sizeUnknown)), ParentObject: p.parent,
				Filename: p.name, CaptureDate: p.captured, ModificationDate: p.modified,
			}
			out[i].Size = p.size
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
