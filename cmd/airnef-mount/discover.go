package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ssdp"
)

// noCameraAdvice is what to check when no camera answered.
const noCameraAdvice = "no camera announced itself; check that the camera's WiFi is on in PC mode " +
	"(Sony: Send to Computer; Canon: connect to a computer) and on the same network as this computer, " +
	"and that the firewall lets in UDP port 1900 (SSDP; e.g. ufw allow proto udp from any port 1900, " +
	"or firewall-cmd --add-service=ssdp); a camera that does not announce itself (Nikon) needs --camera ADDRESS"

// runDiscover is `airnef-mount discover`: it lists the cameras that
// announce themselves, one line each:
//
//	ADDRESS<TAB>MANUFACTURER<TAB>MODEL<TAB>SERVICE
//
// and tells a Sony in a smartphone mode to choose Send to Computer. It
// exits 1 with advice when it finds no camera that speaks PTP/IP.
func runDiscover(ctx context.Context, o *connectOptions, debug debugFlags, stdout, stderr io.Writer) error {
	if o.listenTime <= 0 {
		return usageErr("--listen-time must be positive")
	}
	_, ptpLog, _, _ := newLogSetup(stderr, slog.LevelInfo, debug).loggers()
	cams, err := discover(ctx, o, ptpLog)
	if err != nil {
		return err
	}
	found := 0
	for _, c := range cams {
		if c.Smartphone {
			fmt.Fprintln(stderr, smartphoneAdvice(c))
			continue
		}
		found++
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\n", c.Addr, mtp.Printable(c.Manufacturer), mtp.Printable(c.Model), c.Service)
	}
	if found == 0 {
		return failErr("%s", noCameraAdvice)
	}
	return nil
}

// discover searches for cameras for o.listenTime.
func discover(ctx context.Context, o *connectOptions, log *slog.Logger) ([]ssdp.Camera, error) {
	cams, err := ssdp.Discover(ctx, ssdp.Config{
		Interfaces: o.ssdpInterfaces(), ListenTime: o.listenTime, Logger: log,
	})
	if err != nil {
		return nil, failErr("looking for cameras failed: %v", err)
	}
	return cams, nil
}

// smartphoneAdvice is the sentence for a Sony in "Send to Smartphone" (or
// remote control) mode.
func smartphoneAdvice(c ssdp.Camera) string {
	name := mtp.Printable(strings.TrimSpace(c.Manufacturer + " " + c.Model))
	return fmt.Sprintf("%s at %s is in \"Send to Smartphone\" mode, which offers no PTP/IP: "+
		"choose \"Send to Computer\" in the camera's menu instead (Network > Send to Computer)", name, c.Host)
}

// findCamera is the camera to mount when no --camera is given: the one
// that announces itself. None is exit status 1 with advice; several are
// listed, exit status 2 (choose one with --camera).
func findCamera(ctx context.Context, o *options, stderr io.Writer, log *slog.Logger) (ssdp.Camera, error) {
	log.Info("no --camera: looking for a camera that announces itself", "listen", o.listenTime.Round(time.Millisecond))
	cams, err := discover(ctx, &o.connectOptions, log)
	if err != nil {
		return ssdp.Camera{}, err
	}
	var ptp []ssdp.Camera
	for _, c := range cams {
		if c.Smartphone {
			fmt.Fprintln(stderr, smartphoneAdvice(c))
			continue
		}
		ptp = append(ptp, c)
	}
	switch len(ptp) {
	case 0:
		return ssdp.Camera{}, failErr("%s", noCameraAdvice)
	case 1:
		return ptp[0], nil
	}
	var b strings.Builder
	for _, c := range ptp {
		fmt.Fprintf(&b, "\n  --camera %s\t(%s %s)", c.Host, mtp.Printable(c.Manufacturer), mtp.Printable(c.Model))
	}
	return ssdp.Camera{}, usageErr("%d cameras announce themselves; choose one with --camera:%s", len(ptp), b.String())
}
