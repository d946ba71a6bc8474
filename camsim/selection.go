package camsim

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// The photos marked on the camera: a Nikon lets the user pick photos "to
// send to smart device" in its playback menu, and answers Nikon's
// GetTransferList (0x9408) with their handles, or NoTransferList (0xA205)
// when none is marked (Airnef's sources, issue 18). Airnef asks every
// Nikon, whether DeviceInfo lists the operation or not (a J4 answers it
// unlisted), so every Nikon here answers it. A Nikon Z on WiFi answers
// AccessDenied to reads of photos that are not marked (Airnef's notes):
// Config.RefuseUnmarked.

// SelectionControlHelp documents the control socket's commands for the
// photos marked on the camera.
const SelectionControlHelp = `Selection commands (a Nikon's photos marked "to send to smart device"):
  mark PATH             mark the file PATH ("2:PATH" for slot 2; a glob marks every match): ok N
                        (the number of photos marked now)
  unmark PATH|all       unmark PATH (a glob: every match), or every photo: ok N
  (state adds marked=N for a Nikon, and clock=YYYYMMDDThhmmss once a host set the clock)
`

// selection is the set of marked photos, by "slot:path" (handles change
// when a card is scanned again; places do not).
type selection struct {
	mu     sync.Mutex
	marked map[string]bool
}

// snapshot is a copy of the marked places.
func (s *selection) snapshot() map[string]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.marked)
}

// placeOf is an object's key in the selection.
func placeOf(o *object) string { return strconv.Itoa(int(o.storage>>16)) + ":" + o.rel }

// markFirst marks the first n photos of the cards, in card and path order.
func (c *Camera) markFirst(n int) {
	var files []object
	for _, cd := range c.cards {
		files = cd.list(files, func(o *object) bool { return !o.dir })
	}
	slices.SortFunc(files, func(a, b object) int {
		if a.storage != b.storage {
			return int(a.storage>>16) - int(b.storage>>16)
		}
		return strings.Compare(a.rel, b.rel)
	})
	c.sel.mu.Lock()
	defer c.sel.mu.Unlock()
	for _, o := range files[:min(n, len(files))] {
		c.sel.marked[placeOf(&o)] = true
	}
}

// isMarked reports whether object o is marked.
func (c *Camera) isMarked(o *object) bool {
	c.sel.mu.Lock()
	defer c.sel.mu.Unlock()
	return c.sel.marked[placeOf(o)]
}

// markedFiles are the marked photos still on the cards, in handle order.
func (c *Camera) markedFiles() []object {
	m := c.sel.snapshot()
	return c.objects(0xFFFFFFFF, func(o *object) bool { return !o.dir && m[placeOf(o)] })
}

// Marked is how many photos are marked now (on the cards).
func (c *Camera) Marked() int { return len(c.markedFiles()) }

// nikonGetTransferList answers GetTransferList (0x9408): the handles of
// the marked photos in handle order, or NoTransferList when none is.
func (s *session) nikonGetTransferList(*txn) reply {
	objs := s.cam.markedFiles()
	if len(objs) == 0 {
		return fail(mtp.RespNikonNoTransferList)
	}
	hs := make([]uint32, len(objs))
	for i, o := range objs {
		hs[i] = o.handle
	}
	b, err := mtp.AppendUint32Array(nil, hs)
	if err != nil {
		return fail(mtp.RespGeneralError)
	}
	return okData(b)
}

// refusedUnmarked is AccessDenied for a read of a photo that is not
// marked, on a camera that refuses those (Config.RefuseUnmarked).
func (c *Camera) refusedUnmarked(t *txn) mtp.ResponseCode {
	if !c.s.RefuseUnmarked || !denyOps[t.op] {
		return mtp.RespOK
	}
	if o, _, ok := c.object(t.param(0)); ok && !o.dir && !c.isMarked(&o) {
		return mtp.RespAccessDenied
	}
	return mtp.RespOK
}

// controlMark runs "mark PATH" (on true) or "unmark PATH|all".
func (c *Camera) controlMark(arg string, on bool) (string, error) {
	if c.p.Make != "nikon" {
		return "", fmt.Errorf("only a Nikon keeps photos marked to send (this is a %s)", c.p.Make)
	}
	if !on && arg == "all" {
		c.sel.mu.Lock()
		clear(c.sel.marked)
		c.sel.mu.Unlock()
		return "0", nil
	}
	slot, glob := splitSlot(arg)
	glob = strings.Trim(glob, "/")
	if _, err := path.Match(glob, ""); err != nil {
		return "", fmt.Errorf("%q: %w", arg, err)
	}
	files := c.objects(0xFFFFFFFF, func(o *object) bool {
		m, _ := path.Match(glob, o.rel)
		return !o.dir && m && strconv.Itoa(int(o.storage>>16)) == slot
	})
	if len(files) == 0 {
		return "", fmt.Errorf("no file on the card matches %q", arg)
	}
	c.sel.mu.Lock()
	for _, o := range files {
		if on {
			c.sel.marked[placeOf(&o)] = true
		} else {
			delete(c.sel.marked, placeOf(&o))
		}
	}
	c.sel.mu.Unlock()
	return strconv.Itoa(c.Marked()), nil
}
