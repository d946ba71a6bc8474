package camsim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// maxDataOut is how much of a host->camera data phase is kept for the
// operation; the rest is read and discarded.
const maxDataOut = 1 << 20

// maxDataIn is the largest camera->host data phase: libgphoto2 reads only
// the low 32 bits of Start Data's total, and all ones means "unknown".
const maxDataIn = 0xFFFFFFFE

// session is one command connection and, once the host opens it, its
// event connection.
type session struct {
	cam      *Camera
	num      uint32 // connection number
	cmd      *wire
	evt      *wire // guarded by cam.mu
	host     string
	hostGUID [16]byte
	log      *slog.Logger

	// sessionID is the open PTP session (0: none). Written by the
	// command goroutine, read by the card's event broadcast.
	sessionID atomic.Uint32

	evtOpened time.Time   // when the event connection opened; guarded by cam.mu
	queued    []mtp.Event // for GetEvent (EventsGetEvent); guarded by cam.mu
	probed    atomic.Bool // the host sent a Probe Request
	ops       int         // operations received, by the command goroutine
	hung      bool        // the camera no longer answers (ProbeRequired)
	opened    time.Time   // when the PTP session opened (zero: none)
	buf       []byte      // data phase buffer, Data header included
	sony      sonySession // Send to Computer state (sony.go), by the command goroutine
}

// endSession notes the end of the PTP session, if one is open: a Nikon
// whose session lasted less than a second hangs the next connection.
func (s *session) endSession() {
	if s.opened.IsZero() {
		return
	}
	lasted := time.Since(s.opened)
	s.opened = time.Time{}
	if s.cam.p.QuickCloseHang && lasted < time.Second {
		s.log.Warn("session ended within a second of opening: the next connection will hang", "lasted", lasted)
		s.cam.mu.Lock()
		s.cam.wedged = true
		s.cam.mu.Unlock()
	}
}

// probeGrace is how long after the event connection opened a host that
// did not probe may start operating on a camera that needs the probe:
// Airnef found a one-second delay worked as well as the probe.
const probeGrace = time.Second

// hangs decides, at the first operation, whether the session hangs for
// want of a probe (Personality.ProbeRequired).
func (s *session) hangs() bool {
	if !s.cam.p.ProbeRequired || s.probed.Load() {
		return false
	}
	s.cam.mu.Lock()
	opened := s.evtOpened
	s.cam.mu.Unlock()
	return opened.IsZero() || time.Since(opened) < probeGrace
}

// txn is one operation as the host requested it.
type txn struct {
	op     mtp.OpCode
	tid    uint32
	params []uint32
	data   []byte // host->camera data, if the operation had a data phase
}

// param returns parameter i, 0 when the host left it out.
func (t *txn) param(i int) uint32 {
	if i < len(t.params) {
		return t.params[i]
	}
	return 0
}

// reply is an operation's answer: a response code and parameters, and an
// optional camera->host data phase read from data.
type reply struct {
	code   mtp.ResponseCode
	params []uint32
	data   *io.SectionReader
	closer io.Closer // closed once data is sent
	raw    []byte    // hostile.go: bytes sent instead of an answer; the connection then ends
	// hostile.go: writes packets instead of an answer, for as long as it
	// likes; the connection then ends.
	stream func(w *wire) error
}

func fail(code mtp.ResponseCode) reply { return reply{code: code} }

func ok(params ...uint32) reply { return reply{code: mtp.RespOK, params: params} }

// okData answers OK with b as the data phase.
func okData(b []byte, params ...uint32) reply {
	return reply{code: mtp.RespOK, params: params, data: io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b)))}
}

// opFunc runs one operation.
type opFunc func(s *session, t *txn) reply

// dataOutOps have a host->camera data phase even when the host's
// DataPhase field does not say so (PlayMemories sends 0 for every
// operation).
var dataOutOps = map[mtp.OpCode]bool{
	mtp.OpSendObjectInfo: true, mtp.OpSendObject: true, mtp.OpSetDevicePropValue: true,
	mtp.OpSetObjectPropValue: true, mtp.OpSonySendCommand: true,
	0x9806: true, // MTP SetObjectPropList
	0x9808: true, // MTP SendObjectPropList
	0x9811: true, // MTP SetObjectReferences
}

