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
}

// Connector opens camera sessions.
type Connector struct {
	cfg         Config
	log, ptpLog *slog.Logger
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
// refusal from a Canon is not retried with Sony's GUIDs). A refusal is a
// *RefusedError; every error says what to check.
func (c *Connector) Connect(ctx context.Context, addr string, hint mtp.Vendor) (*Session, error) {
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
	var sess *ptpip.Session
	dial := func(ctx context.Context, g [16]byte) error {
		s, err := ptpip.Dial(ctx, addr, ptpip.Config{
			GUID: g, Name: c.cfg.Name, ConnectTimeout: c.cfg.ConnectTimeout, Timeout: c.cfg.Timeout, Logger: c.ptpLog,
		})
		if err != nil {
			c.log.Info("connection refused or failed", "addr", addr, "guid", ptpip.FormatGUID(g), "err", err)
			return err
		}
		sess = s
		return nil
	}
	rejected := func(err error) bool {
		var f *ptpip.InitFailError
		return errors.As(err, &f) && f.Reason == ptpip.FailRejectedInitiator
	}
	var guid [16]byte
	if len(plan) == 1 {
		guid, err = plan[0], dial(ctx, plan[0])
	} else {
		guid, err = sonyauth.TryGUIDs(ctx, plan, dial, rejected)
	}
	if err != nil {
		var elsewhere *sonyauth.PairedElsewhereError
		var refused *ptpip.InitFailError
		switch {
		case errors.As(err, &elsewhere):
			return nil, &RefusedError{fmt.Errorf("the camera at %s refused this computer: %w", addr, err)}
		case errors.As(err, &refused):
			return nil, &RefusedError{fmt.Errorf("the camera at %s refused this computer (GUID %s): %v; check that the camera is set to connect to this computer (pair it again, or pass the GUID it knows with --guid)",
				addr, ptpip.FormatGUID(guid), err)}
		}
		return nil, fmt.Errorf("could not connect to a camera at %s: %v; check that the camera's WiFi is on in PC/computer mode and that this computer is on the same network", addr, err)
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
	if cs.Vendor == mtp.VendorSony {
		// Without it the camera shows "Connecting..." and gives up after
		// about two minutes; some models refuse every object operation.
		if err := sonyauth.StartSending(ctx, sess, c.ptpLog); err != nil {
			c.log.Warn("the Sony camera did not take the \"Sending...\" command; it may end the session after about two minutes", "err", err)
		}
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
