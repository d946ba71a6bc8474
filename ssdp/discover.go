package ssdp

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gossdp "github.com/koron/go-ssdp"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// Defaults of Config.
const (
	DefaultListenTime     = 3 * time.Second
	DefaultSearchInterval = 10 * time.Second
	DefaultHTTPTimeout    = 3 * time.Second
)

const (
	// searchRounds is how many M-SEARCH rounds a search burst sends.
	searchRounds = 3
	// searchMX is the MX of an M-SEARCH, in seconds: cameras answer within
	// it, and each round listens for answers that long.
	searchMX = 1
	// maxDescription bounds the device description read from a LOCATION.
	maxDescription = 64 << 10
	// queueSize is the capacity of the queue of received announcements.
	queueSize = 64
)

// Camera is a camera found by SSDP whose device description was fetched.
type Camera struct {
	// Addr is the PTP/IP address, LOCATION's host with port 15740; empty
	// when Smartphone is set.
	Addr string
	// Host is LOCATION's host (an IP address for every camera seen).
	Host string
	// Location is the URL of the device description.
	Location string
	// Service is the service type as announced (ST or NT).
	Service string
	// USN is the unique service name as announced.
	USN string
	// From the device description.
	UDN          string
	Manufacturer string
	Model        string
	Serial       string // empty when the camera does not say
	FriendlyName string
	// Vendor is the make told by Manufacturer.
	Vendor mtp.Vendor
	// Smartphone is set for a Sony camera in "Send to Smartphone" (or
	// remote control) mode: it offers no PTP/IP, and the user has to choose
	// "Send to Computer" on the camera instead.
	Smartphone bool
}

