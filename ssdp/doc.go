// Package ssdp finds PTP/IP cameras that announce themselves by SSDP (UDP
// 239.255.255.250:1900): it searches (M-SEARCH), listens for NOTIFY, and
// verifies each candidate by fetching its UPnP device description.
//
// A Sony in "Send to Computer" announces urn:microsoft-com:service:MtpNullService:1,
// a Canon urn:schemas-canon-com:service:ICPO-SmartPhoneEOSSystemService:1.
// Like Airnef we send M-SEARCH for each (MX 1, three rounds: one datagram is
// easily lost on WiFi); like sony-pm-alt we also listen for NOTIFY, since some
// networks lose the unicast answers. Nikon cameras do not use SSDP: the user
// gives their address.
//
// An announcement is only a claim: a candidate is reported only once its
// description at LOCATION (bounded in size and time) names a device; the
// PTP/IP address is LOCATION's host with port 15740. It is not the transport
// (package ptpip) and does not connect to cameras.
package ssdp
