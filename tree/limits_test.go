package tree

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// strayCamera is a treetest.Camera whose folder listings also return the
// handles in extra[parent], whatever their ParentObject says: a camera
// whose handle lists and ObjectInfos disagree.
type strayCamera struct {
	*treetest.Camera
	extra map[uint32][]uint32
}

func (c *strayCamera) ObjectHandles(ctx context.Context, storage, parent uint32) ([]uint32, error) {
	hs, err := c.Camera.ObjectHandles(ctx, storage, parent)
	if err != nil {
		return nil, err
	}
	if parent == 0xFFFFFFFF {
		parent = 0
	}
	return append(hs, c.extra[parent]...), nil
}

func limitsTree(t *testing.T, c Camera, maxObjects int) (*Tree, *treetest.SyncBuffer) {
	t.Helper()
	var buf treetest.SyncBuffer
	tr := New(c, Config{Location: time.UTC, Logger: slog.New(slog.NewTextHandler(&buf, nil)), MaxObjects: maxObjects})
	t.Cleanup(tr.Close)
	return tr, &buf
}

// Objects whose ParentObject chain loops, and folders that list
// themselves or their ancestors, are skipped, each logged once however
// often the folder is listed.
func TestTreeSkipsParentCycles(t *testing.T) {
	const sd = 0x00010001
	c := treetest.New()
	c.AddStorage(sd, "SD", "", 1<<30, 1<<29)
	dcim := c.Add(sd, 0, "DCIM", true, nil, "", "")
	c.Add(sd, dcim, "OK.JPG", false, []byte("fine"), "20240301T101010", "")
	a := c.Add(sd, 0, "A", true, nil, "", "")
	b := c.Add(sd, 0, "B", true, nil, "", "")
	self := c.Add(sd, 0, "SELF", true, nil, "", "")
	c.Objects[a].Info.ParentObject = b
	c.Objects[b].Info.ParentObject = a
	c.Objects[self].Info.ParentObject = self
	inner := c.Add(sd, dcim, "INNER", true, nil, "", "")
	c.Add(sd, inner, "X.JPG", false, []byte("x"), "", "")
	// The top level also lists the looping objects, and INNER lists
	// itself and DCIM again.
	cam := &strayCamera{Camera: c, extra: map[uint32][]uint32{0: {a, b, self}, inner: {inner, dcim}}}
	tr, logs := limitsTree(t, cam, 0)

	storage := walk(t, tr, "SD")
	top, err := tr.List(context.Background(), storage)
	if err != nil {
		t.Fatal(err)
	}
	if got := names(top); strings.Join(got, ",") != "DCIM" {
		t.Errorf("top level %v, want [DCIM]", got)
	}
	in, err := tr.List(context.Background(), walk(t, tr, "SD", "DCIM", "INNER"))
	if err != nil {
		t.Fatal(err)
	}
	if got := names(in); strings.Join(got, ",") != "X.JPG" {
		t.Errorf("INNER %v, want [X.JPG]", got)
	}
	// A second listing of the same folders (as after a reconnect) logs
	// nothing new.
	if _, err := tr.listFolder(context.Background(), cam, storage, storage.cur); err != nil {
		t.Fatal(err)
	}
	log := logs.String()
	for _, h := range []uint32{a, b, self, inner, dcim} {
		if n := strings.Count(log, fmt.Sprintf("handle=%#x ", h)); n != 1 {
			t.Errorf("handle %#x logged %d times, want once:\n%s", h, n, log)
		}
	}
	if n := strings.Count(log, "level=WARN msg=\"object skipped\""); n != 5 {
		t.Errorf("%d skip lines, want 5:\n%s", n, log)
	}
}

// A chain of folders deeper than MaxDepth stops at MaxDepth levels, with
// one log line for the folder cut off.
func TestTreeDepthCap(t *testing.T) {
	const sd = 0x00010001
	c := treetest.New()
	c.AddStorage(sd, "SD", "", 1<<30, 1<<29)
	parent := uint32(0)
	for range MaxDepth + 50 {
		parent = c.Add(sd, parent, "d", true, nil, "", "")
	}
	tr, logs := limitsTree(t, c, 0)
	o := walk(t, tr, "SD")
	levels := 1
	for {
		children, err := tr.List(context.Background(), o)
		if err != nil {
			t.Fatalf("level %d: %v", levels, err)
		}
		if len(children) == 0 {
			break
		}
		o = children[0]
		levels++
	}
	if levels != MaxDepth {
		t.Errorf("deepest level %d, want %d", levels, MaxDepth)
	}
	if n := strings.Count(logs.String(), "nested deeper than"); n != 1 {
		t.Errorf("%d depth lines, want 1:\n%s", n, logs.String())
	}
}

// A folder listing more objects than the cap fails with ErrTooManyObjects,
// logged once, and is not asked again; the rest of the tree works, and a
// folder within the cap is listed.
func TestTreeMaxObjects(t *testing.T) {
	const sd = 0x00010001
	c := treetest.New()
	c.AddStorage(sd, "SD", "", 1<<30, 1<<29)
	many := c.Add(sd, 0, "MANY", true, nil, "", "")
	few := c.Add(sd, 0, "FEW", true, nil, "", "")
	for i := range 60 {
		c.Add(sd, many, fmt.Sprintf("F%03d.JPG", i), false, []byte("m"), "", "")
	}
	for i := range 5 {
		c.Add(sd, few, fmt.Sprintf("G%03d.JPG", i), false, []byte("f"), "", "")
	}
	tr, logs := limitsTree(t, c, 50)
	dir := walk(t, tr, "SD", "MANY")
	for range 3 {
		_, err := tr.List(context.Background(), dir)
		if !errors.Is(err, ErrTooManyObjects) {
			t.Fatalf("listing MANY: %v, want ErrTooManyObjects", err)
		}
		if !strings.Contains(err.Error(), "cap is 50") {
			t.Errorf("error %q does not say the cap", err)
		}
	}
	if n := c.HandleCalls.Load(); n != 2 { // the top level, MANY once
		t.Errorf("%d GetObjectHandles, want 2 (a refused folder is not asked again)", n)
	}
	if n := c.InfoCalls.Load(); n != 2 { // MANY and FEW
		t.Errorf("%d GetObjectInfo, want 2: the refused folder's objects are not described", n)
	}
	if n := strings.Count(logs.String(), "too many objects"); n != 1 {
		t.Errorf("%d log lines about the cap, want 1:\n%s", n, logs.String())
	}
	got, err := tr.List(context.Background(), walk(t, tr, "SD", "FEW"))
	if err != nil || len(got) != 5 {
		t.Fatalf("FEW: %d entries, %v", len(got), err)
	}
}