// Config configures Discover and Watch. The zero value of each field
// selects its default.
type Config struct {
	// Interfaces are the names of the network interfaces to search and
	// listen on (default: every interface that is up, has an IPv4 address
	// and is multicast-capable or the loopback).
	Interfaces []string
	// ListenTime is how long Discover listens; it is also the time over
	// which the M-SEARCH rounds of a burst are spread (default 3 s, at
	// least 1 s, the MX of the searches).
	ListenTime time.Duration
	// SearchInterval is how often Watch sends a new burst of M-SEARCH
	// (default 10 s; negative: only the first burst).
	SearchInterval time.Duration
	// Services are the PTP/IP service types searched for and accepted; an
	// ST or NT that starts with one of them matches (default
	// DefaultServices).
	Services []string
	// SmartphoneServices are the service types of cameras in a mode without
	// PTP/IP, reported with Camera.Smartphone (nil: the default
	// DefaultSmartphoneServices; an empty non-nil slice: none).
	SmartphoneServices []string
	// HTTPClient fetches device descriptions (default: a client with a 3 s
	// timeout that uses no proxy and follows no redirect).
	HTTPClient *http.Client
	// Logger receives the log lines, among them every dropped candidate
	// (default: discarded).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ListenTime <= 0 {
		c.ListenTime = DefaultListenTime
	}
	c.ListenTime = max(c.ListenTime, searchMX*time.Second)
	if c.SearchInterval == 0 {
		c.SearchInterval = DefaultSearchInterval
	}
	if len(c.Services) == 0 {
		c.Services = DefaultServices
	}
	if c.SmartphoneServices == nil {
		c.SmartphoneServices = DefaultSmartphoneServices
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{
			Timeout: DefaultHTTPTimeout,
			// A camera is on the local network: an HTTP_PROXY from the
			// environment would never reach it.
			Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Discover searches for cameras for cfg.ListenTime and returns those whose
// device description verifies, one per host, sorted by Host. Cameras in a
// mode without PTP/IP are included with Smartphone set. An ssdp:byebye
// during the search is ignored: Discover reports who answered.
//
// It returns an error only when it could neither listen nor search, or
// when ctx ends (then within about a second, the time an M-SEARCH round
// cannot be interrupted).
func Discover(ctx context.Context, cfg Config) ([]Camera, error) {
	cfg = cfg.withDefaults()
	listenCtx, cancel := context.WithTimeout(ctx, cfg.ListenTime)
	defer cancel()
	found := make(map[string]Camera)
	err := run(ctx, listenCtx, cfg, false, func(a Announcement) {
		if a.Kind != AnnounceAlive {
			return
		}
		// One camera per host: the first verified wins, except that a
		// PTP/IP service beats a smartphone one.
		if old, ok := found[a.Camera.Host]; ok && (a.Camera.Smartphone || !old.Smartphone) {
			return
		}
		found[a.Camera.Host] = a.Camera
	})
	if err != nil {
		return nil, err
	}
	cams := make([]Camera, 0, len(found))
	for _, c := range found {
		cams = append(cams, c)
	}
	slices.SortFunc(cams, func(a, b Camera) int { return cmp.Compare(a.Host, b.Host) })
	return cams, nil
}

// Watch reports cameras as they announce themselves until ctx ends: every
// verified ssdp:alive and M-SEARCH answer, and every ssdp:byebye, of the
// configured services. It sends a burst of M-SEARCH at once and then every
// cfg.SearchInterval. Each alive message is verified again (a camera that
// has gone to sleep no longer serves its description, so a late NOTIFY of
// it is dropped), except that messages for a LOCATION whose fetch is
// still running are merged into it.
//
// fn is called from one goroutine at a time and should return quickly:
// messages wait while it runs. Watch returns ctx's error when ctx ends
// (within about a second), or an error if it could neither listen nor
// search.
func Watch(ctx context.Context, cfg Config, fn func(Announcement)) error {
	cfg = cfg.withDefaults()
	return run(ctx, ctx, cfg, true, fn)
}

// message is an SSDP message of a configured service.
type message struct {
	bye        bool
	search     bool
	smartphone bool   // the service is one of SmartphoneServices
	st         string // ST or NT as received
	usn        string
	location   string
	from       string
	time       time.Time
}

// verified is the outcome of a description fetch.
type verified struct {
	msg message
	cam Camera
	err error
}

// run listens and searches until listenCtx ends, verifies the alive
// messages, and reports them with fn; it then waits for the fetches still
// running (on ctx) and reports those. With watch clear (Discover) a
// LOCATION is fetched once and one search burst is sent; with watch set
// bursts repeat and every alive message is verified.
func run(ctx, listenCtx context.Context, cfg Config, watch bool, fn func(Announcement)) error {
	log := cfg.Logger
	ifaces, err := interfaces(cfg.Interfaces)
	if err != nil {
		return err
	}

	msgs := make(chan message, queueSize)
	stop := make(chan struct{}) // closed when intake stops
	var intake sync.WaitGroup
	send := func(m message) {
		select {
		case msgs <- m:
		case <-stop:
		}
	}

	// go-ssdp calls these handlers on a goroutine per datagram, possibly
	// after Monitor.Close: send gives up once stop is closed.
	mon := &gossdp.Monitor{
		Alive: func(a *gossdp.AliveMessage) {
			if m, ok := classify(cfg, a.Type); ok {
				m.usn, m.location, m.from, m.time = a.USN, a.Location, addrString(a.From), time.Now()
				send(m)
			}
		},
		Bye: func(b *gossdp.ByeMessage) {
			if m, ok := classify(cfg, b.Type); ok {
				m.bye, m.usn, m.from, m.time = true, b.USN, addrString(b.From), time.Now()
				send(m)
			}
		},
	}
	monErr := withInterfaces(ifaces, mon.Start)
	if monErr != nil {
		// Typically UDP 1900 taken by a program that does not share it:
		// searching still works.
		log.Warn("ssdp: cannot listen for announcements", "err", monErr)
	} else {
		log.Debug("ssdp: listening", "interfaces", ifaceNames(ifaces))
	}

	var searchFailed atomic.Bool
	firstBurst := make(chan struct{})
	intake.Add(1)
	go func() {
		defer intake.Done()
		searchLoop(listenCtx, stop, cfg, ifaces, send, watch, firstBurst, &searchFailed)
	}()

	stopIntake := func() {
		select {
		case <-stop:
			return
		default:
		}
		close(stop)
		if monErr == nil {
			mon.Close()
		}
	}

	results := make(chan verified)
	var fetches sync.WaitGroup
	err = receive(ctx, listenCtx, cfg, watch, fn, msgs, results, &fetches, stopIntake, firstBurst, func() bool {
		return monErr != nil && searchFailed.Load()
	})
	stopIntake()
	intake.Wait() // every search has returned, firstBurst is closed
	fetches.Wait()
	if err == nil && monErr != nil && searchFailed.Load() {
		err = fmt.Errorf("ssdp: cannot listen (%v) nor search", monErr)
	}
	return err
}

// receive is the loop of run: it starts a fetch for each new alive
// message, reports byebyes and verified cameras, stops the intake when
// listenCtx ends, and returns when no fetch is left, when ctx ends (its
// error) or when the first search burst failed with nothing listening
// (nil: run tells).
func receive(ctx, listenCtx context.Context, cfg Config, watch bool, fn func(Announcement),
	msgs <-chan message, results chan verified, fetches *sync.WaitGroup, stopIntake func(),
	firstBurst <-chan struct{}, deaf func() bool) error {
	log := cfg.Logger
	inflight := make(map[string]bool) // LOCATIONs being fetched
	tried := make(map[string]bool)    // LOCATIONs fetched (Discover)
	known := make(map[string]Camera)  // last verified camera per USN (Watch)
	listenDone := listenCtx.Done()
	in := msgs
	burst := firstBurst
	for listenDone != nil || len(inflight) > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-burst:
			burst = nil
			if deaf() {
				return nil
			}
		case <-listenDone:
			listenDone, in = nil, nil
			stopIntake()
		case m := <-in:
			if m.bye {
				cam, ok := known[m.usn]
				if !ok {
					cam = Camera{Service: m.st, USN: m.usn}
				}
				log.Debug("ssdp: byebye", "usn", m.usn, "from", m.from)
				fn(Announcement{Kind: AnnounceByeBye, Camera: cam, From: m.from, Time: m.time})
				continue
			}
			if inflight[m.location] || (!watch && tried[m.location]) {
				continue
			}
			inflight[m.location], tried[m.location] = true, true
			fetches.Add(1)
			go func() {
				defer fetches.Done()
				cam, err := verify(ctx, cfg, m)
				select {
				case results <- verified{m, cam, err}:
				case <-ctx.Done():
				}
			}()
		case r := <-results:
			delete(inflight, r.msg.location)
			if r.err != nil {
				log.Info("ssdp: candidate dropped", "location", r.msg.location, "st", r.msg.st,
					"usn", r.msg.usn, "from", r.msg.from, "err", r.err)
				continue
			}
			log.Debug("ssdp: camera", "addr", r.cam.Addr, "model", r.cam.Model, "search", r.msg.search)
			known[r.msg.usn] = r.cam
			fn(Announcement{Kind: AnnounceAlive, Camera: r.cam, From: r.msg.from, Search: r.msg.search, Time: r.msg.time})
		}
	}
	return ctx.Err() // Watch: listenCtx is ctx
}

// searchLoop sends bursts of M-SEARCH rounds, spread over ListenTime, until
// listenCtx ends (watch: a burst every SearchInterval; else one burst). It
// closes firstBurst when the first round has been sent, and sets failed if
// every search of it failed.
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
			// After the round: one warning for its failures (a network
			// that is down fails every search), and the outcome of the
			// first round for run.
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
