package camsim

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// ErrClosed is returned by Serve after Close.
var ErrClosed = errors.New("camsim: camera closed")

// initTimeout bounds how long a new connection may take to say what it is.
const initTimeout = 30 * time.Second

// Camera is one simulated camera. It may serve several listeners; its
// methods are safe for concurrent use.
type Camera struct {
	s     *settings
	p     *Personality
	log   *slog.Logger
	cards []*card // by slot, slot 1 first
	ops   map[mtp.OpCode]opFunc
	link  *link

	// refuseInit is the Init Fail reason every Init Command Request
	// gets (0: none), set through the control socket.
	refuseInit atomic.Uint32

	faults  faults     // AccessDenied, StoreNotAvailable (faults.go)
	sel     selection  // photos marked on the camera (selection.go)
	clock   clockState // the camera's clock (clock.go)
	hostile *hostile   // --hostile objects (hostile.go); nil without

	mu        sync.Mutex // guards the fields below
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	sessions  map[uint32]*session // by connection number
	nextConn  uint32
	polling   bool
	// wedged: the next Init Command Request goes unanswered (Nikon,
	// after a session that ended within a second of opening).
	wedged  bool
	control net.Listener
	sony    *sonyCamera        // Send to Computer (sony.go); nil for other makes
	ssdp    *announcer         // SSDP announcements (ssdp.go); nil without
	opCount map[mtp.OpCode]int // operations answered, by code
	// unsimulated: operations the body lists that were asked for and
	// answered OperationNotSupported (logged once each).
	unsimulated map[mtp.OpCode]bool
	inits       int // Init Command Requests received

	done chan struct{} // closed by Close
	wg   sync.WaitGroup
}

// New makes a camera of the configured cards and scans them once.
func New(cfg Config) (*Camera, error) {
	s, err := cfg.resolve()
	if err != nil {
		return nil, err
	}
	c := &Camera{
		s: s, p: s.p, log: s.Logger,
		ops:         map[mtp.OpCode]opFunc{},
		link:        &link{rate: s.Rate, latency: s.Latency},
		listeners:   map[net.Listener]struct{}{},
		conns:       map[net.Conn]struct{}{},
		sessions:    map[uint32]*session{},
		opCount:     map[mtp.OpCode]int{},
		unsimulated: map[mtp.OpCode]bool{},
		nextConn:    1,
		done:        make(chan struct{}),
	}
	for _, op := range s.p.Ops {
		c.ops[op] = allOps[op]
	}
	if s.p.Make == "nikon" {
		// Every Nikon answers GetTransferList, listed or not (a J4 does
		// without listing it: Airnef asks every Nikon).
		c.ops[mtp.OpNikonGetTransferList] = allOps[mtp.OpNikonGetTransferList]
	}
	c.sel.marked = map[string]bool{}
	c.clock.offset = s.ClockOffset
	if err := c.setupFaults(); err != nil {
		return nil, err
	}
	if c.sony = newSonyCamera(c); c.sony != nil {
		s.PollInterval = -1 // no realtime shots: new files at the next Press
	}
	hs := newHandles(s.p.EncodedHandles)
	var slot1 medium
	if s.Generate != nil {
		if err := s.Generate.check(); err != nil {
			return nil, err
		}
		slot1 = newGenMedium(*s.Generate, s.p.Layout, s.Manufacturer, s.Model, s.Location)
	} else {
		slot1 = newDirMedium(s.Dir, s.Logger)
	}
	c.cards = append(c.cards, newCard(1, slot1, s.p.Formats, hs, s.Logger))
	if s.Dir2 != "" {
		c.cards = append(c.cards, newCard(2, newDirMedium(s.Dir2, s.Logger), s.p.Formats, hs, s.Logger))
	}
	for _, cd := range c.cards {
		if _, err := cd.scan(); err != nil {
			return nil, err
		}
	}
	if s.TransferList > 0 {
		c.markFirst(s.TransferList)
	}
	return c, nil
}

// cardFor returns the card with StorageID id.
func (c *Camera) cardFor(id uint32) *card {
	for _, cd := range c.cards {
		if cd.storage == id {
			return cd
		}
	}
	return nil
}

