package ssdp

import (
	"cmp"
	"context"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gossdp "github.com/koron/go-ssdp"
)

const (
	// searchRounds is how many M-SEARCH rounds a burst sends.
	searchRounds = 3
	// searchMX is the MX of an M-SEARCH, in seconds: cameras answer within
	// it, and each round listens that long.
	searchMX = 1
)

// searchLoop sends bursts of M-SEARCH rounds spread over ListenTime until
// listenCtx ends (one burst, or with watch one every SearchInterval). It
// closes firstBurst after the first round, setting failed if all of it failed.
func searchLoop(listenCtx context.Context, stop <-chan struct{}, cfg Config, ifaces []net.Interface,
	send func(message), watch bool, firstBurst chan<- struct{}, failed *atomic.Bool) {
	targets := append(slices.Clone(cfg.Services), cfg.SmartphoneServices...)
	var searches sync.WaitGroup
	defer searches.Wait()
	spacing := (cfg.ListenTime - searchMX*time.Second) / (searchRounds - 1)
	wait := func(d time.Duration) bool {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return true
		case <-listenCtx.Done():
		case <-stop:
		}
		return false
	}
	first := true
	for {
		for round := range searchRounds {
			if round > 0 && !wait(spacing) {
				return
			}
			var (
				mu       sync.Mutex
				failures int
				firstErr error
				roundWG  sync.WaitGroup
			)
			for _, st := range targets {
				searches.Add(1)
				roundWG.Add(1)
				go func() {
					defer searches.Done()
					defer roundWG.Done()
					if err := search(cfg, ifaces, st, send); err != nil {
						mu.Lock()
						failures++
						firstErr = cmp.Or(firstErr, err)
						mu.Unlock()
					}
				}()
			}
			// One warning per round (a network that is down fails every
			// search), and the first round's outcome for run.
			isFirst := first
			first = false
			searches.Add(1)
			go func() {
				defer searches.Done()
				roundWG.Wait()
				if failures > 0 {
					cfg.Logger.Warn("ssdp: M-SEARCH failed", "failed", failures, "of", len(targets), "err", firstErr)
				}
				if isFirst {
					failed.Store(failures == len(targets))
					close(firstBurst)
				}
			}()
		}
		if !watch || cfg.SearchInterval < 0 || !wait(cfg.SearchInterval) {
			return
		}
	}
}

// search sends one M-SEARCH for st and passes on the answers that match a
// configured service. It takes searchMX seconds and cannot be interrupted.
func search(cfg Config, ifaces []net.Interface, st string, send func(message)) error {
	var list []gossdp.Service
	err := withInterfaces(ifaces, func() error {
		var err error
		list, err = gossdp.Search(st, searchMX, "")
		return err
	})
	if err != nil {
		return err
	}
	now := time.Now()
	for _, s := range list {
		m, ok := classify(cfg, s.Type)
		if !ok {
			continue
		}
		m.search, m.usn, m.location, m.time = true, s.USN, s.Location, now
		send(m)
	}
	return nil
}
