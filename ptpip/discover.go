package ptpip

// Discovery of PTP/IP cameras by SSDP (UDP 239.255.255.250:1900).
//
// A camera that offers PTP/IP announces one UPnP service type: Sony in
// "Send to Computer" NOTIFYs urn:microsoft-com:service:MtpNullService:1,
// Canon urn:schemas-canon-com:service:ICPO-SmartPhoneEOSSystemService:1.
// Like Airnef, we send M-SEARCH for each of them (MX 1, three rounds, since
// one datagram is easily lost on WiFi) and, like sony-pm-alt, we also listen
// passively for NOTIFY, because a Sony announces itself and some networks
// lose the unicast answers to a search. Nikon cameras do not use SSDP at
// all: their address is given by the user.
//
// An announcement is only a claim: anything on the network can send one.
// Every candidate is verified by fetching the UPnP device description at
// its LOCATION (bounded in size and time) before it is reported; one that
// cannot be fetched or is not a device description is dropped and logged,
// never connected to. The PTP/IP address is LOCATION's host with port 15740.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	ssdp "github.com/koron/go-ssdp"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// Port is the TCP port of PTP/IP (CIPA DC-X005).
const Port = 15740

// SSDP service types of cameras.
const (
	// ServiceSony is what a Sony announces in "Send to Computer" mode
	// (PTP/IP on port 15740).
	ServiceSony = "urn:microsoft-com:service:MtpNullService:1"
	// ServiceCanon is what a Canon EOS announces when its WiFi is set up
	// for a computer or smartphone (PTP/IP on port 15740).
	ServiceCanon = "urn:schemas-canon-com:service:ICPO-SmartPhoneEOSSystemService:1"
	// ServiceSonyRemote is Sony's Camera Remote API (JSON over HTTP),
	// announced in "Send to Smartphone" and remote-control modes: no
	// PTP/IP there.
	ServiceSonyRemote = "urn:schemas-sony-com:service:ScalarWebAPI:1"
	// ServiceSonyPush is the push list of Sony's "Send to Smartphone"
	// (UPnP ContentDirectory for the Imaging Edge / PlayMemories Mobile
	// app): no PTP/IP there either.
	ServiceSonyPush = "urn:schemas-sony-com:service:XPushList:1"
)

// DefaultServices are the PTP/IP services searched for by default.
var DefaultServices = []string{ServiceSony, ServiceCanon}

// DefaultSmartphoneServices are the services of a Sony camera in "Send to
// Smartphone" mode, searched for by default so the user can be told to
// choose "Send to Computer" instead.
var DefaultSmartphoneServices = []string{ServiceSonyRemote, ServiceSonyPush}

// Defaults of DiscoverConfig.
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

