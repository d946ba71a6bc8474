package ptpip

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf16"
)

//go:generate go run ../internal/codenames -type PacketType -trimprefix Packet -hex

// PacketType is the Type field of a PTP/IP packet header.
type PacketType uint32

// PTP/IP packet types (CIPA DC-X005).
const (
	PacketInitCommandRequest PacketType = 0x01
	PacketInitCommandAck     PacketType = 0x02
	PacketInitEventRequest   PacketType = 0x03
	PacketInitEventAck       PacketType = 0x04
	PacketInitFail           PacketType = 0x05
	PacketOperationRequest   PacketType = 0x06
	PacketOperationResponse  PacketType = 0x07
	PacketEvent              PacketType = 0x08
	PacketStartData          PacketType = 0x09
	PacketData               PacketType = 0x0A
	PacketCancel             PacketType = 0x0B
	PacketEndData            PacketType = 0x0C
	PacketProbeRequest       PacketType = 0x0D
	PacketProbeResponse      PacketType = 0x0E
)

// HeaderSize is the size of the Length and Type fields every packet starts with.
const HeaderSize = 8

// Protocol version sent in Init Command Request/Ack: 1.0.
const Version = 0x00010000

// Errors from the packet codec.
var (
	ErrMalformed = errors.New("ptpip: malformed packet")
	ErrTooLarge  = errors.New("ptpip: packet larger than the maximum")
)

// Header is the 8-byte header of every packet.
//
//	0       4       8
//	+-------+-------+----------
//	|Length | Type  | payload (Length-8 bytes)
//	+-------+-------+----------
//
// Length counts the whole packet, header included.
type Header struct {
	Length uint32
	Type   PacketType
}

// PayloadLen is the number of bytes after the header.
func (h Header) PayloadLen() int { return int(h.Length) - HeaderSize }

// ReadHeader reads and checks one header: Length must be at least HeaderSize
// and at most max (checked here, before anyone allocates a payload).
func ReadHeader(r io.Reader, max uint32) (Header, error) {
	var b [HeaderSize]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return Header{}, err
	}
	return parseHeader(b[:], max)
}

// parseHeader decodes and checks the first HeaderSize bytes of b, as
// ReadHeader does; the session reads headers into its own buffer with it.
func parseHeader(b []byte, max uint32) (Header, error) {
	h := Header{Length: binary.LittleEndian.Uint32(b[0:]), Type: PacketType(binary.LittleEndian.Uint32(b[4:]))}
	if h.Length < HeaderSize {
		return h, fmt.Errorf("%w: length %d shorter than its header", ErrMalformed, h.Length)
	}
	if h.Length > max {
		return h, fmt.Errorf("%w: %s of %d bytes, maximum %d", ErrTooLarge, h.Type, h.Length, max)
	}
	return h, nil
}

// ReadPacket reads one whole packet of at most max bytes and decodes it.
// A clean end of stream before the header is io.EOF; an end inside the
// packet is io.ErrUnexpectedEOF.
func ReadPacket(r io.Reader, max uint32) (Packet, error) {
	b, err := readRaw(r, max)
	if err != nil {
		return nil, err
	}
	return Unmarshal(b)
}

// allocStep bounds how much readRaw allocates ahead of the bytes that have
// actually arrived.
const allocStep = 64 << 10

// readRaw reads one whole packet, header included, without decoding it.
func readRaw(r io.Reader, max uint32) ([]byte, error) {
	h, err := ReadHeader(r, max)
	if err != nil {
		return nil, err
	}
	return readRest(r, h, nil)
}

