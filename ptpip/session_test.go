package ptpip

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// probeBehaviour is how the fake camera treats the host's Probe Request.
type probeBehaviour int

const (
	probeAnswer probeBehaviour = iota
	probeIgnore
	probeClose
)

// received is one operation as the fake camera saw it.
type received struct {
	req   *OperationRequest
	start *StartData // nil without a data phase
	data  []byte     // the data phase, if any
	sizes []int      // payload size of each Data/End Data packet
}

// fakeCamera is a PTP/IP camera on 127.0.0.1 for one session.
type fakeCamera struct {
	t    *testing.T
	ln   net.Listener
	addr string

	// Set by options before serving.
	initFail  uint32 // answer Init Command Request with Init Fail
	eventFail uint32 // answer Init Event Request with Init Fail
	probe     probeBehaviour
	handle    func(w net.Conn, op received)

	ops            chan received
	probes         chan struct{} // host Probe Requests on the event connection
	probeResponses chan struct{} // host Probe Responses (event connection)
	cmdProbeResp   chan struct{} // host Probe Responses (command connection)
	evtReady       chan net.Conn // the event connection, once accepted

	mu      sync.Mutex
	initReq *InitCommandRequest
	evtReq  *InitEventRequest
	conns   []net.Conn
	wg      sync.WaitGroup
}

var camGUID = [16]byte{0xca, 0xfe, 15: 0x01}

func newFakeCamera(t *testing.T, opts ...func(*fakeCamera)) *fakeCamera {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeCamera{
		t: t, ln: ln, addr: ln.Addr().String(),
		handle:         answerOK,
		ops:            make(chan received, 100),
		probes:         make(chan struct{}, 10),
		probeResponses: make(chan struct{}, 10),
		cmdProbeResp:   make(chan struct{}, 10),
		evtReady:       make(chan net.Conn, 1),
	}
	for _, o := range opts {
		o(c)
	}
	c.wg.Add(1)
	go c.serve()
	t.Cleanup(func() {
		ln.Close()
		c.mu.Lock()
		for _, conn := range c.conns {
			conn.Close()
		}
		c.mu.Unlock()
		c.wg.Wait()
	})
	return c
}

func (c *fakeCamera) accept() (net.Conn, bool) {
	conn, err := c.ln.Accept()
	if err != nil {
		return nil, false
	}
	c.mu.Lock()
	c.conns = append(c.conns, conn)
	c.mu.Unlock()
	return conn, true
}

// send writes packets; errors are expected once the host has hung up.
func send(w io.Writer, ps ...Packet) {
	for _, p := range ps {
		if err := WritePacket(w, p); err != nil {
			return
		}
	}
}

func (c *fakeCamera) serve() {
	defer c.wg.Done()
	cmd, ok := c.accept()
	if !ok {
		return
	}
	p, err := ReadPacket(cmd, DefaultMaxPacket)
	if err != nil {
		c.t.Errorf("fake camera: reading Init Command Request: %v", err)
		return
	}
	req, ok := p.(*InitCommandRequest)
	if !ok {
		c.t.Errorf("fake camera: got %s, want Init Command Request", p.Type())
		return
	}
	c.mu.Lock()
	c.initReq = req
	c.mu.Unlock()
	if c.initFail != 0 {
		send(cmd, &InitFail{Reason: c.initFail})
		return
	}
	send(cmd, &InitCommandAck{ConnectionNumber: 42, GUID: camGUID, Name: "FakeCam", Version: Version})

	evt, ok := c.accept()
	if !ok {
		return
	}
	p, err = ReadPacket(evt, DefaultMaxPacket)
	if err != nil {
		c.t.Errorf("fake camera: reading Init Event Request: %v", err)
		return
	}
	ereq, ok := p.(*InitEventRequest)
	if !ok {
		c.t.Errorf("fake camera: got %s, want Init Event Request", p.Type())
		return
	}
	c.mu.Lock()
	c.evtReq = ereq
	c.mu.Unlock()
	if c.eventFail != 0 {
		send(evt, &InitFail{Reason: c.eventFail})
		return
	}
	send(evt, &InitEventAck{})
	c.evtReady <- evt
	c.wg.Add(1)
	go c.serveEvents(evt)

	for {
		op, err := c.readOp(cmd)
		if err != nil {
			return
		}
		c.ops <- op
		c.handle(cmd, op)
	}
}

// readOp reads one operation and its host->camera data phase, recording
// Probe Responses on the way.
func (c *fakeCamera) readOp(cmd net.Conn) (received, error) {
	var op received
	for op.req == nil {
		p, err := ReadPacket(cmd, DefaultMaxPacket)
		if err != nil {
			return op, err
		}
		switch p := p.(type) {
		case *OperationRequest:
			op.req = p
		case *ProbeResponse:
			c.cmdProbeResp <- struct{}{}
		default:
			c.t.Errorf("fake camera: unexpected %s on the command connection", p.Type())
			return op, errors.New("unexpected packet")
		}
	}
	if op.req.DataPhase != DataPhaseOut {
		return op, nil
	}
	p, err := ReadPacket(cmd, DefaultMaxPacket)
	if err != nil {
		return op, err
	}
	sd, ok := p.(*StartData)
	if !ok {
		c.t.Errorf("fake camera: %s after a data-out request, want Start Data", p.Type())
		return op, errors.New("no Start Data")
	}
	op.start = sd
	op.data = []byte{}
	for {
		p, err := ReadPacket(cmd, DefaultMaxPacket)
		if err != nil {
			return op, err
		}
		switch p := p.(type) {
		case *Data:
			op.data = append(op.data, p.Payload...)
			op.sizes = append(op.sizes, len(p.Payload))
		case *EndData:
			op.data = append(op.data, p.Payload...)
			op.sizes = append(op.sizes, len(p.Payload))
			return op, nil
		default:
			c.t.Errorf("fake camera: %s in a data phase", p.Type())
			return op, errors.New("bad data phase")
		}
	}
}

func (c *fakeCamera) serveEvents(evt net.Conn) {
	defer c.wg.Done()
	for {
		p, err := ReadPacket(evt, DefaultMaxPacket)
		if err != nil {
			return
		}
		switch p.(type) {
		case *ProbeRequest:
			c.probes <- struct{}{}
			switch c.probe {
			case probeAnswer:
				send(evt, &ProbeResponse{})
			case probeClose:
				evt.Close()
				return
			}
		case *ProbeResponse:
			c.probeResponses <- struct{}{}
		default:
			c.t.Errorf("fake camera: unexpected %s on the event connection", p.Type())
		}
	}
}