// DiscoverConfig configures Discover and Watch. The zero value of each field
// selects its default.
type DiscoverConfig struct {
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

func (c DiscoverConfig) withDefaults() DiscoverConfig {
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

// AnnouncementKind says whether a camera came or left.
type AnnouncementKind int

const (
	// AnnounceAlive is an ssdp:alive NOTIFY or an answer to M-SEARCH.
	AnnounceAlive AnnouncementKind = iota + 1
	// AnnounceByeBye is an ssdp:byebye NOTIFY: the camera is leaving
	// (Canon sends it when it goes to sleep).
	AnnounceByeBye
)

func (k AnnouncementKind) String() string {
	switch k {
	case AnnounceAlive:
		return "alive"
	case AnnounceByeBye:
		return "byebye"
	}
	return fmt.Sprintf("AnnouncementKind(%d)", int(k))
}

// Announcement is one SSDP message about a camera, reported by Watch.
type Announcement struct {
	Kind AnnouncementKind
	// Camera is the verified camera for AnnounceAlive. For AnnounceByeBye
	// (which carries no LOCATION and is not verified) it is the camera last
	// verified with the same USN, or only Service and USN if none was.
	Camera Camera
	// From is the sender of a NOTIFY (host:port); empty for an answer to
	// M-SEARCH, whose sender go-ssdp does not give.
	From string
	// Search is set for an answer to our M-SEARCH, clear for a NOTIFY.
	Search bool
	// Time is when the message arrived (before its description was
	// fetched). Messages can be reported out of arrival order, since an
	// alive waits for its description: compare Time, and ignore alive
	// announcements older than the moment a camera was put to sleep (a
	// camera repeats NOTIFYs that may still be in flight).
	Time time.Time
}

// Discover searches for cameras for cfg.ListenTime and returns those whose
// device description verifies, one per host, sorted by Host. Cameras in a
// mode without PTP/IP are included with Smartphone set. An ssdp:byebye
// during the search is ignored: Discover reports who answered.
//
// It returns an error only when it could neither listen nor search, or
// when ctx ends (then within about a second, the time an M-SEARCH round
// cannot be interrupted).
func Discover(ctx context.Context, cfg DiscoverConfig) ([]Camera, error) {
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
func Watch(ctx context.Context, cfg DiscoverConfig, fn func(Announcement)) error {
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
func run(ctx, listenCtx context.Context, cfg DiscoverConfig, watch bool, fn func(Announcement)) error {
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
	mon := &ssdp.Monitor{
		Alive: func(a *ssdp.AliveMessage) {
			if m, ok := classify(cfg, a.Type); ok {
				m.usn, m.location, m.from, m.time = a.USN, a.Location, addrString(a.From), time.Now()
				send(m)
			}
		},
		Bye: func(b *ssdp.ByeMessage) {
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
		err = fmt.Errorf("ptpip: SSDP: cannot listen (%v) nor search", monErr)
	}
	return err
}

// receive is the loop of run: it starts a fetch for each new alive
// message, reports byebyes and verified cameras, stops the intake when
// listenCtx ends, and returns when no fetch is left, when ctx ends (its
// error) or when the first search burst failed with nothing listening
// (nil: run tells).
func receive(ctx, listenCtx context.Context, cfg DiscoverConfig, watch bool, fn func(Announcement),
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
func searchLoop(listenCtx context.Context, stop <-chan struct{}, cfg DiscoverConfig, ifaces []net.Interface,
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
func search(cfg DiscoverConfig, ifaces []net.Interface, st string, send func(message)) error {
	var list []ssdp.Service
	err := withInterfaces(ifaces, func() error {
		var err error
		list, err = ssdp.Search(st, searchMX, "")
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

// classify tells whether an ST or NT belongs to a configured service: it
// matches when it starts with the service type (as Airnef does; case aside).
func classify(cfg DiscoverConfig, st string) (message, bool) {
	st = strings.TrimSpace(st)
	if matchService(cfg.Services, st) {
		return message{st: st}, true
	}
	if matchService(cfg.SmartphoneServices, st) {
		return message{st: st, smartphone: true}, true
	}
	return message{}, false
}

// matchService reports whether st starts with one of services.
func matchService(services []string, st string) bool {
	for _, s := range services {
		if s != "" && len(st) >= len(s) && strings.EqualFold(st[:len(s)], s) {
			return true
		}
	}
	return false
}

// locationHost returns the host of a LOCATION URL, which must be http.
func locationHost(location string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(location))
	if err != nil {
		return "", fmt.Errorf("LOCATION: %w", err)
	}
	if !strings.EqualFold(u.Scheme, "http") {
		return "", fmt.Errorf("LOCATION %q: not an http URL", location)
	}
	h := u.Hostname()
	if h == "" {
		return "", fmt.Errorf("LOCATION %q: no host", location)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("LOCATION %q: bad port", location)
		}
	}
	return h, nil
}

// cameraAddr returns the PTP/IP address of the camera whose description is
// at location: its host, port 15740.
func cameraAddr(location string) (string, error) {
	h, err := locationHost(location)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(h, strconv.Itoa(Port)), nil
}

// Errors of description verification.
var (
	errDescriptionTooLarge = fmt.Errorf("device description larger than %d bytes", maxDescription)
	errNotSonyCamera       = errors.New("smartphone service of a device that is not a Sony camera")
)

// verify fetches the description at m.location and builds the camera.
func verify(ctx context.Context, cfg DiscoverConfig, m message) (Camera, error) {
	addr, err := cameraAddr(m.location)
	if err != nil {
		return Camera{}, err
	}
	host, _, _ := net.SplitHostPort(addr)
	d, err := fetchDescription(ctx, cfg.HTTPClient, m.location)
	if err != nil {
		return Camera{}, err
	}
	cam := Camera{
		Host:         host,
		Location:     m.location,
		Service:      m.st,
		USN:          m.usn,
		UDN:          d.Device.UDN,
		Manufacturer: d.Device.Manufacturer,
		Model:        d.Device.ModelName,
		Serial:       d.Device.SerialNumber,
		FriendlyName: d.Device.FriendlyName,
		Vendor:       mtp.DetectVendor(&mtp.DeviceInfo{Manufacturer: d.Device.Manufacturer}),
	}
	if m.smartphone {
		// Sony TVs and receivers announce ScalarWebAPI too: only a camera
		// gets the "choose Send to Computer" advice.
		if !d.sonyCamera() {
			return Camera{}, errNotSonyCamera
		}
		cam.Smartphone = true
		return cam, nil
	}
	cam.Addr = addr
	return cam, nil
}

// fetchDescription GETs and parses a device description.
func fetchDescription(ctx context.Context, client *http.Client, location string) (*description, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("device description: HTTP %s", resp.Status)
	}
	return parseDescription(resp.Body)
}

// description is the part of a UPnP device description (UPnP Device
// Architecture 1.0, 2.3) that names the device. Sony adds its Camera Remote
// API services (av:X_ScalarWebAPI_DeviceInfo) to the description of a
// camera in smartphone mode.
type description struct {
	XMLName xml.Name `xml:"root"`
	Device  struct {
		DeviceType   string   `xml:"deviceType"`
		FriendlyName string   `xml:"friendlyName"`
		Manufacturer string   `xml:"manufacturer"`
		ModelName    string   `xml:"modelName"`
		SerialNumber string   `xml:"serialNumber"`
		UDN          string   `xml:"UDN"`
		Services     []string `xml:"serviceList>service>serviceType"`
		ScalarWebAPI []string `xml:"X_ScalarWebAPI_DeviceInfo>X_ScalarWebAPI_ServiceList>X_ScalarWebAPI_Service>X_ScalarWebAPI_ServiceType"`
	} `xml:"device"`
}

// parseDescription reads at most maxDescription bytes of a device
// description and checks that it names a device: a <root> with a <device>
// that has a manufacturer and a model name.
func parseDescription(r io.Reader) (*description, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDescription+1))
	if err != nil {
		return nil, fmt.Errorf("device description: %w", err)
	}
	if len(b) > maxDescription {
		return nil, errDescriptionTooLarge
	}
	var d description
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("device description: %w", err)
	}
	dv := &d.Device
	for _, s := range []*string{&dv.DeviceType, &dv.FriendlyName, &dv.Manufacturer, &dv.ModelName, &dv.SerialNumber, &dv.UDN} {
		*s = strings.TrimSpace(*s)
	}
	if dv.Manufacturer == "" || dv.ModelName == "" {
		return nil, errors.New("device description: no manufacturer or model name")
	}
	return &d, nil
}

// sonyCamera reports whether a description is a Sony camera's in a
// smartphone mode: its model is "SonyImagingDevice" (the DLNA server of
// "Send to Smartphone"), its Camera Remote API offers the "camera" service,
// or it lists the XPushList service.
func (d *description) sonyCamera() bool {
	if !strings.Contains(strings.ToLower(d.Device.Manufacturer), "sony") {
		return false
	}
	if strings.EqualFold(d.Device.ModelName, "SonyImagingDevice") {
		return true
	}
	if slices.ContainsFunc(d.Device.ScalarWebAPI, func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "camera") }) {
		return true
	}
	return slices.ContainsFunc(d.Device.Services, func(s string) bool { return matchService([]string{ServiceSonyPush}, strings.TrimSpace(s)) })
}

// charsetReader decodes the encodings a camera's description may declare
// besides UTF-8: US-ASCII and ISO-8859-1.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b))
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", label)
}

// interfaces resolves the configured interface names, or lists the usable
// ones: up, with an IPv4 address, and multicast-capable or the loopback (Linux
// does not flag lo as multicast, yet multicast works on it, and a camera
// simulator on this host announces there; go-ssdp's own list skips it).
func interfaces(names []string) ([]net.Interface, error) {
	if len(names) > 0 {
		list := make([]net.Interface, 0, len(names))
		for _, n := range names {
			ifi, err := net.InterfaceByName(n)
			if err != nil {
				return nil, fmt.Errorf("ptpip: SSDP interface %q: %w", n, err)
			}
			list = append(list, *ifi)
		}
		return list, nil
	}
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("ptpip: SSDP interfaces: %w", err)
	}
	var list []net.Interface
	for _, ifi := range all {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&(net.FlagMulticast|net.FlagLoopback) == 0 || !hasIPv4(ifi) {
			continue
		}
		list = append(list, ifi)
	}
	if len(list) == 0 {
		return nil, errors.New("ptpip: SSDP: no network interface is up with an IPv4 address")
	}
	return list, nil
}

