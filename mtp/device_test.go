package mtp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// fakeReply is what the fake camera answers to one request.
type fakeReply struct {
	code   ResponseCode // 0 means RespOK
	params []uint32
	data   []byte // camera->host data phase, nil for none
	err    error  // transport failure
}

// fakeTransport is a scripted camera: reply decides each answer and every
// request is recorded so tests can check the exact parameters sent.
type fakeTransport struct {
	mu    sync.Mutex
	calls []Request
	outs  [][]byte // each request's host->camera data (nil: none)
	reply func(Request) fakeReply
}

func (f *fakeTransport) Do(ctx context.Context, req Request, dataOut io.Reader, dataOutSize int64, dataIn io.Writer) (Response, error) {
	f.mu.Lock()
	f.calls = append(f.calls, Request{Code: req.Code, Params: append([]uint32(nil), req.Params...)})
	var out []byte
	if dataOut != nil {
		out, _ = io.ReadAll(io.LimitReader(dataOut, dataOutSize))
	}
	f.outs = append(f.outs, out)
	f.mu.Unlock()
	r := f.reply(req)
	if r.err != nil {
		return Response{}, r.err
	}
	if r.data != nil && dataIn != nil {
		// Deliver in odd-sized pieces, as real PTP/IP data packets arrive.
		for p := r.data; len(p) > 0; {
			n := min(len(p), 7)
			if _, err := dataIn.Write(p[:n]); err != nil {
				return Response{}, err
			}
			p = p[n:]
		}
	}
	code := r.code
	if code == 0 {
		code = RespOK
	}
	return Response{Code: code, Params: r.params}, nil
}

func (f *fakeTransport) Events() <-chan Event { return nil }
func (f *fakeTransport) Close() error         { return nil }

func (f *fakeTransport) requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.calls...)
}

// newFake returns a Device over a fake camera whose GetDeviceInfo answers
// info (already fetched, so the Device knows the vendor), and whose other
// answers come from reply. The GetDeviceInfo call is not recorded.
func newFake(t *testing.T, info *DeviceInfo, reply func(Request) fakeReply) (*Device, *fakeTransport) {
	t.Helper()
	raw, err := info.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeTransport{reply: func(r Request) fakeReply {
		if r.Code == OpGetDeviceInfo {
			return fakeReply{data: raw}
		}
		return reply(r)
	}}
	d := NewDevice(f, nil)
	if _, err := d.GetDeviceInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.calls, f.outs = nil, nil
	return d, f
}

func wantCalls(t *testing.T, f *fakeTransport, want ...Request) {
	t.Helper()
	got := f.requests()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("requests sent:\n got %v\nwant %v", got, want)
	}
}

func ok(data []byte, params ...uint32) func(Request) fakeReply {
	return func(Request) fakeReply { return fakeReply{data: data, params: params} }
}

func TestGetDeviceInfo(t *testing.T) {
	raw := readHex(t, "deviceinfo_nikon.hex")
	f := &fakeTransport{reply: ok(raw)}
	d := NewDevice(f, nil)
	if d.Info() != nil || d.Vendor() != VendorGeneric {
		t.Fatal("a new Device knows its camera")
	}
	info, err := d.GetDeviceInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(info, &goldenDeviceInfo) || d.Info() != info || d.Vendor() != VendorNikon {
		t.Fatalf("info %+v, vendor %v", d.Info(), d.Vendor())
	}
	wantCalls(t, f, Request{Code: OpGetDeviceInfo})

	// A truncated dataset is an error and the remembered info stays.
	f.reply = ok(raw[:20])
	if _, err := d.GetDeviceInfo(context.Background()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	if d.Info() != info {
		t.Fatal("a failed GetDeviceInfo replaced the remembered info")
	}
	// An absurdly large one is drained, not buffered.
	f.reply = ok(make([]byte, maxDataset+1))
	if _, err := d.GetDeviceInfo(context.Background()); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
}

func TestOpenSession(t *testing.T) {
	tests := map[string]struct {
		conn    uint32
		answers map[uint32]ResponseCode // SessionID -> response
		want    []uint32                // SessionIDs sent
		err     error
	}{
		"ok":                    {7, map[uint32]ResponseCode{1: RespOK}, []uint32{1}, nil},
		"already open":          {7, map[uint32]ResponseCode{1: RespSessionAlreadyOpen}, []uint32{1}, nil},
		"fallback to conn":      {7, map[uint32]ResponseCode{1: RespInvalidParameter, 7: RespOK}, []uint32{1, 7}, nil},
		"fallback not support":  {7, map[uint32]ResponseCode{1: RespParameterNotSupported, 7: RespOK}, []uint32{1, 7}, nil},
		"fallback already open": {7, map[uint32]ResponseCode{1: RespInvalidParameter, 7: RespSessionAlreadyOpen}, []uint32{1, 7}, nil},
		"fallback fails":        {7, map[uint32]ResponseCode{1: RespInvalidParameter, 7: RespGeneralError}, []uint32{1, 7}, RespGeneralError},
		"conn is 1, no retry":   {1, map[uint32]ResponseCode{1: RespInvalidParameter}, []uint32{1}, RespInvalidParameter},
		"other error, no retry": {7, map[uint32]ResponseCode{1: RespDeviceBusy}, []uint32{1}, RespDeviceBusy},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, f := newFake(t, &DeviceInfo{}, func(r Request) fakeReply {
				return fakeReply{code: tc.answers[r.Params[0]]}
			})
			err := d.OpenSession(context.Background(), tc.conn)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var want []Request
			for _, id := range tc.want {
				want = append(want, Request{Code: OpOpenSession, Params: []uint32{id}})
			}
			wantCalls(t, f, want...)
		})
	}
}

