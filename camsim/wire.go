package camsim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/airnef-mount/airnef-mount/ptpip"
)

// maxControlPacket bounds every packet but Data and End Data, whose
// payloads are streamed: control packets are a few dozen bytes.
const maxControlPacket = 64 << 10

// writeTimeout bounds one write: a host that stops reading must not hold a
// goroutine (or the card scanner sending events) forever.
const writeTimeout = 10 * time.Second

// wire is one TCP connection of the camera. Every byte the simulator sends
// goes through writeLocked, the single place where the link model (rate,
// stalls) acts on the traffic.
type wire struct {
	c    net.Conn
	link *link
	mu   sync.Mutex // serialises writes: whole packets never interleave

	closeOnce sync.Once
	done      chan struct{} // closed by Close: ends waits for the link
}

func newWire(c net.Conn, l *link) *wire { return &wire{c: c, link: l, done: make(chan struct{})} }

// write sends b, one or more whole packets.
func (w *wire) write(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.writeLocked(b)
}

// writeLocked sends b as the link allows: not while the camera is stalled,
// and with a rate, in pieces of at most pacePiece bytes, each sent when
// the link would have carried it.
func (w *wire) writeLocked(b []byte) error {
	for len(b) > 0 {
		if err := w.link.waitStall(w.done); err != nil {
			return err
		}
		n := len(b)
		if w.link.rate > 0 {
			n = min(n, pacePiece)
			if err := w.link.pace(n, w.done); err != nil {
				return err
			}
		}
		n, cut := w.link.drops.budget(n)
		if n > 0 {
			if err := w.c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
				return err
			}
			if _, err := w.c.Write(b[:n]); err != nil {
				return err
			}
		}
		if cut {
			w.link.drops.drop()
			return errDropped
		}
		b = b[n:]
	}
	return nil
}

// packet sends one packet: hdr, then n payload bytes read from src at off
// through buf, a piece at a time, so a packet of gigabytes (Nikon's single
// End Data) is never held in memory.
func (w *wire) packet(hdr []byte, src io.ReaderAt, off, n int64, buf []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	k := copy(buf, hdr)
	for first := true; first || n > 0; first = false {
		m := min(n, int64(len(buf)-k))
		if got, err := src.ReadAt(buf[k:k+int(m)], off); int64(got) != m {
			// The file shrank under us: the promised total cannot be
			// kept, and the host would wait for it forever.
			return fmt.Errorf("camsim: read %d of %d bytes at %d: %w", got, m, off, err)
		}
		if err := w.writeLocked(buf[:k+int(m)]); err != nil {
			return err
		}
		off, n, k = off+m, n-m, 0
	}
	return nil
}

// send encodes p and writes it.
func (w *wire) send(p ptpip.Packet) error {
	b, err := p.AppendBinary(nil)
	if err != nil {
		return err
	}
	return w.write(b)
}

func (w *wire) Close() error {
	w.closeOnce.Do(func() { close(w.done) })
	return w.c.Close()
}

// pacePiece is the most bytes written at once on a rate-limited link: small
// enough that the bytes arrive evenly, large enough to cost little.
const pacePiece = 8 << 10

// paceSlack is how late a piece may be on the link's schedule and still
// count as part of the same burst.
const paceSlack = 20 * time.Millisecond

// errWireClosed ends a wait for the link on a closed connection.
var errWireClosed = errors.New("camsim: connection closed")

// link is the camera's radio link, shared by all its connections: a rate
// in bytes per second for what the camera sends, a latency per operation,
// and stalls set through the control socket.
type link struct {
	rate    int64
	latency time.Duration

	mu         sync.Mutex
	free       time.Time // when the link has carried everything before
	stallUntil time.Time

	drops dropper // drop-after (faults.go)
}

// pace waits until n more bytes have had the time to cross the link: each
// piece goes at the end of its slot, up to spinSlack early (nap's own
// lateness); the schedule keeps the rate, and settle waits for the last
// slot's end exactly.
func (l *link) pace(n int, done <-chan struct{}) error {
	d := time.Duration(float64(n) / float64(l.rate) * float64(time.Second))
	l.mu.Lock()
	now := time.Now()
	start := l.free
	if now.Sub(start) > paceSlack {
		// The link was idle: it starts now. Within the slack the
		// schedule holds, so the sleeps' overshoot and the time spent
		// between pieces do not add up over a transfer.
		start = now
	}
	l.free = start.Add(d)
	end := l.free
	l.mu.Unlock()
	return nap(end.Add(-spinSlack), done)
}

// settle waits, to the microsecond, until the link has carried what pace
// let through early: the camera's response leaves when its data phase's
// last byte has crossed the link.
func (l *link) settle(done <-chan struct{}) error {
	if l.rate <= 0 {
		return nil
	}
	l.mu.Lock()
	end := l.free
	l.mu.Unlock()
	return waitUntil(end, done)
}

// idle tells the link that nothing crossed it until now (the camera waited
// out its latency), so the next piece cannot catch up on the wait.
func (l *link) idle() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now := time.Now(); l.free.Before(now) {
		l.free = now
	}
}

// stall makes every connection send nothing for d.
func (l *link) stall(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until := time.Now().Add(d); until.After(l.stallUntil) {
		l.stallUntil = until
	}
}

// waitStall returns once no stall is in force.
func (l *link) waitStall(done <-chan struct{}) error {
	for {
		l.mu.Lock()
		until := l.stallUntil
		l.mu.Unlock()
		if !time.Now().Before(until) {
			return nil
		}
		if err := sleepUntil(until, done); err != nil {
			return err
		}
	}
}

// stalled reports whether a stall is in force.
func (l *link) stalled() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Now().Before(l.stallUntil)
}

