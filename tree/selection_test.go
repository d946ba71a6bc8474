package tree

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// markingCamera is a fake camera that keeps a selection.
type markingCamera struct {
	*treetest.Camera
	mu     sync.Mutex
	marked []uint32
	err    error
	asked  int
}

func (c *markingCamera) MarkedHandles(ctx context.Context) ([]uint32, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked++
	if c.err != nil {
		return nil, c.err
	}
	if len(c.marked) == 0 {
		return nil, ErrNoSelection
	}
	return slices.Clone(c.marked), nil
}

func (c *markingCamera) mark(err error, hs ...uint32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.marked, c.err = hs, err
}

func selNames(tr *Tree) ([]string, bool) {
	sel, on := tr.Selection()
	var out []string
	for _, e := range sel {
		out = append(out, e.Name)
	}
	return out, on
}

func TestSelection(t *testing.T) {
	fake := treetest.RenameSample()
	c := &markingCamera{Camera: fake}
	tr := newTestTree(t, c)
	ctx := context.Background()
	type change struct {
		before, after int
		wasOn, isOn   bool
	}
	var changes []change
	tr.OnSelection(func(before, after []Selected, wasOn, isOn bool) {
		changes = append(changes, change{len(before), len(after), wasOn, isOn})
	})

	// Nothing marked: no folder.
	if changed, err := tr.RefreshSelection(ctx); err != nil || changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	if _, on := tr.Selection(); on {
		t.Fatal("a folder without a list")
	}

	// Two photos with the same name in two folders, neither listed yet:
	// found by listing, named apart, the card tree's objects themselves.
	var same []uint32
	for h, o := range fake.Objects {
		if o.Info.Filename == "DSC_0001.NEF" && o.Info.StorageID == 0x00010001 {
			same = append(same, h)
		}
	}
	if len(same) != 2 {
		t.Fatalf("sample has %d DSC_0001.NEF on card 1", len(same))
	}
	slices.Sort(same)
	c.mark(nil, same[0], same[1], 0x7777 /* not on the card */)
	if changed, err := tr.RefreshSelection(ctx); err != nil || !changed {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	got, on := selNames(tr)
	if !on || !slices.Equal(got, []string{"DSC_0001 (2).NEF", "DSC_0001.NEF"}) {
		t.Fatalf("selection %q (shown %v)", got, on)
	}
	for _, e := range func() []Selected { s, _ := tr.Selection(); return s }() {
		o, ok := tr.Object(e.Obj.Ino)
		if !ok || o != e.Obj || !tr.IsSelected(o) {
			t.Fatalf("%s is not the card tree's object", e.Name)
		}
		if l, ok := tr.SelectionLookup(e.Name); !ok || l != o {
			t.Fatalf("lookup %s", e.Name)
		}
	}

	// The same answer again changes nothing; one more mark does.
	if changed, _ := tr.RefreshSelection(ctx); changed {
		t.Fatal("an unchanged selection was told")
	}
	c.mark(nil, same[0])
	tr.RefreshSelection(ctx)
	if got, _ := selNames(tr); len(got) != 1 {
		t.Fatalf("after unmarking: %q", got)
	}

	// Unmarked all: the folder goes.
	c.mark(nil)
	tr.RefreshSelection(ctx)
	if _, on := tr.Selection(); on {
		t.Fatal("folder shown without a list")
	}
	want := []change{{0, 2, false, true}, {2, 1, true, true}, {1, 0, true, false}}
	if !slices.Equal(changes, want) {
		t.Fatalf("told %v, want %v", changes, want)
	}

	// A transient failure keeps the selection; a refusal stops asking.
	c.mark(errors.New("link down"))
	if _, err := tr.RefreshSelection(ctx); err == nil {
		t.Fatal("a failure was not reported")
	}
	c.mark(mtp.RespOperationNotSupported)
	tr.RefreshSelection(ctx)
	asked := c.asked
	tr.RefreshSelection(ctx)
	if c.asked != asked {
		t.Fatal("asked again after the camera refused the operation")
	}
}

func TestSelectionReservedName(t *testing.T) {
	c := treetest.New()
	c.AddStorage(0x00010001, SelectionDirName, "", 1<<30, 1<<29)
	tr := newTestTree(t, c)
	root, err := tr.List(context.Background(), tr.Root())
	if err != nil || len(root) != 1 || root[0].Name == SelectionDirName {
		t.Fatalf("root %q, %v", names(root), err)
	}
}

func TestSelectionNotAsked(t *testing.T) {
	// A camera that keeps no selection (treetest.Camera has no
	// MarkedHandles): nothing is asked, nothing is shown.
	tr := newTestTree(t, treetest.Sample())
	if changed, err := tr.RefreshSelection(context.Background()); changed || err != nil {
		t.Fatalf("refresh: %v %v", changed, err)
	}
	if _, on := tr.Selection(); on {
		t.Fatal("shown")
	}
}
