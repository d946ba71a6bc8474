package mtp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/airnef-mount/airnef-mount/sched"
)

// ErrTooLarge is returned when a camera's data phase is larger than the
// operation allows (a dataset over its bound, a property value over
// maxPropValue). The excess is drained, not buffered, so the session stays
// usable.
var ErrTooLarge = errors.New("mtp: data phase larger than expected")

// ErrTooManyObjects is wrapped by the error of an answer that lists or
// describes more objects than the Device's object limit (SetMaxObjects).
// It is found while the answer decodes; the rest of it is drained, not
// kept.
var ErrTooManyObjects = errors.New("mtp: too many objects")

// Bounds on data phases that are buffered or decoded in memory. Object
// data is never buffered: it streams into the caller's writer.
const (
	maxDataset   = 1 << 20  // DeviceInfo, StorageInfo, ObjectInfo: a few KiB in practice
	maxPropList  = 64 << 20 // GetObjectPropList for a whole card, decoded as it arrives
	maxPropValue = 64 << 10 // one property value: a u64 or a string of 511 bytes
	// maxDescribed bounds what the descriptions of one GetObjectPropList
	// answer keep: ten times a full card of DCF names.
	maxDescribed = 64 << 20
	// maxPropEntries bounds GetObjectPropList's list of elements: about
	// 48 MiB of them.
	maxPropEntries = 1 << 20
)

// DefaultMaxObjects is a Device's object limit until SetMaxObjects: a
// 16 MiB handle list.
const DefaultMaxObjects = 1 << 22

// MaxStorageIDs is the most storages GetStorageIDs returns: cameras have
// one to three (two card slots, internal memory).
const MaxStorageIDs = 64

// sizeUnknown is CompressedSize for an object of 4 GiB or more.
const sizeUnknown = 0xFFFFFFFF

// Device runs typed PTP/MTP operations over a Transport. It is safe for
// concurrent use: each operation waits for its turn (Scheduler), by the
// class its context carries, and runs without its context's cancellation.
type Device struct {
	t     Transport
	log   *slog.Logger
	sched *sched.Scheduler

	mu         sync.Mutex
	info       *DeviceInfo // from the last GetDeviceInfo; nil before
	vendor     Vendor
	readOp     OpCode // 64-bit read op forced by ForceRead64; 0 = automatic
	maxObjects int    // SetMaxObjects; 0: DefaultMaxObjects
	cutLogged  bool   // a storage list cut to MaxStorageIDs was logged
}

// SetMaxObjects sets the object limit: the most objects one answer may
// list or describe (GetObjectHandles, GetObjectPropList through
// DescribeObjects, Canon EOS GetObjectInfoEx). A longer answer fails with ErrTooManyObjects as soon
// as its count or its decoded objects pass the limit, never costing more
// memory than the limit's worth. n <= 0 restores DefaultMaxObjects.
func (d *Device) SetMaxObjects(n int) {
	d.mu.Lock()
	d.maxObjects = n
	d.mu.Unlock()
}

// objectLimit is the object limit in force.
func (d *Device) objectLimit() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.maxObjects <= 0 {
		return DefaultMaxObjects
	}
	return d.maxObjects
}

// NewDevice returns a Device over t. A nil log discards.
func NewDevice(t Transport, log *slog.Logger) *Device {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Device{t: t, log: log, sched: sched.New()}
}

// Scheduler is the queue in front of the transport that every operation
// waits in: the cache takes its turns there too.
func (d *Device) Scheduler() *sched.Scheduler { return d.sched }

// Info returns the DeviceInfo of the last successful GetDeviceInfo, or nil
// before one. The caller must not modify it.
func (d *Device) Info() *DeviceInfo {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.info
}

// Vendor returns the make detected by the last successful GetDeviceInfo
// (VendorGeneric before one).
func (d *Device) Vendor() Vendor {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.vendor
}

// supports reports whether the remembered DeviceInfo lists op. Without a
// DeviceInfo nothing optional is supported: callers run GetDeviceInfo first.
func (d *Device) supports(op OpCode) bool {
	return d.Info().Supports(op)
}

