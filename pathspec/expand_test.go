package pathspec

import (
	"testing"
	"time"
)

// testMeta differs from the seed's sample in every field, so that each
// specifier is seen to read the right one. The download time is Monday 29
// February 2016, 03:04:05.
func testMeta() Meta {
	return Meta{
		CaptureTime:     time.Date(2015, time.September, 24, 14, 5, 13, 0, time.UTC),
		DownloadTime:    time.Date(2016, time.February, 29, 3, 4, 5, 0, time.UTC),
		Filename:        "DSC_0014.sthumb.jpg",
		CaptureFilename: "DSC_0014.NEF",
		CameraFolder:    "100D7200",
		Slot:            2,
		CameraMake:      "Nikon",
		CameraModel:     "D7200",
		CameraSerial:    "35551323",
		DLNum:           7,
		DLNumLifetime:   12345,
	}
}

func TestExpandSpecifiers(t *testing.T) {
	tests := map[string]string{
		// Capture time, seed names and Airnef 1.1 names.
		"@capturedate@":           "20150924",
		"@capturedate_m@":         "09",
		"@capturedate_d@":         "24",
		"@capturedate_y@":         "2015",
		"@capturedate_dow@":       "4",
		"@capturedate_woy@":       "38",
		"@capturedate_M@":         "September",
		"@capturedate_month@":     "September",
		"@capturedate_DOW@":       "Thursday",
		"@capturedate_dayofweek@": "Thursday",
		"@capturedate_S@":         "Fall",
		"@capturedate_season@":    "Fall",
		"@capturetime@":           "140513",
		"@capturetime_h@":         "14",
		"@capturetime_m@":         "05",
		"@capturetime_s@":         "13",
		// Download time.
		"@dldate@":           "20160229",
		"@dldate_m@":         "02",
		"@dldate_d@":         "29",
		"@dldate_y@":         "2016",
		"@dldate_dow@":       "1",
		"@dldate_woy@":       "09",
		"@dldate_M@":         "February",
		"@dldate_month@":     "February",
		"@dldate_DOW@":       "Monday",
		"@dldate_dayofweek@": "Monday",
		"@dldate_S@":         "Winter",
		"@dldate_season@":    "Winter",
		"@dltime@":           "030405",
		"@dltime_h@":         "03",
		"@dltime_m@":         "04",
		"@dltime_s@":         "05",
		// Files, camera, numbers.
		"@filename@":             "DSC_0014.sthumb.jpg",
		"@filename_root@":        "DSC_0014.sthumb",
		"@filename_ext@":         "jpg",
		"@capturefilename@":      "DSC_0014.NEF",
		"@capturefilename_root@": "DSC_0014",
		"@capturefilename_ext@":  "NEF",
		"@camerafolder@":         "100D7200",
		"@slotnumber@":           "2",
		"@cameramake@":           "Nikon",
		"@cameramodel@":          "D7200",
		"@cameraserial@":         "35551323",
		"@dlnum@":                "0007",
		"@dlnum_lifetime@":       "12345",
		// Literal text and '@'.
		"":                 "",
		"plain":            "plain",
		"@@":               "@",
		"a@@b":             "a@b",
		"@@@@":             "@@",
		"@@@cameramake@":   "@Nikon",
		"x@cameramake@y":   "xNikony",
		"é@cameramake@ü":   "éNikonü",
		"@slotnumber@-@@-": "2-@-",
		// Name matching: exact seed spelling first, then any case.
		"@CaptureDate_M@":     "09",
		"@CAPTUREDATE_M@":     "09",
		"@capturedate_Month@": "September",
		"@Capturedate_DOW@":   "4",
		"@capturedate_Dow@":   "4",
		"@CAPTUREDATE_DOW@":   "4",
		"@capturedate_s@":     "Fall",
		"@CAPTUREDATE_S@":     "Fall",
		"@capturetime_S@":     "13", // no seed spelling: seconds, any case
		"@DLDATE_M@":          "02",
		"@dldate_s@":          "Winter",
		"@FileName@":          "DSC_0014.sthumb.jpg",
		"@CAMERAMAKE@":        "Nikon",
		"@CameraFolder@":      "100D7200",
		"@DLNum_Lifetime@":    "12345",
		// Subscripts.
		"@cameramake:1:3@":                        "ik",
		"@cameramake:1@":                          "ikon",
		"@cameramake::2@":                         "Ni",
		"@cameramake::@":                          "Nikon",
		"@cameramake:::@":                         "Nikon",
		"@cameramake:-2@":                         "on",
		"@cameramake:-100:2@":                     "Ni",
		"@cameramake:2:100@":                      "kon",
		"@cameramake:4:2@":                        "",
		"@cameramake:5@":                          "",
		"@cameramake: 1 : +3 @":                   "ik",
		"@cameramake:-0@":                         "Nikon",
		"@cameramake:99999999999999999999999@":    "",
		"@cameramake:-99999999999999999999999:2@": "Ni",
		"@capturedate:4:6@":                       "09",
		"@dlnum:-2@":                              "07",
		// Options.
		"@cameramake:::u@":    "NIKON",
		"@cameramake:::U@":    "NIKON",
		"@cameramake:::l@":    "nikon",
		"@cameramake:::c@":    "Nikon",
		"@capturedate_M:::u@": "SEPTEMBER",
		"@filename:::c@":      "Dsc_0014.sthumb.jpg",
		"@cameramake:::ul@":   "nikon",
		"@cameramake:::lu@":   "nikon", // order is u, l, c whatever the text
		"@cameramake:::uc@":   "Nikon",
		"@cameramake:::xyz@":  "Nikon", // unknown letters ignored, as in Airnef
		"@cameramake:1:3:u@":  "IK",
		"@cameramake:-3::c@":  "Kon",
		"@cameramake:2::uc@":  "Kon",
		// replace works on the output so far only.
		"@cameramake@@replace~Nikon~Canon@":                            "Canon",
		"@replace~Nikon~Canon@@cameramake@":                            "Nikon",
		"@cameramake@@replace~N~@":                                     "ikon",
		"é日@replace~~-@":                                               "-é-日-", // Python inserts between characters, not bytes
		"ab@replace~~-@":                                               "-a-b-",
		"@cameramake@@replace~x~y@":                                    "Nikon",
		"@cameramake@@Replace~Nikon~Canon@":                            "Canon",
		"@cameramake:::c@@replace~Nikon~Canon@@replacere~Canon~Nikon@": "Nikon",
		"aaa@replace~a~b@a":                                            "bbba",
		"@cameramake@-@cameramodel@@replace~-~/@":                      "Nikon/D7200",
	}
	// U+212A KELVIN SIGN lower-cases to 'k' in Python as in Go, so it
	// matches; U+0130 lower-cases to two runes in Python, so it does not.
	tests["@camerama\u212Ae@"] = "Nikon"
	tests["@cameramake@"+"@replace~i~\u0130@"] = "N\u0130kon"
	for spec, want := range tests {
		t.Run(spec, func(t *testing.T) {
			if got := mustParse(t, spec).Expand(testMeta()); got != want {
				t.Errorf("Expand = %q, want %q", got, want)
			}
		})
	}
	if _, err := Parse("@f\u0130lename@"); err == nil {
		t.Error(`Parse("@f\u0130lename@") succeeded; Python lowers U+0130 to "i\u0307", which matches no name`)
	}
}

