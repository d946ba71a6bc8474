package ptpip

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

//go:generate go run ../internal/codenames -type ProbeMode -trimprefix Probe -linecomment

// ProbeMode says whether Dial sends a Probe Request on the event connection
// once it is open.
type ProbeMode int

const (
	// ProbeAuto sends the probe unless the Init Command Ack names a Canon,
	// waits at most a second for the answer, uses a camera that drops the
	// event connection without events, and dials one that drops both again
	// without the probe. Nikon bodies hang the session without the probe or
	// a one-second pause (Airnef); Canon EOS M5/G9X refuse the connection
	// for it (a fork of Airnef). The vendor is unknown before DeviceInfo.
	ProbeAuto ProbeMode = iota // auto
	// ProbeOn sends the probe and requires the answer within ConnectTimeout.
	ProbeOn // on
	// ProbeOff never sends the probe.
	ProbeOff // off
)

// Config configures Dial. The zero value of each field selects its default.
type Config struct {
	// GUID identifies this host to the camera (see HostGUID).
	GUID [16]byte
	// Name is the friendly name shown by some cameras; default: the host
	// name.
	Name string
	// Probe selects the event-connection probe (default ProbeAuto).
	Probe ProbeMode
	// ConnectTimeout bounds the whole handshake (default 60 s). It is long
	// because Canon shows an authorisation prompt the user must accept
	// before the camera answers the Init Command Request.
	ConnectTimeout time.Duration
	// DialTimeout bounds each TCP connect, within ConnectTimeout (default:
	// ConnectTimeout): a camera that is on answers at once, so an address
	// that stays silent can fail early.
	DialTimeout time.Duration
	// Connected, when set, is called once the camera has accepted the
	// command connection, before the Init Command Request: from then on
	// the camera may be waiting for its user (Canon's prompt).
	Connected func()
	// Timeout is the longest time one read or write on the command
	// connection may wait (default 10 s), and a transaction's allowance
	// before its data counts: a transaction may last Timeout plus one
	// second per MinRate data bytes it moved. Probe Requests and empty
	// packets move nothing, so a camera that trickles or only probes
	// fails within about Timeout, while a long transfer lives as long as
	// its data keeps MinRate.
	Timeout time.Duration
	// MinRate is the slowest data rate, in bytes per second, a
	// transaction may keep (default DefaultMinRate).
	MinRate int64
	// KeepAlive is the idle time after which the session runs GetDeviceInfo
	// by itself (default 5 s; negative disables it).
	KeepAlive time.Duration
	// MaxPacket is the largest packet accepted other than Data and End Data
	// (default 16 MiB plus the header). Data phases are streamed and not
	// limited by it.
	MaxPacket uint32
	// Logger receives the session's log lines (default: discarded).
	Logger *slog.Logger
}

// Defaults of Config.
const (
	DefaultConnectTimeout = 60 * time.Second
	DefaultTimeout        = 10 * time.Second
	DefaultKeepAlive      = 5 * time.Second
	DefaultMaxPacket      = 16<<20 + HeaderSize
	// DefaultMinRate is a quarter of 802.11b's slowest rate (1 Mbit/s):
	// an honest link at the edge of WiFi range stays above it, a camera
	// that trickles bytes to hold the session falls below it.
	DefaultMinRate = 32 << 10
)

// probeAutoWait is how long ProbeAuto waits for a Probe Response.
const probeAutoWait = time.Second

// bufSize is the size of the session's one data buffer: the largest piece
// of a data phase read or written at once, and the largest Data packet sent.
const bufSize = 64 << 10

// eventBuffer is the capacity of the Events channel.
const eventBuffer = 64

// dropLogEvery is how often a flood of dropped events is logged: one
// line with the count, not one per event.
const dropLogEvery = 10 * time.Second

// maxParams is the largest number of parameters of an operation.
const maxParams = 5

