package tree

import (
	"context"
	"testing"
)

// Held counts what the tree holds: listing again after a reconnection does
// not count an object twice (ObjectsListed does), and a deleted one goes.
func TestHeld(t *testing.T) {
	tr := newTestTree(t, reconnectCard(1, ""))
	walk(t, tr, "SD", "DCIM", "100MSDCF", "A.ARW")
	// SD, DCIM, 100MSDCF, EMPTY and three files of 1000-1002 bytes.
	check := func(when string, objects, files int, bytes int64) {
		t.Helper()
		o, f, b := tr.Held()
		if o != objects || f != files || b != bytes {
			t.Errorf("%s: Held = %d objects, %d files, %d bytes; want %d, %d, %d", when, o, f, b, objects, files, bytes)
		}
	}
	check("listed", 7, 3, 3003)
	listed := tr.ObjectsListed()

	tr.Disconnect()
	if err := tr.Reconnect(context.Background(), reconnectCard(100, "B.ARW")); err != nil {
		t.Fatal(err)
	}
	check("after a reconnection, B.ARW deleted meanwhile", 6, 2, 2002)
	if tr.ObjectsListed() <= listed {
		t.Errorf("ObjectsListed %d after re-listing, was %d: the test does not tell the two apart", tr.ObjectsListed(), listed)
	}
}
