package main

import (
	"errors"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/airnef-mount/airnef-mount/camera"
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

func (o *connectOptions) connectFlags(fl *pflag.FlagSet) {
	fl.BoolVar(&o.cameraSleep, "camera-sleep", true, "at unmount, put a Sony camera to sleep (it leaves Send to Computer); false leaves it on")
	fl.BoolVarP(&o.wait, "wait", "w", false, "keep running and mount each camera that announces itself at MOUNTPOINT/MODEL-SERIAL")
	fl.StringVar(&o.exec, "exec", "", "with --wait: run the shell `command` with the camera's mount path as its last argument, then unmount (and put a Sony to sleep)")
	durationVar(fl, &o.quietPeriod, "quiet-period", camera.DefaultQuietPeriod, "with --wait: after a camera left, ignore its announcements until it has been silent this long")
	durationVar(fl, &o.listenTime, "listen-time", ssdp.DefaultListenTime, "how long to listen for cameras announcing themselves when no --camera is given")
	fl.StringVar(&o.interfaces, "ssdp-interface", "", "comma-separated network `interfaces` to look for cameras on (default: every one that is up)")
}

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

// newIdentities is the --guid flag's identities: none, this host's
// persisted GUID; mac[:IFACE], the MAC-derived GUIDs; HEX, that GUID only.
func newIdentities(o *options) (*camera.Identities, error) {
	host, hostErr := ptpip.HostGUID(ptpip.StateDir())
	switch iface, isMAC := sonyauth.ParseMACSpec(o.guid); {
	case o.guid == "":
		if hostErr != nil {
			return nil, failErr("reading this computer's GUID failed: %v; check the state directory or pass --guid", hostErr)
		}
		return camera.HostIdentities(host), nil
	case isMAC:
		cands, err := sonyauth.InterfaceGUIDs(iface)
		if err != nil {
			return nil, usageErr("--guid=%s: %v", o.guid, err)
		}
		persisted := host
		if hostErr != nil && len(cands) > 0 {
			persisted = cands[0].GUID // its zero tail is as good
		}
		ids, err := camera.MACIdentities(cands, persisted)
		if err != nil {
			return nil, usageErr("--guid=%s: %v", o.guid, err)
		}
		return ids, nil
	default:
		g, err := ptpip.ParseGUID(o.guid)
		if err != nil {
			return nil, usageErr("--guid: %v", err)
		}
		return camera.FixedIdentity(g), nil
	}
}

// connectErr gives a failed connection its exit status: 3 when the camera
// refused this computer, else 1.
func connectErr(err error) error {
	var refused *camera.RefusedError
	if errors.As(err, &refused) {
		return &exitError{code: exitRefused, err: err}
	}
	return &exitError{code: exitFailure, err: err}
}