func (c Config) withDefaults() Config {
	if c.Name == "" {
		c.Name = "airnef-mount"
		if h, err := os.Hostname(); err == nil && h != "" {
			c.Name = h
		}
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MinRate <= 0 {
		c.MinRate = DefaultMinRate
	}
	if c.KeepAlive == 0 {
		c.KeepAlive = DefaultKeepAlive
	}
	if c.MaxPacket == 0 {
		c.MaxPacket = DefaultMaxPacket
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Errors of a session.
var (
	// ErrBroken is wrapped by every error of a session that can no longer
	// run transactions; Err says why.
	ErrBroken = errors.New("ptpip: session broken")
	// ErrClosed is the cause of a session ended by Close.
	ErrClosed = errors.New("ptpip: session closed")
	// ErrProtocol is wrapped by errors for packets that break the rules of
	// a transaction (wrong transaction ID, unexpected packet, data that
	// does not add up to its announced length).
	ErrProtocol = errors.New("ptpip: protocol error")
)

// InitFailError is the camera's refusal of a connection (Init Fail).
type InitFailError struct {
	Reason uint32
}

func (e *InitFailError) Error() string {
	switch e.Reason {
	case FailRejectedInitiator:
		return "ptpip: camera rejected this computer (Init Fail reason 1: rejected initiator; a Sony camera is not paired with this GUID)"
	case FailBusy:
		return "ptpip: camera busy (Init Fail reason 2)"
	case FailUnspecified:
		return "ptpip: camera refused the connection (Init Fail reason 3: unspecified)"
	}
	return fmt.Sprintf("ptpip: camera refused the connection (Init Fail reason %d)", e.Reason)
}

// brokenError is returned by a session that is or just became broken: it
// wraps both ErrBroken and the cause.
type brokenError struct{ cause error }

func (e *brokenError) Error() string   { return "ptpip: session broken: " + e.cause.Error() }
func (e *brokenError) Unwrap() []error { return []error{ErrBroken, e.cause} }

// Session is a PTP/IP connection to one camera: the command connection that
// runs transactions and the event connection. It implements mtp.Transport.
// Its methods are safe for concurrent use; transactions run one at a time.
type Session struct {
	cfg  Config
	log  *slog.Logger
	addr string

	cmd *guardedConn  // command/data connection
	r   *bufio.Reader // reads cmd
	evt *guardedConn  // event connection
	er  *bufio.Reader // reads evt
	// evtWrite serialises writes on the event connection (Probe Request and
	// the answers to the camera's probes).
	evtWrite sync.Mutex

	connNum  uint32
	camName  string
	camGUID  [16]byte
	events   chan mtp.Event
	reading  bool       // readEvents runs (and will close events)
	probeRes chan error // first Probe Response (nil) or end of the event connection

	// sem holds the one transaction in flight (a mutex a waiter can leave
	// when its context ends). The fields below it are owned by its holder.
	sem    chan struct{}
	tid    uint32    // last transaction ID used; the next is tid+1, skipping 0xFFFFFFFF and 0
	opened bool      // OpenSession was sent: GetDeviceInfo counts like any operation
	lastOp time.Time // end of the last transaction, for the keep-alive
	buf    []byte    // bufSize bytes: data phases and small packets
	hdr    [HeaderSize]byte

	observe atomic.Pointer[func(op mtp.OpCode, bytes int64, dur time.Duration)] // Observe's f

	dropped drops // events dropped for want of a reader

	state sync.Mutex
	cause error         // why the session is broken; nil while it works
	done  chan struct{} // closed when broken
	// ending is set by Finish: a transaction that has not started yet
	// fails at once, so only the one in flight delays the end.
	ending atomic.Bool

	wg sync.WaitGroup // event reader and keep-alive
}

var _ mtp.Transport = (*Session)(nil)

// Port is the TCP port of PTP/IP (CIPA DC-X005).
const Port = 15740

// Dial connects to the camera at addr (host:port, port 15740 for PTP/IP),
// runs the PTP/IP handshake on the command and event connections and
// returns the session. It does not open a PTP session (OpenSession): that
// is an operation for package mtp. A refusal by the camera is an
// *InitFailError.
func Dial(ctx context.Context, addr string, cfg Config) (*Session, error) {
	if cfg.Probe < ProbeAuto || cfg.Probe > ProbeOff {
		return nil, fmt.Errorf("ptpip: connect %s: unknown probe mode %d", addr, int(cfg.Probe))
	}
	cfg = cfg.withDefaults()
	s, err := dialOnce(ctx, addr, cfg)
	if errors.Is(err, errProbeRefused) && cfg.Probe == ProbeAuto {
		// Try with, fall back without: the camera dropped the whole
		// connection for the probe (reported for Canon bodies).
		cfg.Logger.Warn("camera dropped the connection after the probe; connecting again without it", "camera", addr)
		cfg.Probe = ProbeOff
		s, err = dialOnce(ctx, addr, cfg)
	}
	return s, err
}

// errProbeRefused is a camera that closed both connections after the
// Probe Request.
var errProbeRefused = errors.New("camera dropped the connection after the probe")

// probeRefusedWait is how long ProbeAuto looks for the end of the command
// connection once the event connection ended after the probe.
const probeRefusedWait = 200 * time.Millisecond

// SkipsProbe reports whether ProbeAuto leaves out the probe for a camera
// whose Init Command Ack carries name: Canon's names ("Canon EOS 6D",
// "EOS M5"), because some Canon bodies drop the connection for it, and
// Canon needs no probe.
func SkipsProbe(name string) bool {
	n := strings.ToLower(strings.TrimSpace(name))
	return strings.Contains(n, "canon") || strings.HasPrefix(n, "eos")
}

func dialOnce(ctx context.Context, addr string, cfg Config) (*Session, error) {
	s := &Session{
		cfg:      cfg,
		log:      cfg.Logger.With("camera", addr),
		addr:     addr,
		events:   make(chan mtp.Event, eventBuffer),
		probeRes: make(chan error, 1),
		sem:      make(chan struct{}, 1),
		buf:      make([]byte, bufSize),
		done:     make(chan struct{}),
	}
	hctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	defer cancel()
	if err := s.handshake(hctx); err != nil {
		s.breakWith(err)
		s.wg.Wait()
		if !s.reading {
			// The event reader owns the channel once it runs.
			close(s.events)
		}
		return nil, fmt.Errorf("ptpip: connect %s: %w", addr, err)
	}
	s.lastOp = time.Now()
	if cfg.KeepAlive > 0 {
		s.wg.Add(1)
		go s.keepAlive()
	}
	s.log.Info("ptp/ip connected", "name", s.camName, "conn", s.connNum, "probe", cfg.Probe)
	return s, nil
}

// handshake opens both connections and probes the event connection.
func (s *Session) handshake(ctx context.Context) error {
	// Go sets TCP_NODELAY: keep it, every packet is a separate write.
	d := net.Dialer{Timeout: s.cfg.DialTimeout}
	c, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("command connection: %w", err)
	}
	if s.cfg.Connected != nil {
		s.cfg.Connected()
	}
	s.cmd = &guardedConn{Conn: c}
	s.r = bufio.NewReaderSize(s.cmd, bufSize)
	release := s.cmd.bind(ctx, 0) // the handshake's deadline only: the user may be reading a prompt
	err = s.initCommand()
	if cause := release(); cause != nil && err != nil {
		err = withCause(cause, err)
	}
	if err != nil {
		return err
	}

	c, err = s.dialEvent(ctx, &d)
	if err != nil {
		return fmt.Errorf("event connection: %w", err)
	}
	s.evt = &guardedConn{Conn: c}
	s.er = bufio.NewReader(s.evt)
	release = s.evt.bind(ctx, 0)
	err = s.initEvent()
	if cause := release(); cause != nil && err != nil {
		err = withCause(cause, err)
	}
	if err != nil {
		return err
	}
	// The event reader blocks without a deadline: the camera may stay quiet
	// for hours. Closing the connection ends it.
	if err := s.evt.Conn.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("event connection: %w", err)
	}
	s.reading = true
	s.wg.Add(1)
	go s.readEvents()
	if s.cfg.Probe == ProbeAuto && SkipsProbe(s.camName) {
		s.log.Debug("no probe: the camera's name says Canon", "name", s.camName)
		return nil
	}
	return s.probe(ctx)
}

// cmdEnded reports whether the camera closed the command connection: it
// waits up to probeRefusedWait for its end, without consuming anything.
func (s *Session) cmdEnded(ctx context.Context) bool {
	wctx, cancel := context.WithTimeout(ctx, probeRefusedWait)
	defer cancel()
	release := s.cmd.bind(wctx, 0)
	_, err := s.r.Peek(1)
	release()
	// A timeout (the connection's deadline may fire just before the
	// context's) means nothing came: the connection is alive.
	return err != nil && !errors.Is(err, os.ErrDeadlineExceeded) && wctx.Err() == nil
}

func (s *Session) initCommand() error {
	req := &InitCommandRequest{GUID: s.cfg.GUID, Name: s.cfg.Name, Version: Version}
	if err := WritePacket(s.cmd, req); err != nil {
		return fmt.Errorf("sending Init Command Request: %w", err)
	}
	p, err := ReadPacket(s.r, s.cfg.MaxPacket)
	if err != nil {
		return fmt.Errorf("reading Init Command Ack: %w", err)
	}
	switch p := p.(type) {
	case *InitCommandAck:
		s.connNum, s.camGUID, s.camName = p.ConnectionNumber, p.GUID, p.Name
		return nil
	case *InitFail:
		return &InitFailError{Reason: p.Reason}
	}
	return fmt.Errorf("%w: %s instead of Init Command Ack", ErrProtocol, p.Type())
}

// dialEvent connects the event connection. Like libgphoto2, it retries a
// refused connection twice after 100 ms: some cameras open the event port
// only once the command connection is acknowledged.
func (s *Session) dialEvent(ctx context.Context, d *net.Dialer) (net.Conn, error) {
	for attempt := 0; ; attempt++ {
		c, err := d.DialContext(ctx, "tcp", s.addr)
		if err == nil || attempt == 2 || !errors.Is(err, syscall.ECONNREFUSED) {
			return c, err
		}
		s.log.Debug("event connection refused, retrying", "attempt", attempt+1)
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		}
	}
}

