package camera

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
	"github.com/airnef-mount/airnef-mount/sonyauth"
)

// minSessionAge is the shortest life of a session: Nikon D7200/J5 hang the
// next connect when a session ends less than a second after it opened.
const minSessionAge = time.Second

// Config configures a Connector. Zero fields take their defaults.
type Config struct {
	// Identities are the GUIDs offered to the camera (required).
	Identities *Identities
	// Name is the friendly name sent to the camera (default: the host name).
	Name string
	// ConnectTimeout and Timeout are ptpip.Config's; Timeout also bounds
	// ending a session.
	ConnectTimeout, Timeout time.Duration
	// Interfaces are where Reconnect watches for announcements (default: all).
	Interfaces []string
	// Logger gets what the user is told; PTPLogger the session's and
	// discovery's logs (default: discarded).
	Logger, PTPLogger *slog.Logger
	// SyncClock sets the camera's clock once per session (SyncClock), in
	// the camera's time zone Location (nil: time.Local).
	SyncClock bool
	Location  *time.Location
}

// Connector opens camera sessions.
type Connector struct {
	cfg         Config
	log, ptpLog *slog.Logger
	// identify tells the make of the camera at an address that refused
	// this computer (identifyBySSDP; tests replace it).
	identify func(ctx context.Context, addr string) mtp.Vendor
}

// NewConnector returns a Connector for cfg.
func NewConnector(cfg Config) *Connector {
	if cfg.Timeout <= 0 {
		cfg.Timeout = ptpip.DefaultTimeout
	}
	discard := slog.New(slog.DiscardHandler)
	c := &Connector{cfg: cfg, log: cfg.Logger, ptpLog: cfg.PTPLogger}
	if c.log == nil {
		c.log = discard
	}
	if c.ptpLog == nil {
		c.ptpLog = discard
	}
	c.identify = c.identifyBySSDP
	return c
}

// Session is one open camera session.
type Session struct {
	Addr   string
	PTP    *ptpip.Session
	Device *mtp.Device
	Info   *mtp.DeviceInfo
	Vendor mtp.Vendor

	opened  time.Time
	timeout time.Duration
	log     *slog.Logger
}

// RefusedError is a camera that refused this computer's identity.
type RefusedError struct{ err error }

func (e *RefusedError) Error() string { return e.err.Error() }
func (e *RefusedError) Unwrap() error { return e.err }

// Connect dials addr, opens the PTP session and, for a Sony, shows
// "Sending..." on the camera. hint is the make when discovery told it (a
// refusal from a Canon is not retried with Sony's GUIDs). It tells the user
// how it goes: connecting, an address that stays silent, a camera that
// waits for its user. A refusal is a *RefusedError; every error is one
// sentence that says what the camera did and what to check (diagnose.go).
func (c *Connector) Connect(ctx context.Context, addr string, hint mtp.Vendor) (*Session, error) {
	return c.connect(ctx, addr, hint, true)
}

// connectQuiet is Connect without telling the user: Reconnect's dials.
func (c *Connector) connectQuiet(ctx context.Context, addr string, hint mtp.Vendor) (*Session, error) {
	return c.connect(ctx, addr, hint, false)
}