// object returns a copy of the object with handle h and its card.
func (c *Camera) object(h uint32) (object, *card, bool) {
	for _, cd := range c.cards {
		if o, ok := cd.get(h); ok {
			return o, cd, true
		}
	}
	return object{}, nil, false
}

// objects returns copies of the objects of storage (0xFFFFFFFF: all) that
// keep accepts, in handle order.
func (c *Camera) objects(storage uint32, keep func(*object) bool) []object {
	var out []object
	for _, cd := range c.cards {
		if storage == 0xFFFFFFFF || storage == cd.storage {
			out = cd.list(out, keep)
		}
	}
	sortObjects(out)
	return out
}

// GUID is the camera's GUID, as sent in the Init Command Ack.
func (c *Camera) GUID() [16]byte { return c.s.GUID }

// OpenSessions is the number of hosts with an open PTP session and an
// event connection: those that receive events.
func (c *Camera) OpenSessions() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, s := range c.sessions {
		if s.evt != nil && s.sessionID.Load() != 0 {
			n++
		}
	}
	return n
}

// Start listens on addr (use "127.0.0.1:0" in tests), serves in the
// background and returns the address it listens on. Close stops it.
func (c *Camera) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.Serve(ln); err != nil && !errors.Is(err, ErrClosed) {
			c.log.Error("serve", "addr", ln.Addr(), "err", err)
		}
	}()
	return ln.Addr().String(), nil
}

// ListenAndServe listens on addr and serves until Close.
func (c *Camera) ListenAndServe(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return c.Serve(ln)
}

// Serve accepts connections on ln until Close or an accept error; it
// closes ln. Both PTP/IP connections of a host arrive on the same listener.
// After Close it returns ErrClosed.
func (c *Camera) Serve(ln net.Listener) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	c.listeners[ln] = struct{}{}
	if !c.polling && c.s.PollInterval > 0 {
		c.polling = true
		c.wg.Add(1)
		go c.poll()
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.listeners, ln)
		c.mu.Unlock()
		ln.Close()
	}()
	c.log.Info("camera listening", "addr", ln.Addr(), "personality", c.p.Name, "card", c.cards[0].m.String())
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-c.done:
				return ErrClosed
			default:
				return err
			}
		}
		if c.smartphone() {
			// Send to Smartphone offers no PTP/IP (Airnef's notes): the
			// connection is closed unanswered.
			c.log.Info("Send to Smartphone: PTP/IP connection refused", "from", nc.RemoteAddr())
			nc.Close()
			continue
		}
		if !c.track(nc) {
			nc.Close()
			return ErrClosed
		}
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			defer c.untrack(nc)
			c.serveConn(nc)
		}()
	}
}

// Close stops every listener and connection and waits for them to end.
func (c *Camera) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	for ln := range c.listeners {
		ln.Close()
	}
	for nc := range c.conns {
		nc.Close()
	}
	if c.control != nil {
		c.control.Close()
	}
	ssdp := c.ssdp
	c.mu.Unlock()
	if ssdp != nil {
		ssdp.close() // byebye
	}
	c.wg.Wait()
	return nil
}

// OpCount is how many times the camera received operation op: tests
// check which operations a client chose.
func (c *Camera) OpCount(op mtp.OpCode) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opCount[op]
}

// OpCounts is how many times the camera received each operation.
func (c *Camera) OpCounts() map[mtp.OpCode]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.opCount)
}

// notSimulated notes that op, which the camera does not implement, was
// asked for; the first time, a body that lists it says so in the log.
func (c *Camera) notSimulated(op mtp.OpCode) {
	c.mu.Lock()
	first := !c.unsimulated[op]
	c.unsimulated[op] = true
	c.mu.Unlock()
	if first && c.p.Body != nil && slices.Contains(c.p.Body.Ops, op) {
		c.log.Info("operation listed in the body's DeviceInfo but not simulated: OperationNotSupported", "op", op, "body", c.p.Body.Name)
	}
}

// Connections is the number of open command connections.
func (c *Camera) Connections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sessions)
}

// Inits is how many Init Command Requests the camera received.
func (c *Camera) Inits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inits
}

// File is one entry of a card, as the camera serves it.
type File struct {
	Slot    int
	Path    string // slash-separated, below the card root
	Dir     bool
	Size    int64
	ModTime time.Time
	Handle  uint32
}