// refusingCamera is a treetest.Camera whose GetObjectInfo answers infoErr[h]
// for the handles listed there, and whose GetObjectHandles answers
// listErr[parent] for those folders.
type refusingCamera struct {
	*treetest.Camera
	infoErr map[uint32]error
	listErr map[uint32]error
}

func (c *refusingCamera) ObjectInfo(ctx context.Context, h uint32) (*mtp.ObjectInfo, error) {
	if err := c.infoErr[h]; err != nil {
		return nil, fmt.Errorf("get object info %#x: %w", h, err)
	}
	return c.Camera.ObjectInfo(ctx, h)
}

func (c *refusingCamera) ObjectHandles(ctx context.Context, storage, parent uint32) ([]uint32, error) {
	if err := c.listErr[parent]; err != nil {
		return nil, fmt.Errorf("get object handles: %w", err)
	}
	return c.Camera.ObjectHandles(ctx, storage, parent)
}

// An object the camera refuses to describe (AccessDenied, as a Nikon Z
// answers for photos not marked for upload; GeneralError past the wait for
// a shot being written) or describes with a malformed ObjectInfo is left
// out with one log line; the rest of its folder is listed. A transport
// error still fails the listing, and a folder the camera refuses to list
// answers its refusal, logged once.
func TestTreeLeavesOutBadObjects(t *testing.T) {
	const sd = 0x00010001
	c := treetest.New()
	c.AddStorage(sd, "SD", "", 1<<30, 1<<29)
	dcim := c.Add(sd, 0, "DCIM", true, nil, "", "")
	ok := c.Add(sd, dcim, "OK.JPG", false, []byte("fine"), "20240301T101010", "")
	denied := c.Add(sd, dcim, "DENIED.JPG", false, []byte("no"), "", "")
	general := c.Add(sd, dcim, "GENERAL.JPG", false, []byte("no"), "", "")
	garbled := c.Add(sd, dcim, "GARBLED.JPG", false, []byte("no"), "", "")
	locked := c.Add(sd, 0, "LOCKED", true, nil, "", "")
	broken := c.Add(sd, 0, "BROKEN", true, nil, "", "")
	x := c.Add(sd, broken, "X.JPG", false, []byte("x"), "", "")
	away := c.Add(sd, 0, "AWAY", true, nil, "", "")
	y := c.Add(sd, away, "Y.JPG", false, []byte("y"), "", "")
	cam := &refusingCamera{Camera: c,
		infoErr: map[uint32]error{
			x:      treetest.ErrBroken,
			y:      mtp.RespStoreNotAvailable,
			denied: mtp.RespAccessDenied, general: mtp.RespGeneralError,
			garbled: fmt.Errorf("%w: ObjectInfo: need 4 bytes", mtp.ErrMalformed),
		},
		listErr: map[uint32]error{locked: mtp.RespAccessDenied},
	}
	tr, logs := limitsTree(t, cam, 0)
	start := time.Now()
	got, err := tr.List(context.Background(), walk(t, tr, "SD", "DCIM"))
	if err != nil {
		t.Fatalf("listing DCIM: %v", err)
	}
	if d := time.Since(start); d > shotSettle+2*time.Second {
		t.Errorf("listing took %v: more than one wait for shots being written", d)
	}
	if strings.Join(names(got), ",") != "OK.JPG" || got[0].Handle != ok {
		t.Errorf("DCIM holds %v, want [OK.JPG]", names(got))
	}
	log := logs.String()
	for _, h := range []uint32{denied, general, garbled} {
		if n := strings.Count(log, fmt.Sprintf("handle=%#x ", h)); n != 1 {
			t.Errorf("handle %#x logged %d times, want once:\n%s", h, n, log)
		}
	}

	if _, err := tr.List(context.Background(), walk(t, tr, "SD", "LOCKED")); !errors.Is(err, mtp.RespAccessDenied) {
		t.Errorf("listing LOCKED: %v, want AccessDenied", err)
	}
	tr.List(context.Background(), walk(t, tr, "SD", "LOCKED"))
	if n := strings.Count(logs.String(), "refuses to list it"); n != 1 {
		t.Errorf("%d lines about the refused listing, want 1:\n%s", n, logs.String())
	}

	if _, err := tr.List(context.Background(), walk(t, tr, "SD", "BROKEN")); !errors.Is(err, treetest.ErrBroken) {
		t.Errorf("listing BROKEN with the session broken: %v, want the transport's error", err)
	}
	// A refusal about the camera, not the object, fails the listing.
	if _, err := tr.List(context.Background(), walk(t, tr, "SD", "AWAY")); !errors.Is(err, mtp.RespStoreNotAvailable) {
		t.Errorf("listing AWAY with the card not available: %v, want StoreNotAvailable", err)
	}
}