func TestListing(t *testing.T) {
	handles, _ := AppendUint32Array(nil, []uint32{5, 6, 7})
	ids, _ := AppendUint32Array(nil, []uint32{0x00010001, 0x00020000})
	ctx := context.Background()

	d, f := newFake(t, &DeviceInfo{}, ok(handles))
	hs, err := d.GetObjectHandles(ctx, 0x00010001, 0, 0)
	if err != nil || !reflect.DeepEqual(hs, []uint32{5, 6, 7}) {
		t.Fatalf("GetObjectHandles = %v, %v", hs, err)
	}
	// All three parameters, even the zero ones: Sony needs them.
	wantCalls(t, f, Request{Code: OpGetObjectHandles, Params: []uint32{0x00010001, 0, 0}})

	d, f = newFake(t, &DeviceInfo{}, ok(nil, 42))
	n, err := d.GetNumObjects(ctx, 0xFFFFFFFF, FormatEXIFJPEG, 0xFFFFFFFF)
	if err != nil || n != 42 {
		t.Fatalf("GetNumObjects = %d, %v", n, err)
	}
	wantCalls(t, f, Request{Code: OpGetNumObjects, Params: []uint32{0xFFFFFFFF, 0x3801, 0xFFFFFFFF}})

	d, _ = newFake(t, &DeviceInfo{}, ok(nil))
	if _, err := d.GetNumObjects(ctx, 1, 0, 0); !errors.Is(err, ErrMalformed) {
		t.Fatalf("GetNumObjects without param: err = %v", err)
	}

	d, f = newFake(t, &DeviceInfo{}, ok(ids))
	got, err := d.GetStorageIDs(ctx)
	if err != nil || !reflect.DeepEqual(got, []uint32{0x00010001, 0x00020000}) {
		t.Fatalf("GetStorageIDs = %v, %v", got, err)
	}
	wantCalls(t, f, Request{Code: OpGetStorageIDs})

	d, f = newFake(t, &DeviceInfo{}, ok(readHex(t, "storageinfo_sd.hex")))
	si, err := d.GetStorageInfo(ctx, 0x00010001)
	if err != nil || !reflect.DeepEqual(si, &goldenStorageInfo) {
		t.Fatalf("GetStorageInfo = %+v, %v", si, err)
	}
	wantCalls(t, f, Request{Code: OpGetStorageInfo, Params: []uint32{0x00010001}})

	d, f = newFake(t, &DeviceInfo{}, ok(readHex(t, "objectinfo_jpeg.hex")))
	oi, err := d.GetObjectInfo(ctx, 5)
	if err != nil || !reflect.DeepEqual(oi, &goldenObjectInfo) {
		t.Fatalf("GetObjectInfo = %+v, %v", oi, err)
	}
	wantCalls(t, f, Request{Code: OpGetObjectInfo, Params: []uint32{5}})
}

