package camera

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
	"github.com/airnef-mount/airnef-mount/sonyauth"
	"github.com/airnef-mount/airnef-mount/ssdp"
)

// Connecting, as the user sees it: what is happening while it takes long,
// and one sentence for each way it fails, by what the camera did (nothing,
// a closed port, an accepted connection left unanswered, Init Fail and its
// reason) and by its make where the advice differs.

// dialTimeoutMax bounds a TCP connect (within --connect-timeout): a camera
// whose WiFi is up answers at once, and a silent address should fail in
// seconds, not after the minute a Canon's prompt may take. Airnef waits
// 10 s as well.
const dialTimeoutMax = 10 * time.Second

// slowAfter is how long connecting may take before the user is told what
// it waits for: a silent address, or a camera that waits for its user.
const slowAfter = 3 * time.Second

// identifyListen is how long a refusing camera's announcement is listened
// for (a Sony or Canon answers an M-SEARCH at once).
const identifyListen = 2 * time.Second

func (c *Connector) dialTimeout() time.Duration {
	if t := c.cfg.ConnectTimeout; t > 0 && t < dialTimeoutMax {
		return t
	}
	return dialTimeoutMax
}

// refusal reports whether err is the camera's refusal of this computer
// (Init Fail, other than busy).
func refusal(err error) bool {
	var f *ptpip.InitFailError
	return errors.As(err, &f) && f.Reason != ptpip.FailBusy
}

// rejected reports whether err is Init Fail "rejected initiator": for a
// Sony, a GUID it is not paired with.
func rejected(err error) bool {
	var f *ptpip.InitFailError
	return errors.As(err, &f) && f.Reason == ptpip.FailRejectedInitiator
}

// identifyBySSDP is the make of the camera at addr, from its SSDP
// announcement (Sony and Canon announce themselves, Nikon does not);
// VendorGeneric when none is heard.
func (c *Connector) identifyBySSDP(ctx context.Context, addr string) mtp.Vendor {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	cams, err := ssdp.Discover(ctx, ssdp.Config{Interfaces: c.cfg.Interfaces, ListenTime: identifyListen, Logger: c.ptpLog})
	if err != nil {
		c.log.Debug("cannot look for the camera's announcement", "err", err)
		return mtp.VendorGeneric
	}
	for _, cam := range cams {
		if cam.Host == host && !cam.Smartphone {
			return cam.Vendor
		}
	}
	return mtp.VendorGeneric
}

// makeName is how a make is named in advice.
func makeName(v mtp.Vendor) string {
	switch v {
	case mtp.VendorSony:
		return "Sony"
	case mtp.VendorCanon:
		return "Canon"
	case mtp.VendorNikon:
		return "Nikon"
	}
	return ""
}

