package camsim

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
)

// SSDP: a camera that offers PTP/IP on WiFi announces itself, a Sony in
// Send to Computer with NOTIFYs for urn:microsoft-com:service:MtpNullService:1
// (and its root device, device type and uuid), a Canon with its
// ICPO-SmartPhoneEOSSystemService; each answers M-SEARCH for them and
// serves a UPnP device description at the LOCATION it announces. The
// simulator does the same with raw sockets (not go-ssdp, whose interface
// list is a package global the discovering side of a test process uses).
// Nikon cameras do not announce themselves.

// SSDPConfig turns on the simulator's SSDP announcements.
type SSDPConfig struct {
	// Interface is the network interface to announce on (e.g. "lo" in a
	// test's network namespace).
	Interface string
	// Host is the address in LOCATION, which discovery also takes as the
	// PTP/IP address (port 15740): default the interface's first IPv4
	// address.
	Host string
	// HTTPPort is the TCP port of the description (default 0: any free
	// port; a real Sony serves it on 1900).
	HTTPPort int
	// Interval is how often the NOTIFYs are repeated while the camera is
	// awake (default 3 s).
	Interval time.Duration
}

const (
	ssdpGroup       = "239.255.255.250:1900"
	defaultInterval = 3 * time.Second
	// sonyServer is the SERVER header of a Sony A7S in Send to Computer.
	sonyServer  = "FedoraCore/2 UPnP/1.0 MINT-X/1.8.1"
	canonServer = "Camera OS/1.0 UPnP/1.0 Canon Device Discovery/1.0"
)

// announcer sends a camera's NOTIFYs, answers M-SEARCH and serves the
// description.
type announcer struct {
	c        *Camera
	log      *slog.Logger
	cfg      SSDPConfig
	uuid     string   // "uuid:..."
	types    []string // NTs announced besides the uuid
	location string
	server   string
	desc     []byte

	send   *ipv4.PacketConn
	listen *net.UDPConn
	http   *http.Server
	httpLn net.Listener

	mu     sync.Mutex
	awake  bool
	wakeCh chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup
	sent   int // NOTIFY alive datagrams sent
}

// StartSSDP starts announcing the camera on cfg.Interface. Close stops it
// (after an ssdp:byebye).
func (c *Camera) StartSSDP(cfg SSDPConfig) error {
	if cfg.Interval <= 0 {
		cfg.Interval = defaultInterval
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return fmt.Errorf("camsim: SSDP interface: %w", err)
	}
	if cfg.Host == "" {
		if cfg.Host, err = firstIPv4(ifi); err != nil {
			return err
		}
	}
	a := &announcer{c: c, log: c.log.With("ssdp", cfg.Interface), cfg: cfg, awake: true,
		wakeCh: make(chan struct{}, 1), done: make(chan struct{})}
	sum := sha256.Sum256([]byte(c.s.Manufacturer + "\x00" + c.s.Model + "\x00" + c.s.Serial))
	var path string
	switch c.p.Make {
	case "sony":
		if c.smartphone() {
			a.uuid = "uuid:00000000-0005-0010-8000-" + hex.EncodeToString(sum[:6])
			a.types = smartphoneTypes
			a.server, path = sonyServer, "/DmsDescPush.xml"
			break
		}
		a.uuid = "uuid:00000000-0001-0010-8000-" + hex.EncodeToString(sum[:6])
		a.types = []string{"upnp:rootdevice", "urn:microsoft-com:device:mtp:1", "urn:microsoft-com:service:MtpNullService:1"}
		a.server, path = sonyServer, "/DeviceDescription.xml"
	case "canon":
		h := hex.EncodeToString(sum[:16])
		a.uuid = "uuid:" + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
		a.types = []string{"upnp:rootdevice", "urn:schemas-canon-com:device:ICPO-CameraControlAPIService:1",
			"urn:schemas-canon-com:service:ICPO-SmartPhoneEOSSystemService:1"}
		a.server, path = canonServer, "/upnp/CameraDevDesc.xml"
	default:
		return fmt.Errorf("camsim: a %s camera does not announce itself by SSDP (sony and canon do)", c.p.Make)
	}
	a.desc = a.description()

	a.httpLn, err = net.Listen("tcp", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.HTTPPort)))
	if err != nil {
		return fmt.Errorf("camsim: SSDP description server: %w", err)
	}
	a.location = "http://" + a.httpLn.Addr().String() + path
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
		w.Write(a.desc)
	})
	a.http = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}

	uc, err := net.ListenPacket("udp4", net.JoinHostPort(cfg.Host, "0"))
	if err != nil {
		a.httpLn.Close()
		return fmt.Errorf("camsim: SSDP socket: %w", err)
	}
	a.send = ipv4.NewPacketConn(uc)
	if err := a.send.SetMulticastInterface(ifi); err == nil {
		err = a.send.SetMulticastLoopback(true)
	}
	if err != nil {
		uc.Close()
		a.httpLn.Close()
		return fmt.Errorf("camsim: SSDP socket: %w", err)
	}
	group, _ := net.ResolveUDPAddr("udp4", ssdpGroup)
	if a.listen, err = net.ListenMulticastUDP("udp4", ifi, group); err != nil {
		// M-SEARCH goes unanswered; NOTIFYs still go out.
		a.log.Warn("ssdp: cannot listen for M-SEARCH", "err", err)
	}

	c.mu.Lock()
	if c.closed || c.ssdp != nil {
		c.mu.Unlock()
		a.shut()
		return errors.New("camsim: camera closed or SSDP already on")
	}
	c.ssdp = a
	c.mu.Unlock()

	a.wg.Add(2)
	go func() {
		defer a.wg.Done()
		a.http.Serve(a.httpLn)
	}()
	go a.notifyLoop()
	if a.listen != nil {
		a.wg.Add(1)
		go a.answerSearches()
	}
	a.log.Info("ssdp: announcing", "location", a.location, "usn", a.uuid)
	return nil
}

