package main

import (
	"testing"

	"github.com/airnef-mount/airnef-mount/sonyauth"
)

func TestMountName(t *testing.T) {
	tests := map[string]struct{ model, serial, host, want string }{
		"sony":      {"ILCE-7S", "3101234", "192.168.1.9", "ILCE-7S-3101234"},
		"no serial": {"ILCE-7S", "", "192.168.1.9", "ILCE-7S-192.168.1.9"},
		"spaces":    {"Canon EOS 6D", "0123 4567", "10.0.0.2", "Canon_EOS_6D-0123_4567"},
		"slashes":   {"../../etc", "a/b", "h", "_.._etc-a_b"},
		"empty":     {"", "", "", "camera-camera"},
		"ipv6 host": {"X", "", "fe80::1", "X-fe80__1"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := mountName(tc.model, tc.serial, tc.host); got != tc.want {
				t.Errorf("mountName(%q, %q, %q) = %q, want %q", tc.model, tc.serial, tc.host, got, tc.want)
			}
		})
	}
}

func TestIdentitiesPlan(t *testing.T) {
	host := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	mac := sonyauth.Candidate{Iface: "eth9", MAC: []byte{2, 0, 0, 0, 0, 9}}
	mac.GUID, _ = sonyauth.MACGUID(mac.MAC)

	ids := &identities{first: host, persisted: host, locals: []sonyauth.Candidate{mac}, retry: true}
	plan, err := ids.plan()
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 3 || plan[0] != host || plan[1] != sonyauth.ZeroTail(host) || plan[2] != mac.GUID {
		t.Errorf("plan %x, want host, zero tail, MAC GUID", plan)
	}
	// Once a GUID worked, reconnections offer it first.
	ids.accepted(mac.GUID)
	if plan, _ = ids.plan(); len(plan) != 2 || plan[0] != mac.GUID || plan[1] != sonyauth.ZeroTail(host) {
		t.Errorf("plan after acceptance %x", plan)
	}
	// An explicit --guid HEX is offered alone.
	fixed := &identities{first: host}
	if plan, _ = fixed.plan(); len(plan) != 1 || plan[0] != host {
		t.Errorf("plan of --guid HEX %x", plan)
	}
}
