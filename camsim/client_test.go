package camsim

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// The tests talk to the camera with raw PTP/IP packets, not the project's
// client: they check the camera, and the client is checked against it.

const ioTimeout = 5 * time.Second

// startCamera serves a camera of dir on 127.0.0.1:0 until the test ends.
func startCamera(t *testing.T, cfg Config) (*Camera, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	cam, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := cam.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cam.Close() })
	return cam, addr
}

// testLogger logs to the test's output at Debug level.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// conn is one raw TCP connection to the camera.
type conn struct {
	t *testing.T
	c net.Conn
}

func dialRaw(t *testing.T, addr string) *conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, c: c}
}

func (c *conn) send(p ptpip.Packet) {
	c.t.Helper()
	c.c.SetWriteDeadline(time.Now().Add(ioTimeout))
	if err := ptpip.WritePacket(c.c, p); err != nil {
		c.t.Fatalf("send %s: %v", p.Type(), err)
	}
}

// recv reads one packet; it fails the test on a timeout or error.
func (c *conn) recv() ptpip.Packet {
	c.t.Helper()
	p, err := c.tryRecv(ioTimeout)
	if err != nil {
		c.t.Fatalf("receive: %v", err)
	}
	return p
}

func (c *conn) tryRecv(d time.Duration) (ptpip.Packet, error) {
	c.c.SetReadDeadline(time.Now().Add(d))
	return ptpip.ReadPacket(c.c, 64<<20)
}

// recvAs reads one packet that must be of type T.
func recvAs[T ptpip.Packet](c *conn) T {
	c.t.Helper()
	p := c.recv()
	v, ok := p.(T)
	if !ok {
		c.t.Fatalf("received %s (%+v), want %T", p.Type(), p, *new(T))
	}
	return v
}

// client is a host with a command and an event connection.
type client struct {
	t        *testing.T
	cmd, evt *conn
	ack      *ptpip.InitCommandAck
	tid      uint32
}

var hostGUID = [16]byte{0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99}

// dial opens both connections the way libgphoto2 does.
func dial(t *testing.T, addr string) *client {
	t.Helper()
	cl := &client{t: t, cmd: dialRaw(t, addr)}
	cl.cmd.send(&ptpip.InitCommandRequest{GUID: hostGUID, Name: "test host", Version: ptpip.Version})
	cl.ack = recvAs[*ptpip.InitCommandAck](cl.cmd)
	cl.evt = dialRaw(t, addr)
	cl.evt.send(&ptpip.InitEventRequest{ConnectionNumber: cl.ack.ConnectionNumber})
	recvAs[*ptpip.InitEventAck](cl.evt)
	return cl
}

// result is an operation's outcome as the host saw it.
type result struct {
	resp    *ptpip.OperationResponse
	data    []byte
	hasData bool
	total   uint64 // Start Data's total
	pieces  []int  // payload sizes of the Data/End Data packets, in order
	last    ptpip.PacketType
}

func (r result) code() mtp.ResponseCode { return mtp.ResponseCode(r.resp.Code) }

// do runs one operation with the next transaction ID.
func (cl *client) do(op mtp.OpCode, params ...uint32) result {
	cl.t.Helper()
	tid := cl.tid
	cl.tid++
	cl.cmd.send(&ptpip.OperationRequest{DataPhase: ptpip.DataPhaseNoneOrIn, Code: uint16(op), TransactionID: tid, Params: params})
	return cl.result(op, tid)
}