// do runs one operation with an optional camera->host data phase and turns
// a non-OK response code into a ResponseCode error. It does not wrap: the
// exported method adds the operation's context once.
func (d *Device) do(ctx context.Context, op OpCode, params []uint32, dataIn io.Writer) (Response, error) {
	start := time.Now()
	var resp Response
	err := d.sched.Run(ctx, func(ctx context.Context) error {
		var err error
		resp, err = d.t.Do(ctx, Request{Code: op, Params: params}, nil, 0, dataIn)
		return err
	})
	d.log.Debug("ptp op", "op", op, "params", params, "resp", resp.Code, "dur", time.Since(start), "err", err)
	if err != nil {
		return resp, err
	}
	if resp.Code != RespOK {
		return resp, resp.Code
	}
	return resp, nil
}

// doOut runs one operation with a host->camera data phase holding data,
// turning a non-OK response code into a ResponseCode error like do.
func (d *Device) doOut(ctx context.Context, op OpCode, params []uint32, data []byte) (Response, error) {
	start := time.Now()
	var resp Response
	err := d.sched.Run(ctx, func(ctx context.Context) error {
		var err error
		resp, err = d.t.Do(ctx, Request{Code: op, Params: params}, bytes.NewReader(data), int64(len(data)), nil)
		return err
	})
	d.log.Debug("ptp op", "op", op, "params", params, "data_out", len(data), "resp", resp.Code, "dur", time.Since(start), "err", err)
	if err != nil {
		return resp, err
	}
	if resp.Code != RespOK {
		return resp, resp.Code
	}
	return resp, nil
}

// capWriter passes at most left bytes to w and drains the rest, counted in
// dropped: a camera may send more than asked (a GetPartialObject answered
// with the whole object), and failing the write would break the session.
type capWriter struct {
	w       io.Writer
	left    int64
	written int64
	dropped int64
}

func (c *capWriter) Write(p []byte) (int, error) {
	k := min(int64(len(p)), c.left)
	if k > 0 {
		m, err := c.w.Write(p[:k])
		c.written += int64(m)
		c.left -= int64(m)
		if err == nil && int64(m) < k {
			err = io.ErrShortWrite
		}
		if err != nil {
			return m, err
		}
	}
	c.dropped += int64(len(p)) - k
	return len(p), nil
}

// readData runs op and returns its data phase, at most limit bytes. A
// larger data phase is drained and reported as ErrTooLarge.
func (d *Device) readData(ctx context.Context, op OpCode, params []uint32, limit int64) ([]byte, Response, error) {
	var buf bytes.Buffer
	cw := &capWriter{w: &buf, left: limit}
	resp, err := d.do(ctx, op, params, cw)
	if err != nil {
		return nil, resp, err
	}
	if cw.dropped > 0 {
		return nil, resp, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, cw.written+cw.dropped, limit)
	}
	return buf.Bytes(), resp, nil
}

// readPrefix runs op and returns the first keep bytes of its data phase
// and the size of the whole phase; the rest is drained, not kept.
func (d *Device) readPrefix(ctx context.Context, op OpCode, params []uint32, keep int64) ([]byte, int64, error) {
	var buf bytes.Buffer
	cw := &capWriter{w: &buf, left: keep}
	if _, err := d.do(ctx, op, params, cw); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), cw.written + cw.dropped, nil
}

// decodeArrayPrefix decodes a PTP array of u32 of which data holds the
// first bytes and total is the size: at most max elements (more is
// ErrTooManyObjects unless cut, then the first max are returned and n is
// the count announced). A count beyond total is ErrMalformed.
func decodeArrayPrefix(data []byte, total int64, max int, cut bool) (v []uint32, n uint32, err error) {
	r := readBuf{b: data}
	n = r.u32("uint32 array count")
	switch {
	case r.err != nil:
		return nil, 0, r.err
	case 4+4*int64(n) > total:
		return nil, n, fmt.Errorf("%w: uint32 array: %d elements of 4 bytes do not fit in %d bytes", ErrMalformed, n, total-4)
	case int64(n) > int64(max) && !cut:
		return nil, n, fmt.Errorf("%w: the camera lists %d, the limit is %d", ErrTooManyObjects, n, max)
	}
	k := min(int(min(n, uint32(max))), len(r.b)/4)
	if k == 0 {
		return nil, n, nil
	}
	v = make([]uint32, k)
	for i := range v {
		v[i] = r.u32("uint32 array")
	}
	return v, n, r.err
}