func TestResponseCodesAsErrors(t *testing.T) {
	ctx := context.Background()
	d, _ := newFake(t, &DeviceInfo{}, func(Request) fakeReply { return fakeReply{code: RespInvalidObjectHandle} })
	_, err := d.GetObjectInfo(ctx, 0x2A)
	if !errors.Is(err, RespInvalidObjectHandle) {
		t.Fatalf("err = %v, want InvalidObjectHandle", err)
	}
	var rc ResponseCode
	if !errors.As(err, &rc) || rc != RespInvalidObjectHandle {
		t.Fatalf("errors.As = %v", rc)
	}
	if !strings.HasPrefix(err.Error(), "get object info 0x2a: ") {
		t.Fatalf("error not wrapped with the operation: %q", err)
	}
	checks := map[string]error{
		"CloseSession":  d.CloseSession(ctx),
		"GetObject":     d.GetObject(ctx, 1, io.Discard),
		"GetThumb":      d.GetThumb(ctx, 1, io.Discard),
		"GetStorageIDs": func() error { _, err := d.GetStorageIDs(ctx); return err }(),
		"PropValue":     func() error { _, err := d.GetObjectPropValue(ctx, 1, PropObjectSize); return err }(),
		"Partial":       func() error { _, err := d.GetPartialObject(ctx, 1, 0, 10, io.Discard); return err }(),
	}
	for name, err := range checks {
		if !errors.Is(err, RespInvalidObjectHandle) {
			t.Errorf("%s: err = %v", name, err)
		}
	}

	// A transport failure is passed on, wrapped, not mistaken for a code.
	broken := errors.New("connection reset")
	d, _ = newFake(t, &DeviceInfo{}, func(Request) fakeReply { return fakeReply{err: broken} })
	_, err = d.GetObjectInfo(ctx, 1)
	if !errors.Is(err, broken) || errors.As(err, &rc) {
		t.Fatalf("err = %v, want the transport error", err)
	}
}

func TestGetObjectAndThumb(t *testing.T) {
	ctx := context.Background()
	body := bytes.Repeat([]byte("JPEG"), 100)
	d, f := newFake(t, &DeviceInfo{}, ok(body))
	var buf bytes.Buffer
	if err := d.GetObject(ctx, 9, &buf); err != nil || !bytes.Equal(buf.Bytes(), body) {
		t.Fatalf("GetObject: %d bytes, %v", buf.Len(), err)
	}
	buf.Reset()
	if err := d.GetThumb(ctx, 9, &buf); err != nil || !bytes.Equal(buf.Bytes(), body) {
		t.Fatalf("GetThumb: %d bytes, %v", buf.Len(), err)
	}
	wantCalls(t, f, Request{Code: OpGetObject, Params: []uint32{9}}, Request{Code: OpGetThumb, Params: []uint32{9}})
}

func TestGetPartialObjectCaps(t *testing.T) {
	ctx := context.Background()
	body := []byte("0123456789abcdefghij")
	tests := map[string]struct {
		sent []byte
		max  uint32
		want string
	}{
		"exact":                 {body[:10], 10, "0123456789"},
		"short (EOF)":           {body[:4], 10, "0123"},
		"camera sends too much": {body, 10, "0123456789"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, f := newFake(t, &DeviceInfo{}, ok(tc.sent, uint32(len(tc.sent))))
			var buf bytes.Buffer
			n, err := d.GetPartialObject(ctx, 3, 100, tc.max, &buf)
			if err != nil || buf.String() != tc.want || int(n) != len(tc.want) {
				t.Fatalf("n=%d %q, %v; want %q", n, buf.String(), err, tc.want)
			}
			wantCalls(t, f, Request{Code: OpGetPartialObject, Params: []uint32{3, 100, tc.max}})
		})
	}
}

// failingWriter fails after accepting limit bytes.
type failingWriter struct{ limit int }

var errWriter = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.limit {
		n := w.limit
		w.limit = 0
		return n, errWriter
	}
	w.limit -= len(p)
	return len(p), nil
}

func TestCapWriterPassesWriterErrors(t *testing.T) {
	d, _ := newFake(t, &DeviceInfo{}, ok(make([]byte, 100)))
	n, err := d.GetPartialObject(context.Background(), 1, 0, 100, &failingWriter{limit: 10})
	if !errors.Is(err, errWriter) || n != 10 {
		t.Fatalf("n=%d, err=%v", n, err)
	}
}