// result reads the data phase, if any, and the response of transaction tid.
func (cl *client) result(op mtp.OpCode, tid uint32) result {
	cl.t.Helper()
	var r result
	for {
		switch p := cl.cmd.recv().(type) {
		case *ptpip.StartData:
			if r.hasData {
				cl.t.Fatalf("%s: second Start Data", op)
			}
			if p.TransactionID != tid {
				cl.t.Fatalf("%s: Start Data for tid %d, want %d", op, p.TransactionID, tid)
			}
			r.hasData, r.total = true, p.TotalLength
		case *ptpip.Data:
			if !r.hasData || r.last == ptpip.PacketEndData || p.TransactionID != tid {
				cl.t.Fatalf("%s: stray Data packet (tid %d)", op, p.TransactionID)
			}
			r.data = append(r.data, p.Payload...)
			r.pieces = append(r.pieces, len(p.Payload))
			r.last = ptpip.PacketData
		case *ptpip.EndData:
			if !r.hasData || r.last == ptpip.PacketEndData || p.TransactionID != tid {
				cl.t.Fatalf("%s: stray End Data packet (tid %d)", op, p.TransactionID)
			}
			r.data = append(r.data, p.Payload...)
			r.pieces = append(r.pieces, len(p.Payload))
			r.last = ptpip.PacketEndData
		case *ptpip.OperationResponse:
			if p.TransactionID != tid {
				cl.t.Fatalf("%s: response for tid %d, want %d", op, p.TransactionID, tid)
			}
			if r.hasData && (r.last != ptpip.PacketEndData || uint64(len(r.data)) != r.total) {
				cl.t.Fatalf("%s: data phase of %d bytes ended by %s, Start Data said %d", op, len(r.data), r.last, r.total)
			}
			r.resp = p
			return r
		default:
			cl.t.Fatalf("%s: unexpected %s", op, p.Type())
		}
	}
}

// must runs an operation that must succeed.
func (cl *client) must(op mtp.OpCode, params ...uint32) result {
	cl.t.Helper()
	r := cl.do(op, params...)
	if r.code() != mtp.RespOK {
		cl.t.Fatalf("%s%v: %s", op, params, r.code())
	}
	return r
}

// want runs an operation that must fail with code, without a data phase.
func (cl *client) want(code mtp.ResponseCode, op mtp.OpCode, params ...uint32) {
	cl.t.Helper()
	r := cl.do(op, params...)
	if r.code() != code || r.hasData {
		cl.t.Errorf("%s%v: %s (data phase %v), want %s", op, params, r.code(), r.hasData, code)
	}
}

func (cl *client) open() {
	cl.t.Helper()
	cl.must(mtp.OpOpenSession, 1)
}

func (cl *client) handles(storage, format, parent uint32) []uint32 {
	cl.t.Helper()
	r := cl.must(mtp.OpGetObjectHandles, storage, format, parent)
	hs, err := mtp.DecodeUint32Array(r.data)
	if err != nil {
		cl.t.Fatal(err)
	}
	return hs
}

func (cl *client) objectInfo(h uint32) mtp.ObjectInfo {
	cl.t.Helper()
	var oi mtp.ObjectInfo
	if err := oi.UnmarshalBinary(cl.must(mtp.OpGetObjectInfo, h).data); err != nil {
		cl.t.Fatal(err)
	}
	return oi
}

// byName maps file names to handles over every object.
func (cl *client) byName() map[string]uint32 {
	cl.t.Helper()
	m := map[string]uint32{}
	for _, h := range cl.handles(0xFFFFFFFF, 0, 0) {
		m[cl.objectInfo(h).Filename] = h
	}
	return m
}

// event waits for the next event on the event connection.
func (cl *client) event(d time.Duration) (*ptpip.Event, error) {
	p, err := cl.evt.tryRecv(d)
	if err != nil {
		return nil, err
	}
	ev, ok := p.(*ptpip.Event)
	if !ok {
		return nil, errors.New("not an event: " + p.Type().String())
	}
	return ev, nil
}

// writeFile writes a file the way a camera finishes one: under a dotfile
// name (not on the card) and renamed into place.
func writeFile(t *testing.T, path string, data []byte, mtime time.Time) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if !mtime.IsZero() {
		if err := os.Chtimes(tmp, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// readAll reads a card file for comparison.
func readAll(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