func (s *Session) initEvent() error {
	if err := WritePacket(s.evt, &InitEventRequest{ConnectionNumber: s.connNum}); err != nil {
		return fmt.Errorf("sending Init Event Request: %w", err)
	}
	p, err := ReadPacket(s.er, s.cfg.MaxPacket)
	if err != nil {
		return fmt.Errorf("reading Init Event Ack: %w", err)
	}
	switch p := p.(type) {
	case *InitEventAck:
		return nil
	case *InitFail:
		return &InitFailError{Reason: p.Reason}
	}
	return fmt.Errorf("%w: %s instead of Init Event Ack", ErrProtocol, p.Type())
}

// probe sends a Probe Request on the event connection as cfg.Probe says
// and waits for the event reader to see the answer.
func (s *Session) probe(ctx context.Context) error {
	mode := s.cfg.Probe
	if mode == ProbeOff {
		return nil
	}
	err := s.writeEvent(&ProbeRequest{})
	if err == nil {
		var timeout <-chan time.Time
		if mode == ProbeAuto {
			t := time.NewTimer(probeAutoWait)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case err = <-s.probeRes:
			if err == nil {
				s.log.Debug("probe answered")
				return nil
			}
		case <-timeout:
			// A late answer is read and ignored by the event reader.
			s.log.Debug("no probe response, continuing", "waited", probeAutoWait)
			return nil
		case <-ctx.Done():
			return fmt.Errorf("waiting for Probe Response: %w", context.Cause(ctx))
		}
	}
	if mode == ProbeOn {
		return fmt.Errorf("probe: %w", err)
	}
	// ProbeAuto: a camera that refuses the probe by dropping the event
	// connection still runs transactions; it just sends no events. One
	// that dropped the command connection too is dialled again.
	if s.cmdEnded(ctx) {
		return fmt.Errorf("%w: %v", errProbeRefused, err)
	}
	s.log.Warn("event connection ended after the probe; continuing without events", "err", err)
	s.evt.Close()
	return nil
}