// answerOK answers every operation with OK; GetDeviceInfo gets 7 bytes of
// data first.
func answerOK(w net.Conn, op received) {
	tid := op.req.TransactionID
	if op.req.Code == uint16(mtp.OpGetDeviceInfo) {
		send(w, &StartData{TransactionID: tid, TotalLength: 7}, &EndData{TransactionID: tid, Payload: []byte("devinfo")})
	}
	send(w, &OperationResponse{Code: uint16(mtp.RespOK), TransactionID: tid})
}

// testConfig is a Config with short timeouts and no keep-alive.
func testConfig() Config {
	return Config{
		GUID:           [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99},
		Name:           "test-host",
		Probe:          ProbeOff,
		ConnectTimeout: 5 * time.Second,
		Timeout:        2 * time.Second,
		KeepAlive:      -1,
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dial(t *testing.T, cam *fakeCamera, cfg Config) *Session {
	t.Helper()
	s, err := Dial(testContext(t), cam.addr, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// nextOp returns the next operation the camera received.
func (c *fakeCamera) nextOp(t *testing.T) received {
	t.Helper()
	select {
	case op := <-c.ops:
		return op
	case <-time.After(5 * time.Second):
		t.Fatal("the camera received no operation")
		return received{}
	}
}

func within(t *testing.T, what string, ch <-chan struct{}, d time.Duration) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("%s: nothing within %v", what, d)
	}
}

// eventsClosed waits for the Events channel to close, draining it.
func eventsClosed(t *testing.T, s *Session) {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case _, ok := <-s.Events():
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("Events channel not closed")
		}
	}
}

// assertBroken checks that err and every later Do fail with ErrBroken, and
// that the Events channel is closed.
func assertBroken(t *testing.T, s *Session, err error) {
	t.Helper()
	if !errors.Is(err, ErrBroken) {
		t.Fatalf("error %v does not wrap ErrBroken", err)
	}
	if s.Err() == nil {
		t.Fatal("Err() = nil on a broken session")
	}
	start := time.Now()
	_, err2 := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetStorageIDs}, nil, 0, nil)
	if !errors.Is(err2, ErrBroken) {
		t.Fatalf("Do after break: %v, want ErrBroken", err2)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Do after break took %v, want fail-fast", d)
	}
	eventsClosed(t, s)
}

func TestDialHandshake(t *testing.T) {
	cam := newFakeCamera(t)
	cfg := testConfig()
	s := dial(t, cam, cfg)
	if got := s.ConnectionNumber(); got != 42 {
		t.Errorf("ConnectionNumber = %d, want 42", got)
	}
	if got := s.CameraName(); got != "FakeCam" {
		t.Errorf("CameraName = %q", got)
	}
	if got := s.CameraGUID(); got != camGUID {
		t.Errorf("CameraGUID = % x", got)
	}
	if err := s.Err(); err != nil {
		t.Errorf("Err = %v on a new session", err)
	}
	cam.mu.Lock()
	req, ereq := cam.initReq, cam.evtReq
	cam.mu.Unlock()
	want := &InitCommandRequest{GUID: cfg.GUID, Name: "test-host", Version: 0x00010000}
	if *req != *want {
		t.Errorf("Init Command Request = %+v, want %+v", req, want)
	}
	if ereq.ConnectionNumber != 42 {
		t.Errorf("Init Event Request connection number %d, want 42", ereq.ConnectionNumber)
	}
	resp, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpOpenSession, Params: []uint32{1}}, nil, 0, nil)
	if err != nil || resp.Code != mtp.RespOK || resp.TransactionID != 0 {
		t.Fatalf("OpenSession = %+v, %v", resp, err)
	}
	op := cam.nextOp(t)
	if op.req.TransactionID != 0 || op.req.DataPhase != DataPhaseNoneOrIn || op.req.Code != 0x1002 || len(op.req.Params) != 1 {
		t.Errorf("camera got %+v", op.req)
	}
}

func TestDialInitFail(t *testing.T) {
	for _, reason := range []uint32{FailRejectedInitiator, FailBusy, FailUnspecified, 9} {
		for _, conn := range []string{"command", "event"} {
			t.Run(conn, func(t *testing.T) {
				cam := newFakeCamera(t, func(c *fakeCamera) {
					if conn == "command" {
						c.initFail = reason
					} else {
						c.eventFail = reason
					}
				})
				s, err := Dial(testContext(t), cam.addr, testConfig())
				if s != nil {
					s.Close()
					t.Fatal("Dial returned a session")
				}
				var fail *InitFailError
				if !errors.As(err, &fail) || fail.Reason != reason {
					t.Fatalf("Dial: %v, want *InitFailError reason %d", err, reason)
				}
				want := map[uint32]string{1: "not paired", 2: "busy", 3: "unspecified", 9: "reason 9"}[reason]
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			})
		}
	}
}

func TestDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if s, err := Dial(testContext(t), addr, testConfig()); err == nil {
		s.Close()
		t.Fatal("Dial to a closed port succeeded")
	}
}

// TestDialPromptTimeout: a camera that never answers the Init Command
// Request (Canon waiting for the user) fails after ConnectTimeout.
func TestDialPromptTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}()
	cfg := testConfig()
	cfg.ConnectTimeout = 200 * time.Millisecond
	connected := make(chan struct{}, 2)
	cfg.Connected = func() { connected <- struct{}{} }
	start := time.Now()
	_, err = Dial(testContext(t), ln.Addr().String(), cfg)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Dial: %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Dial took %v", d)
	}
	if len(connected) != 1 {
		t.Errorf("Connected called %d times for an accepted connection, want 1", len(connected))
	}
}

// TestDialConnectedOnlyOnAccept: Connected is not called when nothing
// accepts the connection.
func TestDialConnectedOnlyOnAccept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := testConfig()
	called := false
	cfg.Connected = func() { called = true }
	if _, err := Dial(testContext(t), addr, cfg); err == nil || called {
		t.Errorf("Dial to a closed port: %v, Connected called %t", err, called)
	}
}

