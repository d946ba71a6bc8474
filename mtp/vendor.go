package mtp

import (
	"slices"
	"strings"
)

//go:generate go run ../internal/codenames -type Vendor -trimprefix Vendor -linecomment

// Vendor is a camera maker whose quirks this package knows; VendorGeneric
// is any other PTP or MTP device.
type Vendor int

const (
	VendorGeneric Vendor = iota // generic
	VendorNikon
	VendorCanon
	VendorSony
)

// PTP VendorExtensionID values (libgphoto2 camlibs/ptp2/ptp.h, PTP_VENDOR_*).
const (
	vendorIDMicrosoft = 0x00000006 // MTP: reported by Nikon, Canon and Sony alike
	vendorIDNikon     = 0x0000000A
	vendorIDCanon     = 0x0000000B
	vendorIDSony      = 0x00000011 // "observed in the A900" (from traces, not a standard)
)

// DetectVendor tells the camera's make from its DeviceInfo's Manufacturer:
// over PTP/IP most cameras report the MTP extension ID (6) whoever made
// them, so VendorExtensionID is only a fallback. A nil d is VendorGeneric.
func DetectVendor(d *DeviceInfo) Vendor {
	if d == nil {
		return VendorGeneric
	}
	m := strings.ToLower(d.Manufacturer)
	switch {
	case strings.Contains(m, "nikon"):
		return VendorNikon
	case strings.Contains(m, "canon"):
		return VendorCanon
	case strings.Contains(m, "sony"):
		return VendorSony
	}
	switch d.VendorExtensionID {
	case vendorIDNikon:
		return VendorNikon
	case vendorIDCanon:
		return VendorCanon
	case vendorIDSony:
		return VendorSony
	}
	return VendorGeneric
}

// Supports reports whether the camera lists op among its
// OperationsSupported. A nil d supports nothing.
func (d *DeviceInfo) Supports(op OpCode) bool {
	return d != nil && slices.Contains(d.OperationsSupported, op)
}

// IsNikonZ reports whether d describes a Nikon Z mirrorless body (model
// "Z 6", "Z 6_2", "Z fc", "Z50", possibly after "NIKON "): in PC mode these
// answer AccessDenied to GetPartialObject for images not marked for
// upload, while GetPartialObjectEx (0x9431) reads them (notes,
// protocol.md section 5), so their reads go through 0x9431
// (Device.ForceRead64).
func IsNikonZ(d *DeviceInfo) bool {
	if DetectVendor(d) != VendorNikon {
		return false
	}
	m := strings.TrimSpace(d.Model)
	if len(m) >= 6 && strings.EqualFold(m[:6], "nikon ") {
		m = strings.TrimSpace(m[6:])
	}
	if len(m) < 2 || (m[0] != 'Z' && m[0] != 'z') {
		return false
	}
	rest := strings.TrimLeft(m[1:], " _")
	return rest != "" && (rest[0] >= '0' && rest[0] <= '9' || rest[0] == 'f' || rest[0] == 'F')
}

// SupportsProp reports whether the DeviceInfo lists device property p.
func (d *DeviceInfo) SupportsProp(p DevicePropCode) bool {
	return d != nil && slices.Contains(d.DevicePropertiesSupported, uint16(p))
}
