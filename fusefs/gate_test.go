package fusefs

import (
	"context"
	"testing"
	"time"
)

func TestGate(t *testing.T) {
	g := NewGate()
	ctx1, leave1, ok1 := g.enter(t.Context())
	_, leave2, ok2 := g.enter(t.Context())
	if !ok1 || !ok2 || g.InProgress() != 2 {
		t.Fatalf("two reads: ok %t %t, in progress %d", ok1, ok2, g.InProgress())
	}
	if n := g.Close(); n != 2 {
		t.Errorf("Close = %d reads in progress, want 2", n)
	}
	if _, _, ok := g.enter(t.Context()); ok {
		t.Error("a read entered a closed gate")
	}
	if !g.closing() || g.aborting() {
		t.Error("closing/aborting wrong after Close")
	}
	leave2()
	select {
	case <-g.Idle():
		t.Fatal("idle with a read in progress")
	default:
	}
	g.Abort()
	select {
	case <-ctx1.Done():
	case <-time.After(time.Second):
		t.Fatal("Abort did not end the read's context")
	}
	if !g.aborting() {
		t.Error("aborting false after Abort")
	}
	leave1()
	select {
	case <-g.Idle():
	case <-time.After(time.Second):
		t.Fatal("not idle once the reads ended")
	}
}

// A nil gate lets every read through, with its own context.
func TestGateNil(t *testing.T) {
	var g *Gate
	ctx, leave, ok := g.enter(context.Background())
	if !ok || ctx != context.Background() || g.aborting() || g.closing() {
		t.Error("nil gate refused or changed a read")
	}
	leave()
}
