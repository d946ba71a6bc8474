package camsim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
	"github.com/airnef-mount/airnef-mount/sonyauth"
)

// Sony's "Send to Computer", as the notes (protocol.md sections 3 and 4)
// describe it:
//
//   - a camera paired with a computer accepts that computer's GUID,
//     00x8 FF FF <MAC> (Config.SonyPairedMAC); one paired with none
//     accepts any GUID whose last six bytes are zero; any other GUID gets
//     Init Fail reason 1, the connection is closed, and a new Init is
//     accepted;
//   - one PTP/IP session per Send to Computer: once a session was
//     accepted, every later Init Command Request is accepted at TCP level
//     and never answered, until the user presses Send to Computer again
//     (Camera.Press);
//   - 0x9280 (a command in its data phase) must be followed by 0x9281
//     (an ~8 KiB reply), or every other operation gets DeviceBusy;
//   - state connecting -> sending (command 2, "Sending...") -> asleep
//     (command 5, which ends the session); without "Sending..." it gives
//     up after about two minutes (Config.SonyGiveUp);
//   - before "Sending..." it answers DeviceInfo, storage and object
//     operations: Airnef 1.1 sends OpenSession, GetStorageIDs and
//     GetStorageInfo before 0x9280/0x9281 and works with real Sony
//     cameras (notes §9). Some models refuse filesystem requests until
//     then ("Connecting..." forever without the sequence: libgphoto2's
//     issue on the RX100M6, notes §4); Config.StrictSending is that
//     variant;
//   - GetNumObjects and GetObjectHandles need all three parameters
//     (InvalidObjectFormatCode otherwise);
//   - dated folders without dates, ARW as 0xB101, no realtime shots: new
//     files on the card appear at the next Send to Computer.

// SonyState is where a Sony camera is in Send to Computer.
type SonyState string

const (
	// SonyConnecting: Send to Computer pressed, "Connecting..." shown.
	SonyConnecting SonyState = "connecting"
	// SonySending: the host sent the "Sending..." command.
	SonySending SonyState = "sending"
	// SonyAsleep: the host sent the sleep command, or the camera gave up
	// waiting for "Sending...": no WiFi until Send to Computer is pressed
	// again.
	SonyAsleep SonyState = "asleep"
)

// DefaultSonyGiveUp is how long a Sony waits for "Sending..." before it
// ends the session.
const DefaultSonyGiveUp = 2 * time.Minute

// formatSonyARW is Sony's RAW format code (PTP_OFC_SONY_RAW in
// libgphoto2; Canon's CRW uses the same vendor code on Canon bodies).
const formatSonyARW mtp.ObjectFormat = 0xB101

// sonyReplySize is the size of the 0x9281 reply (meaning unknown).
const sonyReplySize = 8192

// sonyMake is a Sony Alpha in "Send to Computer" (ILCE-7S): the MTP
// vendor extension, the MTP object property operations, Sony's 0x9280/
// 0x9281, one Data packet per data phase as PlayMemories sees it, ARW as
// 0xB101, dated folders YYYY-MM-DD without dates, and the rules of Send to
// Computer (see SendToComputer).
func sonyMake() *Personality {
	return &Personality{
		Name:                   "sony",
		Make:                   "sony",
		Manufacturer:           "Sony Corporation",
		Model:                  "ILCE-7S",
		Serial:                 "3101234",
		DeviceVersion:          "2.10",
		VendorExtensionID:      0x00000011, // Sony's (libgphoto2 PTP_VENDOR_SONY)
		VendorExtensionVersion: 100,
		VendorExtensionDesc:    "microsoft.com: 1.0; sony.net: 1.0",
		Ops: append(append([]mtp.OpCode(nil), standardOps...),
			mtp.OpGetObjectPropsSupported, mtp.OpGetObjectPropDesc, mtp.OpGetObjectPropValue,
			mtp.OpGetObjectPropList, mtp.OpSonySendCommand, mtp.OpSonyCommandReply),
		DataChunk: 1 << 20,
		Formats: map[string]mtp.ObjectFormat{
			".jpg": mtp.FormatEXIFJPEG, ".arw": formatSonyARW,
			".mp4": mtp.FormatMP4, ".mts": mtp.FormatUndefined,
		},
		Thumbnails:     true,
		SendToComputer: true,
		UndatedFolders: true,
		Layout:         Layout{FolderSuffix: "MSDCF", FilePrefix: "DSC0", RawExt: ".ARW", VideoExt: ".MP4"},
	}
}

func init() {
	// ops.go's init, which makes allOps, runs first (files initialise in
	// name order).
	allOps[mtp.OpSonySendCommand] = (*session).sonyCommand
	allOps[mtp.OpSonyCommandReply] = (*session).sonyReply
}

// sonyCamera is the Send to Computer state of a camera whose personality
// has SendToComputer.
type sonyCamera struct {
	c      *Camera
	log    *slog.Logger
	paired net.HardwareAddr
	giveUp time.Duration

	mu       sync.Mutex
	state    SonyState
	served   bool // a session was accepted in this Send to Computer
	timer    *time.Timer
	commands [][]byte   // every 0x9280 payload, in order
	guids    [][16]byte // the GUID of every Init Command Request, in order
}