func TestProbeModes(t *testing.T) {
	tests := map[string]struct {
		mode       ProbeMode
		camera     probeBehaviour
		wantErr    bool
		wantProbe  bool
		wantEvents bool // Events still open after Dial
		minDur     time.Duration
		maxDur     time.Duration
	}{
		"on, answered":      {ProbeOn, probeAnswer, false, true, true, 0, time.Second},
		"on, closed":        {ProbeOn, probeClose, true, true, false, 0, time.Second},
		"auto, answered":    {ProbeAuto, probeAnswer, false, true, true, 0, 500 * time.Millisecond},
		"auto, ignored":     {ProbeAuto, probeIgnore, false, true, true, 900 * time.Millisecond, 2 * time.Second},
		"auto, closed":      {ProbeAuto, probeClose, false, true, false, 0, 2 * time.Second},
		"off":               {ProbeOff, probeClose, false, false, true, 0, 500 * time.Millisecond},
		"on, ignored, slow": {ProbeOn, probeIgnore, true, true, false, 0, 2 * time.Second},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cam := newFakeCamera(t, func(c *fakeCamera) { c.probe = tc.camera })
			cfg := testConfig()
			cfg.Probe = tc.mode
			if tc.mode == ProbeOn && tc.camera == probeIgnore {
				cfg.ConnectTimeout = 300 * time.Millisecond
			}
			start := time.Now()
			s, err := Dial(testContext(t), cam.addr, cfg)
			d := time.Since(start)
			if s != nil {
				t.Cleanup(func() { s.Close() })
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("Dial: %v, want error %v", err, tc.wantErr)
			}
			if d < tc.minDur || d > tc.maxDur {
				t.Errorf("Dial took %v, want %v..%v", d, tc.minDur, tc.maxDur)
			}
			if tc.wantProbe {
				within(t, "probe", cam.probes, time.Second)
			} else {
				select {
				case <-cam.probes:
					t.Error("probe sent with ProbeOff")
				case <-time.After(100 * time.Millisecond):
				}
			}
			if err != nil {
				return
			}
			if !tc.wantEvents {
				eventsClosed(t, s)
			}
			// Transactions work whatever happened to the event connection.
			if resp, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetStorageIDs}, nil, 0, nil); err != nil || resp.Code != mtp.RespOK {
				t.Errorf("Do after Dial: %+v, %v", resp, err)
			}
			if tc.wantEvents {
				select {
				case _, ok := <-s.Events():
					t.Errorf("unexpected event or closed channel (ok=%v)", ok)
				default:
				}
			}
		})
	}
}

// sendPieces answers with Start Data(total) and the given packets, then OK.
func sendPieces(total uint64, pieces ...Packet) func(w net.Conn, op received) {
	return func(w net.Conn, op received) {
		tid := op.req.TransactionID
		send(w, &StartData{TransactionID: tid, TotalLength: total})
		for _, p := range pieces {
			switch p := p.(type) {
			case *Data:
				p2 := *p
				p2.TransactionID = tid
				send(w, &p2)
			case *EndData:
				p2 := *p
				p2.TransactionID = tid
				send(w, &p2)
			default:
				send(w, p)
			}
		}
		send(w, &OperationResponse{Code: uint16(mtp.RespOK), TransactionID: tid, Params: []uint32{uint32(total)}})
	}
}

func TestDataInSplits(t *testing.T) {
	big := make([]byte, 300_000)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rnd.Uint32())
	}
	var bigPieces []Packet
	for off, i := 0, 0; off < len(big); i++ {
		n := min([]int{1, 70_000, 0, 65_536, 12_345, 150_000}[i%6], len(big)-off)
		bigPieces = append(bigPieces, &Data{Payload: big[off : off+n]})
		off += n
	}
	bigPieces = append(bigPieces, &EndData{})

	tests := map[string]struct {
		total  uint64
		pieces []Packet
		want   []byte
	}{
		"Canon: Data x n + End":          {10, []Packet{&Data{Payload: []byte("abc")}, &Data{Payload: []byte("def")}, &EndData{Payload: []byte("ghij")}}, []byte("abcdefghij")},
		"Nikon: End only":                {5, []Packet{&EndData{Payload: []byte("hello")}}, []byte("hello")},
		"PlayMemories: Data + empty End": {5, []Packet{&Data{Payload: []byte("hello")}, &EndData{}}, []byte("hello")},
		"zero-length Data pieces":        {4, []Packet{&Data{}, &Data{Payload: []byte("ab")}, &Data{}, &Data{Payload: []byte("cd")}, &EndData{}}, []byte("abcd")},
		"empty data phase":               {0, []Packet{&EndData{}}, []byte{}},
		"unknown total":                  {UnknownLength, []Packet{&Data{Payload: []byte("xy")}, &EndData{Payload: []byte("z")}}, []byte("xyz")},
		"large, odd pieces":              {uint64(len(big)), bigPieces, big},
		"camera probes mid-phase":        {4, []Packet{&Data{Payload: []byte("ab")}, &ProbeRequest{}, &EndData{Payload: []byte("cd")}}, []byte("abcd")},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cam := newFakeCamera(t, func(c *fakeCamera) { c.handle = sendPieces(tc.total, tc.pieces...) })
			s := dial(t, cam, testConfig())
			var got bytes.Buffer
			resp, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject, Params: []uint32{7}}, nil, 0, &got)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if resp.Code != mtp.RespOK || resp.TransactionID != 1 || len(resp.Params) != 1 || resp.Params[0] != uint32(tc.total) {
				t.Errorf("response %+v", resp)
			}
			if !bytes.Equal(got.Bytes(), tc.want) {
				t.Errorf("received %d bytes, want %d (%.20q vs %.20q)", got.Len(), len(tc.want), got.Bytes(), tc.want)
			}
			// Discarding (dataIn nil) reads the same phase and keeps the session in step.
			if resp, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, nil); err != nil || resp.TransactionID != 2 {
				t.Errorf("second Do, discarding: %+v, %v", resp, err)
			}
			if tc.pieces[1%len(tc.pieces)].Type() == PacketProbeRequest {
				within(t, "probe response on the command connection", cam.cmdProbeResp, time.Second)
			}
		})
	}
}

