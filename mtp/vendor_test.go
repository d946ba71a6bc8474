package mtp

import "testing"

func TestDetectVendor(t *testing.T) {
	tests := map[string]struct {
		in   *DeviceInfo
		want Vendor
	}{
		"nil":                   {nil, VendorGeneric},
		"nikon upper":           {&DeviceInfo{Manufacturer: "NIKON CORPORATION", VendorExtensionID: vendorIDMicrosoft}, VendorNikon},
		"canon":                 {&DeviceInfo{Manufacturer: "Canon Inc."}, VendorCanon},
		"sony":                  {&DeviceInfo{Manufacturer: "Sony Corporation", VendorExtensionID: vendorIDMicrosoft}, VendorSony},
		"name beats id":         {&DeviceInfo{Manufacturer: "Canon Inc.", VendorExtensionID: vendorIDNikon}, VendorCanon},
		"id fallback nikon":     {&DeviceInfo{VendorExtensionID: vendorIDNikon}, VendorNikon},
		"id fallback canon":     {&DeviceInfo{Manufacturer: "?", VendorExtensionID: vendorIDCanon}, VendorCanon},
		"id fallback sony":      {&DeviceInfo{VendorExtensionID: vendorIDSony}, VendorSony},
		"microsoft means none":  {&DeviceInfo{VendorExtensionID: vendorIDMicrosoft}, VendorGeneric},
		"other maker":           {&DeviceInfo{Manufacturer: "FUJIFILM", VendorExtensionID: 0x0E}, VendorGeneric},
		"golden fixture device": {&goldenDeviceInfo, VendorNikon},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := DetectVendor(tc.in); got != tc.want {
				t.Fatalf("DetectVendor = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestVendorString(t *testing.T) {
	for v, want := range map[Vendor]string{
		VendorGeneric: "generic", VendorNikon: "Nikon", VendorCanon: "Canon", VendorSony: "Sony", 42: "Vendor(42)",
	} {
		if got := v.String(); got != want {
			t.Errorf("%d: %q, want %q", int(v), got, want)
		}
	}
}

func TestSupports(t *testing.T) {
	d := &DeviceInfo{OperationsSupported: []OpCode{OpGetDeviceInfo, OpNikonGetPartialObjectEx}}
	if !d.Supports(OpNikonGetPartialObjectEx) || d.Supports(OpGetObjectPropList) {
		t.Fatal("Supports disagrees with OperationsSupported")
	}
	var none *DeviceInfo
	if none.Supports(OpGetDeviceInfo) {
		t.Fatal("nil DeviceInfo supports an op")
	}
}

func TestIsNikonZ(t *testing.T) {
	for _, tc := range []struct {
		maker, model string
		want         bool
	}{
		{"Nikon Corporation", "Z 6", true},
		{"Nikon Corporation", "Z 6_2", true},
		{"Nikon Corporation", "Z fc", true},
		{"Nikon Corporation", "Z50", true},
		{"Nikon Corporation", "NIKON Z 9", true},
		{"Nikon Corporation", "D7200", false},
		{"Nikon Corporation", "Z", false},
		{"Nikon Corporation", "Zoom", false},
		{"Canon Inc.", "Z 6", false},
	} {
		if got := IsNikonZ(&DeviceInfo{Manufacturer: tc.maker, Model: tc.model}); got != tc.want {
			t.Errorf("IsNikonZ(%q, %q) = %v, want %v", tc.maker, tc.model, got, tc.want)
		}
	}
}