// writeEvent writes one packet on the event connection.
func (s *Session) writeEvent(p Packet) error {
	s.evtWrite.Lock()
	defer s.evtWrite.Unlock()
	if err := s.evt.Conn.SetWriteDeadline(time.Now().Add(s.cfg.Timeout)); err != nil {
		return err
	}
	return WritePacket(s.evt.Conn, p)
}

// readEvents reads the event connection until it ends: it delivers events,
// answers the camera's Probe Requests and reports the first Probe Response
// to probe. It closes the Events channel when it returns.
func (s *Session) readEvents() {
	defer s.wg.Done()
	defer close(s.events)
	for {
		b, err := readRaw(s.er, s.cfg.MaxPacket)
		if err != nil {
			s.reportProbe(err)
			select {
			case <-s.done:
			default:
				s.log.Warn("event connection ended", "err", err)
			}
			s.dropped.flush(s.log)
			return
		}
		p, err := Unmarshal(b)
		if err != nil {
			// The whole packet was read: the stream is still in step.
			s.log.Warn("ignoring bad packet on the event connection", "err", err)
			continue
		}
		switch p := p.(type) {
		case *Event:
			ev := mtp.Event{Code: mtp.EventCode(p.Code), TransactionID: p.TransactionID, Params: p.Params}
			select {
			case s.events <- ev:
				s.log.Debug("ptp event", "event", ev.Code, "params", ev.Params)
			default:
				s.dropped.add(s.log, ev)
			}
		case *ProbeRequest:
			// The camera checks that we are alive: answer, or it may drop us.
			if err := s.writeEvent(&ProbeResponse{}); err != nil {
				s.log.Warn("answering the camera's probe", "err", err)
			}
		case *ProbeResponse:
			s.reportProbe(nil)
		default:
			s.log.Warn("ignoring unexpected packet on the event connection", "type", p.Type())
		}
	}
}

func (s *Session) reportProbe(err error) {
	select {
	case s.probeRes <- err:
	default:
	}
}

// keepAlive runs GetDeviceInfo whenever no transaction has run for
// KeepAlive. It is a real operation rather than a probe because Sony drops
// a session that sees only probes; idle gaps of tens of seconds make
// cameras drop WiFi altogether.
func (s *Session) keepAlive() {
	defer s.wg.Done()
	t := time.NewTimer(s.cfg.KeepAlive)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-s.done:
			return
		}
		select {
		case s.sem <- struct{}{}:
		case <-s.done:
			return
		}
		wait := s.cfg.KeepAlive - time.Since(s.lastOp)
		if s.ending.Load() {
			<-s.sem
			return
		}
		if wait <= 0 {
			_, err := s.doLocked(context.Background(), mtp.Request{Code: mtp.OpGetDeviceInfo}, nil, 0, nil, "keep-alive")
			if err != nil {
				<-s.sem
				s.log.Warn("keep-alive failed", "err", err)
				return
			}
			wait = s.cfg.KeepAlive
		}
		<-s.sem
		t.Reset(wait)
	}
}

// Do runs one transaction: see mtp.Transport. It waits for the transaction
// in flight, if any, while ctx allows. A failure of the transport breaks
// the session; a camera's non-OK response does not and is no error here.
// An error from dataIn ends the copy into it but not the transaction: the
// rest of the data is read and discarded and the error returned with the
// response, leaving the session usable.
func (s *Session) Do(ctx context.Context, req mtp.Request, dataOut io.Reader, dataOutSize int64, dataIn io.Writer) (mtp.Response, error) {
	select {
	case s.sem <- struct{}{}:
	case <-s.done:
		return mtp.Response{}, s.brokenErr()
	case <-ctx.Done():
		return mtp.Response{}, fmt.Errorf("ptpip: %s: waiting for the transaction in flight: %w", req.Code, context.Cause(ctx))
	}
	if s.ending.Load() {
		// Finish ends the session: this transaction never starts. It
		// waits, so that its caller can still be stopped (ctx) before
		// it sees the session closed.
		<-s.sem
		select {
		case <-s.done:
			return mtp.Response{}, s.brokenErr()
		case <-ctx.Done():
			return mtp.Response{}, fmt.Errorf("ptpip: %s: the session is ending: %w", req.Code, context.Cause(ctx))
		}
	}
	defer func() { <-s.sem }()
	return s.doLocked(ctx, req, dataOut, dataOutSize, dataIn, "ptp op")
}

