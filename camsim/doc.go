// Package camsim is a simulated PTP/IP camera: the project's test camera and
// the demo's. It serves a directory, or a generated card whose bytes are
// computed when read (medium.go, gen.go), as a memory card over the same
// wire protocol real WiFi cameras speak, closely enough that gphoto2 cannot
// tell it from one.
//
// A Camera listens on one TCP port for both PTP/IP connections (the first
// packet on a connection says whether it is a command or an event
// connection), answers the PTP and MTP operations a generic MTP-capable
// camera implements, streams files from disk per request (never whole files
// in memory), and reports files added to or removed from the directory as
// ObjectAdded/ObjectRemoved events.
//
// What a camera make does differently is a Personality: identity strings,
// vendor extension, how data phases are split, which operations exist, and
// each quirk as a switch. The Nikon, Canon and Sony personalities are real
// bodies (bodies.go): the DeviceInfo their published dumps list, with their
// make's quirks; Generic is a plain MTP camera. The link model
// (rate, latency, stalls) acts in the single function through which every
// byte is written (wire.writeLocked); a control socket (control.go) lets
// scripts add and delete files, stall, drop and refuse connections, and
// mark photos on a Nikon. A Nikon keeps a selection of photos to send
// (selection.go), every camera a clock a host may set (clock.go), and a
// Sony may be in Send to Smartphone instead of Send to Computer
// (smartphone.go).
//
// It is not a PTP/IP client library and not a general MTP responder: the
// card is read-only and there is no capture. Tests and cmd/camsim import it;
// the product (cmd/airnef-mount) never does (product_test.go checks).
package camsim