// GetDeviceInfo runs GetDeviceInfo (0x1001) and remembers the result for
// Info, Vendor and the choice of optional operations. Cameras answer it
// inside and outside a session.
func (d *Device) GetDeviceInfo(ctx context.Context) (*DeviceInfo, error) {
	data, _, err := d.readData(ctx, OpGetDeviceInfo, nil, maxDataset)
	if err != nil {
		return nil, fmt.Errorf("get device info: %w", err)
	}
	info := new(DeviceInfo)
	if err := info.UnmarshalBinary(data); err != nil {
		return nil, fmt.Errorf("get device info: %w", err)
	}
	v := DetectVendor(info)
	d.mu.Lock()
	d.info, d.vendor = info, v
	d.mu.Unlock()
	d.log.Debug("device info", "manufacturer", info.Manufacturer, "model", info.Model, "vendor", v)
	return info, nil
}

// sessionID is the SessionID OpenSession tries first, as libgphoto2 does.
const sessionID = 1

// OpenSession opens the PTP session. It sends SessionID 1 first. A camera
// that rejects it as a parameter (InvalidParameter, ParameterNotSupported)
// gets a second try with the PTP/IP connection number as SessionID: Airnef
// uses the connection number, with 1 as its own fallback, because the Nikon
// J5 insists on one of the two. SessionAlreadyOpen counts as success: the
// session this connection needs is there (a keep-alive or retry re-opened
// it, or the camera kept it across a reconnect).
func (d *Device) OpenSession(ctx context.Context, connNumber uint32) error {
	err := d.openSession(ctx, sessionID)
	if (errors.Is(err, RespInvalidParameter) || errors.Is(err, RespParameterNotSupported)) &&
		connNumber != sessionID && connNumber != 0 {
		d.log.Debug("open session: retrying with the connection number", "session", connNumber, "err", err)
		err = d.openSession(ctx, connNumber)
	}
	if err != nil {
		return fmt.Errorf("open session: %w", err)
	}
	return nil
}

func (d *Device) openSession(ctx context.Context, id uint32) error {
	_, err := d.do(ctx, OpOpenSession, []uint32{id}, nil)
	if errors.Is(err, RespSessionAlreadyOpen) {
		return nil
	}
	return err
}

// CloseSession closes the PTP session.
func (d *Device) CloseSession(ctx context.Context) error {
	if _, err := d.do(ctx, OpCloseSession, nil, nil); err != nil {
		return fmt.Errorf("close session: %w", err)
	}
	return nil
}

// GetStorageIDs returns the camera's storage IDs. An ID whose low 16 bits
// are zero is a slot without a medium; the caller filters. A list longer
// than MaxStorageIDs is cut to its first MaxStorageIDs (logged once).
func (d *Device) GetStorageIDs(ctx context.Context) ([]uint32, error) {
	data, total, err := d.readPrefix(ctx, OpGetStorageIDs, nil, 4+4*MaxStorageIDs)
	if err == nil {
		var ids []uint32
		var n uint32
		if ids, n, err = decodeArrayPrefix(data, total, MaxStorageIDs, true); err == nil {
			if n > MaxStorageIDs {
				d.mu.Lock()
				first := !d.cutLogged
				d.cutLogged = true
				d.mu.Unlock()
				if first {
					d.log.Warn("the camera lists more storages than any camera has: only the first are used",
						"storages", n, "used", MaxStorageIDs)
				}
			}
			return ids, nil
		}
	}
	return nil, fmt.Errorf("get storage ids: %w", err)
}

// GetStorageInfo returns the StorageInfo of storage id.
func (d *Device) GetStorageInfo(ctx context.Context, id uint32) (*StorageInfo, error) {
	data, _, err := d.readData(ctx, OpGetStorageInfo, []uint32{id}, maxDataset)
	if err == nil {
		si := new(StorageInfo)
		if err = si.UnmarshalBinary(data); err == nil {
			return si, nil
		}
	}
	return nil, fmt.Errorf("get storage info %#x: %w", id, err)
}

