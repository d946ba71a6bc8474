package ssdp

import (
	"fmt"
	"time"
)

// AnnouncementKind says whether a camera came or left.
type AnnouncementKind int

const (
	// AnnounceAlive is an ssdp:alive NOTIFY or an answer to M-SEARCH.
	AnnounceAlive AnnouncementKind = iota + 1
	// AnnounceByeBye is an ssdp:byebye NOTIFY: the camera is leaving
	// (Canon sends it when it goes to sleep).
	AnnounceByeBye
)

func (k AnnouncementKind) String() string {
	switch k {
	case AnnounceAlive:
		return "alive"
	case AnnounceByeBye:
		return "byebye"
	}
	return fmt.Sprintf("AnnouncementKind(%d)", int(k))
}

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
	// Time is when the message arrived (before its description was
	// fetched). Messages can be reported out of arrival order, since an
	// alive waits for its description: compare Time, and ignore alive
	// announcements older than the moment a camera was put to sleep (a
	// camera repeats NOTIFYs that may still be in flight).
	Time time.Time
}
