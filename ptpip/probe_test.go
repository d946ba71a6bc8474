package ptpip

import "testing"

func TestSkipsProbe(t *testing.T) {
	for name, want := range map[string]bool{
		"Canon EOS 6D": true, "EOS M5": true, "eos6d": true, "  Canon ": true,
		"D7200": false, "Nikon Z 6": false, "ILCE-6000": false, "": false, "Geos": false,
	} {
		if got := SkipsProbe(name); got != want {
			t.Errorf("SkipsProbe(%q) = %v, want %v", name, got, want)
		}
	}
}
