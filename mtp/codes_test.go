package mtp

import (
	"fmt"
	"testing"
)

// Names in logs are the spec's; a value without one shows its type and hex.
func TestCodeNames(t *testing.T) {
	for want, c := range map[string]fmt.Stringer{
		"GetPartialObject":                 OpGetPartialObject,
		"GetObjectPropsSupported":          OpGetObjectPropsSupported,
		"NikonGetPartialObjectEx":          OpNikonGetPartialObjectEx,
		"OpCode(0x9999)":                   OpCode(0x9999),
		"AccessDenied":                     RespAccessDenied,
		"SpecificationByGroupUnsupported":  RespSpecByGroupUnsupported,
		"ResponseCode(0xA028)":             ResponseCode(0xA028),
		"ObjectAdded":                      EventObjectAdded,
		"EventCode(0xC101)":                EventCode(0xC101),
		"EXIF/JPEG":                        FormatEXIFJPEG,
		"CanonCR3":                         FormatCanonCR3,
		"ObjectFormat(0xB983)":             ObjectFormat(0xB983),
		"PersistentUniqueObjectIdentifier": PropPersistentUID,
		"PropCode(0xDC05)":                 PropCode(0xDC05),
		"UINT128":                          TypeUint128,
		"STR":                              TypeString,
		"DataType(0x4002)":                 DataType(0x4002),
	} {
		if got := c.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
	if got, want := RespStoreNotAvailable.Error(), "mtp: camera answered StoreNotAvailable"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