func TestExpandFilenameSplit(t *testing.T) {
	tests := []struct{ name, root, ext string }{
		{"DSC_0014.NEF", "DSC_0014", "NEF"},
		{"NOEXT", "NOEXT", ""},
		{".bashrc", ".bashrc", ""},
		{"..x.y", "..x", "y"},
		{"x..y", "x.", "y"},
		{"a.", "a", ""},
		{"...", "...", ""},
		{"", "", ""},
		{"a.b.c", "a.b", "c"},
		{"ÄÖ.jpég", "ÄÖ", "jpég"},
	}
	root, ext := mustParse(t, "@filename_root@"), mustParse(t, "@filename_ext@")
	for _, tt := range tests {
		m := Meta{Filename: tt.name}
		if got := root.Expand(m); got != tt.root {
			t.Errorf("root of %q = %q, want %q", tt.name, got, tt.root)
		}
		if got := ext.Expand(m); got != tt.ext {
			t.Errorf("ext of %q = %q, want %q", tt.name, got, tt.ext)
		}
	}
}

func TestExpandNumbers(t *testing.T) {
	s := mustParse(t, "@dlnum@|@dlnum_lifetime@|@slotnumber@")
	tests := []struct {
		dl, life, slot int
		want           string
	}{
		{1, 1, 1, "0001|0001|1"},
		{0, 0, 0, "0000|0000|0"},
		{9999, 10000, 12, "9999|10000|12"},
		{-1, -12345, -1, "-001|-12345|-1"}, // Python's {:04d} pads after the sign too
	}
	for _, tt := range tests {
		if got := s.Expand(Meta{DLNum: tt.dl, DLNumLifetime: tt.life, Slot: tt.slot}); got != tt.want {
			t.Errorf("Expand(%d, %d, %d) = %q, want %q", tt.dl, tt.life, tt.slot, got, tt.want)
		}
	}
}

