package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// exitInterrupted is the exit status after Ctrl-C or SIGTERM ended
// something unfinished (connecting, or the reads the second signal
// aborted), as shells report 128+SIGINT.
const exitInterrupted = 130

// stopSignals turns SIGINT and SIGTERM into the two stages of stopping:
// the first ends ctx (unmount once the reads in progress have ended), the
// second closes the channel abortOf(ctx) returns (fail them now, and end).
// release stops listening.
func stopSignals() (ctx context.Context, release func()) {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	abort := make(chan struct{})
	done := make(chan struct{})
	go func() {
		for n := 1; ; n++ {
			select {
			case <-sigs:
			case <-done:
				return
			}
			switch n {
			case 1:
				cancel()
			case 2:
				close(abort)
			}
		}
	}()
	return withAbort(ctx, abort), func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

type abortKey struct{}

// withAbort returns ctx carrying abort, the second stop.
func withAbort(ctx context.Context, abort <-chan struct{}) context.Context {
	return context.WithValue(ctx, abortKey{}, abort)
}

// abortOf is the channel closed at the second stop; nil (never) when ctx
// carries none.
func abortOf(ctx context.Context) <-chan struct{} {
	ch, _ := ctx.Value(abortKey{}).(<-chan struct{})
	return ch
}
