package ssdp

import (
	"strings"
)

// SSDP service types of cameras.
const (
	// ServiceSony is what a Sony announces in "Send to Computer" mode
	// (PTP/IP on port 15740).
	ServiceSony = "urn:microsoft-com:service:MtpNullService:1"
	// ServiceCanon is what a Canon EOS announces when its WiFi is set up
	// for a computer or smartphone (PTP/IP on port 15740).
	ServiceCanon = "urn:schemas-canon-com:service:ICPO-SmartPhoneEOSSystemService:1"
	// ServiceSonyRemote is Sony's Camera Remote API (JSON over HTTP),
	// announced in "Send to Smartphone" and remote-control modes: no
	// PTP/IP there.
	ServiceSonyRemote = "urn:schemas-sony-com:service:ScalarWebAPI:1"
	// ServiceSonyPush is the push list of Sony's "Send to Smartphone"
	// (UPnP ContentDirectory for the Imaging Edge / PlayMemories Mobile
	// app): no PTP/IP there either.
	ServiceSonyPush = "urn:schemas-sony-com:service:XPushList:1"
)

// DefaultServices are the PTP/IP services searched for by default.
var DefaultServices = []string{ServiceSony, ServiceCanon}

// DefaultSmartphoneServices are the services of a Sony camera in "Send to
// Smartphone" mode, searched for by default so the user can be told to
// choose "Send to Computer" instead.
var DefaultSmartphoneServices = []string{ServiceSonyRemote, ServiceSonyPush}

// classify tells whether an ST or NT belongs to a configured service: it
// matches when it starts with the service type (as Airnef does; case aside).
func classify(cfg Config, st string) (message, bool) {
	st = strings.TrimSpace(st)
	if matchService(cfg.Services, st) {
		return message{st: st}, true
	}
	if matchService(cfg.SmartphoneServices, st) {
		return message{st: st, smartphone: true}, true
	}
	return message{}, false
}

// matchService reports whether st starts with one of services.
func matchService(services []string, st string) bool {
	for _, s := range services {
		if s != "" && len(st) >= len(s) && strings.EqualFold(st[:len(s)], s) {
			return true
		}
	}
	return false
}