// Finish ends the session gracefully: the transaction in flight may finish
// while ctx allows, then end runs the last transactions (CloseSession, a
// vendor's goodbye) on t, the session to itself, and the session is closed.
// A transaction asked for meanwhile never starts: it fails when its context
// ends or the session is closed, so end may first stop the session's other
// users. Ending their contexts before, instead, would break the session
// mid-transaction, and a broken session cannot say goodbye. When ctx ends
// first, the session is closed without end and Finish returns ctx's cause.
func (s *Session) Finish(ctx context.Context, end func(t mtp.Transport) error) error {
	s.ending.Store(true)
	defer s.Close()
	select {
	case s.sem <- struct{}{}:
	case <-s.done:
		return s.brokenErr()
	case <-ctx.Done():
		return fmt.Errorf("ptpip: waiting for the transaction in flight to end the session: %w", context.Cause(ctx))
	}
	defer func() { <-s.sem }()
	if err := s.brokenErr(); err != nil {
		return err
	}
	return end(lockedTransport{s})
}

// lockedTransport runs transactions on a session whose semaphore its
// caller holds (Finish).
type lockedTransport struct{ s *Session }

func (t lockedTransport) Do(ctx context.Context, req mtp.Request, dataOut io.Reader, dataOutSize int64, dataIn io.Writer) (mtp.Response, error) {
	return t.s.doLocked(ctx, req, dataOut, dataOutSize, dataIn, "ptp op")
}

func (t lockedTransport) Events() <-chan mtp.Event { return t.s.Events() }

// Close does nothing: Finish closes the session once end returns.
func (t lockedTransport) Close() error { return nil }

// doLocked runs one transaction; the caller holds sem. msg is the debug
// log message.
func (s *Session) doLocked(ctx context.Context, req mtp.Request, dataOut io.Reader, dataOutSize int64, dataIn io.Writer, msg string) (mtp.Response, error) {
	if err := s.brokenErr(); err != nil {
		return mtp.Response{}, err
	}
	// Nothing has been sent yet: these failures leave the session intact.
	if len(req.Params) > maxParams {
		return mtp.Response{}, fmt.Errorf("ptpip: %s: %d parameters, at most %d", req.Code, len(req.Params), maxParams)
	}
	if dataOut != nil && dataOutSize < 0 {
		return mtp.Response{}, fmt.Errorf("ptpip: %s: negative data size %d", req.Code, dataOutSize)
	}
	if ctx.Err() != nil {
		return mtp.Response{}, fmt.Errorf("ptpip: %s: %w", req.Code, context.Cause(ctx))
	}

	tid := s.nextTIDLocked(req.Code)
	start := time.Now()
	release := s.cmd.bind(ctx, s.cfg.Timeout)
	s.cmd.budget(start, s.cfg.MinRate)
	tx := transaction{s: s, tid: tid}
	resp, err := tx.run(req, dataOut, dataOutSize, dataIn)
	cause := release()
	s.lastOp = time.Now()
	if err != nil {
		switch {
		case cause != nil:
			err = withCause(cause, err)
		case errors.Is(err, os.ErrDeadlineExceeded) && s.cmd.exhausted():
			err = fmt.Errorf("too slow: %d data bytes in %v, under %d bytes/s after %v: %w",
				tx.in+tx.out, time.Since(start).Round(time.Millisecond), s.cfg.MinRate, s.cfg.Timeout, err)
		case errors.Is(err, os.ErrDeadlineExceeded):
			err = fmt.Errorf("no progress for %v: %w", s.cfg.Timeout, err)
		}
		err = fmt.Errorf("%s tid %d: %w", req.Code, tid, err)
		s.breakWith(err)
		s.log.Warn("ptp/ip session broken", "op", req.Code, "tid", tid, "err", err)
		return mtp.Response{}, &brokenError{cause: err}
	}
	dur := time.Since(start)
	s.log.Debug(msg, "op", req.Code, "tid", tid, "dur", dur,
		"bytes", tx.in+tx.out, "resp", resp.Code)
	if f := s.observe.Load(); f != nil {
		(*f)(req.Code, tx.in+tx.out, dur)
	}
	if tx.sinkErr != nil {
		return resp, fmt.Errorf("ptpip: %s tid %d: writing received data: %w", req.Code, tid, tx.sinkErr)
	}
	return resp, nil
}

// Observe makes f see every transaction that completes: its operation,
// the bytes of its data phase and how long it took from request to
// response. f runs on the transaction's goroutine, after it, and must be
// quick; nil stops it.
func (s *Session) Observe(f func(op mtp.OpCode, bytes int64, dur time.Duration)) {
	if f == nil {
		s.observe.Store(nil)
		return
	}
	s.observe.Store(&f)
}

// withCause reports err, an I/O failure caused by the end of a context, as
// that context's cause.
func withCause(cause, err error) error {
	if errors.Is(err, cause) {
		return err
	}
	return fmt.Errorf("%w: %w", cause, err)
}