// Files lists every card's entries, slot 1 first, in handle order.
func (c *Camera) Files() []File {
	var out []File
	for _, o := range c.objects(0xFFFFFFFF, func(*object) bool { return true }) {
		out = append(out, File{Slot: int(o.storage >> 16), Path: o.rel, Dir: o.dir, Size: o.size, ModTime: o.mtime, Handle: o.handle})
	}
	return out
}

// Open opens the file at path on the card in slot, read from the medium
// directly (for a generated card, from its generator): what a test
// compares the bytes read through the camera with.
func (c *Camera) Open(slot int, path string) (io.ReaderAt, io.Closer, error) {
	for _, cd := range c.cards {
		if cd.slot == slot {
			b, err := cd.m.open(path)
			return b, b, err
		}
	}
	return nil, nil, fmt.Errorf("camsim: no card in slot %d", slot)
}

// track registers a connection so Close can end it; false after Close.
func (c *Camera) track(nc net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return false
	}
	c.conns[nc] = struct{}{}
	return true
}

func (c *Camera) untrack(nc net.Conn) {
	nc.Close()
	c.mu.Lock()
	delete(c.conns, nc)
	c.mu.Unlock()
}

// Rescan brings the card up to date with its directory now and sends the
// events for what changed, as the poller does every PollInterval.
func (c *Camera) Rescan() error {
	var errs []error
	for _, cd := range c.cards {
		changes, err := cd.scan()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, ch := range changes {
			c.log.Info("card changed", "slot", cd.slot, "event", ch.code, "handle", ch.handle)
			c.broadcast(ch)
		}
	}
	return errors.Join(errs...)
}

func (c *Camera) poll() {
	defer c.wg.Done()
	t := time.NewTicker(c.s.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-t.C:
			if err := c.Rescan(); err != nil {
				c.log.Warn("card scan", "err", err)
			}
		}
	}
}

// maxQueued bounds the events queued for GetEvent per session: a host
// that never polls costs no more.
const maxQueued = 4096

// broadcast sends an event to every host with an open session and an
// event connection; a camera reporting through GetEvent queues it for
// each open session instead, and one that reports nothing drops it.
func (c *Camera) broadcast(ch change) {
	c.mu.Lock()
	var to []*wire
	for _, s := range c.sessions {
		if s.sessionID.Load() == 0 {
			continue
		}
		switch c.p.Events {
		case EventsGetEvent:
			if len(s.queued) < maxQueued {
				s.queued = append(s.queued, mtp.Event{Code: ch.code, Params: []uint32{ch.handle}})
			}
		case EventsOnConnection:
			if s.evt != nil {
				to = append(to, s.evt)
			}
		}
	}
	c.mu.Unlock()
	// Events belong to no transaction: TransactionID 0xFFFFFFFF.
	ev := &ptpip.Event{Code: uint16(ch.code), TransactionID: 0xFFFFFFFF, Params: []uint32{ch.handle}}
	for _, w := range to {
		if err := w.send(ev); err != nil {
			c.log.Warn("event not sent", "event", ch.code, "err", err)
			w.Close()
		}
	}
}

// serveConn reads the first packet of a connection, which says what the
// connection is, and serves it.
func (c *Camera) serveConn(nc net.Conn) {
	log := c.log.With("remote", nc.RemoteAddr())
	w := newWire(nc, c.link)
	defer w.Close()
	for {
		if err := nc.SetReadDeadline(time.Now().Add(initTimeout)); err != nil {
			return
		}
		p, err := readControl(nc)
		if err != nil {
			log.Debug("connection ended before init", "err", err)
			return
		}
		if err := nc.SetReadDeadline(time.Time{}); err != nil {
			return
		}
		switch p := p.(type) {
		case *ptpip.ProbeRequest:
			if err := w.send(&ptpip.ProbeResponse{}); err != nil {
				return
			}
			continue
		case *ptpip.InitCommandRequest:
			c.serveCommand(w, p, log)
		case *ptpip.InitEventRequest:
			c.serveEvent(w, p, log)
		default:
			log.Warn("connection does not start with an init request", "packet", p.Type())
		}
		return
	}
}

