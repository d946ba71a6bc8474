package camsim

import (
	"encoding/binary"
	"slices"
	"sync"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// The camera's clock (Config.ClockOffset: how far it is off the host's).
// A host reads and sets it through the standard DateTime property (0x5011,
// a PTP string) where DeviceInfo lists the property; a Canon EOS takes its
// UTC time (0xD17C, u32 seconds) through its own SetDevicePropValue
// (0x9110) and lists no DateTime (Airnef's sources, issue 18). The value a
// host set is recorded for the control socket's state line.

// clockState is the camera's clock.
type clockState struct {
	mu     sync.Mutex
	offset time.Duration // camera time - real time
	set    string        // the camera's time when a host last set it, YYYYMMDDThhmmss
}

// now is the camera's time, in its time zone.
func (c *Camera) now() time.Time {
	c.clock.mu.Lock()
	defer c.clock.mu.Unlock()
	return time.Now().Add(c.clock.offset).In(c.s.Location)
}

// setClock makes the camera's time t.
func (c *Camera) setClock(t time.Time) {
	c.clock.mu.Lock()
	defer c.clock.mu.Unlock()
	c.clock.offset = time.Until(t)
	c.clock.set = mtp.FormatDate(t.In(c.s.Location))
	c.log.Info("clock set by the host", "clock", c.clock.set)
}

// ClockSet is the camera's time a host last set, as YYYYMMDDThhmmss ("":
// never).
func (c *Camera) ClockSet() string {
	c.clock.mu.Lock()
	defer c.clock.mu.Unlock()
	return c.clock.set
}

// hasDateTime reports whether the camera has the DateTime property: a
// body whose DeviceInfo lists it, or any camera without a body but a
// Canon (which keeps its clock in 0xD17C).
func (c *Camera) hasDateTime() bool {
	if b := c.p.Body; b != nil {
		return slices.Contains(b.Props, uint16(mtp.DevicePropDateTime))
	}
	return c.p.Make != "canon"
}

// getDevicePropValue answers GetDevicePropValue (0x1015): the DateTime
// property only; the camera's other properties are not simulated.
func (s *session) getDevicePropValue(t *txn) reply {
	if mtp.DevicePropCode(t.param(0)) != mtp.DevicePropDateTime || !s.cam.hasDateTime() {
		return fail(mtp.RespDevicePropNotSupported)
	}
	b, err := mtp.AppendString(nil, mtp.FormatDate(s.cam.now()))
	if err != nil {
		return fail(mtp.RespGeneralError)
	}
	return okData(b)
}

// setDevicePropValue answers SetDevicePropValue (0x1016) of DateTime: a
// PTP string the camera reads as its wall time.
func (s *session) setDevicePropValue(t *txn) reply {
	if mtp.DevicePropCode(t.param(0)) != mtp.DevicePropDateTime || !s.cam.hasDateTime() {
		return fail(mtp.RespDevicePropNotSupported)
	}
	str, _, err := mtp.DecodeString(t.data)
	if err != nil {
		return fail(mtp.RespInvalidDevicePropFormat)
	}
	when, valid := mtp.ParseDate(str, s.cam.s.Location)
	if !valid {
		return fail(mtp.RespInvalidDevicePropValue)
	}
	s.cam.setClock(when)
	return ok()
}

// canonSetDevicePropValue answers Canon EOS SetDevicePropValue (0x9110):
// the UTC time (0xD17C) sets the clock; other properties are accepted
// and ignored.
func (s *session) canonSetDevicePropValue(t *txn) reply {
	p, v, err := mtp.DecodeCanonEOSProp(t.data)
	if err != nil {
		return fail(mtp.RespInvalidDevicePropFormat)
	}
	if p == mtp.DevicePropCanonEOSUTCTime {
		if len(v) != 4 {
			return fail(mtp.RespInvalidDevicePropFormat)
		}
		s.cam.setClock(time.Unix(int64(binary.LittleEndian.Uint32(v)), 0))
	}
	return ok()
}
