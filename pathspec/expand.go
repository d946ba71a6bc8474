package pathspec

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Meta is what specifiers expand from: one file and the session it is
// downloaded (here: listed) in. Times are formatted in their own
// time.Location: Airnef formats both in local time, so callers pass times
// in time.Local (camera dates carry no zone; read them as local).
type Meta struct {
	// CaptureTime is the file's capture date (PTP ObjectInfo CaptureDate).
	// The zero Time means the camera gave none; the capture specifiers
	// then expand from the Unix epoch in DownloadTime's location, as Airnef
	// 1.1 does (it uses epoch 0 for the 19800000T000000 placeholder).
	CaptureTime time.Time
	// DownloadTime is the same for every file of a session: Airnef uses
	// its own start time; a mount uses its mount time.
	DownloadTime time.Time

	// Filename is @filename@. In Airnef it is the name of the local file,
	// which for thumbnails has a suffix added; without one it is the
	// camera's name of the file.
	Filename string
	// CaptureFilename is @capturefilename@, the name of the file on the
	// camera. Empty means the same as Filename.
	CaptureFilename string
	// CameraFolder is the name of the camera folder the file is in, such as
	// "100D7200"; "" for a file in the root.
	CameraFolder string
	// Slot is the media card slot, 1 or 2.
	Slot int

	// CameraMake is @cameramake@. Airnef uses the first space-separated
	// word of DeviceInfo's Manufacturer ("Nikon Corporation" -> "Nikon").
	CameraMake string
	// CameraModel is DeviceInfo's Model, such as "D7200".
	CameraModel string
	// CameraSerial is DeviceInfo's SerialNumber; Airnef strips its leading
	// spaces and zeros.
	CameraSerial string

	// DLNum is @dlnum@: 1 for the first file of the session.
	DLNum int
	// DLNumLifetime is @dlnum_lifetime@: 1 for the first file ever
	// downloaded from this camera model and serial number.
	DLNumLifetime int
}

// Expand expands the spec for one file. It returns the raw string: for a
// --dirnamespec pass it to SplitDirs; for a --filenamespec check it with
// CheckFilename.
func (s *Spec) Expand(m Meta) string {
	var out []byte
	for i := range s.items {
		it := &s.items[i]
		switch it.kind {
		case kindLiteral:
			out = append(out, it.text...)
		case kindField:
			out = append(out, it.expand(m)...)
		case kindReplace:
			// On everything expanded so far, not on what follows.
			out = []byte(strings.ReplaceAll(string(out), it.text, it.repl))
		case kindReplaceRE:
			out = it.re.ReplaceAll(out, []byte(it.repl))
		}
	}
	return string(out)
}

// expand returns a field's value after subscripts and case options.
func (it *item) expand(m Meta) string {
	v := value(it.field, m)
	if it.hasStart || it.hasEnd {
		v = pySlice(v, it.start, it.end, it.hasStart, it.hasEnd)
	}
	// Airnef applies the options in this order, each if present, so "ul"
	// lower-cases and "uc" capitalizes.
	if it.upper {
		v = strings.ToUpper(v)
	}
	if it.lower {
		v = strings.ToLower(v)
	}
	if it.capz {
		v = capitalize(v)
	}
	return v
}

// value returns what a field expands to before subscripts and options.
func value(f field, m Meta) string {
	switch f.src {
	case srcCapture:
		t := m.CaptureTime
		if t.IsZero() {
			t = time.Unix(0, 0).In(m.DownloadTime.Location())
		}
		return timePart(t, f.part)
	case srcDownload:
		return timePart(m.DownloadTime, f.part)
	case srcFilename:
		return namePart(m.Filename, f.part)
	case srcCaptureFilename:
		if m.CaptureFilename == "" {
			return namePart(m.Filename, f.part)
		}
		return namePart(m.CaptureFilename, f.part)
	case srcFolder:
		return m.CameraFolder
	case srcSlot:
		return strconv.Itoa(m.Slot)
	case srcMake:
		return m.CameraMake
	case srcModel:
		return m.CameraModel
	case srcSerial:
		return m.CameraSerial
	case srcDLNum:
		return fmt.Sprintf("%04d", m.DLNum)
	case srcDLNumLifetime:
		return fmt.Sprintf("%04d", m.DLNumLifetime)
	}
	panic("pathspec: unknown source") // unreachable: fields come from the name table
}