// GetNumObjects counts the objects of format (0 = any) under parent
// (0 = any, 0xFFFFFFFF = root only) in storage (0xFFFFFFFF = all).
//
// All three parameters are always sent, even when 0: PTP calls the last two
// optional, but Sony answers InvalidObjectFormatCode (0x200B) when they are
// omitted (Airnef's notes).
func (d *Device) GetNumObjects(ctx context.Context, storage uint32, format ObjectFormat, parent uint32) (uint32, error) {
	resp, err := d.do(ctx, OpGetNumObjects, []uint32{storage, uint32(format), parent}, nil)
	if err == nil && len(resp.Params) < 1 {
		err = fmt.Errorf("%w: response without the object count", ErrMalformed)
	}
	if err != nil {
		return 0, fmt.Errorf("get num objects in %#x under %#x: %w", storage, parent, err)
	}
	return resp.Params[0], nil
}

// GetObjectHandles lists the handles of the objects of format (0 = any)
// under parent (0 = any depth, 0xFFFFFFFF = root only) in storage
// (0xFFFFFFFF = all). Like GetNumObjects it always sends all three
// parameters, for Sony.
// More handles than the object limit (SetMaxObjects) is
// ErrTooManyObjects, found from the list's count; only the limit's worth
// of the list is kept meanwhile.
func (d *Device) GetObjectHandles(ctx context.Context, storage uint32, format ObjectFormat, parent uint32) ([]uint32, error) {
	max := d.objectLimit()
	data, total, err := d.readPrefix(ctx, OpGetObjectHandles, []uint32{storage, uint32(format), parent}, 4+4*int64(max))
	if err == nil {
		var hs []uint32
		if hs, _, err = decodeArrayPrefix(data, total, max, false); err == nil {
			return hs, nil
		}
	}
	return nil, fmt.Errorf("get object handles in %#x under %#x: %w", storage, parent, err)
}

// GetObjectInfo returns the ObjectInfo of object h. A camera where the
// object was deleted (Canon allows it while in WiFi mode) answers
// InvalidObjectHandle: test with errors.Is(err, RespInvalidObjectHandle).
func (d *Device) GetObjectInfo(ctx context.Context, h uint32) (*ObjectInfo, error) {
	data, _, err := d.readData(ctx, OpGetObjectInfo, []uint32{h}, maxDataset)
	if err == nil {
		oi := new(ObjectInfo)
		if err = oi.UnmarshalBinary(data); err == nil {
			return oi, nil
		}
	}
	return nil, fmt.Errorf("get object info %#x: %w", h, err)
}

// GetObject streams the whole of object h into w. Prefer ReadAt in chunks:
// Nikon's GetObject stalls on large files.
func (d *Device) GetObject(ctx context.Context, h uint32, w io.Writer) error {
	if _, err := d.do(ctx, OpGetObject, []uint32{h}, w); err != nil {
		return fmt.Errorf("get object %#x: %w", h, err)
	}
	return nil
}

// GetThumb streams the thumbnail (usually a small JPEG) of object h into w.
func (d *Device) GetThumb(ctx context.Context, h uint32, w io.Writer) error {
	if _, err := d.do(ctx, OpGetThumb, []uint32{h}, w); err != nil {
		return fmt.Errorf("get thumb %#x: %w", h, err)
	}
	return nil
}

// GetPartialObject streams at most maxBytes of object h from offset off
// into w (0x101B) and returns how many it wrote (what w holds, not the
// response's count); an excess is drained and logged.
func (d *Device) GetPartialObject(ctx context.Context, h uint32, off uint32, maxBytes uint32, w io.Writer) (uint32, error) {
	n, err := d.readRange(ctx, OpGetPartialObject, []uint32{h, off, maxBytes}, int64(maxBytes), w)
	if err != nil {
		return uint32(n), fmt.Errorf("get partial object %#x at %d: %w", h, off, err)
	}
	return uint32(n), nil
}

