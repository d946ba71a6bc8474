package ssdp

import (
	"strings"
	"testing"
)

func TestMatchService(t *testing.T) {
	cfg := Config{}.withDefaults()
	tests := map[string]struct {
		st         string
		ok         bool
		smartphone bool
	}{
		"sony":                {ServiceSony, true, false},
		"canon":               {ServiceCanon, true, false},
		"prefix":              {ServiceCanon + ".2", true, false},
		"case":                {strings.ToUpper(ServiceSony), true, false},
		"spaces":              {"  " + ServiceSony + " ", true, false},
		"sony remote":         {ServiceSonyRemote, true, true},
		"sony push":           {ServiceSonyPush, true, true},
		"shorter":             {"urn:microsoft-com:service:MtpNullService", false, false},
		"other version":       {"urn:microsoft-com:service:MtpNullService:2", false, false},
		"root device":         {"upnp:rootdevice", false, false},
		"mtp device":          {"urn:microsoft-com:device:mtp:1", false, false},
		"uuid":                {"uuid:00000000-0001-0010-8000-98f17039c6fc", false, false},
		"content directory":   {"urn:schemas-upnp-org:service:ContentDirectory:1", false, false},
		"empty":               {"", false, false},
		"target inside, late": {"x" + ServiceSony, false, false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m, ok := classify(cfg, tc.st)
			if ok != tc.ok || m.smartphone != tc.smartphone {
				t.Fatalf("classify(%q) = smartphone %v, %v; want %v, %v", tc.st, m.smartphone, ok, tc.smartphone, tc.ok)
			}
			if ok && m.st != strings.TrimSpace(tc.st) {
				t.Errorf("st = %q", m.st)
			}
		})
	}

	// Configured services replace the defaults; an empty non-nil
	// SmartphoneServices turns the smartphone ones off.
	custom := Config{Services: []string{"urn:x:service:Y:1"}, SmartphoneServices: []string{}}.withDefaults()
	for st, want := range map[string]bool{"urn:x:service:Y:1": true, ServiceSony: false, ServiceSonyRemote: false} {
		if _, ok := classify(custom, st); ok != want {
			t.Errorf("custom classify(%q) = %v, want %v", st, ok, want)
		}
	}
}