func newSonyCamera(c *Camera) *sonyCamera {
	if !c.p.SendToComputer {
		return nil
	}
	g := c.s.SonyGiveUp
	if g <= 0 {
		g = DefaultSonyGiveUp
	}
	return &sonyCamera{c: c, log: c.log.With("sony", true), paired: c.s.SonyPairedMAC, giveUp: g, state: SonyConnecting}
}

// ErrNotSony is returned by the Sony-only methods of another make.
var ErrNotSony = errors.New("camsim: not a Sony in Send to Computer")

// SonyState is the camera's state in Send to Computer.
func (c *Camera) SonyState() (SonyState, error) {
	if c.sony == nil {
		return "", ErrNotSony
	}
	c.sony.mu.Lock()
	defer c.sony.mu.Unlock()
	return c.sony.state, nil
}

// SonyCommands returns the payload of every 0x9280 command received, in
// order.
func (c *Camera) SonyCommands() [][]byte {
	if c.sony == nil {
		return nil
	}
	c.sony.mu.Lock()
	defer c.sony.mu.Unlock()
	out := make([][]byte, len(c.sony.commands))
	for i, b := range c.sony.commands {
		out[i] = slices.Clone(b)
	}
	return out
}

// SonyInitGUIDs returns the GUID of every Init Command Request the Sony
// received, in order.
func (c *Camera) SonyInitGUIDs() [][16]byte {
	if c.sony == nil {
		return nil
	}
	c.sony.mu.Lock()
	defer c.sony.mu.Unlock()
	return slices.Clone(c.sony.guids)
}

// Press is the user choosing "Send to Computer" again: the camera wakes
// (state connecting), accepts one new session, sees the files added to
// its cards since, and announces itself (with --ssdp).
func (c *Camera) Press() error {
	s := c.sony
	if s == nil {
		return ErrNotSony
	}
	s.mu.Lock()
	s.state, s.served = SonyConnecting, false
	if s.timer != nil {
		s.timer.Stop()
		s.timer = nil
	}
	s.mu.Unlock()
	s.log.Info("Send to Computer pressed")
	if err := c.Rescan(); err != nil {
		s.log.Warn("card scan", "err", err)
	}
	if a := c.announcer(); a != nil {
		a.wake()
	}
	return nil
}

// guidAccepted tells whether the camera takes host GUID g. A camera
// paired with a computer takes that computer's GUID (its tail is the
// paired MAC); one paired with no computer takes a GUID with a zero tail
// (Airnef's finding). A camera paired elsewhere thus refuses every GUID
// this computer can offer, the case the mount explains in plain words.
func (s *sonyCamera) guidAccepted(g [16]byte) bool {
	if len(s.paired) != 6 {
		return sonyauth.IsZeroTail(g)
	}
	want, err := sonyauth.MACGUID(s.paired)
	return err == nil && bytes.Equal(g[8:], want[8:])
}

// admit decides on an Init Command Request before the camera answers it.
// It returns false when the connection is done with: refused with Init
// Fail, left unanswered, or closed because the camera sleeps.
func (s *sonyCamera) admit(w *wire, req *ptpip.InitCommandRequest, log *slog.Logger) bool {
	s.mu.Lock()
	s.guids = append(s.guids, req.GUID)
	state, served := s.state, s.served
	ok := !served && state != SonyAsleep && s.guidAccepted(req.GUID)
	if ok {
		s.served = true
		if s.timer != nil {
			s.timer.Stop()
		}
		s.timer = time.AfterFunc(s.giveUp, s.giveUpWaiting)
	}
	s.mu.Unlock()
	switch {
	case state == SonyAsleep:
		log.Info("sony: asleep: connection closed (press Send to Computer)")
		return false
	case served:
		// One session per Send to Computer: accepted at TCP level and
		// never answered.
		log.Warn("sony: a second Init Command Request in this Send to Computer: not answered", "guid", fmt.Sprintf("%x", req.GUID))
		io.Copy(io.Discard, w.c)
		return false
	case !ok:
		log.Warn("sony: init refused: this computer is not the one paired", "guid", fmt.Sprintf("%x", req.GUID))
		w.send(&ptpip.InitFail{Reason: ptpip.FailRejectedInitiator})
		return false
	}
	log.Info("sony: init accepted", "guid", fmt.Sprintf("%x", req.GUID))
	return true
}

// giveUpWaiting ends Send to Computer when "Sending..." did not come in
// time.
func (s *sonyCamera) giveUpWaiting() {
	s.mu.Lock()
	if s.state != SonyConnecting || !s.served {
		s.mu.Unlock()
		return
	}
	s.state = SonyAsleep
	s.mu.Unlock()
	s.log.Warn("sony: no \"Sending...\" command in time: giving up, going to sleep", "after", s.giveUp)
	s.sleep()
}