// nextTIDLocked returns the transaction ID of the next operation, op,
// numbered as libgphoto2 numbers them: OpenSession has ID 0 (PTP's rule;
// libgphoto2 ptp.c ptp_opensession sets it) and the operations after it
// count from 1; GetDeviceInfo before OpenSession has ID 0 too, libgphoto2's
// first ID. 0xFFFFFFFF is reserved, so the counter wraps from 0xFFFFFFFE
// to 1.
func (s *Session) nextTIDLocked(op mtp.OpCode) uint32 {
	switch {
	case op == mtp.OpOpenSession:
		s.opened = true
		s.tid = 0
		return 0
	case op == mtp.OpGetDeviceInfo && !s.opened:
		return 0
	}
	s.tid++
	if s.tid == 0 || s.tid == 0xFFFFFFFF {
		s.tid = 1
	}
	return s.tid
}

// transaction is one run of the request / data / response exchange.
type transaction struct {
	s         *Session
	tid       uint32
	in, out   int64 // data bytes received and sent
	sinkErr   error // first error writing into dataIn
	tidLogged bool  // a packet with another transaction ID was logged
}

func (t *transaction) run(req mtp.Request, dataOut io.Reader, dataOutSize int64, dataIn io.Writer) (mtp.Response, error) {
	s := t.s
	op := OperationRequest{DataPhase: DataPhaseNoneOrIn, Code: uint16(req.Code), TransactionID: t.tid, Params: req.Params}
	if dataOut != nil {
		op.DataPhase = DataPhaseOut
	}
	b, err := op.AppendBinary(s.buf[:0])
	if err != nil {
		return mtp.Response{}, err
	}
	if _, err := s.cmd.Write(b); err != nil {
		return mtp.Response{}, fmt.Errorf("sending Operation Request: %w", err)
	}
	if dataOut != nil {
		if err := t.send(dataOut, dataOutSize); err != nil {
			return mtp.Response{}, err
		}
	}
	return t.receive(dataIn)
}

// send writes the host->camera data phase: Start Data with the total, then
// Data packets of at most bufSize bytes, the last piece in End Data (an
// empty End Data for no data).
func (t *transaction) send(r io.Reader, size int64) error {
	s := t.s
	b, _ := (&StartData{TransactionID: t.tid, TotalLength: uint64(size)}).AppendBinary(s.buf[:0])
	if _, err := s.cmd.Write(b); err != nil {
		return fmt.Errorf("sending Start Data: %w", err)
	}
	const chunk = bufSize - DataHeaderSize
	for {
		n := int(min(size-t.out, chunk))
		if _, err := io.ReadFull(r, s.buf[DataHeaderSize:DataHeaderSize+n]); err != nil {
			// The camera now waits for bytes we do not have: the
			// session cannot continue.
			return fmt.Errorf("reading the data to send at %d of %d bytes: %w", t.out, size, err)
		}
		typ := PacketData
		if t.out+int64(n) == size {
			typ = PacketEndData
		}
		binary.LittleEndian.PutUint32(s.buf[0:], uint32(DataHeaderSize+n))
		binary.LittleEndian.PutUint32(s.buf[4:], uint32(typ))
		binary.LittleEndian.PutUint32(s.buf[8:], t.tid)
		if _, err := s.cmd.Write(s.buf[:DataHeaderSize+n]); err != nil {
			return fmt.Errorf("sending %s: %w", typ, err)
		}
		t.out += int64(n)
		s.cmd.moved(int64(n))
		if typ == PacketEndData {
			return nil
		}
	}
}

