package pathspec

import (
	"slices"
	"testing"
	"time"
)

// seedMeta is the sample the 09/24/15 seed's tables use: a D7200, serial
// 35551323, DSC_0014.NEF in 100D7200 on slot 1, captured and downloaded on
// Thursday 24 September 2015 at 14:05:13.
func seedMeta() Meta {
	t := time.Date(2015, time.September, 24, 14, 5, 13, 0, time.UTC)
	return Meta{
		CaptureTime:   t,
		DownloadTime:  t,
		Filename:      "DSC_0014.NEF",
		CameraFolder:  "100D7200",
		Slot:          1,
		CameraMake:    "Nikon",
		CameraModel:   "D7200",
		CameraSerial:  "35551323",
		DLNum:         45,
		DLNumLifetime: 5345,
	}
}

// TestSeedTable checks the example column of the seed's specifier table.
func TestSeedTable(t *testing.T) {
	tests := map[string]string{
		"@capturedate@":         "20150924",
		"@capturedate_m@":       "09",
		"@capturedate_d@":       "24",
		"@capturedate_y@":       "2015",
		"@capturedate_dow@":     "4",
		"@capturedate_woy@":     "38",
		"@capturedate_M@":       "September",
		"@capturedate_DOW@":     "Thursday",
		"@capturedate_S@":       "Fall",
		"@capturetime@":         "140513",
		"@capturetime_h@":       "14",
		"@capturetime_m@":       "05",
		"@capturetime_s@":       "13",
		"@dldate@":              "20150924",
		"@dldate_m@":            "09",
		"@dldate_d@":            "24",
		"@dldate_y@":            "2015",
		"@dldate_dow@":          "4",
		"@dldate_woy@":          "38",
		"@dldate_M@":            "September",
		"@dldate_DOW@":          "Thursday",
		"@dldate_S@":            "Fall",
		"@dltime@":              "140513",
		"@dltime_h@":            "14",
		"@dltime_m@":            "05",
		"@dltime_s@":            "13",
		"@filename@":            "DSC_0014.NEF",
		"@filename_root@":       "DSC_0014",
		"@filename_ext@":        "NEF",
		"@camerafolder@":        "100D7200",
		"@slotnumber@":          "1",
		"@cameramake@":          "Nikon",
		"@cameramodel@":         "D7200",
		"@cameraserial@":        "35551323",
		"@dlnum@":               "0045",
		"@dlnum_lifetime@":      "5345",
		"NEF@replace~NEF~Raws@": "Raws", // `@replace~NEF~Raws@ converts "NEF" to "Raws"`
		"@@":                    "@",
		// Subscript examples, on DSC_0014.NEF.
		"@filename:4:8@":   "0014",
		"@filename::3@":    "DSC",
		"@filename:4:@":    "0014.NEF",
		"@filename:-3:@":   "NEF",
		"@filename:-3:-2@": "N",
	}
	for spec, want := range tests {
		t.Run(spec, func(t *testing.T) {
			if got := mustParse(t, spec).Expand(seedMeta()); got != want {
				t.Errorf("Expand = %q, want %q", got, want)
			}
		})
	}
}

// TestSeedReplaceExamples checks the seed's @replace@ and --dirnamespec
// examples. Two of them do not produce what the seed's text says; the
// stated output is pinned with the corrected spec, and the seed's spec
// with what it really produces (in Airnef 1.1 as here).
func TestSeedReplaceExamples(t *testing.T) {
	m := seedMeta()
	m.DLNum = 1
	tests := map[string]struct {
		spec string
		want string   // Expand
		dirs []string // SplitDirs(Expand), for dirnamespecs
	}{
		// Stated: "Main Camera_0001.NEF". @filename_ext@ is "NEF" without
		// its dot (seed table; Airnef 1.1 strips it), so the seed's spec
		// lacks a '.'.
		"filenamespec as written": {
			spec: "@cameraserial@@replace~35551323~Main Camera@_@dlnum@@filename_ext@",
			want: "Main Camera_0001NEF",
		},
		"filenamespec with the dot": {
			spec: "@cameraserial@@replace~35551323~Main Camera@_@dlnum@.@filename_ext@",
			want: "Main Camera_0001.NEF",
		},
		// Stated: "D7200\Raw Files" (output directory).
		"dirnamespec raw files": {
			spec: `@cameramodel@\@filename_ext@@replace~NEF~Raw Files@`,
			want: `D7200\Raw Files`,
			dirs: []string{"D7200", "Raw Files"},
		},
		// Stated: creates Nikon, Nikon\D7200, Nikon\D7200\35551323. The
		// spec puts the model first, so that tree needs make first.
		"dirnamespec tree as written": {
			spec: `@cameramodel@\@cameramake@\@cameraserial@`,
			want: `D7200\Nikon\35551323`,
			dirs: []string{"D7200", "Nikon", "35551323"},
		},
		"dirnamespec tree make first": {
			spec: `@cameramake@\@cameramodel@\@cameraserial@`,
			want: `Nikon\D7200\35551323`,
			dirs: []string{"Nikon", "D7200", "35551323"},
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got := mustParse(t, tt.spec).Expand(m)
			if got != tt.want {
				t.Errorf("Expand(%q) = %q, want %q", tt.spec, got, tt.want)
			}
			if tt.dirs != nil {
				if d := SplitDirs(got); !slices.Equal(d, tt.dirs) {
					t.Errorf("SplitDirs(%q) = %q, want %q", got, d, tt.dirs)
				}
			} else if _, err := ParseFilename(tt.spec); err != nil {
				t.Errorf("ParseFilename(%q): %v", tt.spec, err)
			}
		})
	}
}

func mustParse(t *testing.T, spec string) *Spec {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return s
}
