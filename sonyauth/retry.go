package sonyauth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Candidates is the retry plan for a camera that answers Init Fail reason 1
// ("rejected initiator": for Sony, this GUID is not the paired computer's).
// It returns the GUIDs to offer, in order, each once:
//
//  1. first, the GUID the mount was configured with (--guid, or the host
//     GUID), so a plan always starts where a normal connect would;
//  2. ZeroTail(persisted): the host GUID with a zero tail, which a Sony
//     that is not paired with any computer accepts (Airnef's finding);
//  3. MACGUID of each local interface, in the order given (InterfaceGUIDs
//     orders them), for a camera paired with this very machine under
//     another operating system.
//
// Duplicates are dropped. Each GUID costs one connection attempt (after an
// Init Fail the camera accepts a new Init Command Request).
func Candidates(first, persisted [16]byte, local []Candidate) [][16]byte {
	plan := make([][16]byte, 0, 2+len(local))
	seen := make(map[[16]byte]bool, cap(plan))
	add := func(g [16]byte) {
		if !seen[g] {
			seen[g] = true
			plan = append(plan, g)
		}
	}
	add(first)
	add(ZeroTail(persisted))
	for _, c := range local {
		add(c.GUID)
	}
	return plan
}

// ErrNoCandidates is returned by TryGUIDs given an empty plan.
var ErrNoCandidates = errors.New("sonyauth: no GUID to try")

// TryGUIDs offers each GUID of cands through dial (which keeps the session
// it opens) and returns the first that succeeds. An error isRejected
// reports as the camera refusing the GUID (Init Fail reason 1) moves on;
// any other is returned unchanged; all refused is a *PairedElsewhereError.
func TryGUIDs(ctx context.Context, cands [][16]byte, dial func(ctx context.Context, guid [16]byte) error, isRejected func(error) bool) ([16]byte, error) {
	if len(cands) == 0 {
		return [16]byte{}, ErrNoCandidates
	}
	var last error
	for _, g := range cands {
		if err := ctx.Err(); err != nil {
			return [16]byte{}, err
		}
		err := dial(ctx, g)
		if err == nil {
			return g, nil
		}
		if !isRejected(err) {
			return [16]byte{}, err
		}
		last = err
	}
	return [16]byte{}, &PairedElsewhereError{Tried: append([][16]byte(nil), cands...), Last: last}
}

// PairedElsewhereError says that the camera refused every identity this
// computer could offer: it is paired with another computer. Its message
// is written for the user, in one line, and says how to fix it.
type PairedElsewhereError struct {
	Tried [][16]byte // the GUIDs offered, in order
	Last  error      // the camera's last refusal
}

func (e *PairedElsewhereError) Error() string {
	tried := make([]string, len(e.Tried))
	for i, g := range e.Tried {
		tried[i] = formatGUID(g)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sonyauth: the camera refused this computer: it is paired with another computer "+
		"(PlayMemories Home or Imaging Edge on Windows or macOS) and accepts only that computer's identity "+
		"(tried %d: %s); to fix it, ", len(e.Tried), strings.Join(tried, ", "))
	if slices.ContainsFunc(e.Tried, isMACGUID) {
		b.WriteString("if the camera was paired with this machine under Windows or macOS through a network " +
			"adapter that is not connected now, connect it and use --guid=mac:IFACE with its interface name " +
			"(the MAC addresses of the interfaces present were tried); ")
	} else {
		b.WriteString("if the camera was paired with this machine under Windows or macOS, " +
			"use --guid=mac to offer the MAC addresses of this computer's network interfaces " +
			"(--guid=mac:IFACE for one interface); ")
	}
	b.WriteString("else use the other computer's identity: --guid 0000000000000000ffff followed by " +
		"that computer's MAC address (12 hex digits; on Windows any adapter's, on macOS the WiFi one), " +
		"or --guid HEX with the GUID copied from a capture of PlayMemories " +
		"(Wireshark shows it as \"Init Command Request GUID\"); ")
	b.WriteString("or reset the camera's network settings (in its network menu): " +
		"a camera not paired with any computer accepts this one.")
	return b.String()
}

// Unwrap returns the camera's last refusal, so errors.As still finds the
// transport's error (ptpip's InitFailError).
func (e *PairedElsewhereError) Unwrap() error { return e.Last }

// isMACGUID reports whether g has the form MACGUID gives.
func isMACGUID(g [16]byte) bool {
	m, err := MACGUID(g[10:])
	return err == nil && g == m
}