// countingWriter counts bytes without keeping them.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// TestDataInStreams checks that a large data phase is streamed: the
// session allocates no memory in proportion to it.
func TestDataInStreams(t *testing.T) {
	const size = 16 << 20
	payload := make([]byte, 1<<20)
	// The camera's whole answer is encoded before the measurement:
	// 16 x 1 MiB Data packets, an empty End Data and the response.
	var wire []byte
	encode := func(p Packet) {
		var err error
		if wire, err = p.AppendBinary(wire); err != nil {
			t.Fatal(err)
		}
	}
	encode(&StartData{TransactionID: 1, TotalLength: size})
	for range size / len(payload) {
		encode(&Data{TransactionID: 1, Payload: payload})
	}
	encode(&EndData{TransactionID: 1})
	encode(&OperationResponse{Code: uint16(mtp.RespOK), TransactionID: 1})
	cam := newFakeCamera(t, func(c *fakeCamera) {
		c.handle = func(w net.Conn, op received) { w.Write(wire) }
	})
	s := dial(t, cam, testConfig())
	var w countingWriter
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, &w)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if w.n != size {
		t.Errorf("received %d bytes, want %d", w.n, size)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Errorf("a %d-byte data phase allocated %d bytes", size, d)
	}
}

func TestDataInProtocolErrors(t *testing.T) {
	resp := func(tid uint32) Packet { return &OperationResponse{Code: uint16(mtp.RespOK), TransactionID: tid} }
	tests := map[string]struct {
		handle func(w net.Conn, op received)
		want   error
	}{
		"fewer bytes than announced": {sendPieces(10, &EndData{Payload: []byte("short")}), ErrProtocol},
		"more bytes than announced":  {sendPieces(3, &Data{Payload: []byte("ab")}, &EndData{Payload: []byte("cd")}), ErrProtocol},
		"Data before Start Data": {func(w net.Conn, op received) {
			send(w, &Data{TransactionID: op.req.TransactionID}, resp(op.req.TransactionID))
		}, ErrProtocol},
		"response before End Data": {func(w net.Conn, op received) {
			tid := op.req.TransactionID
			send(w, &StartData{TransactionID: tid, TotalLength: 1}, resp(tid))
		}, ErrProtocol},
		"second Start Data": {func(w net.Conn, op received) {
			tid := op.req.TransactionID
			send(w, &StartData{TransactionID: tid, TotalLength: 0}, &EndData{TransactionID: tid}, &StartData{TransactionID: tid})
		}, ErrProtocol},
		"event on the command connection": {func(w net.Conn, op received) {
			send(w, &Event{Code: 0x4002})
		}, ErrProtocol},
		"malformed response": {func(w net.Conn, op received) {
			w.Write(mustHex(t, "0a000000 07000000 0120"))
		}, ErrMalformed},
		"response over MaxPacket": {func(w net.Conn, op received) {
			w.Write(mustHex(t, "09000001 07000000 0120"))
		}, ErrTooLarge},
		"hang-up": {func(w net.Conn, op received) {
			w.Close()
		}, io.ErrUnexpectedEOF},
		"hang-up mid-data": {func(w net.Conn, op received) {
			tid := op.req.TransactionID
			send(w, &StartData{TransactionID: tid, TotalLength: 100})
			w.Write(mustHex(t, "70000000 0a000000")[:8])
			w.Write([]byte{byte(tid), 0, 0, 0, 'a'})
			w.Close()
		}, io.ErrUnexpectedEOF},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cam := newFakeCamera(t, func(c *fakeCamera) { c.handle = tc.handle })
			s := dial(t, cam, testConfig())
			_, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, io.Discard)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Do: %v, want %v", err, tc.want)
			}
			if !errors.Is(s.Err(), tc.want) {
				t.Errorf("Err() = %v, want the cause %v", s.Err(), tc.want)
			}
			assertBroken(t, s, err)
		})
	}
}

// A data or response packet with another transaction ID is accepted while
// the one transaction in flight runs (a responder answering with ID 0,
// issue 15), logged at debug; the session stays usable.
func TestLiberalTransactionID(t *testing.T) {
	resp := func(tid uint32) Packet { return &OperationResponse{Code: uint16(mtp.RespOK), TransactionID: tid} }
	tests := map[string]func(w net.Conn, op received){
		"response": func(w net.Conn, op received) {
			tid := op.req.TransactionID
			send(w, &StartData{TransactionID: tid, TotalLength: 1}, &EndData{TransactionID: tid, Payload: []byte("x")}, resp(tid+1))
		},
		"Start Data": func(w net.Conn, op received) {
			send(w, &StartData{TransactionID: 99, TotalLength: 1}, &EndData{TransactionID: op.req.TransactionID, Payload: []byte("x")}, resp(op.req.TransactionID))
		},
		"Data": func(w net.Conn, op received) {
			tid := op.req.TransactionID
			send(w, &StartData{TransactionID: tid, TotalLength: 1}, &EndData{TransactionID: tid + 1, Payload: []byte("x")}, resp(tid))
		},
		"all zero": func(w net.Conn, op received) {
			send(w, &StartData{TotalLength: 1}, &Data{}, &EndData{Payload: []byte("x")}, resp(0))
		},
	}
	for name, handle := range tests {
		t.Run(name, func(t *testing.T) {
			cam := newFakeCamera(t, func(c *fakeCamera) { c.handle = handle })
			h := &recordHandler{}
			cfg := testConfig()
			cfg.Logger = slog.New(h)
			s := dial(t, cam, cfg)
			for range 2 {
				var got bytes.Buffer
				resp, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, &got)
				if err != nil || resp.Code != mtp.RespOK || got.String() != "x" {
					t.Fatalf("Do: %+v %q, %v", resp, got.String(), err)
				}
			}
			if s.Err() != nil {
				t.Fatalf("session broken: %v", s.Err())
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			n := 0
			for _, r := range h.records {
				if r.Level == slog.LevelDebug && strings.Contains(r.Message, "another transaction ID") {
					n++
				}
			}
			if n != 2 {
				t.Errorf("%d debug lines about the transaction ID, want one per transaction", n)
			}
		})
	}
}

// The transaction IDs are libgphoto2's: GetDeviceInfo before OpenSession
// and OpenSession itself 0, then 1, 2, ...; an OpenSession again (a retry)
// starts over.
func TestTransactionIDs(t *testing.T) {
	cam := newFakeCamera(t)
	s := dial(t, cam, testConfig())
	for _, step := range []struct {
		op   mtp.OpCode
		want uint32
	}{
		{mtp.OpGetDeviceInfo, 0}, {mtp.OpOpenSession, 0}, {mtp.OpGetStorageIDs, 1}, {mtp.OpGetDeviceInfo, 2},
		{mtp.OpOpenSession, 0}, {mtp.OpGetStorageIDs, 1},
	} {
		if _, err := s.Do(testContext(t), mtp.Request{Code: step.op, Params: []uint32{1}}, nil, 0, io.Discard); err != nil {
			t.Fatal(err)
		}
		if got := cam.nextOp(t).req.TransactionID; got != step.want {
			t.Errorf("%v: transaction ID %d, want %d", step.op, got, step.want)
		}
	}
}