// readRange runs a partial-read operation, capping what reaches w at size
// bytes, and returns the number of bytes written to w.
func (d *Device) readRange(ctx context.Context, op OpCode, params []uint32, size int64, w io.Writer) (int64, error) {
	cw := &capWriter{w: w, left: size}
	resp, err := d.do(ctx, op, params, cw)
	if err != nil {
		return cw.written, err
	}
	if cw.dropped > 0 {
		d.log.Warn("camera sent more than asked; excess dropped", "op", op, "asked", size, "extra", cw.dropped)
	}
	if len(resp.Params) > 0 && int64(resp.Params[0]) != cw.written+cw.dropped {
		d.log.Debug("camera's byte count disagrees with its data", "op", op, "param1", resp.Params[0], "received", cw.written+cw.dropped)
	}
	return cw.written, nil
}

// The 64-bit partial reads, for offsets beyond 4 GiB:
//
//	Nikon    0x9431 GetPartialObjectEx  (h, offLo, offHi, sizeLo, sizeHi)
//	Android  0x95C1 GetPartialObject64  (h, offLo, offHi, size)
//	Canon    0x9174 GetPartialObjectEx64 (h, offLo, offHi, size)
//
// read64Ops is the order ReadAt tries them in when the vendor has no
// preference of its own.
var read64Ops = []OpCode{OpNikonGetPartialObjectEx, OpAndroidGetPartialObject64, OpCanonEOSGetPartialObjectEx64}

// ForceRead64 makes ReadAt use the 64-bit read op for every read, even one
// that GetPartialObject could serve; op 0 restores the automatic choice.
// op must be one of the 64-bit reads and listed in the DeviceInfo (run
// GetDeviceInfo first).
//
// This exists for a camera quirk: Nikon Z bodies in PC mode answer
// AccessDenied to GetPartialObject until an image is marked for upload,
// while their GetPartialObjectEx (0x9431) works. The caller, which knows
// the model, forces 0x9431 there.
func (d *Device) ForceRead64(op OpCode) error {
	if op != 0 {
		if !isRead64(op) {
			return fmt.Errorf("force 64-bit read: %v is not a 64-bit read", op)
		}
		if !d.supports(op) {
			return fmt.Errorf("force 64-bit read %v: %w", op, RespOperationNotSupported)
		}
	}
	d.mu.Lock()
	d.readOp = op
	d.mu.Unlock()
	return nil
}

func isRead64(op OpCode) bool {
	for _, o := range read64Ops {
		if o == op {
			return true
		}
	}
	return false
}

// read64Op picks the 64-bit read: the forced one, else the vendor's own
// (a Canon may list the Android op too, but its own is the tested path),
// else the first listed. It returns 0 when none is listed.
func (d *Device) read64Op() OpCode {
	d.mu.Lock()
	forced, vendor, info := d.readOp, d.vendor, d.info
	d.mu.Unlock()
	if forced != 0 {
		return forced
	}
	switch {
	case vendor == VendorNikon && info.Supports(OpNikonGetPartialObjectEx):
		return OpNikonGetPartialObjectEx
	case vendor == VendorCanon && info.Supports(OpCanonEOSGetPartialObjectEx64):
		return OpCanonEOSGetPartialObjectEx64
	}
	for _, op := range read64Ops {
		if info.Supports(op) {
			return op
		}
	}
	return 0
}

// ReadAt streams at most size bytes of object h from offset off into w and
// returns how many it wrote: GetPartialObject below 4 GiB, else a 64-bit
// read the camera lists (none: RespOperationNotSupported without a round
// trip), or always the one ForceRead64 chose.
func (d *Device) ReadAt(ctx context.Context, h uint32, off int64, size uint32, w io.Writer) (int64, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %#x at %d: negative offset", h, off)
	}
	d.mu.Lock()
	forced := d.readOp
	d.mu.Unlock()
	if forced == 0 && off+int64(size) <= math.MaxUint32 {
		n, err := d.GetPartialObject(ctx, h, uint32(off), size, w)
		return int64(n), err
	}
	op := d.read64Op()
	var params []uint32
	offLo, offHi := uint32(off), uint32(uint64(off)>>32)
	switch op {
	case OpNikonGetPartialObjectEx:
		params = []uint32{h, offLo, offHi, size, 0}
	case OpAndroidGetPartialObject64, OpCanonEOSGetPartialObjectEx64:
		params = []uint32{h, offLo, offHi, size}
	default:
		return 0, fmt.Errorf("read %#x at %d: camera lists no 64-bit partial read: %w", h, off, RespOperationNotSupported)
	}
	n, err := d.readRange(ctx, op, params, int64(size), w)
	if err != nil {
		return n, fmt.Errorf("read %#x at %d with %v: %w", h, off, op, err)
	}
	return n, nil
}

