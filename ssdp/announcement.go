package ssdp

import (
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

//go:generate go run ../internal/codenames -type AnnouncementKind -trimprefix Announce -linecomment

// AnnouncementKind says whether a camera came or left.
type AnnouncementKind int

const (
	// AnnounceAlive is an ssdp:alive NOTIFY or an answer to M-SEARCH.
	AnnounceAlive AnnouncementKind = iota + 1 // alive
	// AnnounceByeBye is an ssdp:byebye NOTIFY: the camera is leaving
	// (Canon sends it when it goes to sleep).
	AnnounceByeBye // byebye
)

// Announcement is one SSDP message about a camera, reported by Watch.
type Announcement struct {
	Kind AnnouncementKind
	// Camera is the verified camera for AnnounceAlive. For AnnounceByeBye
	// (which carries no LOCATION and is not verified) it is the camera last
	// verified with the same USN, or only Service and USN if none was.
	Camera Camera
	// From is the sender of a NOTIFY (host:port); empty for an answer to
	// M-SEARCH, whose sender go-ssdp does not give.
	From string
	// Search is set for an answer to our M-SEARCH, clear for a NOTIFY.
	Search bool
	// Time is when the message arrived. An alive waits for its description,
	// so reports can be out of order: compare Time (a camera put to sleep
	// may have NOTIFYs still in flight).
	Time time.Time
}

// Camera is a camera found by SSDP whose device description was fetched.
type Camera struct {
	// Addr is the PTP/IP address, LOCATION's host with port 15740; empty
	// when Smartphone is set.
	Addr string
	// Host is LOCATION's host (an IP address for every camera seen).
	Host string
	// Location is the URL of the device description.
	Location string
	// Service is the service type as announced (ST or NT).
	Service string
	// USN is the unique service name as announced.
	USN string
	// From the device description.
	UDN          string
	Manufacturer string
	Model        string
	Serial       string // empty when the camera does not say
	FriendlyName string
	// Vendor is the make told by Manufacturer.
	Vendor mtp.Vendor
	// Smartphone is a Sony in "Send to Smartphone" or remote-control mode:
	// no PTP/IP; the user has to choose "Send to Computer" instead.
	Smartphone bool
}
