package ssdp

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"

	gossdp "github.com/koron/go-ssdp"
)

// ones: up, with an IPv4 address, and multicast-capable or the loopback (Linux
// does not flag lo as multicast, yet multicast works on it, and a camera
// simulator on this host announces there; go-ssdp's own list skips it).
func interfaces(names []string) ([]net.Interface, error) {
	if len(names) > 0 {
		list := make([]net.Interface, 0, len(names))
		for _, n := range names {
			ifi, err := net.InterfaceByName(n)
			if err != nil {
				return nil, fmt.Errorf("ssdp: interface %q: %w", n, err)
			}
			list = append(list, *ifi)
		}
		return list, nil
	}
	all, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("ssdp: interfaces: %w", err)
	}
	var list []net.Interface
	for _, ifi := range all {
		if ifi.Flags&net.FlagUp == 0 || ifi.Flags&(net.FlagMulticast|net.FlagLoopback) == 0 || !hasIPv4(ifi) {
			continue
		}
		list = append(list, ifi)
	}
	if len(list) == 0 {
		return nil, errors.New("ssdp: no network interface is up with an IPv4 address")
	}
	return list, nil
}

func hasIPv4(ifi net.Interface) bool {
	addrs, err := ifi.Addrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsUnspecified() {
			return true
		}
	}
	return false
}

func ifaceNames(list []net.Interface) []string {
	names := make([]string, len(list))
	for i, ifi := range list {
		names[i] = ifi.Name
	}
	return names
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// go-ssdp takes its interface list from the package variable
// gossdp.Interfaces, read when a Monitor starts or a Search opens its socket.
// ifaceLease lets concurrent users share a setting: callers wanting the
// same list run together, a different list waits until they are done.
// Nothing else in the process may set gossdp.Interfaces.
var ifaceLease struct {
	mu    sync.Mutex
	cond  *sync.Cond
	key   string
	users int
}

func init() { ifaceLease.cond = sync.NewCond(&ifaceLease.mu) }

// withInterfaces runs f with gossdp.Interfaces set to list.
func withInterfaces(list []net.Interface, f func() error) error {
	key := strings.Join(ifaceNames(list), "\x00")
	l := &ifaceLease
	l.mu.Lock()
	for l.users > 0 && l.key != key {
		l.cond.Wait()
	}
	if l.users == 0 {
		gossdp.Interfaces, l.key = slices.Clone(list), key
	}
	l.users++
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		l.users--
		if l.users == 0 {
			gossdp.Interfaces, l.key = nil, ""
			l.cond.Broadcast()
		}
		l.mu.Unlock()
	}()
	return f()
}