func TestDataOut(t *testing.T) {
	for _, size := range []int{0, 1, bufSize - DataHeaderSize, 150_000} {
		t.Run("", func(t *testing.T) {
			cam := newFakeCamera(t)
			s := dial(t, cam, testConfig())
			data := bytes.Repeat([]byte{0xa5, 0x5a, 1}, size/3+1)[:size]
			resp, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpSendObject}, bytes.NewReader(data), int64(size), nil)
			if err != nil || resp.Code != mtp.RespOK {
				t.Fatalf("Do: %+v, %v", resp, err)
			}
			op := cam.nextOp(t)
			if op.req.DataPhase != DataPhaseOut {
				t.Errorf("DataPhase %d, want %d", op.req.DataPhase, DataPhaseOut)
			}
			if op.start.TotalLength != uint64(size) || op.start.TransactionID != 1 {
				t.Errorf("Start Data %+v", op.start)
			}
			if !bytes.Equal(op.data, data) {
				t.Errorf("camera received %d bytes, want %d identical", len(op.data), size)
			}
			for _, n := range op.sizes {
				if n > bufSize-DataHeaderSize {
					t.Errorf("data piece of %d bytes", n)
				}
			}
		})
	}
}

// TestDataOutShortReader: dataOut ends before dataOutSize: the camera
// waits for the rest, so the session breaks.
func TestDataOutShortReader(t *testing.T) {
	cam := newFakeCamera(t)
	s := dial(t, cam, testConfig())
	_, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpSendObject}, strings.NewReader("abc"), 10, nil)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Do: %v, want io.ErrUnexpectedEOF", err)
	}
	assertBroken(t, s, err)
}

// TestBadRequests are refused before anything is sent: the session stays.
func TestBadRequests(t *testing.T) {
	cam := newFakeCamera(t)
	s := dial(t, cam, testConfig())
	if _, err := s.Do(testContext(t), mtp.Request{Code: 0x1001, Params: make([]uint32, 6)}, nil, 0, nil); err == nil {
		t.Error("6 params accepted")
	}
	if _, err := s.Do(testContext(t), mtp.Request{Code: 0x100D}, strings.NewReader(""), -1, nil); err == nil {
		t.Error("negative size accepted")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Do(ctx, mtp.Request{Code: 0x1001}, nil, 0, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled ctx: %v", err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("session broken by refused requests: %v", err)
	}
	if resp, err := s.Do(testContext(t), mtp.Request{Code: 0x1004}, nil, 0, nil); err != nil || resp.TransactionID != 1 {
		t.Errorf("Do: %+v, %v (the refused requests must not use transaction IDs)", resp, err)
	}
}

func TestResponseWithoutDataPhase(t *testing.T) {
	cam := newFakeCamera(t, func(c *fakeCamera) {
		c.handle = func(w net.Conn, op received) {
			send(w, &OperationResponse{Code: uint16(mtp.RespInvalidObjectHandle), TransactionID: op.req.TransactionID})
		}
	})
	s := dial(t, cam, testConfig())
	var got bytes.Buffer
	resp, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObjectInfo, Params: []uint32{9}}, nil, 0, &got)
	if err != nil {
		t.Fatalf("a non-OK response is not a transport error: %v", err)
	}
	if resp.Code != mtp.RespInvalidObjectHandle || got.Len() != 0 {
		t.Errorf("response %+v, %d bytes", resp, got.Len())
	}
	if s.Err() != nil {
		t.Errorf("session broken: %v", s.Err())
	}
}

func TestTransactionIDWrap(t *testing.T) {
	cam := newFakeCamera(t)
	s := dial(t, cam, testConfig())
	s.tid = 0xFFFFFFFD // as if 4 billion operations had run
	for _, want := range []uint32{0xFFFFFFFE, 1, 2} {
		resp, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetStorageIDs}, nil, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := cam.nextOp(t).req.TransactionID; got != want || resp.TransactionID != want {
			t.Errorf("transaction ID %#x (response %#x), want %#x", got, resp.TransactionID, want)
		}
	}
}

// silent never answers.
func silent(w net.Conn, op received) {}

func TestCancelMidRead(t *testing.T) {
	cam := newFakeCamera(t, func(c *fakeCamera) { c.handle = silent })
	cfg := testConfig()
	cfg.Timeout = 30 * time.Second // cancellation, not the timeout, must end the wait
	s := dial(t, cam, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.Do(ctx, mtp.Request{Code: mtp.OpGetObject}, nil, 0, io.Discard)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Do returned %v after the cancellation", d)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Do: %v, want context.Canceled", err)
	}
	assertBroken(t, s, err)
}

// TestCancelWhileWaiting: a caller waiting for another's transaction
// leaves when its context ends, without breaking the session.
func TestCancelWhileWaiting(t *testing.T) {
	release := make(chan struct{})
	cam := newFakeCamera(t, func(c *fakeCamera) {
		c.handle = func(w net.Conn, op received) {
			<-release
			answerOK(w, op)
		}
	})
	s := dial(t, cam, testConfig())
	done := make(chan error)
	go func() {
		_, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetStorageIDs}, nil, 0, nil)
		done <- err
	}()
	cam.nextOp(t) // the first transaction is in flight
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.Do(ctx, mtp.Request{Code: mtp.OpGetStorageIDs}, nil, 0, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting Do: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("first Do: %v", err)
	}
	if s.Err() != nil {
		t.Errorf("session broken: %v", s.Err())
	}
}

func TestSilentCameraTimeout(t *testing.T) {
	cam := newFakeCamera(t, func(c *fakeCamera) { c.handle = silent })
	cfg := testConfig()
	cfg.Timeout = 200 * time.Millisecond
	s := dial(t, cam, cfg)
	start := time.Now()
	_, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, io.Discard)
	if d := time.Since(start); d < 150*time.Millisecond || d > time.Second {
		t.Errorf("timed out after %v, want about 200ms", d)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Do: %v, want os.ErrDeadlineExceeded", err)
	}
	assertBroken(t, s, err)
}

