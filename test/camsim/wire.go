package camsim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
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
// goes through write, the single place where a link model (rate, latency)
// or fault injection can act on the traffic.
type wire struct {
	c  net.Conn
	mu sync.Mutex // serialises writes: whole packets never interleave
}

func newWire(c net.Conn) *wire { return &wire{c: c} }

// write sends b, one or more whole packets, in one piece.
func (w *wire) write(b []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
		return err
	}
	_, err := w.c.Write(b)
	return err
}

// send encodes p and writes it.
func (w *wire) send(p ptpip.Packet) error {
	b, err := p.AppendBinary(nil)
	if err != nil {
		return err
	}
	return w.write(b)
}

func (w *wire) Close() error { return w.c.Close() }

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

// readDataOut reads a host->camera data phase for transaction tid: Start
// Data, then Data and End Data packets split in any way (empty pieces
// included), which must add up to Start Data's total unless that is
// ptpip.UnknownLength. At most keep bytes are returned; the rest is read
// and discarded, and truncated reports it.
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
