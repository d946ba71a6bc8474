package main

import (
	"testing"
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