// TestExpandNoCaptureTime checks that a missing capture date expands as
// the Unix epoch in the download time's zone, as Airnef 1.1 does.
func TestExpandNoCaptureTime(t *testing.T) {
	s := mustParse(t, "@capturedate@T@capturetime@ @capturedate_DOW@ @capturedate_woy@")
	utc := Meta{DownloadTime: time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)}
	if got, want := s.Expand(utc), "19700101T000000 Thursday 00"; got != want {
		t.Errorf("UTC: %q, want %q", got, want)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	local := Meta{DownloadTime: time.Date(2020, 5, 6, 7, 8, 9, 0, ny)}
	if got, want := s.Expand(local), "19691231T190000 Wednesday 52"; got != want {
		t.Errorf("New York: %q, want %q", got, want)
	}
}

// TestExpandZone checks that times are formatted in their own zone.
func TestExpandZone(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	m := Meta{CaptureTime: time.Date(2015, 12, 31, 20, 0, 0, 0, time.UTC).In(tokyo)}
	if got, want := mustParse(t, "@capturedate@ @capturetime_h@").Expand(m), "20160101 05"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestWeekAndSeasonEdges checks day of week, %W week of year and season
// around every boundary, in common and leap years. The expected values
// were produced by Python 3's time.strftime and Airnef's day-of-year rule.
func TestWeekAndSeasonEdges(t *testing.T) {
	tests := []struct {
		date             string
		yday             int
		woy, dow, season string
	}{
		{"2015-01-01", 1, "00", "4", "Winter"}, // Thursday: before the first Monday
		{"2017-01-01", 1, "00", "7", "Winter"}, // Sunday
		{"2017-01-02", 2, "01", "1", "Winter"}, // first Monday
		{"2018-01-01", 1, "01", "1", "Winter"}, // 1 January on a Monday
		{"2016-01-03", 3, "00", "7", "Winter"},
		{"2016-01-04", 4, "01", "1", "Winter"},
		{"2015-12-31", 365, "52", "4", "Winter"},
		{"2017-12-31", 365, "52", "7", "Winter"},
		{"2018-12-31", 365, "53", "1", "Winter"},
		{"2012-12-31", 366, "53", "1", "Winter"}, // leap year, day 366
		{"2016-12-31", 366, "52", "6", "Winter"},
		{"2016-02-29", 60, "09", "1", "Winter"},
		// Spring starts on day 80: 21 March, or 20 March in a leap year.
		{"2015-03-20", 79, "11", "5", "Winter"},
		{"2015-03-21", 80, "11", "6", "Spring"},
		{"2016-03-19", 79, "11", "6", "Winter"},
		{"2016-03-20", 80, "11", "7", "Spring"},
		// Summer on day 172.
		{"2015-06-20", 171, "24", "6", "Spring"},
		{"2015-06-21", 172, "24", "7", "Summer"},
		{"2016-06-19", 171, "24", "7", "Spring"},
		{"2016-06-20", 172, "25", "1", "Summer"},
		// Fall on day 264.
		{"2015-09-20", 263, "37", "7", "Summer"},
		{"2015-09-21", 264, "38", "1", "Fall"},
		{"2016-09-19", 263, "38", "1", "Summer"},
		{"2016-09-20", 264, "38", "2", "Fall"},
		// Winter on day 355.
		{"2015-12-20", 354, "50", "7", "Fall"},
		{"2015-12-21", 355, "51", "1", "Winter"},
		{"2016-12-19", 354, "51", "1", "Fall"},
		{"2016-12-20", 355, "51", "2", "Winter"},
	}
	s := mustParse(t, "@capturedate_woy@ @capturedate_dow@ @capturedate_S@ @dldate_season@")
	for _, tt := range tests {
		d, err := time.Parse(time.DateOnly, tt.date)
		if err != nil {
			t.Fatal(err)
		}
		if d.YearDay() != tt.yday {
			t.Fatalf("%s: test table says day %d, it is %d", tt.date, tt.yday, d.YearDay())
		}
		// Late in the day, so that a zone slip would show.
		d = d.Add(23*time.Hour + 59*time.Minute)
		want := tt.woy + " " + tt.dow + " " + tt.season + " " + tt.season
		if got := s.Expand(Meta{CaptureTime: d, DownloadTime: d}); got != want {
			t.Errorf("%s: %q, want %q", tt.date, got, want)
		}
	}
}

// TestExpandEveryWeekday checks day numbers and names over a whole week.
func TestExpandEveryWeekday(t *testing.T) {
	s := mustParse(t, "@capturedate_dow@@capturedate_DOW@")
	want := []string{"1Monday", "2Tuesday", "3Wednesday", "4Thursday", "5Friday", "6Saturday", "7Sunday"}
	for i, w := range want {
		d := time.Date(2015, 9, 21+i, 0, 0, 0, 0, time.UTC)
		if got := s.Expand(Meta{CaptureTime: d}); got != w {
			t.Errorf("%v: %q, want %q", d, got, w)
		}
	}
}

func TestExpandMonths(t *testing.T) {
	s := mustParse(t, "@capturedate_m@@capturedate_M@")
	want := []string{"01January", "02February", "03March", "04April", "05May", "06June",
		"07July", "08August", "09September", "10October", "11November", "12December"}
	for i, w := range want {
		d := time.Date(2015, time.Month(i+1), 1, 0, 0, 0, 0, time.UTC)
		if got := s.Expand(Meta{CaptureTime: d}); got != w {
			t.Errorf("%v: %q, want %q", d, got, w)
		}
	}
}

// TestExpandConcurrent runs one Spec from many goroutines (for -race).
func TestExpandConcurrent(t *testing.T) {
	s := mustParse(t, "@capturedate@_@filename:-3@@replacere~(\\d+)~<\\1>@@replace~<~[@")
	const want = "[20150924>_jpg"
	done := make(chan string)
	for range 8 {
		go func() {
			got := ""
			for range 100 {
				got = s.Expand(testMeta())
			}
			done <- got
		}()
	}
	for range 8 {
		if got := <-done; got != want {
			t.Errorf("Expand = %q, want %q", got, want)
		}
	}
}