// TestTimeoutIsRateBased: a transfer longer than Timeout succeeds as long
// as its data keeps MinRate.
func TestTimeoutIsRateBased(t *testing.T) {
	cam := newFakeCamera(t, func(c *fakeCamera) {
		c.handle = func(w net.Conn, op received) {
			tid := op.req.TransactionID
			send(w, &StartData{TransactionID: tid, TotalLength: 6})
			for range 6 {
				time.Sleep(80 * time.Millisecond)
				send(w, &Data{TransactionID: tid, Payload: []byte("x")})
			}
			send(w, &EndData{TransactionID: tid}, &OperationResponse{Code: uint16(mtp.RespOK), TransactionID: tid})
		}
	})
	cfg := testConfig()
	cfg.Timeout = 250 * time.Millisecond
	cfg.MinRate = 10 // each byte buys 100 ms
	s := dial(t, cam, cfg)
	var got bytes.Buffer
	start := time.Now()
	if _, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, &got); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if got.String() != "xxxxxx" {
		t.Errorf("got %q", got.String())
	}
	if d := time.Since(start); d < cfg.Timeout {
		t.Errorf("the transfer took %v, not longer than Timeout: the test proves nothing", d)
	}
}

// TestSlowCameraTimeout: a camera that answers in pieces each within
// Timeout of the last, but too slowly (a byte every 50 ms, or only Probe
// Requests), fails within about Timeout and breaks the session.
func TestSlowCameraTimeout(t *testing.T) {
	for name, trickle := range map[string]func(w net.Conn, tid uint32) error{
		"bytes": func(w net.Conn, tid uint32) error {
			return WritePacket(w, &Data{TransactionID: tid, Payload: []byte("x")})
		},
		"empty packets": func(w net.Conn, tid uint32) error {
			return WritePacket(w, &Data{TransactionID: tid})
		},
		"probes": func(w net.Conn, tid uint32) error {
			return WritePacket(w, &ProbeRequest{})
		},
	} {
		t.Run(name, func(t *testing.T) {
			cam := newFakeCamera(t, func(c *fakeCamera) {
				c.handle = func(w net.Conn, op received) {
					tid := op.req.TransactionID
					send(w, &StartData{TransactionID: tid, TotalLength: 1 << 20})
					for trickle(w, tid) == nil {
						time.Sleep(50 * time.Millisecond)
					}
				}
			})
			cfg := testConfig()
			cfg.Timeout = 300 * time.Millisecond
			s := dial(t, cam, cfg)
			start := time.Now()
			_, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, io.Discard)
			if d := time.Since(start); d < 250*time.Millisecond || d > 1500*time.Millisecond {
				t.Errorf("ended after %v, want about 300ms", d)
			}
			if !errors.Is(err, os.ErrDeadlineExceeded) || !strings.Contains(err.Error(), "too slow") {
				t.Errorf("Do: %v, want a \"too slow\" os.ErrDeadlineExceeded", err)
			}
			assertBroken(t, s, err)
		})
	}
}

// TestContextDeadline: the context's deadline applies even when it is
// shorter than Timeout.
func TestContextDeadline(t *testing.T) {
	cam := newFakeCamera(t, func(c *fakeCamera) { c.handle = silent })
	s := dial(t, cam, testConfig())
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Do(ctx, mtp.Request{Code: mtp.OpGetObject}, nil, 0, io.Discard)
	if d := time.Since(start); d > time.Second {
		t.Errorf("Do took %v", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do: %v, want context.DeadlineExceeded", err)
	}
	assertBroken(t, s, err)
}

// failingWriter fails after its first Write.
type failingWriter struct{ writes int }

var errSink = errors.New("sink full")

func (w *failingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes > 1 {
		return 0, errSink
	}
	return len(p), nil
}

// TestSinkError: a failing dataIn does not break the session.
func TestSinkError(t *testing.T) {
	cam := newFakeCamera(t, func(c *fakeCamera) {
		c.handle = sendPieces(6, &Data{Payload: []byte("ab")}, &Data{Payload: []byte("cd")}, &EndData{Payload: []byte("ef")})
	})
	s := dial(t, cam, testConfig())
	w := &failingWriter{}
	resp, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, w)
	if !errors.Is(err, errSink) || errors.Is(err, ErrBroken) {
		t.Errorf("Do: %v, want the sink's error only", err)
	}
	if resp.Code != mtp.RespOK || w.writes != 2 {
		t.Errorf("response %+v after %d writes", resp, w.writes)
	}
	if _, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, nil); err != nil {
		t.Errorf("next Do: %v", err)
	}
}

func TestConcurrentDo(t *testing.T) {
	cam := newFakeCamera(t, func(c *fakeCamera) {
		c.handle = func(w net.Conn, op received) {
			tid := op.req.TransactionID
			payload := bytes.Repeat([]byte{byte(op.req.Params[0])}, 1000)
			send(w, &StartData{TransactionID: tid, TotalLength: 1000}, &Data{TransactionID: tid, Payload: payload[:400]},
				&EndData{TransactionID: tid, Payload: payload[400:]}, &OperationResponse{Code: uint16(mtp.RespOK), TransactionID: tid})
		}
	})
	s := dial(t, cam, testConfig())
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			var got bytes.Buffer
			_, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject, Params: []uint32{uint32(i)}}, nil, 0, &got)
			if err != nil {
				t.Errorf("Do %d: %v", i, err)
				return
			}
			if !bytes.Equal(got.Bytes(), bytes.Repeat([]byte{byte(i)}, 1000)) {
				t.Errorf("Do %d got another transaction's data", i)
			}
		})
	}
	wg.Wait()
}

