package mtp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// A hostile camera's answers cost what the object limit allows while they
// decode, not what the camera announces or sends.

// streamTransport answers every operation with the data phase gen writes
// into its writer (a hostile answer computed as it is sent, never held),
// in 64 KiB pieces as PTP/IP delivers them; a failing writer ends the
// data phase, as a transport that drains the rest would end it.
type streamTransport struct {
	info []byte // GetDeviceInfo's answer
	gen  func(w io.Writer) error
}

func (s *streamTransport) Do(ctx context.Context, req Request, _ io.Reader, _ int64, dataIn io.Writer) (Response, error) {
	if req.Code == OpGetDeviceInfo {
		dataIn.Write(s.info)
		return Response{Code: RespOK}, nil
	}
	bw := &pieceWriter{w: dataIn, buf: make([]byte, 0, 64<<10)}
	if err := s.gen(bw); err != nil {
		return Response{}, err
	}
	if err := bw.flush(); err != nil {
		return Response{}, err
	}
	return Response{Code: RespOK}, nil
}

func (s *streamTransport) Events() <-chan Event { return nil }
func (s *streamTransport) Close() error         { return nil }

// pieceWriter passes what it is written in pieces of its buffer's size.
type pieceWriter struct {
	w   io.Writer
	buf []byte
}

