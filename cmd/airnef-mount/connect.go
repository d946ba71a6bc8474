package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
	"github.com/airnef-mount/airnef-mount/sonyauth"
	"github.com/airnef-mount/airnef-mount/ssdp"
)

// connectOptions are the flags of finding, opening and ending a camera
// session: Sony's sleep at unmount, discovery, and --wait.
type connectOptions struct {
	cameraSleep bool
	wait        bool
	exec        string
	quietPeriod time.Duration
	listenTime  time.Duration
	interfaces  string // comma-separated SSDP interfaces; "" all
}

func (o *connectOptions) connectFlags(fl *flag.FlagSet) {
	fl.BoolVar(&o.cameraSleep, "camera-sleep", true, "at unmount, put a Sony camera to sleep (it leaves Send to Computer); false leaves it on")
	fl.BoolVar(&o.wait, "wait", false, "keep running and mount each camera that announces itself at MOUNTPOINT/MODEL-SERIAL")
	fl.StringVar(&o.exec, "exec", "", "with --wait: run the shell `command` with the camera's mount path as its last argument, then unmount (and put a Sony to sleep)")
	fl.DurationVar(&o.quietPeriod, "quiet-period", defaultQuietPeriod, "with --wait: after a camera left, ignore its announcements until it has been silent this long")
	fl.DurationVar(&o.listenTime, "listen-time", ssdp.DefaultListenTime, "how long to listen for cameras announcing themselves when no --camera is given")
	fl.StringVar(&o.interfaces, "ssdp-interface", "", "comma-separated network `interfaces` to look for cameras on (default: every one that is up)")
}

// defaultQuietPeriod is long enough for the NOTIFYs a camera sent before
// it went to sleep to have arrived.
const defaultQuietPeriod = 30 * time.Second

func (o *options) checkConnect() error {
	switch {
	case o.wait && o.camera != "":
		return usageErr("--wait mounts the cameras that announce themselves: it takes no --camera")
	case o.exec != "" && !o.wait:
		return usageErr("--exec runs for each camera --wait mounts: give --wait too")
	case o.quietPeriod < 0 || o.listenTime <= 0:
		return usageErr("--quiet-period must not be negative and --listen-time must be positive")
	}
	return nil
}

