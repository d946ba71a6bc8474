package camsim

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/airnef-mount/airnef-mount/ptpip"
)

// ControlHelp documents the control socket's commands, one per line:
// each command gets exactly one answer line, "ok ..." or "error ...".
const ControlHelp = `Control socket commands (one per line; one answer line each, "ok ..." or "error ..."):
  state                 ok personality=P connections=N sessions=N objects=N storages=ID,... stalled=BOOL refuse-init=R
                        deny=GLOB,...|off store-gone=BOOL drop-after=N|off (the bytes left before the cut)
  add SRC [DEST]        copy host file SRC onto the card at DEST (default: the last DCIM folder
                        of slot 1, SRC's name); "2:DEST" is slot 2. Answers ok HANDLE DEST and
                        sends ObjectAdded. A generated card reads SRC when asked: keep it
  delete PATH           take PATH ("2:PATH" for slot 2) off the card: ok HANDLE, ObjectRemoved
  stall DURATION        send nothing on any connection for DURATION (e.g. 3s): ok
  drop                  close every PTP/IP connection, keep listening: ok dropped N
  drop-events           close only the event connections (the sessions go on, send no events):
                        ok dropped N
  refuse-init REASON    answer every Init Command Request with Init Fail REASON (1 rejected,
                        2 busy, 3 unspecified, or the word); "refuse-init off" stops: ok
  announce              send the SSDP ssdp:alive NOTIFYs now, whatever the state (--ssdp): ok
  press                 Sony: the user chooses Send to Computer again: state connecting, one
                        new session accepted, new files seen, announcing again: ok
  (state adds sony=connecting|sending|asleep for a Sony)
`

// ServeControl listens on the unix socket path for control commands (see
// ControlHelp) until Close, which also removes the socket.
func (c *Camera) ServeControl(path string) error {
	os.Remove(path) // a stale socket of an earlier run
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed || c.control != nil {
		c.mu.Unlock()
		ln.Close()
		return errors.New("camsim: camera closed or control socket already open")
	}
	c.control = ln
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			if !c.track(nc) {
				nc.Close()
				return
			}
			c.wg.Add(1)
			go func() {
				defer c.wg.Done()
				defer c.untrack(nc)
				c.serveControl(nc)
			}()
		}
	}()
	return nil
}

func (c *Camera) serveControl(nc net.Conn) {
	lines := bufio.NewScanner(nc)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		if line == "" {
			continue
		}
		answer := c.Control(line)
		c.log.Info("control", "command", line, "answer", answer)
		nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := fmt.Fprintln(nc, answer); err != nil {
			return
		}
	}
}

// isControlConn: control connections are tracked with the PTP/IP ones so
// Close ends them; drop must spare them.
func isControlConn(nc net.Conn) bool { return nc.LocalAddr().Network() == "unix" }

// Control runs one control command and returns its one-line answer.
func (c *Camera) Control(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "error empty command"
	}
	args := f[1:]
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return fmt.Errorf("%s: %d arguments", f[0], len(args))
		}
		return nil
	}
	var answer string
	var err error
	switch f[0] {
	case "state":
		if err = nargs(0, 0); err == nil {
			answer = c.state()
		}
	case "add":
		if err = nargs(1, 2); err == nil {
			dest := ""
			if len(args) == 2 {
				dest = args[1]
			}
			answer, err = c.controlAdd(args[0], dest)
		}
	case "delete":
		if err = nargs(1, 1); err == nil {
			answer, err = c.controlDelete(args[0])
		}
	case "stall":
		if err = nargs(1, 1); err == nil {
			var d time.Duration
			if d, err = time.ParseDuration(args[0]); err == nil && d < 0 {
				err = errors.New("negative duration")
			}
			if err == nil {
				c.link.stall(d)
				answer = "stalled for " + d.String()
			}
		}
	case "drop":
		if err = nargs(0, 0); err == nil {
			answer = fmt.Sprintf("dropped %d", c.Drop())
		}
	case "drop-events":
		if err = nargs(0, 0); err == nil {
			answer = fmt.Sprintf("dropped %d", c.DropEvents())
		}
	case "refuse-init":
		if err = nargs(1, 1); err == nil {
			var r uint32
			if r, err = initFailReason(args[0]); err == nil {
				c.refuseInit.Store(r)
				answer = fmt.Sprintf("refuse-init %d", r)
			}
		}
	case "announce":
		if err = nargs(0, 0); err == nil {
			if err = c.Announce(); err == nil {
				answer = "announced"
			}
		}
	case "mark", "unmark":
		if err = nargs(1, 1); err == nil {
			answer, err = c.controlMark(args[0], f[0] == "mark")
		}
	case "press":
		if err = nargs(0, 0); err == nil {
			if err = c.Press(); err == nil {
				answer = "pressed"
			}
		}
	default:
		var handled bool
		if answer, handled, err = c.controlFault(f[0], args); !handled {
			err = fmt.Errorf("unknown command %q", f[0])
		}
	}
	if err != nil {
		return "error " + strings.TrimPrefix(err.Error(), "camsim: ")
	}
	return strings.TrimSpace("ok " + answer)
}