func TestReadAt(t *testing.T) {
	const (
		h     = 0x10
		big   = int64(5) << 30 // 5 GiB
		small = int64(1) << 20
	)
	nikonOps := []OpCode{OpGetPartialObject, OpNikonGetPartialObjectEx}
	canonOps := []OpCode{OpGetPartialObject, OpCanonEOSGetPartialObjectEx64, OpAndroidGetPartialObject64}
	androidOps := []OpCode{OpGetPartialObject, OpAndroidGetPartialObject64}
	tests := map[string]struct {
		info  DeviceInfo
		force OpCode
		off   int64
		size  uint32
		want  Request // zero Code: an error without a round trip
	}{
		"below 4 GiB": {DeviceInfo{Manufacturer: "Nikon", OperationsSupported: nikonOps}, 0, small, 4096,
			Request{Code: OpGetPartialObject, Params: []uint32{h, 1 << 20, 4096}}},
		"ends at 4 GiB - 1": {DeviceInfo{OperationsSupported: []OpCode{OpGetPartialObject}}, 0, 0xFFFFFFFF - 4096, 4096,
			Request{Code: OpGetPartialObject, Params: []uint32{h, 0xFFFFFFFF - 4096, 4096}}},
		"crosses 4 GiB, nikon": {DeviceInfo{Manufacturer: "NIKON CORPORATION", OperationsSupported: nikonOps}, 0, 0xFFFFF000, 8192,
			Request{Code: OpNikonGetPartialObjectEx, Params: []uint32{h, 0xFFFFF000, 0, 8192, 0}}},
		"nikon beyond": {DeviceInfo{Manufacturer: "Nikon", OperationsSupported: nikonOps}, 0, big + 7, 4096,
			Request{Code: OpNikonGetPartialObjectEx, Params: []uint32{h, 0x40000007, 1, 4096, 0}}},
		"canon prefers its own": {DeviceInfo{Manufacturer: "Canon Inc.", OperationsSupported: canonOps}, 0, big, 4096,
			Request{Code: OpCanonEOSGetPartialObjectEx64, Params: []uint32{h, 0x40000000, 1, 4096}}},
		"android": {DeviceInfo{Manufacturer: "Google", OperationsSupported: androidOps}, 0, big, 4096,
			Request{Code: OpAndroidGetPartialObject64, Params: []uint32{h, 0x40000000, 1, 4096}}},
		"sony with android op": {DeviceInfo{Manufacturer: "Sony Corporation", OperationsSupported: androidOps}, 0, big, 1,
			Request{Code: OpAndroidGetPartialObject64, Params: []uint32{h, 0x40000000, 1, 1}}},
		"none listed": {DeviceInfo{Manufacturer: "Sony", OperationsSupported: []OpCode{OpGetPartialObject}}, 0, big, 4096,
			Request{}},
		"forced nikon below 4 GiB": {DeviceInfo{Manufacturer: "Nikon", OperationsSupported: nikonOps}, OpNikonGetPartialObjectEx, 0, 4096,
			Request{Code: OpNikonGetPartialObjectEx, Params: []uint32{h, 0, 0, 4096, 0}}},
		"forced android on canon": {DeviceInfo{Manufacturer: "Canon", OperationsSupported: canonOps}, OpAndroidGetPartialObject64, big, 2,
			Request{Code: OpAndroidGetPartialObject64, Params: []uint32{h, 0x40000000, 1, 2}}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			data := bytes.Repeat([]byte{0xAB}, int(tc.size)+3) // 3 bytes too many
			d, f := newFake(t, &tc.info, ok(data, tc.size+3))
			if tc.force != 0 {
				if err := d.ForceRead64(tc.force); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			n, err := d.ReadAt(context.Background(), h, tc.off, tc.size, &buf)
			if tc.want.Code == 0 {
				if !errors.Is(err, RespOperationNotSupported) {
					t.Fatalf("err = %v, want OperationNotSupported", err)
				}
				wantCalls(t, f)
				return
			}
			if err != nil || n != int64(tc.size) || buf.Len() != int(tc.size) {
				t.Fatalf("n=%d len=%d err=%v, want %d bytes", n, buf.Len(), err, tc.size)
			}
			wantCalls(t, f, tc.want)
		})
	}

	d, _ := newFake(t, &DeviceInfo{}, ok(nil))
	if _, err := d.ReadAt(context.Background(), h, -1, 1, io.Discard); err == nil {
		t.Fatal("negative offset accepted")
	}
}

func TestForceRead64(t *testing.T) {
	d, _ := newFake(t, &DeviceInfo{OperationsSupported: []OpCode{OpNikonGetPartialObjectEx}}, ok(nil))
	if err := d.ForceRead64(OpGetObject); err == nil {
		t.Error("accepted a non-read op")
	}
	if err := d.ForceRead64(OpCanonEOSGetPartialObjectEx64); !errors.Is(err, RespOperationNotSupported) {
		t.Errorf("accepted an unlisted op: %v", err)
	}
	if err := d.ForceRead64(OpNikonGetPartialObjectEx); err != nil {
		t.Error(err)
	}
	if err := d.ForceRead64(0); err != nil {
		t.Error(err)
	}
}

