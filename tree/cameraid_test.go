package tree

import "testing"

func TestNewCameraID(t *testing.T) {
	tests := map[string]struct {
		manufacturer, model, serial string
		want                        CameraID
	}{
		"nikon":  {"Nikon Corporation", "D7200", "35551323", CameraID{"Nikon", "D7200", "35551323"}},
		"zeros":  {"Sony Corporation", "ILCE-6000", " 0000123", CameraID{"Sony", "ILCE-6000", "123"}},
		"one":    {"Canon", "Canon EOS 6D", "012", CameraID{"Canon", "Canon EOS 6D", "12"}},
		"camsim": {"airnef-mount", "CamSim", "000000000001", CameraID{"airnef-mount", "CamSim", "1"}},
		"empty":  {"", "", "", CameraID{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := NewCameraID(tc.manufacturer, tc.model, tc.serial); got != tc.want {
				t.Errorf("NewCameraID = %+v, want %+v", got, tc.want)
			}
		})
	}
}
