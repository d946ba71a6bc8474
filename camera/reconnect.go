package camera

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ssdp"
)

// A camera that does not announce itself is dialled again after a lost
// session at doubling intervals from reconnectFirst to reconnectMax: back
// quickly after a WiFi drop, not dialled every few seconds all night.
const (
	reconnectFirst = time.Second
	reconnectMax   = 30 * time.Second
)

// Reconnect waits for the camera of the lost session old and sends its new
// session on back, unless ctx ends. A Sony is dialled only when it announces
// itself (it never answers a second Init in one Send to Computer), a Canon
// also on backoff, others (Nikon) on backoff only, without SSDP. Another
// camera answering at the address is closed, and the wait goes on.
func (c *Connector) Reconnect(ctx context.Context, old *Session, back chan<- *Session) {
	r := redial{first: reconnectFirst, max: reconnectMax, connect: c.connectQuiet, watch: c.watch, log: c.log}
	r.run(ctx, old, back)
}

// watch reports announcements until ctx ends.
func (c *Connector) watch(ctx context.Context, fn func(ssdp.Announcement)) error {
	return ssdp.Watch(ctx, ssdp.Config{Interfaces: c.cfg.Interfaces, Logger: c.ptpLog}, fn)
}

// redial is Reconnect's policy over the functions that dial and listen.
type redial struct {
	first, max time.Duration
	connect    func(ctx context.Context, addr string, hint mtp.Vendor) (*Session, error)
	watch      func(ctx context.Context, fn func(ssdp.Announcement)) error
	log        *slog.Logger
}

func (r *redial) run(ctx context.Context, old *Session, back chan<- *Session) {
	host, _, err := net.SplitHostPort(old.Addr)
	if err != nil {
		host = old.Addr
	}
	since := time.Now()
	announced := make(chan struct{}, 1)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watch := old.Vendor == mtp.VendorSony || old.Vendor == mtp.VendorCanon
	go func() {
		if !watch {
			return
		}
		err := r.watch(wctx, func(a ssdp.Announcement) {
			if a.Kind == ssdp.AnnounceAlive && !a.Camera.Smartphone && a.Camera.Host == host && a.Time.After(since) {
				select {
				case announced <- struct{}{}:
				default:
				}
			}
		})
		if err != nil && wctx.Err() == nil {
			r.log.Warn("cannot watch for the camera's announcements", "err", err)
		}
	}()
	var (
		tick  <-chan time.Time
		timer *time.Timer
		delay = r.first
	)
	if old.Vendor != mtp.VendorSony {
		timer = time.NewTimer(delay)
		defer timer.Stop()
		tick = timer.C
	}
	// again schedules the next dial, later than the last one.
	again := func() {
		if timer != nil {
			delay = min(2*delay, r.max)
			timer.Reset(delay)
		}
	}
	r.log.Info("waiting for the camera to come back (for a Sony: choose Send to Computer on it again)", "addr", old.Addr)
	for {
		select {
		case <-ctx.Done():
			return
		case <-announced:
		case <-tick:
		}
		s, err := r.connect(ctx, old.Addr, old.Vendor)
		if err != nil {
			again()
			r.log.Info("reconnecting failed; waiting again", "err", err, "next_try", delay)
			continue
		}
		if !old.same(s.Info) {
			r.log.Warn("another camera answered at the address; waiting for the one mounted", "model", s.Info.Model, "serial", s.Info.SerialNumber)
			s.Close(false)
			again()
			continue
		}
		select {
		case back <- s:
			r.log.Info("camera back", "addr", old.Addr)
		case <-ctx.Done():
			s.Close(false)
		}
		return
	}
}
