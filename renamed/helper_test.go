package renamed

import (
	"context"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/tree"
)

// watchBound is how long a test waits for a change: far above the
// watcher's own periods (tens of milliseconds here).
const watchBound = 5 * time.Second

func newTestTree(t *testing.T, c tree.Camera) *tree.Tree {
	t.Helper()
	tr := tree.New(c, tree.Config{Location: time.UTC})
	t.Cleanup(tr.Close)
	return tr
}

// walk resolves a path from the root with Lookup.
func walk(t *testing.T, tr *tree.Tree, path ...string) *tree.Object {
	t.Helper()
	o := tr.Root()
	for _, name := range path {
		var err error
		o, err = tr.Lookup(context.Background(), o, name)
		if err != nil {
			t.Fatalf("lookup %q: %v", path, err)
		}
	}
	return o
}

// nextChange is the next change the tree reports.
func nextChange(t *testing.T, changes <-chan tree.Change) tree.Change {
	t.Helper()
	select {
	case c := <-changes:
		return c
	case <-time.After(watchBound):
		t.Fatal("no change reported")
	}
	return tree.Change{}
}