// GetObjectPropValue returns the raw value of MTP object property p of
// object h (GetObjectPropValue 0x9803), at most maxPropValue bytes.
func (d *Device) GetObjectPropValue(ctx context.Context, h uint32, p PropCode) ([]byte, error) {
	data, _, err := d.readData(ctx, OpGetObjectPropValue, []uint32{h, uint32(p)}, maxPropValue)
	if err != nil {
		return nil, fmt.Errorf("get object prop %v of %#x: %w", p, h, err)
	}
	return data, nil
}

// GetObjectPropList runs MTP GetObjectPropList (0x9805) with (h, format,
// prop, group, depth), saving a round trip per object when listing; a
// camera whose DeviceInfo lacks it gets RespOperationNotSupported without
// a round trip.
func (d *Device) GetObjectPropList(ctx context.Context, h uint32, format ObjectFormat, prop PropCode, group, depth uint32) ([]PropListEntry, error) {
	if !d.supports(OpGetObjectPropList) {
		return nil, fmt.Errorf("get object prop list %#x: %w", h, RespOperationNotSupported)
	}
	// prop is a u16 code on the wire but the parameter is u32: 0xFFFFFFFF
	// ("all") cannot be expressed as a PropCode, so 0xFFFF is widened to it.
	propParam := uint32(prop)
	if prop == 0xFFFF {
		propParam = 0xFFFFFFFF
	}
	// Decoded as it arrives: a list of more than maxPropEntries elements
	// is refused before it costs more.
	var list []PropListEntry
	p := &propListParser{limit: maxPropList, entry: func(e *PropListEntry) error {
		if len(list) == maxPropEntries {
			return fmt.Errorf("%w: property list of more than %d elements", ErrTooLarge, maxPropEntries)
		}
		list = append(list, *e)
		return nil
	}}
	_, err := d.do(ctx, OpGetObjectPropList, []uint32{h, uint32(format), propParam, group, depth}, p)
	if err == nil {
		err = p.close()
	}
	if err != nil {
		return nil, fmt.Errorf("get object prop list %#x: %w", h, err)
	}
	return list, nil
}

// DescribeObjects runs GetObjectPropList(h, any format, every property, no
// group, depth) and describes each object it lists (the package's
// DescribeObjects), decoding the answer as it arrives: only the
// descriptions are kept, an answer describing more objects than the
// object limit (SetMaxObjects) fails with ErrTooManyObjects as soon as it
// does, one over maxPropList bytes or whose descriptions would keep over
// maxDescribed bytes with ErrTooLarge. A camera whose DeviceInfo lacks
// GetObjectPropList gets RespOperationNotSupported without a round trip.
func (d *Device) DescribeObjects(ctx context.Context, h uint32, depth uint32) ([]ObjectDesc, error) {
	if !d.supports(OpGetObjectPropList) {
		return nil, fmt.Errorf("get object prop list %#x: %w", h, RespOperationNotSupported)
	}
	desc := &describer{maxObjects: d.objectLimit(), maxBytes: maxDescribed}
	p := &propListParser{entry: desc.add, keepStr: describedString, limit: maxPropList}
	_, err := d.do(ctx, OpGetObjectPropList, []uint32{h, 0, 0xFFFFFFFF, 0, depth}, p)
	if err == nil {
		err = p.close()
	}
	if err != nil {
		return nil, fmt.Errorf("get object prop list %#x: %w", h, err)
	}
	return desc.descs(), nil
}