// readRest reads the payload after header h and returns the whole packet,
// in buf when large enough; otherwise the buffer grows with the bytes
// received, not with Length, so a hostile 4 GiB header costs allocStep.
func readRest(r io.Reader, h Header, buf []byte) ([]byte, error) {
	n := int(h.Length)
	b := buf[:0]
	if cap(b) < n {
		b = make([]byte, 0, min(n, allocStep))
	}
	b = binary.LittleEndian.AppendUint32(b, h.Length)
	b = binary.LittleEndian.AppendUint32(b, uint32(h.Type))
	for len(b) < n {
		if len(b) == cap(b) {
			// Double, capped at the packet's size: only bytes that
			// arrived justify more memory.
			b = slices.Grow(b, min(n-len(b), len(b)))
		}
		m, err := io.ReadFull(r, b[len(b):min(cap(b), n)])
		b = b[:len(b)+m]
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return b, nil
}

// WritePacket encodes p and writes it with one Write call.
func WritePacket(w io.Writer, p Packet) error {
	b, err := p.AppendBinary(nil)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Packet is one decoded PTP/IP packet. AppendBinary appends the whole packet,
// header included; UnmarshalBinary decodes a whole packet, header included.
type Packet interface {
	Type() PacketType
	AppendBinary(b []byte) ([]byte, error)
	UnmarshalBinary(b []byte) error
}

// Unmarshal decodes a whole packet (header included) into its type.
func Unmarshal(b []byte) (Packet, error) {
	if len(b) < HeaderSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	var p Packet
	switch t := PacketType(binary.LittleEndian.Uint32(b[4:])); t {
	case PacketInitCommandRequest:
		p = new(InitCommandRequest)
	case PacketInitCommandAck:
		p = new(InitCommandAck)
	case PacketInitEventRequest:
		p = new(InitEventRequest)
	case PacketInitEventAck:
		p = new(InitEventAck)
	case PacketInitFail:
		p = new(InitFail)
	case PacketOperationRequest:
		p = new(OperationRequest)
	case PacketOperationResponse:
		p = new(OperationResponse)
	case PacketEvent:
		p = new(Event)
	case PacketStartData:
		p = new(StartData)
	case PacketData:
		p = new(Data)
	case PacketCancel:
		p = new(Cancel)
	case PacketEndData:
		p = new(EndData)
	case PacketProbeRequest:
		p = new(ProbeRequest)
	case PacketProbeResponse:
		p = new(ProbeResponse)
	default:
		return nil, fmt.Errorf("%w: unknown type %#x", ErrMalformed, uint32(t))
	}
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return p, nil
}

// cursor reads little-endian fields from a packet and keeps the first error
// (archive/zip's readBuf with a sticky error): it never panics.
type cursor struct {
	b   []byte
	err error
}

// open checks the header of a whole packet and returns a cursor on its payload.
func open(b []byte, want PacketType) *cursor {
	c := &cursor{}
	if len(b) < HeaderSize {
		c.err = fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
		return c
	}
	n := binary.LittleEndian.Uint32(b)
	t := PacketType(binary.LittleEndian.Uint32(b[4:]))
	switch {
	case t != want:
		c.err = fmt.Errorf("%w: type %s, want %s", ErrMalformed, t, want)
	case int64(n) != int64(len(b)):
		c.err = fmt.Errorf("%w: %s length field %d, packet has %d bytes", ErrMalformed, t, n, len(b))
	default:
		c.b = b[HeaderSize:]
	}
	return c
}

func (c *cursor) fail(what string) {
	if c.err == nil {
		c.err = fmt.Errorf("%w: truncated %s", ErrMalformed, what)
	}
	c.b = nil
}

func (c *cursor) u16(what string) uint16 {
	if len(c.b) < 2 {
		c.fail(what)
		return 0
	}
	v := binary.LittleEndian.Uint16(c.b)
	c.b = c.b[2:]
	return v
}

func (c *cursor) u32(what string) uint32 {
	if len(c.b) < 4 {
		c.fail(what)
		return 0
	}
	v := binary.LittleEndian.Uint32(c.b)
	c.b = c.b[4:]
	return v
}

func (c *cursor) u64(what string) uint64 {
	if len(c.b) < 8 {
		c.fail(what)
		return 0
	}
	v := binary.LittleEndian.Uint64(c.b)
	c.b = c.b[8:]
	return v
}

func (c *cursor) guid() (g [16]byte) {
	if len(c.b) < 16 {
		c.fail("GUID")
		return g
	}
	copy(g[:], c.b)
	c.b = c.b[16:]
	return g
}

// name reads a NUL-terminated UTF-16LE string (not length-prefixed) that is
// followed by tail more bytes: the field is everything up to the tail, so
// its last code unit must be the only NUL. The decoder is strict (no
// missing NUL, no bytes after it, no unpaired surrogates) so that a decoded
// packet re-encodes to the same bytes; the names cameras send are ASCII.
func (c *cursor) name(tail int) string {
	if c.err != nil {
		return ""
	}
	n := len(c.b) - tail
	switch {
	case n < 0:
		c.fail("name")
		return ""
	case n%2 != 0:
		c.err = fmt.Errorf("%w: name of %d bytes, not whole UTF-16 units", ErrMalformed, n)
		return ""
	case n == 0:
		c.err = fmt.Errorf("%w: name without its NUL", ErrMalformed)
		return ""
	}
	u := make([]uint16, n/2-1)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(c.b[2*i:])
		if u[i] == 0 {
			c.err = fmt.Errorf("%w: bytes after the NUL of a name", ErrMalformed)
			return ""
		}
	}
	if binary.LittleEndian.Uint16(c.b[n-2:]) != 0 {
		c.err = fmt.Errorf("%w: name not NUL-terminated", ErrMalformed)
		return ""
	}
	if !validUTF16(u) {
		c.err = fmt.Errorf("%w: name is not valid UTF-16", ErrMalformed)
		return ""
	}
	c.b = c.b[n:]
	return string(utf16.Decode(u))
}

// validUTF16 reports whether u has no unpaired surrogate.
func validUTF16(u []uint16) bool {
	for i := 0; i < len(u); i++ {
		switch r := rune(u[i]); {
		case r >= 0xD800 && r < 0xDC00: // high surrogate: a low one must follow
			if i+1 >= len(u) || u[i+1] < 0xDC00 || u[i+1] >= 0xE000 {
				return false
			}
			i++
		case r >= 0xDC00 && r < 0xE000:
			return false
		}
	}
	return true
}

// params reads the 0..max u32 parameters that fill the rest of the payload.
func (c *cursor) params(max int) []uint32 {
	if c.err != nil {
		return nil
	}
	if len(c.b)%4 != 0 || len(c.b)/4 > max {
		c.err = fmt.Errorf("%w: %d parameter bytes", ErrMalformed, len(c.b))
		return nil
	}
	var p []uint32
	for len(c.b) > 0 {
		p = append(p, c.u32("parameter"))
	}
	return p
}

// rest returns the remaining payload (Data, End Data).
func (c *cursor) rest() []byte {
	r := c.b
	c.b = nil
	return r
}

// done reports an error if bytes are left over.
func (c *cursor) done() error {
	if c.err == nil && len(c.b) != 0 {
		c.err = fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(c.b))
	}
	return c.err
}