// timePart formats one part of t as Airnef's strftime calls do in the C
// locale: English names, two-digit fields, four-digit year.
func timePart(t time.Time, p part) string {
	switch p {
	case partWhole:
		return fmt.Sprintf("%04d%02d%02d", t.Year(), t.Month(), t.Day())
	case partMonth:
		return fmt.Sprintf("%02d", t.Month())
	case partDay:
		return fmt.Sprintf("%02d", t.Day())
	case partYear:
		return fmt.Sprintf("%04d", t.Year())
	case partDOW:
		return strconv.Itoa(isoWeekday(t))
	case partWOY:
		return fmt.Sprintf("%02d", weekOfYear(t))
	case partMonthName:
		return t.Month().String()
	case partDayName:
		return t.Weekday().String()
	case partSeason:
		return season(t.YearDay())
	case partTime:
		return fmt.Sprintf("%02d%02d%02d", t.Hour(), t.Minute(), t.Second())
	case partHour:
		return fmt.Sprintf("%02d", t.Hour())
	case partMinute:
		return fmt.Sprintf("%02d", t.Minute())
	case partSecond:
		return fmt.Sprintf("%02d", t.Second())
	}
	panic("pathspec: unknown time part") // unreachable
}

// isoWeekday is Monday=1 .. Sunday=7 (Python's tm_wday+1).
func isoWeekday(t time.Time) int { return (int(t.Weekday())+6)%7 + 1 }

// weekOfYear is strftime's %W: weeks start on Monday, and the days of the
// year before its first Monday are in week 0.
func weekOfYear(t time.Time) int {
	return (t.YearDay() - 1 + 7 - (isoWeekday(t) - 1)) / 7
}

// season maps a day of the year (1-366) to a season as Airnef does: by
// the day number alone, so in a leap year each boundary falls a calendar
// day earlier.
func season(yday int) string {
	switch {
	case yday >= 80 && yday < 172:
		return "Spring"
	case yday >= 172 && yday < 264:
		return "Summer"
	case yday >= 264 && yday < 355:
		return "Fall"
	}
	return "Winter"
}

// namePart splits a file name as Python's os.path.splitext does: at the
// last '.', unless everything before that dot is dots (".bashrc" has no
// extension). The extension is returned without its dot.
func namePart(name string, p part) string {
	if p == partWhole {
		return name
	}
	root, ext := name, ""
	base := strings.LastIndexByte(name, '/') + 1
	if dot := strings.LastIndexByte(name, '.'); dot > base && strings.Trim(name[base:dot], ".") != "" {
		root, ext = name[:dot], name[dot+1:]
	}
	if p == partRoot {
		return root
	}
	return ext
}

// pySlice returns s[start:end] as Python slices a str: by characters
// (a byte of invalid UTF-8 counts as one), negative from the end, clamped,
// a missing index the start or the end.
func pySlice(s string, start, end int, hasStart, hasEnd bool) string {
	n := utf8.RuneCountInString(s)
	a, b := 0, n
	if hasStart {
		a = clampIndex(start, n)
	}
	if hasEnd {
		b = clampIndex(end, n)
	}
	if b <= a {
		return ""
	}
	return s[byteOffset(s, a):byteOffset(s, b)]
}

func clampIndex(i, n int) int {
	if i < 0 {
		i += n
		if i < 0 {
			return 0
		}
	}
	return min(i, n)
}

// byteOffset returns the byte offset of character r of s.
func byteOffset(s string, r int) int {
	off := 0
	for ; r > 0 && off < len(s); r-- {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}

// capitalize is Python's str.capitalize before 3.8: the first character
// upper-cased, the rest lower-cased (with Go's one-rune case mappings:
// "ß" stays "ß"; camera file names are ASCII).
func capitalize(s string) string {
	if s == "" {
		return s
	}
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + strings.ToLower(s[size:])
}