// Drop closes every PTP/IP connection (not the control ones), as a camera
// leaving WiFi range does; it keeps listening. It returns how many
// connections it closed.
func (c *Camera) Drop() int {
	c.sonyDropped()
	return c.eachPTPConn(net.Conn.Close)
}

// DropEvents closes only the sessions' event connections, as a camera whose
// event socket alone breaks does: the sessions go on, and no event reaches
// their hosts until they connect again. It returns how many it closed.
func (c *Camera) DropEvents() int {
	c.mu.Lock()
	var evts []*wire
	for _, s := range c.sessions {
		if s.evt != nil {
			evts = append(evts, s.evt)
		}
	}
	c.mu.Unlock()
	for _, w := range evts {
		w.Close()
	}
	return len(evts)
}

// PTPConnections is how many PTP/IP connections (command and event, not the
// control socket's) are open now.
func (c *Camera) PTPConnections() int {
	return c.eachPTPConn(func(net.Conn) error { return nil })
}

// eachPTPConn calls f on every open PTP/IP connection and counts them.
func (c *Camera) eachPTPConn(f func(net.Conn) error) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for nc := range c.conns {
		if !isControlConn(nc) {
			f(nc)
			n++
		}
	}
	return n
}

func initFailReason(s string) (uint32, error) {
	switch s {
	case "off", "0":
		return 0, nil
	case "rejected":
		return ptpip.FailRejectedInitiator, nil
	case "busy":
		return ptpip.FailBusy, nil
	case "unspecified":
		return ptpip.FailUnspecified, nil
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("refuse-init: reason %q (1, 2, 3, rejected, busy, unspecified or off)", s)
	}
	return uint32(n), nil
}

func (c *Camera) state() string {
	ids := make([]string, len(c.cards))
	n := 0
	for i, cd := range c.cards {
		ids[i] = fmt.Sprintf("%#x", cd.storage)
		n += len(cd.list(nil, func(*object) bool { return true }))
	}
	sony := ""
	if st, err := c.SonyState(); err == nil {
		sony = " sony=" + string(st)
	}
	if c.p.Make == "nikon" {
		sony += fmt.Sprintf(" marked=%d", c.Marked())
	}
	if set := c.ClockSet(); set != "" {
		sony += " clock=" + set
	}
	return fmt.Sprintf("personality=%s connections=%d sessions=%d objects=%d storages=%s stalled=%t refuse-init=%d %s%s",
		c.p.Name, c.Connections(), c.OpenSessions(), n, strings.Join(ids, ","), c.link.stalled(), c.refuseInit.Load(), c.faultState(), sony)
}

// slotPath splits "2:DCIM/x" into the card of slot 2 and "DCIM/x"; a path
// without a slot is on slot 1.
func (c *Camera) slotPath(p string) (*card, string, error) {
	slot := 1
	if i := strings.IndexByte(p, ':'); i > 0 {
		n, err := strconv.Atoi(p[:i])
		if err != nil {
			return nil, "", fmt.Errorf("%q: bad slot", p)
		}
		slot, p = n, p[i+1:]
	}
	for _, cd := range c.cards {
		if cd.slot == slot {
			return cd, strings.Trim(p, "/"), nil
		}
	}
	return nil, "", fmt.Errorf("no card in slot %d", slot)
}

// defaultFolder is where add puts a file without a destination: the last
// folder in DCIM of slot 1, or a new DCF folder of the make.
func (c *Camera) defaultFolder() string {
	var dirs []string
	for _, o := range c.cards[0].list(nil, func(o *object) bool { return o.dir && path.Dir(o.rel) == "DCIM" }) {
		dirs = append(dirs, o.rel)
	}
	if len(dirs) == 0 {
		return "DCIM/100" + cmpOr(c.p.Layout.FolderSuffix, "CAMSM")
	}
	slices.Sort(dirs)
	return dirs[len(dirs)-1]
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (c *Camera) controlAdd(src, dest string) (string, error) {
	cd, rel := c.cards[0], ""
	if dest == "" {
		rel = path.Join(c.defaultFolder(), path.Base(src))
	} else {
		var err error
		if cd, rel, err = c.slotPath(dest); err != nil {
			return "", err
		}
	}
	if err := cd.m.add(src, rel); err != nil {
		return "", err
	}
	if err := c.Rescan(); err != nil {
		return "", err
	}
	o, ok := cd.lookup(rel)
	if !ok {
		return "", fmt.Errorf("add: %s not on the card after adding", rel)
	}
	return fmt.Sprintf("%#x %s", o.handle, rel), nil
}

func (c *Camera) controlDelete(p string) (string, error) {
	cd, rel, err := c.slotPath(p)
	if err != nil {
		return "", err
	}
	o, ok := cd.lookup(rel)
	if !ok {
		return "", fmt.Errorf("delete: %s is not on the card", rel)
	}
	if err := cd.m.remove(rel); err != nil {
		return "", err
	}
	if err := c.Rescan(); err != nil {
		return "", err
	}
	return fmt.Sprintf("%#x", o.handle), nil
}