// begin appends a header with a placeholder length; finish fills it in.
func begin(b []byte, t PacketType) ([]byte, int) {
	start := len(b)
	b = binary.LittleEndian.AppendUint32(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(t))
	return b, start
}

func finish(b []byte, start int) ([]byte, error) {
	n := len(b) - start
	if int64(n) > 0xFFFFFFFF {
		return b[:start], fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	binary.LittleEndian.PutUint32(b[start:], uint32(n))
	return b, nil
}

// appendName appends s as NUL-terminated UTF-16LE. A NUL inside s would end
// the name early on the wire, so it is refused. Invalid UTF-8 becomes U+FFFD.
func appendName(b []byte, s string) ([]byte, error) {
	if strings.IndexByte(s, 0) >= 0 {
		return b, fmt.Errorf("%w: name %q contains NUL", ErrMalformed, s)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return binary.LittleEndian.AppendUint16(b, 0), nil
}

func appendParams(b []byte, p []uint32, max int) ([]byte, error) {
	if len(p) > max {
		return b, fmt.Errorf("%w: %d parameters, at most %d", ErrMalformed, len(p), max)
	}
	for _, v := range p {
		b = binary.LittleEndian.AppendUint32(b, v)
	}
	return b, nil
}

// InitCommandRequest opens the command connection.
//
//	8          24                     Length-4   Length
//	+----------+----------------------+----------+
//	| GUID[16] | name UTF-16LE, NUL   | version  |
//	+----------+----------------------+----------+
type InitCommandRequest struct {
	GUID    [16]byte
	Name    string
	Version uint32 // Version; some hosts (old Airnef, Nikon WMU) send 1
}

func (*InitCommandRequest) Type() PacketType { return PacketInitCommandRequest }

func (p *InitCommandRequest) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketInitCommandRequest)
	b = append(b, p.GUID[:]...)
	b, err := appendName(b, p.Name)
	if err != nil {
		return b[:s], err
	}
	b = binary.LittleEndian.AppendUint32(b, p.Version)
	return finish(b, s)
}

func (p *InitCommandRequest) UnmarshalBinary(b []byte) error {
	c := open(b, PacketInitCommandRequest)
	p.GUID = c.guid()
	p.Name = c.name(4)
	p.Version = c.u32("version")
	return c.done()
}

// InitCommandAck accepts the command connection.
//
//	8         12         28                  Length-4  Length
//	+---------+----------+-------------------+---------+
//	| ConnNum | GUID[16] | name UTF-16LE,NUL | version |
//	+---------+----------+-------------------+---------+
type InitCommandAck struct {
	ConnectionNumber uint32
	GUID             [16]byte
	Name             string
	Version          uint32
}

func (*InitCommandAck) Type() PacketType { return PacketInitCommandAck }

