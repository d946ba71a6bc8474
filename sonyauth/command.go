package sonyauth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

//go:generate go run ../internal/codenames -type SubCommand -trimprefix Sub -linecomment

// SubCommand selects what a Sony 0x9280 command does. The values come
// from captures of PlayMemories Home and Sony's Auto Import (as
// libgphoto2, Airnef and sony-pm-alt record them); Sony documents none.
type SubCommand uint32

const (
	// SubSending shows "Sending..." on the camera's Send to Computer
	// screen. Without it the camera gives up after about two minutes and
	// some models refuse filesystem requests ("Connecting..." forever).
	SubSending SubCommand = 2 // sending
	// SubCancelled shows "The saving process has been cancelled." It has
	// an effect only after SubSending (Airnef's observation).
	SubCancelled SubCommand = 4 // cancelled
	// SubSleep leaves Send to Computer: the camera ends the session and
	// goes to sleep.
	SubSleep SubCommand = 5 // sleep
)

// ErrMalformed is wrapped by the errors of Command.UnmarshalBinary.
var ErrMalformed = errors.New("sonyauth: malformed Sony command")

// commandHeader is the fixed part of a Command on the wire.
const commandHeader = 16

// Command is the host->camera data phase of Sony's operation 0x9280
// (param1 = 4). All integers little-endian:
//
//	 0          4            8        12       16
//	+----------+------------+--------+--------+-------------------+
//	| ExtraLen | SubCommand | Arg[0] | Arg[1] | Extra [ExtraLen]  |
//	+----------+------------+--------+--------+-------------------+
//
// ExtraLen is len(Extra); every capture has 0 or 2 extra bytes and zero
// Args. The known payloads:
//
//	sending (libgphoto2, PlayMemories): 02 00 00 00 02 00 00 00 + 8 zero bytes + 01 01
//	sending (Airnef, 21 bytes):         02 00 00 00 02 00 00 00 + 8 zero bytes + 01 00 02 00 00
//	sleep (libgphoto2):                 00 00 00 00 05 00 00 00 + 8 zero bytes
//
// Airnef's payloads carry bytes beyond ExtraLen (three after its sleep and
// cancelled commands too) and cameras accept them, so UnmarshalBinary
// ignores trailing bytes; AppendBinary never writes any.
type Command struct {
	Sub   SubCommand
	Arg   [2]uint32 // zero in every capture
	Extra []byte
}

// AppendBinary appends the wire form of c to b.
func (c Command) AppendBinary(b []byte) ([]byte, error) {
	if uint64(len(c.Extra)) > math.MaxUint32 {
		return b, fmt.Errorf("sonyauth: %v command with %d extra bytes", c.Sub, len(c.Extra))
	}
	b = binary.LittleEndian.AppendUint32(b, uint32(len(c.Extra)))
	b = binary.LittleEndian.AppendUint32(b, uint32(c.Sub))
	b = binary.LittleEndian.AppendUint32(b, c.Arg[0])
	b = binary.LittleEndian.AppendUint32(b, c.Arg[1])
	return append(b, c.Extra...), nil
}

// UnmarshalBinary decodes a 0x9280 data phase. A payload shorter than its
// header or than the extra bytes it announces is an error wrapping
// ErrMalformed; bytes after the announced extra bytes are ignored (see
// Command).
func (c *Command) UnmarshalBinary(b []byte) error {
	if len(b) < commandHeader {
		return fmt.Errorf("%w: %d bytes, want at least %d", ErrMalformed, len(b), commandHeader)
	}
	n := binary.LittleEndian.Uint32(b[0:])
	if uint64(n) > uint64(len(b)-commandHeader) {
		return fmt.Errorf("%w: %d extra bytes announced, %d present", ErrMalformed, n, len(b)-commandHeader)
	}
	c.Sub = SubCommand(binary.LittleEndian.Uint32(b[4:]))
	c.Arg = [2]uint32{binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])}
	c.Extra = append([]byte(nil), b[commandHeader:commandHeader+int(n)]...)
	return nil
}

// sendingCommand is what libgphoto2 and PlayMemories send to show
// "Sending...". The two extra bytes 01 01 are copied from the capture;
// their meaning is unknown (Airnef sends 01 00 and it works as well).
func sendingCommand() Command { return Command{Sub: SubSending, Extra: []byte{0x01, 0x01}} }

// cancelledCommand is the 16-byte form of sub-command 4, shaped like
// libgphoto2's sleep command (Airnef appends three bytes the count does not
// announce).
func cancelledCommand() Command { return Command{Sub: SubCancelled} }

// sleepCommand is libgphoto2's exit command.
func sleepCommand() Command { return Command{Sub: SubSleep} }
