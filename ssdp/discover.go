package ssdp

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	gossdp "github.com/koron/go-ssdp"
)

// Defaults of Config.
const (
	DefaultListenTime     = 3 * time.Second
	DefaultSearchInterval = 10 * time.Second
	DefaultHTTPTimeout    = 3 * time.Second
)

// queueSize is the capacity of the queue of received announcements.
const queueSize = 64

// Config configures Discover and Watch. The zero value of each field
// selects its default.
type Config struct {
	// Interfaces are the names of the network interfaces to search and
	// listen on (default: every interface that is up, has an IPv4 address
	// and is multicast-capable or the loopback).
	Interfaces []string
	// ListenTime is how long Discover listens, and the time a burst of
	// M-SEARCH rounds is spread over (default 3 s, at least the MX, 1 s).
	ListenTime time.Duration
	// SearchInterval is how often Watch sends a new burst of M-SEARCH
	// (default 10 s; negative: only the first burst).
	SearchInterval time.Duration
	// Services are the PTP/IP service types searched for and accepted; an
	// ST or NT that starts with one of them matches (default
	// DefaultServices).
	Services []string
	// SmartphoneServices are services of cameras in a mode without PTP/IP,
	// reported with Camera.Smartphone (nil: DefaultSmartphoneServices;
	// empty non-nil: none).
	SmartphoneServices []string
	// HTTPClient fetches device descriptions (default: a client with a 3 s
	// timeout that uses no proxy and follows no redirect).
	HTTPClient *http.Client
	// Logger receives the log lines, every dropped candidate among them
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
			// A camera is on the local network: no HTTP_PROXY reaches it.
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

// Discover searches for cfg.ListenTime and returns the cameras whose
// description verifies, one per host, sorted by Host; those without PTP/IP
// have Smartphone set, and a byebye is ignored. It fails only when it could
// neither listen nor search, or when ctx ends (within about a second: an
// M-SEARCH round cannot be interrupted).
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

// Watch reports, until ctx ends, every verified ssdp:alive or M-SEARCH
// answer and every ssdp:byebye of the configured services, searching at once
// and every cfg.SearchInterval. Each alive is verified again (a camera gone
// to sleep no longer serves its description) unless a fetch of its LOCATION
// is running. fn runs on one goroutine at a time and should return quickly.
// Watch returns ctx's error, or an error if it could neither listen nor search.
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

// run listens and searches until listenCtx ends and reports with fn what it
// verified, then what the fetches still running (on ctx) verify. Discover
// (watch clear) fetches a LOCATION once and sends one burst; Watch repeats both.
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
		// UDP 1900 taken by a program that does not share it: searching
		// still works.
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

// receive is run's loop: a fetch per new alive, byebyes and verified cameras
// reported, intake stopped when listenCtx ends. It returns when no fetch is
// left, when ctx ends, or (nil) when the first burst failed with nothing
// listening.
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