// ObjectSize returns the size of object h: info.CompressedSize, or from
// 4 GiB on whichever the DeviceInfo lists of MTP ObjectSize (0xDC04), Nikon
// GetObjectSize (0x9421) and Canon GetObjectInfo64 (0x9170), in that order;
// a refusal tries the next, a transport error stops. A nil info is fetched.
func (d *Device) ObjectSize(ctx context.Context, h uint32, info *ObjectInfo) (uint64, error) {
	if info == nil {
		var err error
		if info, err = d.GetObjectInfo(ctx, h); err != nil {
			return 0, err
		}
	}
	if info.CompressedSize != sizeUnknown {
		return uint64(info.CompressedSize), nil
	}
	tried := false
	var errs []error
	for _, q := range []struct {
		op  OpCode
		get func() (uint64, error)
	}{
		{OpGetObjectPropValue, func() (uint64, error) { return d.sizeFromProp(ctx, h) }},
		{OpNikonGetObjectSize, func() (uint64, error) { return d.sizeFromNikon(ctx, h) }},
		{OpCanonEOSGetObjectInfo64, func() (uint64, error) { return d.sizeFromCanon(ctx, h, info) }},
	} {
		if !d.supports(q.op) {
			continue
		}
		tried = true
		size, err := q.get()
		if err == nil {
			return size, nil
		}
		errs = append(errs, fmt.Errorf("%v: %w", q.op, err))
		var rc ResponseCode
		if !errors.As(err, &rc) {
			break // the transport failed: asking again would fail too
		}
	}
	if !tried {
		return 0, fmt.Errorf("object size %#x: over 4 GiB and no 64-bit size operation: %w", h, RespOperationNotSupported)
	}
	return 0, fmt.Errorf("object size %#x: %w", h, errors.Join(errs...))
}

// u64Data decodes a data phase holding one u64. Extra bytes are tolerated
// like for the datasets.
func u64Data(data []byte) (uint64, error) {
	r := readBuf{b: data}
	v := r.u64("u64 value")
	return v, r.err
}

func (d *Device) sizeFromProp(ctx context.Context, h uint32) (uint64, error) {
	data, _, err := d.readData(ctx, OpGetObjectPropValue, []uint32{h, uint32(PropObjectSize)}, maxPropValue)
	if err != nil {
		return 0, err
	}
	return u64Data(data)
}

func (d *Device) sizeFromNikon(ctx context.Context, h uint32) (uint64, error) {
	data, _, err := d.readData(ctx, OpNikonGetObjectSize, []uint32{h}, maxPropValue)
	if err != nil {
		return 0, err
	}
	return u64Data(data)
}

// sizeFromCanon reads the size from Canon EOS GetObjectInfo64 (0x9170).
//
// ASSUMPTION, unverified: libgphoto2 names this op ("1 arg: oid") but has
// no decoder for its data, and no other public source shows it. We assume
// it is the ObjectInfo dataset with CompressedSize widened to u64:
//
//	u32 StorageID · u16 ObjectFormat · u16 ProtectionStatus · u64 CompressedSize · ...
//
// and read only those first 16 bytes. To fail loudly rather than return a
// wrong size if the layout differs, the StorageID and ObjectFormat must
// match the 32-bit ObjectInfo and the size must be at least 4 GiB - 1 (the
// 32-bit dataset said it did not fit).
func (d *Device) sizeFromCanon(ctx context.Context, h uint32, info *ObjectInfo) (uint64, error) {
	data, _, err := d.readData(ctx, OpCanonEOSGetObjectInfo64, []uint32{h}, maxDataset)
	if err != nil {
		return 0, err
	}
	r := readBuf{b: data}
	storage := r.u32("StorageID")
	format := ObjectFormat(r.u16("ObjectFormat"))
	r.u16("ProtectionStatus")
	size := r.u64("CompressedSize")
	if r.err != nil {
		return 0, r.err
	}
	if storage != info.StorageID || format != info.ObjectFormat || size < sizeUnknown {
		return 0, fmt.Errorf("%w: GetObjectInfo64 layout not as assumed (storage %#x, format %v, size %d)",
			ErrMalformed, storage, format, size)
	}
	return size, nil
}

// Lost is closed when the device's transport breaks, for a transport that
// tells (ptpip.Session's Done); nil for one that does not.
func (d *Device) Lost() <-chan struct{} {
	if t, ok := d.t.(interface{ Done() <-chan struct{} }); ok {
		return t.Done()
	}
	return nil
}
