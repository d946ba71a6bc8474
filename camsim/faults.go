package camsim

import (
	"errors"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// Faults a real camera shows and a test injects (Config, camsim flags and
// the control socket):
//
//   - AccessDenied (0x200F) to reads of chosen objects, as a Nikon Z answers
//     for images not marked for upload (Config.Deny, "deny GLOB");
//   - StoreNotAvailable (0x2013) to every operation on the card, as a
//     camera answers on low battery ("store-gone", "store-back");
//   - a connection cut after N more bytes, wherever that falls, even inside
//     a packet (Config.DropAfter, "drop-after N");
//   - deleting an object while it is read ("delete PATH"): the transaction
//     in flight completes (its total is promised in Start Data), every
//     later one on that handle answers InvalidObjectHandle.
//
// Stalls and refused Inits are in control.go.

// FaultControlHelp documents the fault commands of the control socket.
const FaultControlHelp = `Fault commands:
  deny GLOB             answer AccessDenied (0x200F) to reads (GetObject, GetPartialObject and
                        the 64-bit reads, GetThumb, GetLargeThumb) of objects whose card path matches GLOB
                        (path.Match; "2:GLOB" for slot 2); "deny off" clears every glob: ok
  store-gone            the card is not available: every operation but GetDeviceInfo,
                        Open/CloseSession and GetStorageIDs answers StoreNotAvailable (0x2013): ok
  store-back            the card is back: ok
  drop-after N          after N more bytes sent by the camera (on any connection, even inside
                        a packet) close every PTP/IP connection, once; "drop-after off" cancels: ok
`

// faults is the fault state of a camera.
type faults struct {
	mu        sync.Mutex
	deny      []string // globs on "slot:path"
	storeGone bool
}

// denyOps are the reads AccessDenied applies to.
var denyOps = map[mtp.OpCode]bool{
	mtp.OpGetObject: true, mtp.OpGetPartialObject: true, mtp.OpGetThumb: true, mtp.OpNikonGetLargeThumb: true,
	mtp.OpAndroidGetPartialObject64: true, mtp.OpNikonGetPartialObjectEx: true,
	mtp.OpCanonEOSGetPartialObject64: true, mtp.OpCanonEOSGetPartialObjectEx64: true,
}

// storeOps answer even with the store gone.
var storeOps = map[mtp.OpCode]bool{
	mtp.OpGetDeviceInfo: true, mtp.OpOpenSession: true, mtp.OpCloseSession: true, mtp.OpGetStorageIDs: true,
}

// checkDeny validates a deny glob.
func checkDeny(glob string) error {
	_, g := splitSlot(glob)
	if _, err := path.Match(g, ""); err != nil {
		return fmt.Errorf("deny %q: %w", glob, err)
	}
	return nil
}

// splitSlot splits "2:GLOB" into "2" and "GLOB"; without a slot it is slot 1.
func splitSlot(s string) (string, string) {
	if i := strings.IndexByte(s, ':'); i > 0 {
		if _, err := strconv.Atoi(s[:i]); err == nil {
			return s[:i], s[i+1:]
		}
	}
	return "1", s
}

// faultState describes the faults in force for the control socket's
// state command: "deny=GLOB,GLOB|off store-gone=BOOL drop-after=N|off".
func (c *Camera) faultState() string {
	c.faults.mu.Lock()
	deny := "off"
	if len(c.faults.deny) > 0 {
		deny = strings.Join(c.faults.deny, ",")
	}
	gone := c.faults.storeGone
	c.faults.mu.Unlock()
	drop := "off"
	c.link.drops.mu.Lock()
	if c.link.drops.armed {
		drop = strconv.FormatInt(c.link.drops.left, 10)
	}
	c.link.drops.mu.Unlock()
	return fmt.Sprintf("deny=%s store-gone=%t drop-after=%s", deny, gone, drop)
}

// fault is the response code a fault forces on operation t, or RespOK.
func (c *Camera) fault(t *txn) mtp.ResponseCode {
	c.faults.mu.Lock()
	gone, deny := c.faults.storeGone, c.faults.deny
	c.faults.mu.Unlock()
	if gone && !storeOps[t.op] {
		return mtp.RespStoreNotAvailable
	}
	if len(deny) > 0 && denyOps[t.op] {
		if o, _, ok := c.object(t.param(0)); ok {
			slot := strconv.Itoa(int(o.storage >> 16))
			for _, g := range deny {
				gs, gp := splitSlot(g)
				if m, _ := path.Match(gp, o.rel); m && gs == slot {
					return mtp.RespAccessDenied
				}
			}
		}
	}
	return mtp.RespOK
}

// errDropped ends a write cut by drop-after.
var errDropped = errors.New("camsim: connection dropped as told (drop-after)")

// dropper cuts the camera's connections after a number of bytes.
type dropper struct {
	mu    sync.Mutex
	armed bool
	left  int64  // bytes still to send before the cut
	drop  func() // closes every PTP/IP connection
}

// arm sets the cut after n more bytes (n < 0: none).
func (d *dropper) arm(n int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.armed, d.left = n >= 0, n
}

// budget returns how many of the n bytes about to be written may go, and
// whether the connections must then be cut. It disarms itself on a cut.
func (d *dropper) budget(n int) (int, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.armed {
		return n, false
	}
	if int64(n) < d.left {
		d.left -= int64(n)
		return n, false
	}
	k := int(d.left)
	d.armed = false
	return k, true
}

// controlFault runs a fault command; handled is false for a command that is
// not one.
func (c *Camera) controlFault(cmd string, args []string) (answer string, handled bool, err error) {
	one := func() error {
		if len(args) != 1 {
			return fmt.Errorf("%s: %d arguments", cmd, len(args))
		}
		return nil
	}
	none := func() error {
		if len(args) != 0 {
			return fmt.Errorf("%s: %d arguments", cmd, len(args))
		}
		return nil
	}
	switch cmd {
	case "deny":
		if err = one(); err != nil {
			return "", true, err
		}
		c.faults.mu.Lock()
		defer c.faults.mu.Unlock()
		if args[0] == "off" {
			c.faults.deny = nil
			return "deny off", true, nil
		}
		if err = checkDeny(args[0]); err != nil {
			return "", true, err
		}
		c.faults.deny = append(c.faults.deny, args[0])
		return "deny " + strings.Join(c.faults.deny, " "), true, nil
	case "store-gone", "store-back":
		if err = none(); err != nil {
			return "", true, err
		}
		c.faults.mu.Lock()
		c.faults.storeGone = cmd == "store-gone"
		c.faults.mu.Unlock()
		return cmd, true, nil
	case "drop-after":
		if err = one(); err != nil {
			return "", true, err
		}
		if args[0] == "off" {
			c.link.drops.arm(-1)
			return "drop-after off", true, nil
		}
		n, perr := strconv.ParseInt(args[0], 10, 64)
		if perr != nil || n < 0 {
			return "", true, fmt.Errorf("drop-after %q: a byte count or off", args[0])
		}
		c.link.drops.arm(n)
		return "drop-after " + args[0], true, nil
	}
	return "", false, nil
}

// setupFaults arms the faults of the configuration and the hostile
// objects.
func (c *Camera) setupFaults() error {
	for _, g := range c.s.Deny {
		if err := checkDeny(g); err != nil {
			return fmt.Errorf("camsim: %w", err)
		}
	}
	c.faults.deny = append([]string(nil), c.s.Deny...)
	c.link.drops.drop = func() { c.Drop() }
	if c.s.DropAfter > 0 {
		c.link.drops.arm(c.s.DropAfter)
	}
	if len(c.s.Hostile) > 0 {
		h, err := newHostile(c, c.s.Hostile)
		if err != nil {
			return err
		}
		c.hostile = h
	}
	return nil
}
