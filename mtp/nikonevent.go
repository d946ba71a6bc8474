package mtp

import (
	"context"
	"fmt"
	"math"
)

// maxNikonEvents bounds the data phase of NikonGetEvent: 64 Ki events of
// 6 bytes, far more than a camera queues between two polls.
const maxNikonEvents = 2 + math.MaxUint16*6

// NikonEvents is the data phase of Nikon's GetEvent (0x90C7): the events
// the camera queued since the last call. Nikon bodies of the WU-1a era
// report new shots this way rather than on the PTP/IP event connection,
// so a host polls it (libgphoto2 ptp_nikon_check_event).
//
//	u16 count
//	count x {
//	    u16 event code
//	    u32 parameter (ObjectAdded: the new object's handle)
//	}
//
// Every decoded Event has exactly one parameter and TransactionID 0.
type NikonEvents []Event

// UnmarshalBinary decodes the GetEvent data phase. Bytes after the last
// event are ignored (some firmware pads the data phase).
func (l *NikonEvents) UnmarshalBinary(b []byte) error {
	r := &readBuf{b: b}
	n := int(r.u16("event count"))
	if r.err == nil && n*6 > len(r.b) {
		r.fail("event list: %d events of 6 bytes do not fit in %d bytes", n, len(r.b))
	}
	if r.err != nil {
		return r.err
	}
	var out NikonEvents
	if n > 0 {
		// One allocation for every event's parameter: at most 64 Ki
		// events of 6 bytes cost 3 MiB, not 64 Ki allocations.
		out = make(NikonEvents, n)
		params := make([]uint32, n)
		for i := range out {
			code := EventCode(r.u16("event code"))
			params[i] = r.u32("event parameter")
			out[i] = Event{Code: code, Params: params[i : i+1 : i+1]}
		}
	}
	if r.err != nil {
		return r.err
	}
	*l = out
	return nil
}

// AppendBinary appends the GetEvent data phase to b. An event carries its
// first parameter (0 without one); more than 65535 events cannot be
// encoded.
func (l NikonEvents) AppendBinary(b []byte) ([]byte, error) {
	if len(l) > math.MaxUint16 {
		return b, fmt.Errorf("nikon events: %d events, at most %d fit", len(l), math.MaxUint16)
	}
	b = le.AppendUint16(b, uint16(len(l)))
	for _, e := range l {
		var p uint32
		if len(e.Params) > 0 {
			p = e.Params[0]
		}
		b = le.AppendUint16(b, uint16(e.Code))
		b = le.AppendUint32(b, p)
	}
	return b, nil
}

// NikonGetEvent runs Nikon's GetEvent (0x90C7) and returns the events the
// camera queued since the last call (none: an empty slice). Only cameras
// that list 0x90C7 in DeviceInfo answer it.
func (d *Device) NikonGetEvent(ctx context.Context) ([]Event, error) {
	data, _, err := d.readData(ctx, OpNikonGetEvent, nil, maxNikonEvents)
	if err == nil {
		var l NikonEvents
		if err = l.UnmarshalBinary(data); err == nil {
			return l, nil
		}
	}
	return nil, fmt.Errorf("nikon get event: %w", err)
}
