package sonyauth

import (
	"cmp"
	"encoding/hex"
	"fmt"
	"net"
	"slices"
	"strings"
)

// macLen is the length of the MAC addresses PlayMemories puts in a GUID
// (EUI-48).
const macLen = 6

// MACGUID returns the GUID PlayMemories Home uses for a paired computer:
// eight zero bytes, FF FF, then the computer's MAC address.
//
//	 0                         8       10              16
//	+-------------------------+-------+---------------+
//	| 00 00 00 00 00 00 00 00 | FF FF | MAC (6 bytes) |
//	+-------------------------+-------+---------------+
//
// The camera remembers it when paired, so the same machine under Linux is
// accepted (on Windows any of the PC's MACs may have been used, on macOS
// the WiFi one). mac must be 6 bytes long.
func MACGUID(mac net.HardwareAddr) ([16]byte, error) {
	var g [16]byte
	if len(mac) != macLen {
		return g, fmt.Errorf("sonyauth: %d-byte hardware address %v: a camera GUID needs a 6-byte MAC", len(mac), mac)
	}
	g[8], g[9] = 0xFF, 0xFF
	copy(g[10:], mac)
	return g, nil
}

// IsZeroTail reports whether the last 6 bytes of g are zero. Airnef found
// that a Sony camera that is not paired with any computer accepts such a
// GUID (its own default is 00 11 22 33 44 55 66 77 88 99 + 6 zero bytes).
func IsZeroTail(g [16]byte) bool {
	return g[10] == 0 && g[11] == 0 && g[12] == 0 && g[13] == 0 && g[14] == 0 && g[15] == 0
}

// ZeroTail returns g with its last 6 bytes set to zero.
func ZeroTail(g [16]byte) [16]byte {
	clear(g[10:])
	return g
}

// Candidate is a local network interface and the GUID a camera paired with
// this computer under that interface's MAC would accept.
type Candidate struct {
	Iface string
	MAC   net.HardwareAddr
	GUID  [16]byte
}

// InterfaceGUIDs lists the interfaces that can stand for this computer in
// a PlayMemories pairing (a non-zero 6-byte MAC, not loopback, up or down)
// with their MACGUID: burnt-in MACs first (PlayMemories ran on real
// hardware), then locally administered ones, each by index. With iface set
// only that one, or an error naming it. An empty list is no such interface.
func InterfaceGUIDs(iface string) ([]Candidate, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("sonyauth: listing network interfaces: %w", err)
	}
	return interfaceGUIDs(ifs, iface)
}

// interfaceGUIDs is InterfaceGUIDs over a given interface list.
func interfaceGUIDs(ifs []net.Interface, iface string) ([]Candidate, error) {
	if iface != "" {
		i := slices.IndexFunc(ifs, func(n net.Interface) bool { return n.Name == iface })
		if i < 0 {
			names := make([]string, 0, len(ifs))
			for _, n := range ifs {
				names = append(names, n.Name)
			}
			return nil, fmt.Errorf("sonyauth: no network interface %q (this computer has: %s)", iface, strings.Join(names, ", "))
		}
		if !usable(ifs[i]) {
			return nil, fmt.Errorf("sonyauth: network interface %q has no MAC address a camera could have been paired with (%q)", iface, ifs[i].HardwareAddr.String())
		}
		return []Candidate{candidate(ifs[i])}, nil
	}
	var out []Candidate
	for _, n := range ifs {
		if usable(n) {
			out = append(out, candidate(n))
		}
	}
	idx := make(map[string]int, len(ifs))
	for _, n := range ifs {
		idx[n.Name] = n.Index
	}
	slices.SortStableFunc(out, func(a, b Candidate) int {
		if c := cmp.Compare(a.MAC[0]&0x02, b.MAC[0]&0x02); c != 0 {
			return c // universally administered (bit clear) first
		}
		return cmp.Compare(idx[a.Iface], idx[b.Iface])
	})
	return out, nil
}

// usable reports whether n has a MAC a PlayMemories pairing could name.
func usable(n net.Interface) bool {
	if n.Flags&net.FlagLoopback != 0 || len(n.HardwareAddr) != macLen {
		return false
	}
	return slices.ContainsFunc(n.HardwareAddr, func(b byte) bool { return b != 0 })
}

func candidate(n net.Interface) Candidate {
	mac := slices.Clone(n.HardwareAddr)
	g, _ := MACGUID(mac) // usable(n) checked the length
	return Candidate{Iface: n.Name, MAC: mac, GUID: g}
}

// ParseMACSpec recognises the MAC form of the --guid flag: "mac" (every
// local interface, as InterfaceGUIDs("")) or "mac:IFACE" (that interface
// only). ok is false for anything else, including "mac:" with no name, and
// the caller then parses the value as a hex GUID. The keyword is matched
// without regard to case; the interface name is taken as given.
func ParseMACSpec(s string) (iface string, ok bool) {
	const kw = "mac"
	if len(s) < len(kw) || !strings.EqualFold(s[:len(kw)], kw) {
		return "", false
	}
	rest := s[len(kw):]
	switch {
	case rest == "":
		return "", true
	case rest[0] == ':' && len(rest) > 1:
		return rest[1:], true
	}
	return "", false
}

// formatGUID is g as 32 lowercase hex digits, the form Wireshark shows for
// "Init Command Request GUID" and the --guid flag accepts.
func formatGUID(g [16]byte) string {
	return hex.EncodeToString(g[:])
}
