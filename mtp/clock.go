package mtp

import (
	"context"
	"fmt"
	"time"
)

// The camera's clock. Cameras date new shots with it, and a host tells new
// shots from old ones by capture date, so Airnef sets it to the computer's:
// the standard DateTime property (0x5011) where DeviceInfo lists it, Canon
// EOS's UTC time (0xD17C) through its own SetDevicePropValue (0x9110),
// which cannot be read back. Setting it is the one change the program makes
// to a camera, and only when the user asks (--sync-clock).

// DateTime reads the DateTime device property (GetDevicePropValue 0x1015
// of 0x5011): a PTP string, "YYYYMMDDThhmmss" in the camera's wall time.
func (d *Device) DateTime(ctx context.Context) (string, error) {
	data, _, err := d.readData(ctx, OpGetDevicePropValue, []uint32{uint32(DevicePropDateTime)}, maxPropValue)
	if err == nil {
		var s string
		if s, _, err = DecodeString(data); err == nil {
			return s, nil
		}
	}
	return "", fmt.Errorf("get device prop %v: %w", DevicePropDateTime, err)
}

// SetDateTime sets the DateTime device property (SetDevicePropValue 0x1016
// of 0x5011) to t's wall time in t's location, as a PTP string.
func (d *Device) SetDateTime(ctx context.Context, t time.Time) error {
	data, err := AppendString(nil, FormatDate(t))
	if err == nil {
		_, err = d.doOut(ctx, OpSetDevicePropValue, []uint32{uint32(DevicePropDateTime)}, data)
	}
	if err != nil {
		return fmt.Errorf("set device prop %v: %w", DevicePropDateTime, err)
	}
	return nil
}

// CanonEOSSetUTCTime sets a Canon EOS's clock to t with Canon's
// SetDevicePropValue (0x9110). Its data is the property's own record:
//
//	u32 size (12) · u32 property (0xD17C) · u32 seconds since 1970 UTC
//
// as libgphoto2's ptp_canon_eos_setdevicepropvalue packs a u32 value and
// Airnef sends it.
func (d *Device) CanonEOSSetUTCTime(ctx context.Context, t time.Time) error {
	secs := t.Unix()
	if secs < 0 || secs > 0xFFFFFFFF {
		return fmt.Errorf("set canon eos utc time: %v does not fit in u32 seconds", t)
	}
	data := AppendCanonEOSProp(nil, DevicePropCanonEOSUTCTime, uint32(secs))
	if _, err := d.doOut(ctx, OpCanonEOSSetDevicePropValue, nil, data); err != nil {
		return fmt.Errorf("set canon eos prop %v: %w", DevicePropCanonEOSUTCTime, err)
	}
	return nil
}

// AppendCanonEOSProp appends Canon EOS SetDevicePropValue's data for a u32
// property: size 12, the property, the value.
func AppendCanonEOSProp(b []byte, p DevicePropCode, v uint32) []byte {
	b = appendU32(b, 12)
	b = appendU32(b, uint32(p))
	return appendU32(b, v)
}

// DecodeCanonEOSProp decodes Canon EOS SetDevicePropValue's data: a u32
// size (at least 8, at most the data), a u32 property and the value's
// bytes, size-8 of them. Extra bytes after size are ignored.
func DecodeCanonEOSProp(b []byte) (p DevicePropCode, value []byte, err error) {
	r := readBuf{b: b}
	size := r.u32("canon eos prop size")
	prop := r.u32("canon eos prop code")
	switch {
	case r.err != nil:
		return 0, nil, r.err
	case size < 8 || int64(size) > int64(len(b)):
		return 0, nil, fmt.Errorf("%w: canon eos prop of %d bytes in %d", ErrMalformed, size, len(b))
	case prop > 0xFFFF:
		return 0, nil, fmt.Errorf("%w: canon eos prop code %#x", ErrMalformed, prop)
	}
	return DevicePropCode(prop), b[8:size], nil
}