// serveCommand answers an Init Command Request and runs the command
// connection.
func (c *Camera) serveCommand(w *wire, req *ptpip.InitCommandRequest, log *slog.Logger) {
	log = log.With("host", req.Name)
	c.mu.Lock()
	c.inits++
	c.mu.Unlock()
	if req.Version != ptpip.Version && req.Version != 1 {
		log.Warn("init refused: protocol version", "version", fmt.Sprintf("%#x", req.Version))
		w.send(&ptpip.InitFail{Reason: ptpip.FailUnspecified})
		return
	}
	if reason := c.refuseInit.Load(); reason != 0 {
		log.Warn("init refused as told", "reason", reason)
		w.send(&ptpip.InitFail{Reason: reason})
		return
	}
	if c.sony != nil && !c.sony.admit(w, req, log) {
		return
	}
	c.mu.Lock()
	wedged := c.wedged
	c.wedged = false
	c.mu.Unlock()
	if wedged {
		// Nikon: a session that ended within a second of opening leaves
		// the camera unable to answer the next connection.
		log.Warn("init not answered: the last session ended less than a second after it opened")
		io.Copy(io.Discard, w.c) // until the host gives up
		return
	}
	if d := c.s.AuthDelay; d > 0 {
		// Canon: the camera asks its user to accept this computer.
		log.Info("init: waiting for the user to accept", "delay", d)
		if sleepUntil(time.Now().Add(d), c.done) != nil {
			return
		}
	}
	c.mu.Lock()
	if c.p.MaxConnections > 0 && len(c.sessions) >= c.p.MaxConnections {
		c.mu.Unlock()
		log.Warn("init refused: busy")
		w.send(&ptpip.InitFail{Reason: ptpip.FailBusy})
		return
	}
	s := &session{cam: c, num: c.nextConn, cmd: w, host: req.Name, hostGUID: req.GUID, buf: make([]byte, ptpip.DataHeaderSize+64<<10)}
	c.nextConn++
	c.sessions[s.num] = s
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.sessions, s.num)
		evt := s.evt
		c.mu.Unlock()
		if evt != nil { // the event connection ends with its command connection
			evt.Close()
		}
		s.endSession()
	}()
	s.log = log.With("conn", s.num)
	ack := &ptpip.InitCommandAck{ConnectionNumber: s.num, GUID: c.s.GUID, Name: c.s.Model, Version: ptpip.Version}
	if err := w.send(ack); err != nil {
		return
	}
	s.log.Info("command connection open", "guid", fmt.Sprintf("%x", req.GUID), "version", fmt.Sprintf("%#x", req.Version))
	err := s.run()
	s.log.Info("command connection closed", "err", err)
}

// serveEvent answers an Init Event Request and runs the event connection:
// the camera writes events to it; the host may send Probe Requests.
func (c *Camera) serveEvent(w *wire, req *ptpip.InitEventRequest, log *slog.Logger) {
	c.mu.Lock()
	s := c.sessions[req.ConnectionNumber]
	ok := s != nil && s.evt == nil
	if ok {
		s.evt = w
	}
	c.mu.Unlock()
	if !ok {
		log.Warn("event connection refused: unknown connection number", "conn", req.ConnectionNumber)
		w.send(&ptpip.InitFail{Reason: ptpip.FailUnspecified})
		return
	}
	defer func() {
		c.mu.Lock()
		if s.evt == w {
			s.evt = nil
		}
		c.mu.Unlock()
	}()
	if err := w.send(&ptpip.InitEventAck{}); err != nil {
		return
	}
	c.mu.Lock()
	s.evtOpened = time.Now()
	c.mu.Unlock()
	log = log.With("conn", req.ConnectionNumber)
	log.Info("event connection open")
	for {
		p, err := readControl(w.c)
		if err != nil {
			log.Info("event connection closed", "err", err)
			return
		}
		switch p.(type) {
		case *ptpip.ProbeRequest:
			if c.s.ProbeRefuse {
				// As reported for Canon EOS M5/G9X: the probe costs
				// the host its connection.
				log.Warn("probe refused: dropping the connection")
				s.cmd.Close()
				return
			}
			s.probed.Store(true)
			if err := w.send(&ptpip.ProbeResponse{}); err != nil {
				return
			}
		default:
			log.Warn("unexpected packet on the event connection", "packet", p.Type())
		}
	}
}