// receive reads the optional camera->host data phase and the response.
// Cameras split data differently (Nikon: Start Data then one End Data;
// Canon: several Data then End Data; PlayMemories: one Data and an empty
// End Data), so every split is accepted, including empty pieces. A failing
// operation may answer with a Response and no data phase.
func (t *transaction) receive(dataIn io.Writer) (mtp.Response, error) {
	s := t.s
	var (
		started bool   // Start Data seen
		ended   bool   // End Data seen
		total   uint64 // Start Data's TotalLength
	)
	for {
		if _, err := io.ReadFull(s.r, s.hdr[:]); err != nil {
			return mtp.Response{}, fmt.Errorf("reading a packet header: %w", unexpected(err))
		}
		// Data pieces are streamed, so only the 32-bit Length field limits them.
		h, err := parseHeader(s.hdr[:], ^uint32(0))
		if err != nil {
			return mtp.Response{}, err
		}
		switch h.Type {
		case PacketData, PacketEndData:
			if !started || ended {
				return mtp.Response{}, fmt.Errorf("%w: %s outside a data phase", ErrProtocol, h.Type)
			}
			if h.Length < DataHeaderSize {
				return mtp.Response{}, fmt.Errorf("%w: %s of %d bytes", ErrMalformed, h.Type, h.Length)
			}
			if _, err := io.ReadFull(s.r, s.hdr[:4]); err != nil {
				return mtp.Response{}, fmt.Errorf("reading %s: %w", h.Type, unexpected(err))
			}
			t.check(h.Type, binary.LittleEndian.Uint32(s.hdr[:]))
			n := int64(h.Length - DataHeaderSize)
			if total != UnknownLength && uint64(t.in+n) > total {
				return mtp.Response{}, fmt.Errorf("%w: %d data bytes received, Start Data announced %d", ErrProtocol, t.in+n, total)
			}
			if err := t.copy(dataIn, n); err != nil {
				return mtp.Response{}, err
			}
			if h.Type == PacketEndData {
				ended = true
				if total != UnknownLength && uint64(t.in) != total {
					return mtp.Response{}, fmt.Errorf("%w: %d data bytes received, Start Data announced %d", ErrProtocol, t.in, total)
				}
			}
			continue
		}
		if h.Length > s.cfg.MaxPacket {
			return mtp.Response{}, fmt.Errorf("%w: %s of %d bytes, maximum %d", ErrTooLarge, h.Type, h.Length, s.cfg.MaxPacket)
		}
		b, err := readRest(s.r, h, s.buf)
		if err != nil {
			return mtp.Response{}, fmt.Errorf("reading %s: %w", h.Type, err)
		}
		p, err := Unmarshal(b)
		if err != nil {
			return mtp.Response{}, err
		}
		switch p := p.(type) {
		case *StartData:
			if started {
				return mtp.Response{}, fmt.Errorf("%w: second Start Data", ErrProtocol)
			}
			t.check(p.Type(), p.TransactionID)
			started, total = true, p.TotalLength
		case *OperationResponse:
			if started && !ended {
				return mtp.Response{}, fmt.Errorf("%w: Operation Response before End Data", ErrProtocol)
			}
			t.check(p.Type(), p.TransactionID)
			return mtp.Response{Code: mtp.ResponseCode(p.Code), TransactionID: p.TransactionID, Params: p.Params}, nil
		case *ProbeRequest:
			// Probes may come on either connection; answer so the
			// camera keeps the session. A probe is no progress: it
			// extends neither the transaction's allowance nor, beyond
			// the next read, its wait.
			b, _ := (&ProbeResponse{}).AppendBinary(s.buf[:0])
			if _, err := s.cmd.Write(b); err != nil {
				return mtp.Response{}, fmt.Errorf("answering a probe: %w", err)
			}
		default:
			return mtp.Response{}, fmt.Errorf("%w: unexpected %s in a transaction", ErrProtocol, p.Type())
		}
	}
}

// check looks at the transaction ID of a packet of the transaction. One
// that differs is accepted, logged at debug once per transaction: exactly
// one transaction is in flight (the session runs one at a time and breaks
// on any failure, so no earlier answer can arrive late), and some
// responders answer with ID 0 (issue 15; gphoto2 carries on). The order of
// the packets is still checked.
func (t *transaction) check(typ PacketType, tid uint32) {
	if tid != t.tid && !t.tidLogged {
		t.tidLogged = true
		t.s.log.Debug("camera answered with another transaction ID; accepted", "packet", typ, "tid", tid, "want", t.tid)
	}
}

// copy streams n data bytes into dst (discarding them when dst is nil)
// through the session's buffer. After dst fails, the bytes are discarded
// so that the stream stays in step.
func (t *transaction) copy(dst io.Writer, n int64) error {
	s := t.s
	for n > 0 {
		k := int(min(n, bufSize))
		if _, err := io.ReadFull(s.r, s.buf[:k]); err != nil {
			return fmt.Errorf("reading data at byte %d: %w", t.in, unexpected(err))
		}
		if dst != nil && t.sinkErr == nil {
			if _, err := dst.Write(s.buf[:k]); err != nil {
				t.sinkErr = err
			}
		}
		t.in += int64(k)
		s.cmd.moved(int64(k))
		n -= int64(k)
	}
	return nil
}

// unexpected turns an end of stream inside a transaction into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Events returns the camera's events. The channel is closed when the event
// connection ends (the session broke or was closed, or the camera closed
// it). Events that arrive while the channel is full are dropped, counted
// (DroppedEvents) and logged once per dropLogEvery.
func (s *Session) Events() <-chan mtp.Event { return s.events }

// DroppedEvents is how many events arrived while the Events channel was
// full and were dropped.
func (s *Session) DroppedEvents() uint64 { return s.dropped.total.Load() }

// drops counts dropped events and logs them: the first at once, then the
// count of those since once per dropLogEvery (a flood of events must not
// become a flood of log lines).
type drops struct {
	total atomic.Uint64

	mu      sync.Mutex
	pending uint64      // dropped since the last line
	last    time.Time   // the last line
	timer   *time.Timer // logs pending at last+dropLogEvery; nil: none set
}

func (d *drops) add(log *slog.Logger, ev mtp.Event) {
	d.total.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.pending++
	switch {
	case d.timer != nil:
	case time.Since(d.last) >= dropLogEvery:
		log.Warn("event dropped: events arrive faster than they are handled; further drops are counted",
			"event", ev.Code, "params", ev.Params, "dropped", d.pending, "total", d.total.Load())
		d.pending, d.last = 0, time.Now()
		fallthrough
	default:
		d.timer = time.AfterFunc(time.Until(d.last.Add(dropLogEvery)), func() { d.flush(log) })
	}
}

// flush logs the drops not logged yet, if any.
func (d *drops) flush(log *slog.Logger) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.pending == 0 {
		return
	}
	log.Warn("events dropped: events arrive faster than they are handled", "dropped", d.pending,
		"total", d.total.Load(), "since", time.Since(d.last).Round(time.Second))
	d.pending, d.last = 0, time.Now()
}