func TestKeepAlive(t *testing.T) {
	cam := newFakeCamera(t)
	cfg := testConfig()
	cfg.KeepAlive = 100 * time.Millisecond
	s := dial(t, cam, cfg)
	start := time.Now()
	op := cam.nextOp(t)
	if d := time.Since(start); d > time.Second {
		t.Errorf("keep-alive after %v", d)
	}
	// Before OpenSession, GetDeviceInfo has ID 0 (TestTransactionIDs).
	if op.req.Code != uint16(mtp.OpGetDeviceInfo) || op.req.TransactionID != 0 {
		t.Errorf("keep-alive sent %+v, want GetDeviceInfo tid 0", op.req)
	}
	// A user operation uses the next ID and postpones the keep-alive.
	if resp, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetStorageIDs}, nil, 0, nil); err != nil || resp.TransactionID < 1 {
		t.Fatalf("Do: %+v, %v", resp, err)
	}
	for op.req.Code != uint16(mtp.OpGetStorageIDs) {
		op = cam.nextOp(t)
	}
	after := time.Now()
	op = cam.nextOp(t)
	if d := time.Since(after); d < 70*time.Millisecond {
		t.Errorf("keep-alive %v after an operation, want about 100ms", d)
	}
	if op.req.Code != uint16(mtp.OpGetDeviceInfo) {
		t.Errorf("keep-alive sent %#x", op.req.Code)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Drain what was in flight, then nothing more.
	time.Sleep(50 * time.Millisecond)
	for len(cam.ops) > 0 {
		<-cam.ops
	}
	select {
	case op := <-cam.ops:
		t.Errorf("keep-alive after Close: %+v", op.req)
	case <-time.After(300 * time.Millisecond):
	}
}

func (c *fakeCamera) eventConn(t *testing.T) net.Conn {
	t.Helper()
	select {
	case evt := <-c.evtReady:
		return evt
	case <-time.After(5 * time.Second):
		t.Fatal("no event connection")
		return nil
	}
}

func TestEvents(t *testing.T) {
	cam := newFakeCamera(t)
	s := dial(t, cam, testConfig())
	evt := cam.eventConn(t)
	send(evt, &Event{Code: 0x4002, TransactionID: 0, Params: []uint32{0x1234}})
	evt.Write(mustHex(t, "0c000000 0f000000 00000000")) // unknown type: skipped
	send(evt, &Event{Code: 0x400C, TransactionID: 3})
	want := []mtp.Event{
		{Code: mtp.EventObjectAdded, Params: []uint32{0x1234}},
		{Code: 0x400C, TransactionID: 3},
	}
	for _, w := range want {
		select {
		case ev := <-s.Events():
			if ev.Code != w.Code || ev.TransactionID != w.TransactionID || !slicesEqual(ev.Params, w.Params) {
				t.Errorf("event %+v, want %+v", ev, w)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("event %+v not delivered", w)
		}
	}
	// A camera closing the event connection closes the channel, but
	// transactions go on.
	evt.Close()
	eventsClosed(t, s)
	if _, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetStorageIDs}, nil, 0, nil); err != nil {
		t.Errorf("Do after the event connection closed: %v", err)
	}
}

func slicesEqual(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestEventsNeverBlock: nobody reads events; the reader drops them and
// keeps answering probes.
func TestEventsNeverBlock(t *testing.T) {
	cam := newFakeCamera(t)
	s := dial(t, cam, testConfig())
	evt := cam.eventConn(t)
	for i := range eventBuffer + 20 {
		send(evt, &Event{Code: 0x4002, Params: []uint32{uint32(i)}})
	}
	send(evt, &ProbeRequest{})
	within(t, "probe answer after a flood of events", cam.probeResponses, 2*time.Second)
	if n := len(s.Events()); n != eventBuffer {
		t.Errorf("%d events buffered, want %d", n, eventBuffer)
	}
}

// lineCounter counts the log records whose message holds a word.
type lineCounter struct {
	mu    sync.Mutex
	lines []string
}

func (l *lineCounter) Enabled(context.Context, slog.Level) bool { return true }
func (l *lineCounter) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *lineCounter) WithGroup(string) slog.Handler            { return l }
func (l *lineCounter) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := r.Message
	r.Attrs(func(a slog.Attr) bool {
		line += " " + a.String()
		return true
	})
	l.lines = append(l.lines, line)
	return nil
}

func (l *lineCounter) count(word string) (int, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, word) {
			out = append(out, line)
		}
	}
	return len(out), out
}

// TestDroppedEventsCounted: a flood of events nobody reads is counted and
// logged in a line or two, not a line per event.
func TestDroppedEventsCounted(t *testing.T) {
	cam := newFakeCamera(t)
	logs := &lineCounter{}
	cfg := testConfig()
	cfg.Logger = slog.New(logs)
	s := dial(t, cam, cfg)
	evt := cam.eventConn(t)
	const flood = 5000
	for i := range flood {
		send(evt, &Event{Code: 0x4002, Params: []uint32{uint32(i)}})
	}
	send(evt, &ProbeRequest{})
	within(t, "probe answer after a flood of events", cam.probeResponses, 2*time.Second)
	if n := s.DroppedEvents(); n != flood-eventBuffer {
		t.Errorf("DroppedEvents() = %d, want %d", n, flood-eventBuffer)
	}
	if n, lines := logs.count("dropped"); n != 1 {
		t.Errorf("%d lines about dropped events during the flood, want 1: %q", n, lines)
	}
	s.Close()
	n, lines := logs.count("dropped")
	if n != 2 || !strings.Contains(lines[1], fmt.Sprintf("total=%d", flood-eventBuffer)) {
		t.Errorf("after the session ended: %q, want a second line with the total %d", lines, flood-eventBuffer)
	}
}

func TestCameraProbeAnswered(t *testing.T) {
	cam := newFakeCamera(t)
	dial(t, cam, testConfig())
	evt := cam.eventConn(t)
	for range 3 {
		send(evt, &ProbeRequest{})
		within(t, "probe response", cam.probeResponses, 2*time.Second)
	}
}

func TestClose(t *testing.T) {
	cam := newFakeCamera(t)
	cfg := testConfig()
	cfg.KeepAlive = time.Hour
	s := dial(t, cam, cfg)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if !errors.Is(s.Err(), ErrClosed) {
		t.Errorf("Err() = %v, want ErrClosed", s.Err())
	}
	_, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetDeviceInfo}, nil, 0, nil)
	if !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close: %v, want ErrClosed", err)
	}
	assertBroken(t, s, err)
}

// TestCloseDuringDo: Close ends a transaction in flight.
func TestCloseDuringDo(t *testing.T) {
	cam := newFakeCamera(t, func(c *fakeCamera) { c.handle = silent })
	cfg := testConfig()
	cfg.Timeout = 30 * time.Second
	s := dial(t, cam, cfg)
	time.AfterFunc(100*time.Millisecond, func() { s.Close() })
	start := time.Now()
	_, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, io.Discard)
	if !errors.Is(err, ErrBroken) {
		t.Errorf("Do: %v, want ErrBroken", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Do returned %v after Close", d)
	}
}