func TestGetObjectPropList(t *testing.T) {
	ctx := context.Background()
	list := []PropListEntry{
		{Handle: 1, Prop: PropObjectFileName, DataType: TypeString, Str: "DSC00001.JPG"},
		{Handle: 1, Prop: PropObjectSize, DataType: TypeUint64, Value: 1 << 33},
	}
	raw, err := AppendPropList(nil, list)
	if err != nil {
		t.Fatal(err)
	}

	d, f := newFake(t, &DeviceInfo{}, ok(raw))
	if _, err := d.GetObjectPropList(ctx, 0xFFFFFFFF, 0, 0xFFFF, 0, 0xFFFFFFFF); !errors.Is(err, RespOperationNotSupported) {
		t.Fatalf("err = %v, want OperationNotSupported", err)
	}
	wantCalls(t, f) // no round trip

	d, f = newFake(t, &DeviceInfo{OperationsSupported: []OpCode{OpGetObjectPropList}}, ok(raw))
	got, err := d.GetObjectPropList(ctx, 0xFFFFFFFF, 0, 0xFFFF, 0, 0xFFFFFFFF)
	if err != nil || !reflect.DeepEqual(got, list) {
		t.Fatalf("GetObjectPropList = %+v, %v", got, err)
	}
	got, err = d.GetObjectPropList(ctx, 7, FormatEXIFJPEG, PropObjectSize, 0, 0)
	if err != nil || !reflect.DeepEqual(got, list) {
		t.Fatalf("GetObjectPropList = %+v, %v", got, err)
	}
	wantCalls(t, f,
		Request{Code: OpGetObjectPropList, Params: []uint32{0xFFFFFFFF, 0, 0xFFFFFFFF, 0, 0xFFFFFFFF}},
		Request{Code: OpGetObjectPropList, Params: []uint32{7, 0x3801, 0xDC04, 0, 0}},
	)
}

func TestGetObjectPropValueBounded(t *testing.T) {
	d, f := newFake(t, &DeviceInfo{}, ok(make([]byte, maxPropValue+1)))
	if _, err := d.GetObjectPropValue(context.Background(), 4, PropObjectFileName); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	wantCalls(t, f, Request{Code: OpGetObjectPropValue, Params: []uint32{4, 0xDC07}})
}

