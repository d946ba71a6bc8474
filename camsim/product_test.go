package camsim

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

const module = "github.com/airnef-mount/airnef-mount"

// deps lists the packages pkg is built from, itself included.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-deps", "-f", "{{.ImportPath}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// TestProductNeverImportsSimulator checks that the simulator, and anything
// built only for tests, stays out of the program users install.
func TestProductNeverImportsSimulator(t *testing.T) {
	// The check can fail: the simulator's own command does import it.
	if !slices.Contains(deps(t, module+"/cmd/camsim"), module+"/camsim") {
		t.Fatalf("go list -deps %s/cmd/camsim does not list %s/camsim", module, module)
	}
	for _, p := range deps(t, module+"/cmd/airnef-mount") {
		if p == module+"/camsim" || strings.HasPrefix(p, module+"/camsim/") ||
			p == module+"/test" || strings.HasPrefix(p, module+"/test/") {
			t.Errorf("cmd/airnef-mount depends on %s", p)
		}
	}
}