func (c *Connector) connect(ctx context.Context, addr string, hint mtp.Vendor, verbose bool) (*Session, error) {
	if c.cfg.Identities == nil {
		return nil, errors.New("camera: no identities to offer")
	}
	plan, err := c.cfg.Identities.plan()
	if err != nil {
		return nil, fmt.Errorf("listing this computer's network interfaces failed: %v", err)
	}
	if hint != mtp.VendorGeneric && hint != mtp.VendorSony {
		plan = plan[:1]
	}
	prog := newConnectProgress(c.log, addr, hint, verbose)
	defer prog.stop()
	var sess *ptpip.Session
	dial := func(ctx context.Context, g [16]byte) error {
		prog.dialing()
		s, err := ptpip.Dial(ctx, addr, ptpip.Config{
			GUID: g, Name: c.cfg.Name, ConnectTimeout: c.cfg.ConnectTimeout, DialTimeout: c.dialTimeout(),
			Connected: prog.connected, Timeout: c.cfg.Timeout, Logger: c.ptpLog,
		})
		prog.dialed()
		if err != nil {
			c.log.Debug("connection refused or failed", "addr", addr, "guid", ptpip.FormatGUID(g), "err", err)
			return err
		}
		sess = s
		return nil
	}
	vendor := hint
	guid := plan[0]
	err = dial(ctx, guid)
	if refusal(err) && vendor == mtp.VendorGeneric && ctx.Err() == nil {
		// Whose advice applies (Sony's GUIDs, Canon's pairing, a
		// Nikon's) depends on the make, which only an announcement
		// tells before a session.
		vendor = c.identify(ctx, addr)
		c.log.Debug("the camera refused; its announcement says", "vendor", vendor)
	}
	if rejected(err) && vendor == mtp.VendorSony && len(plan) > 1 {
		var g [16]byte
		g, err = sonyauth.TryGUIDs(ctx, plan[1:], dial, rejected)
		var elsewhere *sonyauth.PairedElsewhereError
		if errors.As(err, &elsewhere) {
			elsewhere.Tried = append([][16]byte{guid}, elsewhere.Tried...)
		} else if err == nil {
			guid = g
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		return nil, c.diagnose(err, addr, vendor, guid, prog.accepted())
	}
	c.cfg.Identities.accepted(guid)
	cs := &Session{Addr: addr, PTP: sess, Device: mtp.NewDevice(sess, c.ptpLog), opened: time.Now(), timeout: c.cfg.Timeout, log: c.log}
	cs.Info, err = cs.Device.GetDeviceInfo(ctx)
	if err == nil {
		err = cs.Device.OpenSession(ctx, sess.ConnectionNumber())
		cs.opened = time.Now()
	}
	if err != nil {
		cs.Close(false)
		return nil, fmt.Errorf("the camera at %s accepted the connection but the session failed: %v; check that the camera is not busy with another computer or app, and try again", addr, err)
	}
	cs.Vendor = mtp.DetectVendor(cs.Info)
	if mtp.IsNikonZ(cs.Info) && cs.Info.Supports(mtp.OpNikonGetPartialObjectEx) {
		// A Nikon Z refuses GetPartialObject for images not marked for
		// upload; its GetPartialObjectEx reads them (mtp.IsNikonZ).
		if err := cs.Device.ForceRead64(mtp.OpNikonGetPartialObjectEx); err != nil {
			c.log.Debug("cannot read with GetPartialObjectEx", "err", err)
		} else {
			c.ptpLog.Debug("Nikon Z: every read uses GetPartialObjectEx (0x9431)")
		}
	}
	if cs.Vendor == mtp.VendorSony {
		// Without it the camera shows "Connecting..." and gives up after
		// about two minutes; some models refuse every object operation.
		if err := sonyauth.StartSending(ctx, sess, c.ptpLog); err != nil {
			c.log.Warn("the Sony camera did not take the \"Sending...\" command; it may end the session after about two minutes", "err", err)
		}
	}
	if c.cfg.SyncClock {
		loc := c.cfg.Location
		if loc == nil {
			loc = time.Local
		}
		SyncClock(ctx, cs.Device, time.Now(), loc, c.log)
	}
	c.log.Info("camera session open", "addr", addr, "manufacturer", cs.Info.Manufacturer, "model", cs.Info.Model,
		"serial", cs.Info.SerialNumber, "guid", ptpip.FormatGUID(guid))
	return cs, nil
}

// Close ends the session gracefully: the transaction in flight may finish
// (within Timeout; ptpip.Session.Finish), then a Sony with sleep set is put
// to sleep (it leaves Send to Computer and ends the session itself), any
// other camera gets CloseSession; then both connections are closed.
// Whatever else was about to ask the camera fails instead.
func (cs *Session) Close(sleep bool) { cs.End(sleep, nil) }

// End is Close, calling idle (when set) once the camera has no transaction
// in flight, before the goodbye: the caller stops its other users of the
// session there (a watcher's polls, listings) without breaking a
// transaction; what they were about to ask fails when their context ends.
func (cs *Session) End(sleep bool, idle func()) {
	if d := minSessionAge - time.Since(cs.opened); d > 0 {
		time.Sleep(d)
	}
	log := cs.log
	if cs.PTP.Err() != nil {
		cs.PTP.Close()
		return
	}
	wait, cancel := context.WithTimeout(context.Background(), cs.timeout)
	defer cancel()
	err := cs.PTP.Finish(wait, func(t mtp.Transport) error {
		if idle != nil {
			idle()
		}
		ctx, cancel := context.WithTimeout(context.Background(), cs.timeout)
		defer cancel()
		if sleep && cs.Vendor == mtp.VendorSony {
			if err := sonyauth.Sleep(ctx, t, log); err != nil {
				log.Warn("putting the Sony camera to sleep failed; press Cancel on the camera", "err", err)
				return nil
			}
			log.Info("the camera was put to sleep")
			return nil
		}
		if err := mtp.NewDevice(t, nil).CloseSession(ctx); err != nil {
			log.Warn("closing the camera session failed", "err", err)
		}
		return nil
	})
	if err != nil {
		log.Warn("the camera session ended without its goodbye (Sony: sleep; others: CloseSession)", "err", err)
	}
}

// same reports whether info describes the camera of cs (a reconnection
// must reach the same camera, not another one at the same address).
func (cs *Session) same(info *mtp.DeviceInfo) bool {
	return info.Manufacturer == cs.Info.Manufacturer && info.Model == cs.Info.Model && info.SerialNumber == cs.Info.SerialNumber
}