// sleep leaves Send to Computer: the camera says byebye and drops WiFi.
func (s *sonyCamera) sleep() {
	if a := s.c.announcer(); a != nil {
		a.byebye()
	}
	s.c.Drop()
}

// sonyDropped: a Sony that lost its WiFi link stops announcing itself
// (without byebye: the network is gone) until Send to Computer is pressed
// again; its session in this Send to Computer is used up.
func (c *Camera) sonyDropped() {
	if c.sony == nil {
		return
	}
	if a := c.announcer(); a != nil {
		a.mu.Lock()
		a.awake = false
		a.mu.Unlock()
	}
}

// sonySession is the Send to Computer state of one command connection.
type sonySession struct {
	pending sonyauth.SubCommand // 0x9280 received, 0x9281 not yet
	hangUp  bool                // the camera ends the connection after this response
}

// objectOps are the operations a Sony with StrictSending refuses before
// "Sending...".
var objectOps = map[mtp.OpCode]bool{
	mtp.OpGetStorageIDs: true, mtp.OpGetStorageInfo: true, mtp.OpGetNumObjects: true,
	mtp.OpGetObjectHandles: true, mtp.OpGetObjectInfo: true, mtp.OpGetObject: true,
	mtp.OpGetThumb: true, mtp.OpGetPartialObject: true,
	mtp.OpGetObjectPropsSupported: true, mtp.OpGetObjectPropDesc: true,
	mtp.OpGetObjectPropValue: true, mtp.OpGetObjectPropList: true,
}

// sonyCheck applies Send to Computer's rules before an operation runs:
// stop reports that r is the answer.
func (s *session) sonyCheck(t *txn) (r reply, stop bool) {
	sc := s.cam.sony
	if sc == nil {
		return reply{}, false
	}
	if s.sony.pending != 0 && t.op != mtp.OpSonyCommandReply {
		s.log.Warn("sony: 0x9280 not followed by 0x9281: busy", "op", t.op)
		return fail(mtp.RespDeviceBusy), true
	}
	if (t.op == mtp.OpGetNumObjects || t.op == mtp.OpGetObjectHandles) && len(t.params) < 3 {
		// Sony wants the two "optional" parameters (Airnef's notes).
		return fail(mtp.RespInvalidObjectFormatCode), true
	}
	sc.mu.Lock()
	state := sc.state
	sc.mu.Unlock()
	if s.cam.s.StrictSending && objectOps[t.op] && state != SonySending {
		s.log.Warn("sony: object operation before \"Sending...\": refused", "op", t.op, "state", state)
		return fail(mtp.RespAccessDenied), true
	}
	return reply{}, false
}

// sonyCommand is 0x9280(4): a command in the data phase.
func (s *session) sonyCommand(t *txn) reply {
	if s.cam.sony == nil {
		return fail(mtp.RespOperationNotSupported)
	}
	sc := s.cam.sony
	sc.mu.Lock()
	sc.commands = append(sc.commands, slices.Clone(t.data))
	sc.mu.Unlock()
	var cmd sonyauth.Command
	if t.param(0) != 4 || cmd.UnmarshalBinary(t.data) != nil || cmd.Sub == 0 {
		s.log.Warn("sony: malformed 0x9280", "params", t.params, "data", fmt.Sprintf("%x", t.data))
		return fail(mtp.RespInvalidParameter)
	}
	s.sony.pending = cmd.Sub
	s.log.Info("sony: command", "sub", cmd.Sub, "data", fmt.Sprintf("%x", t.data))
	return ok()
}

// sonyReply is 0x9281(4): the reply to the last command, which takes
// effect now.
func (s *session) sonyReply(t *txn) reply {
	sc := s.cam.sony
	if sc == nil {
		return fail(mtp.RespOperationNotSupported)
	}
	if t.param(0) != 4 {
		return fail(mtp.RespInvalidParameter)
	}
	sub := s.sony.pending
	s.sony.pending = 0
	switch sub {
	case sonyauth.SubSending:
		sc.mu.Lock()
		if sc.state == SonyConnecting {
			sc.state = SonySending
		}
		if sc.timer != nil {
			sc.timer.Stop()
			sc.timer = nil
		}
		sc.mu.Unlock()
		s.log.Info("sony: Sending...")
	case sonyauth.SubCancelled:
		s.log.Info("sony: The saving process has been cancelled.")
	case sonyauth.SubSleep:
		sc.mu.Lock()
		sc.state = SonyAsleep
		if sc.timer != nil {
			sc.timer.Stop()
			sc.timer = nil
		}
		sc.mu.Unlock()
		s.log.Info("sony: going to sleep")
		s.sony.hangUp = true
	}
	reply := make([]byte, sonyReplySize)
	copy(reply, "camsim sony 0x9281 reply")
	return okData(reply)
}

// sonyAfterResponse ends the connection after the response to the sleep
// command: the camera leaves Send to Computer.
func (s *session) sonyAfterResponse() error {
	if s.sony.hangUp {
		s.cam.sony.sleep()
		return errSonySleep
	}
	return nil
}

var errSonySleep = errors.New("camsim: sony went to sleep")