func (p *pieceWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		k := min(len(b), cap(p.buf)-len(p.buf))
		p.buf = append(p.buf, b[:k]...)
		b = b[k:]
		if len(p.buf) == cap(p.buf) {
			if err := p.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (p *pieceWriter) flush() error {
	_, err := p.w.Write(p.buf)
	p.buf = p.buf[:0]
	return err
}

func streamDevice(t *testing.T, logs io.Writer, gen func(w io.Writer) error) *Device {
	t.Helper()
	info, err := (&DeviceInfo{OperationsSupported: []OpCode{OpGetObjectPropList}}).AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	var log *slog.Logger
	if logs != nil {
		log = slog.New(slog.NewTextHandler(logs, nil))
	}
	d := NewDevice(&streamTransport{info: info, gen: gen}, log)
	if _, err := d.GetDeviceInfo(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// allocated runs f and returns the bytes it allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// hostilePropList writes a property list of n 9-byte entries, each of
// another object (camsim --hostile proplist).
func hostilePropList(n uint32) func(w io.Writer) error {
	return func(w io.Writer) error {
		var e [9]byte
		binary.LittleEndian.PutUint32(e[:], n)
		if _, err := w.Write(e[:4]); err != nil {
			return err
		}
		binary.LittleEndian.PutUint16(e[4:], uint16(PropObjectFormat))
		binary.LittleEndian.PutUint16(e[6:], uint16(TypeUint8))
		e[8] = 1
		for i := range n {
			binary.LittleEndian.PutUint32(e[:], 0x7E400000+i)
			if _, err := w.Write(e[:]); err != nil {
				return err
			}
		}
		return nil
	}
}

// The answer that cost 2.9 GB: 64 MiB of 9-byte entries, 7.4 million
// objects. It is refused after the limit's worth of objects, having
// allocated a few MiB.
func TestDescribeObjectsBounded(t *testing.T) {
	const entries = (64<<20 - 4) / 9
	d := streamDevice(t, nil, hostilePropList(entries))
	d.SetMaxObjects(200_000)
	var err error
	n := allocated(func() { _, err = d.DescribeObjects(context.Background(), 1, 1) })
	if !errors.Is(err, ErrTooManyObjects) || !strings.Contains(err.Error(), "200000") {
		t.Errorf("DescribeObjects: %v, want ErrTooManyObjects naming the limit", err)
	}
	t.Logf("allocated %d MiB", n>>20)
	if n > 48<<20 {
		t.Errorf("allocated %d MiB refusing the answer", n>>20)
	}
	// Within the limit, the same answer describes every object (none
	// completely: only the format is given).
	d = streamDevice(t, nil, hostilePropList(1000))
	d.SetMaxObjects(1000)
	descs, err := d.DescribeObjects(context.Background(), 1, 1)
	if err != nil || len(descs) != 1000 || descs[999].Handle != 0x7E400000+999 || descs[0].Info != nil {
		t.Errorf("DescribeObjects of 1000 objects: %d descriptions, %v", len(descs), err)
	}
}

// Descriptions that would keep more than their byte bound are refused:
// long names repeated for ever-new objects.
func TestDescriberByteBound(t *testing.T) {
	name := strings.Repeat("日", MaxStringUnits)
	d := describer{maxBytes: 1 << 20}
	var err error
	for h := uint32(1); err == nil && h < 10_000; h++ {
		err = d.add(&PropListEntry{Handle: h, Prop: PropObjectFileName, DataType: TypeString, Str: name})
	}
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if d.kept > 1<<20+int64(len(name))+partialBytes {
		t.Errorf("kept %d bytes past the bound", d.kept)
	}
	// A repeated property replaces its value: it costs nothing more.
	d = describer{maxBytes: 1 << 20}
	for range 10_000 {
		if err := d.add(&PropListEntry{Handle: 1, Prop: PropObjectFileName, DataType: TypeString, Str: name}); err != nil {
			t.Fatalf("repeating a property: %v", err)
		}
	}
}

// A handle list counts against the object limit from its count: a longer
// one fails with ErrTooManyObjects, having kept only the limit's worth.
func TestGetObjectHandlesBounded(t *testing.T) {
	list := func(count, n uint32) func(w io.Writer) error {
		return func(w io.Writer) error {
			var b [4]byte
			binary.LittleEndian.PutUint32(b[:], count)
			if _, err := w.Write(b[:]); err != nil {
				return err
			}
			for i := range n {
				binary.LittleEndian.PutUint32(b[:], 100+i)
				if _, err := w.Write(b[:]); err != nil {
					return err
				}
			}
			return nil
		}
	}
	ctx := context.Background()
	d := streamDevice(t, nil, list(250_000, 250_000))
	d.SetMaxObjects(1000)
	var err error
	n := allocated(func() { _, err = d.GetObjectHandles(ctx, 0x00010001, 0, 0xFFFFFFFF) })
	if !errors.Is(err, ErrTooManyObjects) || !strings.Contains(err.Error(), "250000") {
		t.Errorf("GetObjectHandles: %v, want ErrTooManyObjects naming the count", err)
	}
	if n > 1<<20 {
		t.Errorf("allocated %d KiB for a list of 250000 under a limit of 1000", n>>10)
	}
	d = streamDevice(t, nil, list(1000, 1000))
	d.SetMaxObjects(1000)
	if hs, err := d.GetObjectHandles(ctx, 0x00010001, 0, 0xFFFFFFFF); err != nil || len(hs) != 1000 || hs[999] != 1099 {
		t.Errorf("GetObjectHandles of 1000: %d handles, %v", len(hs), err)
	}
	d = streamDevice(t, nil, list(1000, 999))
	if _, err := d.GetObjectHandles(ctx, 0x00010001, 0, 0xFFFFFFFF); !errors.Is(err, ErrMalformed) {
		t.Errorf("GetObjectHandles of a count beyond the data: %v, want ErrMalformed", err)
	}
}

// A camera listing a million storages gets its first MaxStorageIDs used,
// with one log line however often it is asked.
func TestGetStorageIDsCut(t *testing.T) {
	var logs bytes.Buffer
	d := streamDevice(t, &logs, func(w io.Writer) error {
		b := binary.LittleEndian.AppendUint32(nil, 1_000_000)
		for i := range uint32(1_000_000) {
			b = binary.LittleEndian.AppendUint32(b, (i+1)<<16|1)
		}
		_, err := w.Write(b)
		return err
	})
	for range 3 {
		ids, err := d.GetStorageIDs(context.Background())
		if err != nil || len(ids) != MaxStorageIDs || ids[0] != 0x00010001 || ids[MaxStorageIDs-1] != MaxStorageIDs<<16|1 {
			t.Fatalf("GetStorageIDs: %d IDs, %v", len(ids), err)
		}
	}
	if n := strings.Count(logs.String(), "more storages"); n != 1 {
		t.Errorf("%d log lines about the storages, want 1:\n%s", n, logs.String())
	}
}

// A property list decodes the same in any pieces as whole.
func TestPropListParserPieces(t *testing.T) {
	var list []PropListEntry
	for h := range uint32(20) {
		list = append(list, props(h, 0x10001, FormatEXIFJPEG, uint64(h)<<30, strings.Repeat("n", int(h)*12), "20240315T120000", "", 3)...)
	}
	list = append(list, PropListEntry{Handle: 99, Prop: PropPersistentUID, DataType: TypeUint128, Value: 1, Hi: 2})
	raw, err := AppendPropList(nil, list)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var got []PropListEntry
		p := &propListParser{entry: func(e *PropListEntry) error {
			got = append(got, *e)
			return nil
		}}
		for b := raw; len(b) > 0; {
			n := min(len(b), 1+rng.IntN(600))
			if _, err := p.Write(b[:n]); err != nil {
				t.Fatal(err)
			}
			b = b[n:]
		}
		if err := p.close(); err != nil || !reflect.DeepEqual(got, list) {
			t.Fatalf("decoded in pieces: %d entries, %v", len(got), err)
		}
		if cap(p.carry) > 2*600+520 {
			t.Fatalf("carry grew to %d bytes", cap(p.carry))
		}
	}
}