// ConnectionNumber is the number the camera gave this connection in its
// Init Command Ack.
func (s *Session) ConnectionNumber() uint32 { return s.connNum }

// CameraName is the friendly name from the camera's Init Command Ack.
func (s *Session) CameraName() string { return s.camName }

// CameraGUID is the GUID from the camera's Init Command Ack.
func (s *Session) CameraGUID() [16]byte { return s.camGUID }

// Err returns why the session is broken (ErrClosed after Close), or nil
// while it works.
func (s *Session) Err() error {
	s.state.Lock()
	defer s.state.Unlock()
	return s.cause
}

// Done is closed when the session breaks (the camera hung up, a
// transaction failed in the transport, the keep-alive failed) or is
// closed; Err then says why.
func (s *Session) Done() <-chan struct{} { return s.done }

func (s *Session) brokenErr() error {
	if err := s.Err(); err != nil {
		return &brokenError{cause: err}
	}
	return nil
}

// breakWith marks the session broken with cause, unless it already is,
// and closes both connections: this ends a transaction in flight, the event
// reader (closing Events) and the keep-alive.
func (s *Session) breakWith(cause error) {
	s.state.Lock()
	defer s.state.Unlock()
	if s.cause != nil {
		return
	}
	s.cause = cause
	close(s.done)
	if s.cmd != nil {
		s.cmd.Close()
	}
	if s.evt != nil {
		s.evt.Close()
	}
}

// Close closes both connections and waits for the session's goroutines.
// It sends nothing (no CloseSession). It is idempotent.
func (s *Session) Close() error {
	s.breakWith(ErrClosed)
	s.wg.Wait()
	return nil
}

// aLongTimeAgo is a deadline in the past: it makes pending I/O fail now.
var aLongTimeAgo = time.Unix(1, 0)

// guardedConn arms the connection's deadline before each Read and Write,
// and ties it to the context of the current transaction.
type guardedConn struct {
	net.Conn

	mu       sync.Mutex
	progress time.Duration // longest wait of one Read or Write; 0: none
	limit    time.Time     // the context's deadline; zero: none
	cause    error         // set when the context ended: I/O fails with it

	// The transaction's allowance (budget): it ends progress after
	// start, plus one second per minRate bytes moved. minRate 0: none.
	start   time.Time
	minRate int64
	bytes   int64
}

// arm sets the deadline for the next Read or Write: progress from now,
// but never later than the transaction's allowance (so a transfer lives
// as long as its data keeps the minimum rate) or the context's deadline.
func (c *guardedConn) arm() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cause != nil {
		return c.cause
	}
	d := c.limit
	if c.progress > 0 {
		if p := time.Now().Add(c.progress); d.IsZero() || p.Before(d) {
			d = p
		}
		if e, ok := c.budgetEndLocked(); ok && e.Before(d) {
			d = e
		}
	}
	return c.Conn.SetDeadline(d)
}

// budgetEndLocked is when the transaction's allowance runs out; false
// without one. c.mu must be held.
func (c *guardedConn) budgetEndLocked() (time.Time, bool) {
	if c.minRate <= 0 || c.progress <= 0 {
		return time.Time{}, false
	}
	return c.start.Add(c.progress + time.Duration(float64(c.bytes)/float64(c.minRate)*float64(time.Second))), true
}

// exhausted reports whether the last transaction's allowance has run out.
func (c *guardedConn) exhausted() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.budgetEndLocked()
	return ok && !time.Now().Before(e)
}

// budget starts the allowance of the transaction bound now (bind): it
// began at start and must move minRate bytes a second after its first
// progress interval.
func (c *guardedConn) budget(start time.Time, minRate int64) {
	c.mu.Lock()
	c.start, c.minRate, c.bytes = start, minRate, 0
	c.mu.Unlock()
}

// moved credits n data bytes of the transaction to its allowance.
func (c *guardedConn) moved(n int64) {
	c.mu.Lock()
	c.bytes += n
	c.mu.Unlock()
}

func (c *guardedConn) Read(p []byte) (int, error) {
	if err := c.arm(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *guardedConn) Write(p []byte) (int, error) {
	if err := c.arm(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// bind ties ctx to the connection until release: I/O gets ctx's deadline,
// and cancellation moves the deadline to the past so blocked I/O returns
// at once. release returns ctx's cause if ctx ended meanwhile.
func (c *guardedConn) bind(ctx context.Context, progress time.Duration) (release func() error) {
	c.mu.Lock()
	c.progress = progress
	c.limit, _ = ctx.Deadline()
	c.cause = nil
	c.mu.Unlock()
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(fired)
		c.mu.Lock()
		defer c.mu.Unlock()
		c.cause = context.Cause(ctx)
		c.Conn.SetDeadline(aLongTimeAgo)
	})
	return func() error {
		if !stop() {
			<-fired // the cancellation ran or is running: let it finish before reading cause
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		cause := c.cause
		if cause == nil && !c.limit.IsZero() && !time.Now().Before(c.limit) {
			// The connection's deadline (ctx's) can expire just before
			// ctx's own timer fires.
			cause = context.DeadlineExceeded
		}
		c.cause = nil
		c.limit = time.Time{}
		return cause
	}
}
