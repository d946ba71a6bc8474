package camsim

import (
	"errors"
	"testing"
	"time"
)

// TestWaitUntil: the link model's waits never end early (a round trip is
// never shorter than the latency), and a closed connection ends one at
// once, also in its nanosleep part.
func TestWaitUntil(t *testing.T) {
	for _, d := range []time.Duration{0, 50 * time.Microsecond, 300 * time.Microsecond, 1500 * time.Microsecond, 2 * time.Millisecond, 7 * time.Millisecond} {
		for range 5 {
			at := time.Now().Add(d)
			if err := waitUntil(at, nil); err != nil {
				t.Fatalf("waitUntil(+%v): %v", d, err)
			}
			if early := time.Until(at); early > 0 {
				t.Errorf("waitUntil(+%v) returned %v early", d, early)
			}
		}
	}

	// A connection closed while a wait is on a Go timer, and one already
	// closed when a wait starts in its nanosleep part.
	done := make(chan struct{})
	go func() {
		time.Sleep(time.Millisecond)
		close(done)
	}()
	start := time.Now()
	if err := waitUntil(time.Now().Add(time.Hour), done); !errors.Is(err, errWireClosed) {
		t.Errorf("waitUntil(+1h) on a connection closed after 1ms: %v, want errWireClosed", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("waitUntil(+1h) on a connection closed after 1ms took %v", el)
	}
	if err := waitUntil(time.Now().Add(timerSlack*3/4), done); !errors.Is(err, errWireClosed) {
		t.Errorf("waitUntil(+%v) on a closed connection: %v, want errWireClosed", timerSlack*3/4, err)
	}
}