// diagnose turns a failed connection into the one sentence the user gets:
// what the camera at addr did and what to check. vendor is the make if
// known, guid the identity offered, accepted whether the camera accepted
// the TCP connection. A refusal is a *RefusedError.
func (c *Connector) diagnose(err error, addr string, vendor mtp.Vendor, guid [16]byte, accepted bool) error {
	host, port, serr := net.SplitHostPort(addr)
	if serr != nil {
		host, port = addr, fmt.Sprint(ptpip.Port)
	}
	the := "the camera"
	if n := makeName(vendor); n != "" {
		the = "the " + n
	}
	var elsewhere *sonyauth.PairedElsewhereError
	var fail *ptpip.InitFailError
	switch {
	case errors.As(err, &elsewhere):
		return &RefusedError{fmt.Errorf("the camera at %s refused this computer: %w", addr, err)}
	case errors.As(err, &fail) && fail.Reason == ptpip.FailBusy:
		return fmt.Errorf("%s at %s is busy with another client (Init Fail: busy): another airnef-mount, the maker's phone app or another computer is connected to it; end that connection, or wait for it to end, and try again", the, addr)
	case errors.As(err, &fail) && fail.Reason == ptpip.FailRejectedInitiator:
		switch vendor {
		case mtp.VendorSony:
			return &RefusedError{fmt.Errorf("the Sony at %s refused this computer (Init Fail: rejected, GUID %s): it accepts only the computer it is paired with; pass that computer's identity with --guid (--guid=mac for this machine's under another system), or reset the camera's network settings", addr, ptpip.FormatGUID(guid))}
		case mtp.VendorCanon:
			return &RefusedError{fmt.Errorf("the Canon at %s refused this computer (Init Fail: rejected): it accepts the computer it was paired with in its Wi-Fi settings; pair it with this computer again on the camera (this computer's identity does not change between mounts)", addr)}
		}
		words := "on a Nikon, turn the camera's Wi-Fi off and on, and close the Nikon app on your phone, which it may be connected to"
		if vendor == mtp.VendorGeneric {
			words = "it does not announce itself as a Sony or a Canon does; " + words
		}
		return &RefusedError{fmt.Errorf("%s at %s refused this computer (Init Fail: rejected): %s", the, addr, words)}
	case errors.As(err, &fail):
		return &RefusedError{fmt.Errorf("%s at %s refused the connection without saying why (Init Fail reason %d): check on the camera that it is set to connect to a computer, turn its Wi-Fi off and on, and try again", the, addr, fail.Reason)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("nothing at %s accepts PTP/IP connections on port %s (connection refused): check the address, and that the camera is in its mode for connecting to a computer (Nikon: Wi-Fi on; Sony: Send to Computer; Canon: connect to a computer)", host, port)
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		var errno syscall.Errno
		errors.As(err, &errno)
		return fmt.Errorf("%s cannot be reached from this computer (%v): join the camera's Wi-Fi network, or check the address", host, errno)
	case !accepted && timedOut(err):
		return fmt.Errorf("no answer from %s within %v: check that the camera is on with its Wi-Fi in the mode for connecting to a computer, and that this computer is on the camera's network", addr, c.dialTimeout())
	case accepted && timedOut(err):
		return fmt.Errorf("the camera at %s accepted the connection but did not let this computer in within %v: on a Canon, accept this computer on the camera's screen (--connect-timeout gives more time); a Sony lets in one computer per Send to Computer (choose it again on the camera)", addr, c.cfg.ConnectTimeout)
	}
	return fmt.Errorf("could not connect to a camera at %s: %v; check that the camera's WiFi is on in PC/computer mode and that this computer is on the same network", addr, err)
}

// timedOut reports whether err is a connect or handshake deadline.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// connectProgress tells the user, while a connection takes long, what it
// waits for: after slowAfter of a silent address, that nothing answers;
// after slowAfter of an accepted connection without the camera's Init
// answer, that the camera may be waiting for its user. Each is said once
// per Connect.
type connectProgress struct {
	log     *slog.Logger
	addr    string
	hint    mtp.Vendor
	verbose bool

	mu         sync.Mutex
	dialStart  time.Time // zero between dials
	acceptedAt time.Time // zero until the current dial is accepted
	last       bool      // the last dial was accepted
	saidSilent bool
	saidWait   bool
	done       chan struct{}
}

func newConnectProgress(log *slog.Logger, addr string, hint mtp.Vendor, verbose bool) *connectProgress {
	p := &connectProgress{log: log, addr: addr, hint: hint, verbose: verbose, done: make(chan struct{})}
	if verbose {
		log.Info("connecting to " + addr + " ...")
		go p.run()
	}
	return p
}

// progressTick is how often connectProgress looks at the time spent.
const progressTick = 250 * time.Millisecond

func (p *connectProgress) run() {
	t := time.NewTicker(progressTick)
	defer t.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-t.C:
		}
		p.mu.Lock()
		now := time.Now()
		silent := !p.saidSilent && !p.dialStart.IsZero() && p.acceptedAt.IsZero() && now.Sub(p.dialStart) >= slowAfter
		waiting := !p.saidWait && !p.acceptedAt.IsZero() && now.Sub(p.acceptedAt) >= slowAfter
		p.saidSilent = p.saidSilent || silent
		p.saidWait = p.saidWait || waiting
		p.mu.Unlock()
		switch {
		case silent:
			p.log.Warn("no answer from " + p.addr + " yet: is the camera on, with its Wi-Fi in the mode for connecting to a computer, and this computer on its network?")
		case waiting && p.hint == mtp.VendorSony:
			p.log.Info("the camera answered but has not let this computer in yet: a Sony lets in one computer per Send to Computer")
		case waiting:
			p.log.Info("the camera answered; on a Canon, accept this computer on the camera's screen")
		}
	}
}

func (p *connectProgress) dialing() {
	p.mu.Lock()
	p.dialStart, p.acceptedAt = time.Now(), time.Time{}
	p.mu.Unlock()
}

// connected is ptpip.Config.Connected.
func (p *connectProgress) connected() {
	p.mu.Lock()
	p.acceptedAt = time.Now()
	p.mu.Unlock()
}

func (p *connectProgress) dialed() {
	p.mu.Lock()
	p.last = !p.acceptedAt.IsZero()
	p.dialStart, p.acceptedAt = time.Time{}, time.Time{}
	p.mu.Unlock()
}

// accepted reports whether the camera accepted the last dial's TCP
// connection.
func (p *connectProgress) accepted() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

func (p *connectProgress) stop() {
	if p.verbose {
		close(p.done)
	}
}