// TestEventConnectionRetry: the camera opens the event port a little late;
// the refused connection is retried after 100 ms.
func TestEventConnectionRetry(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	done := make(chan struct{})
	t.Cleanup(func() { <-done })
	go func() {
		defer close(done)
		cmd, err := ln.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer cmd.Close()
		if _, err := ReadPacket(cmd, DefaultMaxPacket); err != nil {
			t.Error(err)
			return
		}
		// Stop listening before answering, and listen again 150 ms later.
		ln.Close()
		send(cmd, &InitCommandAck{ConnectionNumber: 1, Name: "late", Version: Version})
		time.Sleep(150 * time.Millisecond)
		ln2, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("listening again: %v", err)
			return
		}
		defer ln2.Close()
		evt, err := ln2.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer evt.Close()
		if _, err := ReadPacket(evt, DefaultMaxPacket); err != nil {
			t.Error(err)
			return
		}
		send(evt, &InitEventAck{})
		ReadPacket(cmd, DefaultMaxPacket) // until the host hangs up
	}()
	s, err := Dial(testContext(t), addr, testConfig())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	s.Close()
}

func TestDialBadProbeMode(t *testing.T) {
	cfg := testConfig()
	cfg.Probe = 7
	if s, err := Dial(testContext(t), "127.0.0.1:1", cfg); err == nil {
		s.Close()
		t.Fatal("unknown probe mode accepted")
	}
}

// recordHandler keeps the log records.
type recordHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}
func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordHandler) WithGroup(string) slog.Handler      { return h }

func TestDebugLog(t *testing.T) {
	cam := newFakeCamera(t)
	h := &recordHandler{}
	cfg := testConfig()
	cfg.Logger = slog.New(h)
	s := dial(t, cam, cfg)
	if _, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetDeviceInfo}, nil, 0, io.Discard); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.records {
		if r.Level != slog.LevelDebug || r.Message != "ptp op" {
			continue
		}
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		if attrs["op"] != "GetDeviceInfo" || attrs["tid"] != "0" || attrs["bytes"] != "7" || attrs["dur"] == "" {
			t.Errorf("op log attributes %v", attrs)
		}
		return
	}
	t.Error("no debug log line for the operation")
}

// TestObserve checks that an observer sees each completed transaction with
// its bytes and duration, and none once removed.
func TestObserve(t *testing.T) {
	cam := newFakeCamera(t)
	s := dial(t, cam, testConfig())
	type seen struct {
		op    mtp.OpCode
		bytes int64
		dur   time.Duration
	}
	var mu sync.Mutex
	var got []seen
	s.Observe(func(op mtp.OpCode, n int64, d time.Duration) {
		mu.Lock()
		got = append(got, seen{op, n, d})
		mu.Unlock()
	})
	if _, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetDeviceInfo}, nil, 0, io.Discard); err != nil {
		t.Fatal(err)
	}
	s.Observe(nil)
	if _, err := s.Do(testContext(t), mtp.Request{Code: mtp.OpGetDeviceInfo}, nil, 0, io.Discard); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].op != mtp.OpGetDeviceInfo || got[0].bytes != 7 || got[0].dur <= 0 {
		t.Errorf("observed %+v, want one GetDeviceInfo of 7 bytes with a duration", got)
	}
}

// TestFinish: the transaction in flight finishes, one asked for meanwhile
// fails with ErrClosed without reaching the camera, and the session's
// last transaction runs before the session closes.
func TestFinish(t *testing.T) {
	release := make(chan struct{})
	cam := newFakeCamera(t, func(c *fakeCamera) {
		c.handle = func(w net.Conn, op received) {
			if op.req.Code == uint16(mtp.OpGetObject) {
				<-release // a read the camera is slow to answer
			}
			answerOK(w, op)
		}
	})
	s := dial(t, cam, testConfig())
	ctx := testContext(t)

	inFlight := make(chan error, 1)
	go func() {
		_, err := s.Do(ctx, mtp.Request{Code: mtp.OpGetObject}, nil, 0, io.Discard)
		inFlight <- err
	}()
	if op := cam.nextOp(t); op.req.Code != uint16(mtp.OpGetObject) {
		t.Fatalf("camera got %#x first", op.req.Code)
	}
	queued := make(chan error, 1)
	go func() {
		_, err := s.Do(ctx, mtp.Request{Code: mtp.OpGetStorageIDs}, nil, 0, nil)
		queued <- err
	}()
	finished := make(chan error, 1)
	go func() {
		finished <- s.Finish(ctx, func(tr mtp.Transport) error {
			resp, err := tr.Do(ctx, mtp.Request{Code: mtp.OpCloseSession}, nil, 0, nil)
			if err == nil && resp.Code != mtp.RespOK {
				err = resp.Code
			}
			return err
		})
	}()
	time.Sleep(100 * time.Millisecond) // both wait for the read
	close(release)
	if err := <-inFlight; err != nil {
		t.Errorf("the transaction in flight: %v", err)
	}
	if err := <-finished; err != nil {
		t.Errorf("Finish: %v", err)
	}
	if err := <-queued; !errors.Is(err, ErrClosed) {
		t.Errorf("a transaction asked for during Finish: %v, want ErrClosed", err)
	}
	if op := cam.nextOp(t); op.req.Code != uint16(mtp.OpCloseSession) {
		t.Errorf("after the read the camera got %#x, want CloseSession", op.req.Code)
	}
	if !errors.Is(s.Err(), ErrClosed) {
		t.Errorf("after Finish Err() = %v, want ErrClosed", s.Err())
	}
}

// TestFinishStuck: a transaction in flight that outlives Finish's context
// does not hold the end up: the session is closed without its goodbye.
func TestFinishStuck(t *testing.T) {
	cam := newFakeCamera(t, func(c *fakeCamera) { c.handle = silent })
	cfg := testConfig()
	cfg.Timeout = 30 * time.Second
	s := dial(t, cam, cfg)
	go s.Do(testContext(t), mtp.Request{Code: mtp.OpGetObject}, nil, 0, io.Discard)
	cam.nextOp(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	ran := false
	err := s.Finish(ctx, func(mtp.Transport) error { ran = true; return nil })
	if !errors.Is(err, context.DeadlineExceeded) || ran {
		t.Errorf("Finish: %v (end ran: %t), want the deadline and no end", err, ran)
	}
	if !errors.Is(s.Err(), ErrClosed) {
		t.Errorf("after Finish Err() = %v, want ErrClosed", s.Err())
	}
}