// run serves the command connection until it ends.
func (s *session) run() error {
	r := s.cmd.c
	for {
		p, err := readControl(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		switch p := p.(type) {
		case *ptpip.ProbeRequest:
			s.probed.Store(true)
			if err := s.cmd.send(&ptpip.ProbeResponse{}); err != nil {
				return err
			}
		case *ptpip.OperationRequest:
			s.ops++
			s.cam.mu.Lock()
			s.cam.opCount[mtp.OpCode(p.Code)]++
			s.cam.mu.Unlock()
			if s.ops == 1 && s.hangs() {
				s.hung = true
				s.log.Warn("session hangs: the first operation came without a probe on the event connection", "op", mtp.OpCode(p.Code))
			}
			if s.hung {
				// Nothing is answered any more; the host gives up.
				_, err := io.Copy(io.Discard, r)
				return err
			}
			if err := s.operation(p); err != nil {
				return err
			}
		case *ptpip.Cancel:
			// Operations here complete before the next packet is read:
			// there is nothing left to cancel.
			s.log.Debug("cancel after its transaction", "tid", p.TransactionID)
		default:
			return fmt.Errorf("%w: %s on the command connection outside a data phase", errProtocol, p.Type())
		}
	}
}

// operation runs one transaction: the host's data phase if any, the
// operation, the camera's data phase if any, the response.
func (s *session) operation(req *ptpip.OperationRequest) error {
	start := time.Now()
	t := &txn{op: mtp.OpCode(req.Code), tid: req.TransactionID, params: req.Params}
	if req.DataPhase == ptpip.DataPhaseOut || dataOutOps[t.op] {
		data, truncated, err := readDataOut(s.cmd.c, t.tid, maxDataOut)
		if err != nil {
			return fmt.Errorf("data out of %s: %w", t.op, err)
		}
		if truncated {
			s.log.Debug("data out kept in part", "op", t.op, "kept", len(data))
		}
		t.data = data
	}
	r := s.dispatch(t)
	if r.closer != nil {
		defer r.closer.Close()
	}
	if r.raw != nil || r.stream != nil { // a hostile camera's broken packets (hostile.go)
		if r.raw != nil {
			s.cmd.write(r.raw)
		}
		if r.stream != nil {
			r.stream(s.cmd)
		}
		return fmt.Errorf("%w: %s answered with broken packets as told", errProtocol, t.op)
	}
	// Latency: the answer leaves one round trip after the request came.
	if err := waitUntil(start.Add(s.cam.link.latency), s.cmd.done); err != nil {
		return err
	}
	s.cam.link.idle()
	var n int64
	if r.data != nil {
		n = r.data.Size()
		if err := s.sendData(s.answerTID(t.tid), r.data); err != nil {
			return fmt.Errorf("data in of %s: %w", t.op, err)
		}
	}
	if err := s.cam.link.settle(s.cmd.done); err != nil {
		return err
	}
	err := s.cmd.send(&ptpip.OperationResponse{Code: uint16(r.code), TransactionID: s.answerTID(t.tid), Params: r.params})
	// Logged after the response has left: the log costs the host no time
	// the link model does not charge.
	s.log.Debug("ptp op", "op", t.op, "tid", t.tid, "params", t.params, "resp", r.code.String(), "rparams", r.params, "data", n, "dur", time.Since(start))
	if err != nil {
		return err
	}
	return s.sonyAfterResponse()
}

// dispatch checks the session state and runs the operation.
func (s *session) dispatch(t *txn) reply {
	f, ok := s.cam.ops[t.op]
	switch {
	case !ok:
		s.cam.notSimulated(t.op)
		return fail(mtp.RespOperationNotSupported)
	case s.sessionID.Load() == 0 && t.op != mtp.OpGetDeviceInfo && t.op != mtp.OpOpenSession:
		return fail(mtp.RespSessionNotOpen)
	}
	if r, stop := s.sonyCheck(t); stop {
		return r
	}
	if code := s.cam.fault(t); code != mtp.RespOK {
		return fail(code)
	}
	if code := s.cam.refusedUnmarked(t); code != mtp.RespOK {
		return fail(code)
	}
	if code := s.quirkDenied(t.op); code != mtp.RespOK {
		return fail(code)
	}
	return f(s, t)
}

// maxData is the largest camera->host data phase this camera sends: a
// Nikon's single End Data must also fit its length in 32 bits.
func (s *session) maxData() uint64 {
	if s.cam.p.EndDataOnly {
		return maxDataIn - ptpip.DataHeaderSize
	}
	return maxDataIn
}

// sendData sends a camera->host data phase: Start Data with the exact
// total, then as the personality splits it either Data packets of its
// chunk size and an End Data with the last piece, or one End Data with
// everything (Nikon). Each piece is read from src when it is sent.
func (s *session) sendData(tid uint32, src *io.SectionReader) error {
	total := src.Size()
	if uint64(total) > s.maxData() {
		// Handlers refuse such sizes before they get here.
		return fmt.Errorf("camsim: data phase of %d bytes", total)
	}
	if err := s.cmd.send(&ptpip.StartData{TransactionID: tid, TotalLength: uint64(total)}); err != nil {
		return err
	}
	chunk := int64(s.cam.p.DataChunk)
	if s.cam.p.EndDataOnly {
		chunk = max(total, 1)
	}
	var hdr [ptpip.DataHeaderSize]byte
	for off := int64(0); ; {
		n := min(chunk, total-off)
		typ := ptpip.PacketData
		if off+n == total {
			typ = ptpip.PacketEndData
		}
		binary.LittleEndian.PutUint32(hdr[:], uint32(ptpip.DataHeaderSize+n))
		binary.LittleEndian.PutUint32(hdr[4:], uint32(typ))
		binary.LittleEndian.PutUint32(hdr[8:], tid)
		if err := s.cmd.packet(hdr[:], src, off, n, s.buf); err != nil {
			return err
		}
		off += n
		if typ == ptpip.PacketEndData {
			return nil
		}
	}
}
