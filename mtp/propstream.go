package mtp

import "fmt"

// propListParser decodes GetObjectPropList data (the layout and rules of
// DecodePropList) as it arrives: Write takes the data phase in pieces of
// any size, decodes each whole element at once and hands it to entry, and
// keeps only an element cut at the end of a piece (at most a 519-byte
// string element). close checks that the announced count was met. So a
// listing never holds a camera's whole answer, and one too large is
// refused while it arrives: by entry's error (too many objects), or past
// limit bytes. After an error Write keeps failing with it, and the data
// phase is drained by the transport.
type propListParser struct {
	// entry receives each element; an error stops the parsing.
	entry func(e *PropListEntry) error
	// keepStr says which properties' strings are decoded; the others
	// are checked and skipped without an allocation (nil: all kept).
	keepStr func(PropCode) bool
	// limit is the most data bytes accepted (0: no limit); past it,
	// ErrTooLarge.
	limit int64

	n       int64  // data bytes written
	count   uint32 // elements announced
	counted bool   // count read
	seen    uint32 // elements decoded
	carry   []byte // the start of an element cut at the end of a piece
	err     error
	e       PropListEntry // the element being handed to entry
}

// Write parses the next piece of the data phase.
func (p *propListParser) Write(b []byte) (int, error) {
	if p.err != nil {
		return 0, p.err
	}
	p.n += int64(len(b))
	if p.limit > 0 && p.n > p.limit {
		p.err = fmt.Errorf("%w: property list over %d bytes", ErrTooLarge, p.limit)
		return 0, p.err
	}
	data := b
	if len(p.carry) > 0 {
		p.carry = append(p.carry, b...)
		data = p.carry
	}
	rest, err := p.parse(data)
	if err != nil {
		p.err, p.carry = err, nil
		return 0, err
	}
	// rest may alias carry: append copies with memmove.
	p.carry = append(p.carry[:0], rest...)
	return len(b), nil
}

// parse decodes the count and the whole elements at the start of data and
// returns what is left of an element not whole yet (nothing once every
// announced element is decoded: trailing bytes are ignored).
func (p *propListParser) parse(data []byte) ([]byte, error) {
	if !p.counted {
		if len(data) < 4 {
			return data, nil
		}
		p.count, p.counted, data = le.Uint32(data), true, data[4:]
	}
	for p.seen < p.count {
		size, err := elementSize(data, p.seen)
		if err != nil {
			return nil, fmt.Errorf("property list: element %d: %w", p.seen, err)
		}
		if size > len(data) {
			return data, nil
		}
		p.e = PropListEntry{}
		if err := p.decode(data[:size], &p.e); err != nil {
			return nil, fmt.Errorf("property list: element %d: %w", p.seen, err)
		}
		if err := p.entry(&p.e); err != nil {
			return nil, err
		}
		p.seen++
		data = data[size:]
	}
	return nil, nil
}

// elementSize is the size of the element at the start of data, known from
// its first 8 or 9 bytes (a larger size when fewer are there yet). An
// unknown data type is an error: where the next element starts is unknown.
func elementSize(data []byte, i uint32) (int, error) {
	const head = 4 + 2 + 2 // handle, property code, data type
	if len(data) < head {
		return head, nil
	}
	t := DataType(le.Uint16(data[6:]))
	switch {
	case t == TypeString && len(data) < head+1:
		return head + 1, nil
	case t == TypeString:
		return head + 1 + 2*int(data[head]), nil
	case t.Size() == 0:
		return 0, fmt.Errorf("%w: element %d (%v): unsupported data type %v",
			ErrMalformed, i, PropCode(le.Uint16(data[4:])), t)
	}
	return head + t.Size(), nil
}

// decode decodes one whole element.
func (p *propListParser) decode(b []byte, e *PropListEntry) error {
	r := readBuf{b: b}
	e.Handle = r.u32("ObjectHandle")
	e.Prop = PropCode(r.u16("PropertyCode"))
	e.DataType = DataType(r.u16("DataType"))
	switch e.DataType.Size() {
	case 0: // TypeString: elementSize refused the other size-0 types
		if p.keepStr == nil || p.keepStr(e.Prop) {
			e.Str = r.str("value")
		} else {
			r.skipStr("value")
		}
	case 1:
		e.Value = uint64(r.u8("value"))
	case 2:
		e.Value = uint64(r.u16("value"))
	case 4:
		e.Value = uint64(r.u32("value"))
	case 8:
		e.Value = r.u64("value")
	case 16:
		e.Value = r.u64("value")
		e.Hi = r.u64("value")
	}
	return r.err
}

// close ends the data phase: every announced element must have arrived.
func (p *propListParser) close() error {
	switch {
	case p.err != nil:
		return p.err
	case !p.counted:
		return fmt.Errorf("property list: %w: count: need 4 bytes, %d left", ErrMalformed, len(p.carry))
	case p.seen < p.count:
		return fmt.Errorf("property list: %w: %d elements announced, the data holds %d", ErrMalformed, p.count, p.seen)
	}
	return nil
}
