// Package ptpip is the PTP/IP transport: it talks to a WiFi camera over the
// two TCP connections of CIPA DC-X005 (port 15740) and runs PTP transactions
// on them for package mtp.
//
// It holds the packet codec (packet.go), the client session with its
// handshake, transactions, data phases, event connection and keep-alive
// (session.go) and the host identity every camera sees (guid.go). Finding
// cameras by SSDP is package ssdp.
//
// A Session implements mtp.Transport: it moves operations, data phases and
// responses, and reports transport failures (I/O errors, timeouts,
// desynchronisation, cancellation) as errors. It knows nothing about what
// the operations mean: a camera's response codes are returned, not
// interpreted; opening the PTP session (OpenSession), reading DeviceInfo,
// vendor detection and reconnecting belong to package mtp and its callers.
// The only operation the session issues by itself is the GetDeviceInfo of
// the keep-alive.
//
// A session that fails mid-transaction is broken for good (ErrBroken):
// PTP/IP has no way to resynchronise a stream, so the owner dials again.
package ptpip
