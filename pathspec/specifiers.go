package pathspec

import (
	"strings"
	"unicode"
)

// source is the piece of metadata a specifier reads.
type source uint8

const (
	srcCapture         source = iota // Meta.CaptureTime
	srcDownload                      // Meta.DownloadTime
	srcFilename                      // Meta.Filename
	srcCaptureFilename               // Meta.CaptureFilename, else Meta.Filename
	srcFolder                        // Meta.CameraFolder
	srcSlot                          // Meta.Slot
	srcMake                          // Meta.CameraMake
	srcModel                         // Meta.CameraModel
	srcSerial                        // Meta.CameraSerial
	srcDLNum                         // Meta.DLNum
	srcDLNumLifetime                 // Meta.DLNumLifetime
)

// part selects what of a time or a file name a specifier expands to.
type part uint8

const (
	partWhole     part = iota // a string source as is; yyyymmdd for a date
	partMonth                 // mm
	partDay                   // dd
	partYear                  // yyyy
	partDOW                   // day of week, Monday=1 .. Sunday=7
	partWOY                   // week of year, Monday first (strftime %W)
	partMonthName             // January ..
	partDayName               // Monday ..
	partSeason                // Spring, Summer, Fall, Winter
	partTime                  // hhmmss
	partHour                  // hh, 00-23
	partMinute                // mm
	partSecond                // ss
	partRoot                  // file name without its extension
	partExt                   // file name extension without the dot
)

// field is what one specifier expands to, before subscripts and options.
type field struct {
	src  source
	part part
}

// foldedNames maps every specifier name, folded by foldName, to its field.
// It holds Airnef 1.1's names (all lower case: its lookup lower-cases the
// name, so "@CaptureDate_M@" is the numeric month there) plus the folded
// form of the seed's capturedate_S/dldate_S, which collide with nothing.
var foldedNames = map[string]field{}

// exactNames holds the 09/24/15 seed's names that differ from Airnef 1.1's
// only by case. An exact match wins over the case-insensitive one, so the
// seed's @capturedate_M@ is the month name while @capturedate_m@ (and
// @CaptureDate_M@, exact for neither) is the month number.
var exactNames = map[string]field{}

func init() {
	for _, t := range []struct {
		prefix string
		src    source
	}{{"capture", srcCapture}, {"dl", srcDownload}} {
		for suffix, p := range map[string]part{
			"date": partWhole, "date_m": partMonth, "date_d": partDay,
			"date_y": partYear, "date_dow": partDOW, "date_woy": partWOY,
			"date_month": partMonthName, "date_dayofweek": partDayName,
			"date_season": partSeason, "date_s": partSeason,
			"time": partTime, "time_h": partHour, "time_m": partMinute,
			"time_s": partSecond,
		} {
			foldedNames[t.prefix+suffix] = field{t.src, p}
		}
		exactNames[t.prefix+"date_M"] = field{t.src, partMonthName}
		exactNames[t.prefix+"date_DOW"] = field{t.src, partDayName}
		exactNames[t.prefix+"date_S"] = field{t.src, partSeason}
	}
	for name, f := range map[string]field{
		"filename":             {srcFilename, partWhole},
		"filename_root":        {srcFilename, partRoot},
		"filename_ext":         {srcFilename, partExt},
		"capturefilename":      {srcCaptureFilename, partWhole},
		"capturefilename_root": {srcCaptureFilename, partRoot},
		"capturefilename_ext":  {srcCaptureFilename, partExt},
		"camerafolder":         {srcFolder, partWhole},
		"slotnumber":           {srcSlot, partWhole},
		"cameramake":           {srcMake, partWhole},
		"cameramodel":          {srcModel, partWhole},
		"cameraserial":         {srcSerial, partWhole},
		"dlnum":                {srcDLNum, partWhole},
		"dlnum_lifetime":       {srcDLNumLifetime, partWhole},
	} {
		foldedNames[name] = f
	}
}

// lookupName finds the field a specifier name stands for: exact match with
// the seed's mixed-case names first, then case-insensitively.
func lookupName(name string) (field, bool) {
	if f, ok := exactNames[name]; ok {
		return f, true
	}
	f, ok := foldedNames[foldName(name)]
	return f, ok
}

// foldName lower-cases s as Python's str.lower does for the purpose of
// matching ASCII names: rune by rune, except that U+0130 (İ), which Python
// lowers to two runes "i̇" and Go to a plain "i", is left alone so that it
// matches no name, as in Airnef.
func foldName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\u0130' {
			return r
		}
		return unicode.ToLower(r)
	}, s)
}