func (p *InitCommandAck) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketInitCommandAck)
	b = binary.LittleEndian.AppendUint32(b, p.ConnectionNumber)
	b = append(b, p.GUID[:]...)
	b, err := appendName(b, p.Name)
	if err != nil {
		return b[:s], err
	}
	b = binary.LittleEndian.AppendUint32(b, p.Version)
	return finish(b, s)
}

func (p *InitCommandAck) UnmarshalBinary(b []byte) error {
	c := open(b, PacketInitCommandAck)
	p.ConnectionNumber = c.u32("connection number")
	p.GUID = c.guid()
	p.Name = c.name(4)
	p.Version = c.u32("version")
	return c.done()
}

// InitEventRequest opens the event connection: | ConnectionNumber u32 |.
type InitEventRequest struct {
	ConnectionNumber uint32
}

func (*InitEventRequest) Type() PacketType { return PacketInitEventRequest }

func (p *InitEventRequest) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketInitEventRequest)
	b = binary.LittleEndian.AppendUint32(b, p.ConnectionNumber)
	return finish(b, s)
}

func (p *InitEventRequest) UnmarshalBinary(b []byte) error {
	c := open(b, PacketInitEventRequest)
	p.ConnectionNumber = c.u32("connection number")
	return c.done()
}

// InitEventAck accepts the event connection; it has no payload.
type InitEventAck struct{}

func (*InitEventAck) Type() PacketType { return PacketInitEventAck }

func (p *InitEventAck) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketInitEventAck)
	return finish(b, s)
}

func (p *InitEventAck) UnmarshalBinary(b []byte) error { return open(b, PacketInitEventAck).done() }

// Init Fail reasons.
const (
	FailRejectedInitiator uint32 = 1 // Sony: this computer's GUID is not paired
	FailBusy              uint32 = 2
	FailUnspecified       uint32 = 3
)

// InitFail refuses a connection: | Reason u32 |.
type InitFail struct {
	Reason uint32
}

func (*InitFail) Type() PacketType { return PacketInitFail }

func (p *InitFail) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketInitFail)
	b = binary.LittleEndian.AppendUint32(b, p.Reason)
	return finish(b, s)
}

func (p *InitFail) UnmarshalBinary(b []byte) error {
	c := open(b, PacketInitFail)
	p.Reason = c.u32("reason")
	return c.done()
}

// Data phase values of OperationRequest.DataPhase.
const (
	DataPhaseNoneOrIn uint32 = 1 // no data, or camera->host data
	DataPhaseOut      uint32 = 2 // host->camera data
)

// OperationRequest starts a transaction.
//
//	8           12       14      18
//	+-----------+--------+-------+-------------------+
//	| DataPhase | OpCode | TxnID | 0..5 x u32 params |
//	+-----------+--------+-------+-------------------+
//
// PlayMemories sends DataPhase 0 always, and cameras accept it.
type OperationRequest struct {
	DataPhase     uint32
	Code          uint16
	TransactionID uint32
	Params        []uint32
}

func (*OperationRequest) Type() PacketType { return PacketOperationRequest }

func (p *OperationRequest) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketOperationRequest)
	b = binary.LittleEndian.AppendUint32(b, p.DataPhase)
	b = binary.LittleEndian.AppendUint16(b, p.Code)
	b = binary.LittleEndian.AppendUint32(b, p.TransactionID)
	b, err := appendParams(b, p.Params, 5)
	if err != nil {
		return b[:s], err
	}
	return finish(b, s)
}

func (p *OperationRequest) UnmarshalBinary(b []byte) error {
	c := open(b, PacketOperationRequest)
	p.DataPhase = c.u32("data phase")
	p.Code = c.u16("operation code")
	p.TransactionID = c.u32("transaction ID")
	p.Params = c.params(5)
	return c.done()
}

// OperationResponse ends a transaction.
//
//	8        10      14
//	+--------+-------+-------------------+
//	| RespCd | TxnID | 0..5 x u32 params |
//	+--------+-------+-------------------+
type OperationResponse struct {
	Code          uint16
	TransactionID uint32
	Params        []uint32
}

func (*OperationResponse) Type() PacketType { return PacketOperationResponse }

func (p *OperationResponse) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketOperationResponse)
	b = binary.LittleEndian.AppendUint16(b, p.Code)
	b = binary.LittleEndian.AppendUint32(b, p.TransactionID)
	b, err := appendParams(b, p.Params, 5)
	if err != nil {
		return b[:s], err
	}
	return finish(b, s)
}