// Go's timers fire late on this kind of machine: a timer of 1.5 ms on an
// idle process ended 0.2-0.7 ms after its time (the runtime waits in epoll,
// whose timeout is in whole milliseconds), which added a quarter of a
// millisecond to every round trip of a 2 ms link and more to each data
// phase. The kernel's own sleep (nanosleep) ends within about 0.1 ms.

// timerSlack is how long before its time a wait stops on a Go timer and
// goes on with nanosleep: more than a timer's lateness.
const timerSlack = 2 * time.Millisecond

// spinSlack is how long before its time waitUntil stops sleeping and yields
// the processor until then: more than nanosleep's lateness.
const spinSlack = 150 * time.Microsecond

// napStep bounds one nanosleep, which a closed connection cannot cut short.
const napStep = time.Millisecond

// nap waits until about t (within nanosleep's lateness), or until done is
// closed: a Go timer for all but the last timerSlack, then nanosleep.
func nap(t time.Time, done <-chan struct{}) error {
	if err := sleepUntil(t.Add(-timerSlack), done); err != nil {
		return err
	}
	for {
		d := time.Until(t)
		if d <= 0 {
			return nil
		}
		select {
		case <-done:
			return errWireClosed
		default:
		}
		ts := syscall.NsecToTimespec(int64(min(d, napStep)))
		syscall.Nanosleep(&ts, nil) // EINTR: the loop sleeps the rest
	}
}

// waitUntil waits until t to within microseconds (nap, then it yields the
// processor for the last spinSlack), so the model's round trip is the
// configured one.
func waitUntil(t time.Time, done <-chan struct{}) error {
	if err := nap(t.Add(-spinSlack), done); err != nil {
		return err
	}
	for time.Now().Before(t) {
		select {
		case <-done:
			return errWireClosed
		default:
		}
		runtime.Gosched()
	}
	return nil
}

// sleepUntil waits until t or until done is closed.
func sleepUntil(t time.Time, done <-chan struct{}) error {
	d := time.Until(t)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-done:
		return errWireClosed
	}
}

// errProtocol is a host that broke the protocol: the connection is closed.
var errProtocol = errors.New("camsim: protocol error")

// readControl reads one whole packet that is not Data or End Data.
func readControl(r io.Reader) (ptpip.Packet, error) {
	h, err := ptpip.ReadHeader(r, maxControlPacket)
	if err != nil {
		return nil, err
	}
	return readBody(r, h)
}

// readBody reads the payload of the packet whose header h was just read and
// decodes the whole packet.
func readBody(r io.Reader, h ptpip.Header) (ptpip.Packet, error) {
	if h.Length > maxControlPacket {
		return nil, fmt.Errorf("%w: %s of %d bytes", errProtocol, h.Type, h.Length)
	}
	b := make([]byte, h.Length)
	binary.LittleEndian.PutUint32(b, h.Length)
	binary.LittleEndian.PutUint32(b[4:], uint32(h.Type))
	if _, err := io.ReadFull(r, b[ptpip.HeaderSize:]); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return ptpip.Unmarshal(b)
}

// readDataOut reads a host->camera data phase for transaction tid, split in
// any way, adding up to Start Data's total unless unknown; it returns at
// most keep bytes and drops the rest (truncated).
func readDataOut(r io.Reader, tid uint32, keep int) (data []byte, truncated bool, err error) {
	p, err := readControl(r)
	if err != nil {
		return nil, false, err
	}
	sd, ok := p.(*ptpip.StartData)
	if !ok {
		return nil, false, fmt.Errorf("%w: %s where Start Data was due", errProtocol, p.Type())
	}
	if sd.TransactionID != tid {
		return nil, false, fmt.Errorf("%w: Start Data for transaction %d during %d", errProtocol, sd.TransactionID, tid)
	}
	var got uint64
	for {
		h, err := ptpip.ReadHeader(r, ^uint32(0))
		if err != nil {
			return nil, false, err
		}
		if h.Type != ptpip.PacketData && h.Type != ptpip.PacketEndData {
			return nil, false, fmt.Errorf("%w: %s inside a data phase", errProtocol, h.Type)
		}
		if h.PayloadLen() < 4 {
			return nil, false, fmt.Errorf("%w: %s of %d bytes", errProtocol, h.Type, h.Length)
		}
		var t [4]byte
		if _, err := io.ReadFull(r, t[:]); err != nil {
			return nil, false, err
		}
		if id := binary.LittleEndian.Uint32(t[:]); id != tid {
			return nil, false, fmt.Errorf("%w: %s for transaction %d during %d", errProtocol, h.Type, id, tid)
		}
		n := int64(h.PayloadLen() - 4)
		got += uint64(n)
		if sd.TotalLength != ptpip.UnknownLength && got > sd.TotalLength {
			return nil, false, fmt.Errorf("%w: %d data bytes, Start Data said %d", errProtocol, got, sd.TotalLength)
		}
		k := min(n, int64(keep-len(data)))
		if k > 0 {
			start := len(data)
			data = append(data, make([]byte, k)...)
			if _, err := io.ReadFull(r, data[start:]); err != nil {
				return nil, false, err
			}
		}
		if n > k {
			truncated = true
			if _, err := io.CopyN(io.Discard, r, n-k); err != nil {
				return nil, false, err
			}
		}
		if h.Type == ptpip.PacketEndData {
			break
		}
	}
	if sd.TotalLength != ptpip.UnknownLength && got != sd.TotalLength {
		return nil, false, fmt.Errorf("%w: %d data bytes, Start Data said %d", errProtocol, got, sd.TotalLength)
	}
	return data, truncated, nil
}
