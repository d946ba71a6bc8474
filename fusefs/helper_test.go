package fusefs

import (
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/pathspec"
	"github.com/airnef-mount/airnef-mount/renamed"
	"github.com/airnef-mount/airnef-mount/tree"
)

// watchBound is how long a test waits for a change: far above the
// watcher's own periods (tens of milliseconds here).
const watchBound = 5 * time.Second

var renameTestCamera = tree.NewCameraID("Nikon Corporation", "D7200", "0035551323")

func newTestTree(t *testing.T, c tree.Camera) *tree.Tree {
	t.Helper()
	tr := tree.New(c, tree.Config{Location: time.UTC})
	t.Cleanup(tr.Close)
	return tr
}

func mustSpec(t *testing.T, s string, file bool) *pathspec.Spec {
	t.Helper()
	if s == "" {
		return nil
	}
	var sp *pathspec.Spec
	var err error
	if file {
		sp, err = pathspec.ParseFilename(s)
	} else {
		sp, err = pathspec.Parse(s)
	}
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

// renameFiles maps each file of rt to its camera path.
func renameFiles(rt *renamed.Tree) map[string]string {
	out := map[string]string{}
	var walk func(n *renamed.Node)
	walk = func(n *renamed.Node) {
		for _, c := range n.Children() {
			if c.IsDir() {
				walk(c)
			} else {
				out[c.Path()] = c.Object.Path()
			}
		}
	}
	walk(rt.Root())
	return out
}