func hasIPv4(ifi net.Interface) bool {
	addrs, err := ifi.Addrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsUnspecified() {
			return true
		}
	}
	return false
}

func ifaceNames(list []net.Interface) []string {
	names := make([]string, len(list))
	for i, ifi := range list {
		names[i] = ifi.Name
	}
	return names
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// go-ssdp takes its interface list from the package variable
// ssdp.Interfaces, read when a Monitor starts or a Search opens its socket.
// ifaceLease lets concurrent users share a setting: callers wanting the
// same list run together, a different list waits until they are done.
// Nothing else in the process may set ssdp.Interfaces.
var ifaceLease struct {
	mu    sync.Mutex
	cond  *sync.Cond
	key   string
	users int
}

func init() { ifaceLease.cond = sync.NewCond(&ifaceLease.mu) }

// withInterfaces runs f with ssdp.Interfaces set to list.
func withInterfaces(list []net.Interface, f func() error) error {
	key := strings.Join(ifaceNames(list), "\x00")
	l := &ifaceLease
	l.mu.Lock()
	for l.users > 0 && l.key != key {
		l.cond.Wait()
	}
	if l.users == 0 {
		ssdp.Interfaces, l.key = slices.Clone(list), key
	}
	l.users++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.users--
		if l.users == 0 {
			ssdp.Interfaces, l.key = nil, ""
			l.cond.Broadcast()
		}
		l.mu.Unlock()
	}()
	return f()
}