func (p *OperationResponse) UnmarshalBinary(b []byte) error {
	c := open(b, PacketOperationResponse)
	p.Code = c.u16("response code")
	p.TransactionID = c.u32("transaction ID")
	p.Params = c.params(5)
	return c.done()
}

// Event is sent on the event connection.
//
//	8        10      14
//	+--------+-------+-------------------+
//	| EvCode | TxnID | 0..3 x u32 params |
//	+--------+-------+-------------------+
type Event struct {
	Code          uint16
	TransactionID uint32
	Params        []uint32
}

func (*Event) Type() PacketType { return PacketEvent }

func (p *Event) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketEvent)
	b = binary.LittleEndian.AppendUint16(b, p.Code)
	b = binary.LittleEndian.AppendUint32(b, p.TransactionID)
	b, err := appendParams(b, p.Params, 3)
	if err != nil {
		return b[:s], err
	}
	return finish(b, s)
}

func (p *Event) UnmarshalBinary(b []byte) error {
	c := open(b, PacketEvent)
	p.Code = c.u16("event code")
	p.TransactionID = c.u32("transaction ID")
	p.Params = c.params(3)
	return c.done()
}

// UnknownLength is StartData.TotalLength when the sender does not know it.
const UnknownLength = ^uint64(0)

// StartData opens a data phase: | TxnID u32 | TotalLength u64 |.
type StartData struct {
	TransactionID uint32
	TotalLength   uint64
}

func (*StartData) Type() PacketType { return PacketStartData }

func (p *StartData) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketStartData)
	b = binary.LittleEndian.AppendUint32(b, p.TransactionID)
	b = binary.LittleEndian.AppendUint64(b, p.TotalLength)
	return finish(b, s)
}

func (p *StartData) UnmarshalBinary(b []byte) error {
	c := open(b, PacketStartData)
	p.TransactionID = c.u32("transaction ID")
	p.TotalLength = c.u64("total length")
	return c.done()
}

// DataHeaderSize is the size of a Data or End Data packet before its bytes:
// the header and the transaction ID.
const DataHeaderSize = HeaderSize + 4

// Data carries part of a data phase: | TxnID u32 | bytes |.
type Data struct {
	TransactionID uint32
	Payload       []byte
}

func (*Data) Type() PacketType { return PacketData }

func (p *Data) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketData)
	b = binary.LittleEndian.AppendUint32(b, p.TransactionID)
	b = append(b, p.Payload...)
	return finish(b, s)
}

func (p *Data) UnmarshalBinary(b []byte) error {
	c := open(b, PacketData)
	p.TransactionID = c.u32("transaction ID")
	p.Payload = c.rest()
	return c.done()
}

// EndData carries the last part of a data phase (possibly empty):
// | TxnID u32 | bytes |.
type EndData struct {
	TransactionID uint32
	Payload       []byte
}

func (*EndData) Type() PacketType { return PacketEndData }

func (p *EndData) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketEndData)
	b = binary.LittleEndian.AppendUint32(b, p.TransactionID)
	b = append(b, p.Payload...)
	return finish(b, s)
}

func (p *EndData) UnmarshalBinary(b []byte) error {
	c := open(b, PacketEndData)
	p.TransactionID = c.u32("transaction ID")
	p.Payload = c.rest()
	return c.done()
}

// Cancel aborts a transaction: | TxnID u32 |.
type Cancel struct {
	TransactionID uint32
}

func (*Cancel) Type() PacketType { return PacketCancel }

func (p *Cancel) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketCancel)
	b = binary.LittleEndian.AppendUint32(b, p.TransactionID)
	return finish(b, s)
}

func (p *Cancel) UnmarshalBinary(b []byte) error {
	c := open(b, PacketCancel)
	p.TransactionID = c.u32("transaction ID")
	return c.done()
}

// ProbeRequest asks the peer whether it is alive; it has no payload.
type ProbeRequest struct{}

func (*ProbeRequest) Type() PacketType { return PacketProbeRequest }

func (p *ProbeRequest) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketProbeRequest)
	return finish(b, s)
}

func (p *ProbeRequest) UnmarshalBinary(b []byte) error { return open(b, PacketProbeRequest).done() }

// ProbeResponse answers a ProbeRequest; it has no payload.
type ProbeResponse struct{}

func (*ProbeResponse) Type() PacketType { return PacketProbeResponse }

func (p *ProbeResponse) AppendBinary(b []byte) ([]byte, error) {
	b, s := begin(b, PacketProbeResponse)
	return finish(b, s)
}

func (p *ProbeResponse) UnmarshalBinary(b []byte) error { return open(b, PacketProbeResponse).done() }