// ssdpInterfaces is the --ssdp-interface list.
func (o *connectOptions) ssdpInterfaces() []string {
	var out []string
	for _, f := range strings.Split(o.interfaces, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// identities is what a connection offers the camera as this computer's
// GUID.
//
//   - no --guid: this host's persisted GUID; when a camera answers Init
//     Fail "rejected initiator" (a Sony paired with a computer), the
//     persisted GUID with a zero tail (accepted by a Sony paired with no
//     computer) and then each local MAC-derived GUID (a Sony paired with
//     this machine under Windows or macOS), once each;
//   - --guid=mac[:IFACE]: the MAC-derived GUIDs first, then the zero tail;
//   - --guid HEX: that GUID only.
type identities struct {
	first     [16]byte
	persisted [16]byte
	locals    []sonyauth.Candidate
	retry     bool

	mu   sync.Mutex
	good *[16]byte // the GUID the camera accepted, offered first next time
}

func newIdentities(o *options) (*identities, error) {
	ids := &identities{}
	host, hostErr := ptpip.HostGUID(ptpip.StateDir())
	switch iface, isMAC := sonyauth.ParseMACSpec(o.guid); {
	case o.guid == "":
		if hostErr != nil {
			return nil, failErr("reading this computer's GUID failed: %v; check the state directory or pass --guid", hostErr)
		}
		ids.first, ids.persisted, ids.retry = host, host, true
	case isMAC:
		cands, err := sonyauth.InterfaceGUIDs(iface)
		if err != nil {
			return nil, usageErr("--guid=%s: %v", o.guid, err)
		}
		if len(cands) == 0 {
			return nil, usageErr("--guid=%s: this computer has no network interface with a MAC address", o.guid)
		}
		ids.first, ids.locals, ids.retry = cands[0].GUID, cands, true
		ids.persisted = host
		if hostErr != nil {
			ids.persisted = cands[0].GUID // its zero tail is as good
		}
	default:
		g, err := ptpip.ParseGUID(o.guid)
		if err != nil {
			return nil, usageErr("--guid: %v", err)
		}
		ids.first = g
	}
	return ids, nil
}

// plan is the GUIDs to offer, in order.
func (ids *identities) plan() ([][16]byte, error) {
	ids.mu.Lock()
	good := ids.good
	ids.mu.Unlock()
	if !ids.retry {
		return [][16]byte{ids.first}, nil
	}
	locals := ids.locals
	if locals == nil {
		var err error
		if locals, err = sonyauth.InterfaceGUIDs(""); err != nil {
			return nil, err
		}
	}
	first := ids.first
	if good != nil {
		first = *good
	}
	return sonyauth.Candidates(first, ids.persisted, locals), nil
}

func (ids *identities) accepted(g [16]byte) {
	ids.mu.Lock()
	ids.good = &g
	ids.mu.Unlock()
}

// connector opens camera sessions.
type connector struct {
	o           *options
	ids         *identities
	log, ptpLog *slog.Logger
}

// camSession is one open camera session.
type camSession struct {
	addr   string
	sess   *ptpip.Session
	dev    *mtp.Device
	info   *mtp.DeviceInfo
	vendor mtp.Vendor
	opened time.Time
}

// connect dials addr, opens the PTP session and, for a Sony, shows
// "Sending..." on the camera. hint is the make when discovery told it
// (a refusal from a Canon is not retried with Sony's GUIDs). Errors are
// *exitError: a refusal is exit status 3 with advice.
func (c *connector) connect(ctx context.Context, addr string, hint mtp.Vendor) (*camSession, error) {
	plan, err := c.ids.plan()
	if err != nil {
		return nil, failErr("listing this computer's network interfaces failed: %v", err)
	}
	if hint != mtp.VendorGeneric && hint != mtp.VendorSony {
		plan = plan[:1]
	}
	var sess *ptpip.Session
	dial := func(ctx context.Context, g [16]byte) error {
		s, err := ptpip.Dial(ctx, addr, ptpip.Config{
			GUID: g, Name: c.o.name, ConnectTimeout: c.o.connectTimeout, Timeout: c.o.timeout, Logger: c.ptpLog,
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
			return nil, &exitError{exitRefused, fmt.Errorf("the camera at %s refused this computer: %w", addr, err)}
		case errors.As(err, &refused):
			return nil, &exitError{exitRefused, fmt.Errorf("the camera at %s refused this computer (GUID %s): %v; check that the camera is set to connect to this computer (pair it again, or pass the GUID it knows with --guid)",
				addr, ptpip.FormatGUID(guid), err)}
		}
		return nil, failErr("could not connect to a camera at %s: %v; check that the camera's WiFi is on in PC/computer mode and that this computer is on the same network", addr, err)
	}
	c.ids.accepted(guid)
	cs := &camSession{addr: addr, sess: sess, dev: mtp.NewDevice(sess, c.ptpLog), opened: time.Now()}
	cs.info, err = cs.dev.GetDeviceInfo(ctx)
	if err == nil {
		err = cs.dev.OpenSession(ctx, sess.ConnectionNumber())
		cs.opened = time.Now()
	}
	if err != nil {
		cs.close(c.o.timeout, false, c.log)
		return nil, failErr("the camera at %s accepted the connection but the session failed: %v; check that the camera is not busy with another computer or app, and try again", addr, err)
	}
	cs.vendor = mtp.DetectVendor(cs.info)
	if cs.vendor == mtp.VendorSony {
		// Without it the camera shows "Connecting..." and gives up after
		// about two minutes; some models refuse every object operation.
		if err := sonyauth.StartSending(ctx, sess, c.ptpLog); err != nil {
			c.log.Warn("the Sony camera did not take the \"Sending...\" command; it may end the session after about two minutes", "err", err)
		}
	}
	c.log.Info("camera session open", "addr", addr, "manufacturer", cs.info.Manufacturer, "model", cs.info.Model,
		"serial", cs.info.SerialNumber, "guid", ptpip.FormatGUID(guid))
	return cs, nil
}

// close ends the session: for a Sony with sleep set, the sleep command
// (the camera leaves Send to Computer and ends the session itself);
// otherwise CloseSession. Then both connections are closed.
func (cs *camSession) close(timeout time.Duration, sleep bool, log *slog.Logger) {
	// Nikon D7200/J5 hang the next connect when a session ends less than
	// a second after it opened.
	if d := minSessionAge - time.Since(cs.opened); d > 0 {
		time.Sleep(d)
	}
	if cs.sess.Err() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		if sleep && cs.vendor == mtp.VendorSony {
			if err := sonyauth.Sleep(ctx, cs.sess, log); err != nil {
				log.Warn("putting the Sony camera to sleep failed; press Cancel on the camera", "err", err)
			} else {
				log.Info("the camera was put to sleep")
			}
		} else if err := cs.dev.CloseSession(ctx); err != nil {
			log.Warn("closing the camera session failed", "err", err)
		}
		cancel()
	}
	cs.sess.Close()
}

// same reports whether info describes the camera of cs (a reconnection
// must reach the same camera, not another one at the same address).
func (cs *camSession) same(info *mtp.DeviceInfo) bool {
	return info.Manufacturer == cs.info.Manufacturer && info.Model == cs.info.Model && info.SerialNumber == cs.info.SerialNumber
}