func firstIPv4(ifi *net.Interface) (string, error) {
	addrs, err := ifi.Addrs()
	if err != nil {
		return "", err
	}
	for _, ad := range addrs {
		if n, ok := ad.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "", fmt.Errorf("camsim: SSDP interface %s has no IPv4 address", ifi.Name)
}

// Location is the URL of the camera's device description, as announced
// ("" without SSDP).
func (c *Camera) Location() string {
	if a := c.announcer(); a != nil {
		return a.location
	}
	return ""
}

// announcer returns the SSDP announcer, nil without SSDP.
func (c *Camera) announcer() *announcer {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ssdp
}

// Announce sends the camera's ssdp:alive NOTIFYs now, whatever its
// state: a test uses it to replay the announcements a camera sent before
// it went to sleep, or to speed up a wake-up.
func (c *Camera) Announce() error {
	a := c.announcer()
	if a == nil {
		return errors.New("camsim: announce: no SSDP (--ssdp)")
	}
	return a.alive()
}

// NotifiesSent is how many ssdp:alive datagrams the camera sent.
func (c *Camera) NotifiesSent() int {
	a := c.announcer()
	if a == nil {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sent
}

func (a *announcer) description() []byte {
	c := a.c
	if c.smartphone() {
		return a.smartphoneDescription()
	}
	serviceType, serviceID, deviceType := "urn:microsoft-com:service:MtpNullService:1", "urn:microsoft-com:serviceId:MtpNullService", "urn:microsoft-com:device:mtp:1"
	if c.p.Make == "canon" {
		serviceType, serviceID, deviceType = "urn:schemas-canon-com:service:ICPO-SmartPhoneEOSSystemService:1",
			"urn:schemas-canon-com:serviceId:ICPO-SmartPhoneEOSSystemService", "urn:schemas-canon-com:device:ICPO-CameraControlAPIService:1"
	}
	e := html.EscapeString
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <device>
    <deviceType>%s</deviceType>
    <friendlyName>%s</friendlyName>
    <manufacturer>%s</manufacturer>
    <modelDescription>camsim</modelDescription>
    <modelName>%s</modelName>
    <modelNumber>%s</modelNumber>
    <serialNumber>%s</serialNumber>
    <UDN>%s</UDN>
    <serviceList>
      <service>
        <serviceType>%s</serviceType>
        <serviceId>%s</serviceId>
        <SCPDURL>/ServiceDescription.xml</SCPDURL>
        <controlURL>/upnp/control</controlURL>
        <eventSubURL></eventSubURL>
      </service>
    </serviceList>
  </device>
</root>
`, deviceType, e(c.s.Model), e(c.s.Manufacturer), e(c.s.Model), e(c.s.DeviceVersion), e(c.s.Serial), a.uuid, serviceType, serviceID)
	return b.Bytes()
}

// notify sends one NOTIFY for each type (and the uuid).
func (a *announcer) notify(nts string) error {
	dst, _ := net.ResolveUDPAddr("udp4", ssdpGroup)
	var errs []error
	for _, nt := range append([]string{a.uuid}, a.types...) {
		usn := a.uuid
		if nt != a.uuid {
			usn += "::" + nt
		}
		var b strings.Builder
		b.WriteString("NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nCACHE-CONTROL: max-age=1800\r\n")
		if nts == "ssdp:alive" {
			fmt.Fprintf(&b, "LOCATION: %s\r\n", a.location)
		}
		fmt.Fprintf(&b, "NT: %s\r\nNTS: %s\r\nSERVER: %s\r\nUSN: %s\r\n\r\n", nt, nts, a.server, usn)
		if _, err := a.send.WriteTo([]byte(b.String()), nil, dst); err != nil {
			errs = append(errs, err)
			continue
		}
		if nts == "ssdp:alive" {
			a.mu.Lock()
			a.sent++
			a.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

func (a *announcer) alive() error { return a.notify("ssdp:alive") }

// byebye says the camera leaves and stops the repeated NOTIFYs until
// wake.
func (a *announcer) byebye() {
	a.mu.Lock()
	a.awake = false
	a.mu.Unlock()
	if err := a.notify("ssdp:byebye"); err != nil {
		a.log.Warn("ssdp: byebye", "err", err)
	}
	a.log.Info("ssdp: byebye sent")
}

// wake resumes the repeated NOTIFYs, sending the first now.
func (a *announcer) wake() {
	a.mu.Lock()
	a.awake = true
	a.mu.Unlock()
	select {
	case a.wakeCh <- struct{}{}:
	default:
	}
}

func (a *announcer) isAwake() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.awake
}

func (a *announcer) notifyLoop() {
	defer a.wg.Done()
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		if a.isAwake() {
			if err := a.alive(); err != nil {
				a.log.Warn("ssdp: NOTIFY", "err", err)
			}
		}
		select {
		case <-a.done:
			return
		case <-t.C:
		case <-a.wakeCh:
		}
	}
}

// answerSearches answers each M-SEARCH for ssdp:all or one of the
// announced types, unicast to the searcher, while the camera is awake.
func (a *announcer) answerSearches() {
	defer a.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := a.listen.ReadFromUDP(buf)
		if err != nil {
			return
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(buf[:n])))
		if err != nil || req.Method != "M-SEARCH" || !a.isAwake() {
			continue
		}
		st := strings.TrimSpace(req.Header.Get("ST"))
		var answer []string
		for _, nt := range append([]string{a.uuid}, a.types...) {
			if st == "ssdp:all" || strings.EqualFold(st, nt) {
				answer = append(answer, nt)
			}
		}
		for _, nt := range answer {
			usn := a.uuid
			if nt != a.uuid {
				usn += "::" + nt
			}
			msg := fmt.Sprintf("HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\nLOCATION: %s\r\nSERVER: %s\r\nST: %s\r\nUSN: %s\r\n\r\n",
				a.location, a.server, nt, usn)
			if _, err := a.send.WriteTo([]byte(msg), nil, from); err != nil {
				a.log.Debug("ssdp: answering M-SEARCH", "to", from, "err", err)
			}
		}
	}
}

// close says byebye and stops everything.
func (a *announcer) close() {
	if a.isAwake() {
		a.byebye()
	}
	a.shut()
	a.wg.Wait()
}

func (a *announcer) shut() {
	select {
	case <-a.done:
	default:
		close(a.done)
	}
	if a.http != nil {
		a.http.Close()
	}
	a.httpLn.Close()
	a.send.Close()
	if a.listen != nil {
		a.listen.Close()
	}
}