func TestObjectSize(t *testing.T) {
	const size = uint64(6)<<30 + 123 // 6 GiB + 123
	u64 := le.AppendUint64(nil, size)
	big := &ObjectInfo{StorageID: 0x00010001, ObjectFormat: FormatMP4, CompressedSize: 0xFFFFFFFF}
	canon64 := func(storage uint32, format ObjectFormat, sz uint64) []byte {
		b := le.AppendUint32(nil, storage)
		b = le.AppendUint16(b, uint16(format))
		b = le.AppendUint16(b, 0)
		b = le.AppendUint64(b, sz)
		return append(b, make([]byte, 40)...) // rest of the dataset
	}
	type step struct {
		req   Request
		reply fakeReply
	}
	tests := map[string]struct {
		ops   []OpCode
		info  *ObjectInfo
		steps []step
		want  uint64
		err   error // nil with want 0: any error
	}{
		"small": {nil, &ObjectInfo{CompressedSize: 1234}, nil, 1234, nil},
		"mtp prop": {[]OpCode{OpGetObjectPropValue, OpNikonGetObjectSize}, big, []step{
			{Request{Code: OpGetObjectPropValue, Params: []uint32{8, 0xDC04}}, fakeReply{data: u64}},
		}, size, nil},
		"nikon": {[]OpCode{OpNikonGetObjectSize}, big, []step{
			{Request{Code: OpNikonGetObjectSize, Params: []uint32{8}}, fakeReply{data: u64}},
		}, size, nil},
		"canon": {[]OpCode{OpCanonEOSGetObjectInfo64}, big, []step{
			{Request{Code: OpCanonEOSGetObjectInfo64, Params: []uint32{8}}, fakeReply{data: canon64(0x00010001, FormatMP4, size)}},
		}, size, nil},
		"canon layout mismatch": {[]OpCode{OpCanonEOSGetObjectInfo64}, big, []step{
			{Request{Code: OpCanonEOSGetObjectInfo64, Params: []uint32{8}}, fakeReply{data: canon64(0x00010001, FormatMP4, 4096)}},
		}, 0, ErrMalformed},
		"prop refused, nikon works": {[]OpCode{OpGetObjectPropValue, OpNikonGetObjectSize}, big, []step{
			{Request{Code: OpGetObjectPropValue, Params: []uint32{8, 0xDC04}}, fakeReply{code: RespObjectPropNotSupported}},
			{Request{Code: OpNikonGetObjectSize, Params: []uint32{8}}, fakeReply{data: u64}},
		}, size, nil},
		"short u64": {[]OpCode{OpNikonGetObjectSize}, big, []step{
			{Request{Code: OpNikonGetObjectSize, Params: []uint32{8}}, fakeReply{data: u64[:4]}},
		}, 0, ErrMalformed},
		"transport error stops": {[]OpCode{OpGetObjectPropValue, OpNikonGetObjectSize}, big, []step{
			{Request{Code: OpGetObjectPropValue, Params: []uint32{8, 0xDC04}}, fakeReply{err: io.ErrUnexpectedEOF}},
		}, 0, io.ErrUnexpectedEOF},
		"none listed": {[]OpCode{OpGetPartialObject}, big, nil, 0, RespOperationNotSupported},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			i := 0
			d, f := newFake(t, &DeviceInfo{OperationsSupported: tc.ops}, func(r Request) fakeReply {
				if i >= len(tc.steps) {
					t.Errorf("unexpected request %v", r)
					return fakeReply{code: RespGeneralError}
				}
				i++
				return tc.steps[i-1].reply
			})
			got, err := d.ObjectSize(context.Background(), 8, tc.info)
			if tc.want != 0 {
				if err != nil || got != tc.want {
					t.Fatalf("ObjectSize = %d, %v; want %d", got, err, tc.want)
				}
			} else if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var want []Request
			for _, s := range tc.steps {
				want = append(want, s.req)
			}
			wantCalls(t, f, want...)
		})
	}

	// A nil info is fetched first.
	oi, _ := (&ObjectInfo{CompressedSize: 77}).AppendBinary(nil)
	d, f := newFake(t, &DeviceInfo{}, ok(oi))
	if got, err := d.ObjectSize(context.Background(), 8, nil); err != nil || got != 77 {
		t.Fatalf("ObjectSize(nil info) = %d, %v", got, err)
	}
	wantCalls(t, f, Request{Code: OpGetObjectInfo, Params: []uint32{8}})
}

// ctxTransport is a camera whose every transaction waits for release and
// records whether it saw its context end.
type ctxTransport struct {
	started   chan struct{}
	release   chan struct{}
	mu        sync.Mutex
	cancelled bool
	calls     int
}

func (f *ctxTransport) Do(ctx context.Context, req Request, _ io.Reader, _ int64, _ io.Writer) (Response, error) {
	f.mu.Lock()
	f.calls++
	f.mu.Unlock()
	f.started <- struct{}{}
	select {
	case <-f.release:
	case <-ctx.Done():
		f.mu.Lock()
		f.cancelled = true
		f.mu.Unlock()
		return Response{}, ctx.Err()
	}
	return Response{Code: RespOK}, nil
}

func (f *ctxTransport) Events() <-chan Event { return nil }
func (f *ctxTransport) Close() error         { return nil }

// TestDeviceInterrupt checks that an operation whose context ends while it
// runs completes on the camera (a transaction is never cut), and that one
// whose context ends while it waits for its turn never reaches the camera.
func TestDeviceInterrupt(t *testing.T) {
	f := &ctxTransport{started: make(chan struct{}, 2), release: make(chan struct{})}
	d := NewDevice(f, nil)
	ctx, cancel := context.WithCancel(t.Context())
	first := make(chan error, 1)
	go func() { first <- d.CloseSession(ctx) }()
	<-f.started
	wctx, wcancel := context.WithCancel(t.Context())
	second := make(chan error, 1)
	go func() { second <- d.CloseSession(wctx) }()
	cancel()
	wcancel()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("operation interrupted while waiting: %v, want context.Canceled", err)
	}
	close(f.release)
	if err := <-first; err != nil {
		t.Errorf("operation interrupted while running: %v, want it to complete", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancelled || f.calls != 1 {
		t.Errorf("transport saw a cancelled context: %v; %d transactions, want 1", f.cancelled, f.calls)
	}
}
