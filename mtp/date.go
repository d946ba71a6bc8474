package mtp

import (
	"strings"
	"time"
)

// dateLayout is the PTP DateTime string form, ISO 8601 basic format without
// a zone: "YYYYMMDDThhmmss".
const dateLayout = "20060102T150405"

// FormatDate formats t as a PTP DateTime string, "YYYYMMDDThhmmss", in t's
// own location and without a zone suffix (what cameras send).
func FormatDate(t time.Time) string { return t.Format(dateLayout) }

// ParseDate reads a PTP DateTime string leniently, accepting every form
// cameras are known to send:
//
//	20240315T143025        the PTP form; wall time in loc
//	20240315T143025.0      tenths of a second (Canon); more digits are read
//	                       as a decimal fraction of a second
//	20240315T143025.       trailing dots (any number, also after a fraction)
//	20240315T143025Z       UTC
//	20240315T143025+0100   an offset east of UTC; also -0700, +01, +01:00
//	20240315               a date without its time part: midnight in loc
//
// Leading and trailing spaces and NULs are ignored. A date that does not
// exist ("19800000T000000", which Nikon reports for non-files,
// "20480000T000000", February 30th, hour 24) or an empty string (Sony
// folders) reports false: the caller falls back to another date instead of
// failing a listing. A nil loc means UTC. ParseDate never panics.
func ParseDate(s string, loc *time.Location) (time.Time, bool) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.Trim(s, " \x00")
	p := dateParser{s: s}
	year := p.digits(4)
	month := p.digits(2)
	day := p.digits(2)
	var hour, min, sec, nsec int
	if p.accept('T') {
		hour = p.digits(2)
		min = p.digits(2)
		sec = p.digits(2)
		if p.accept('.') {
			nsec = p.fraction()
		}
	}
	for p.accept('.') {
		// Trailing dots carry nothing.
	}
	switch {
	case p.accept('Z'):
		loc = time.UTC
	case p.peek('+'), p.peek('-'):
		loc = p.offset()
	}
	if p.bad || p.s != "" {
		return time.Time{}, false
	}
	if year < 1 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) ||
		hour > 23 || min > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, nsec, loc), true
}

// dateParser consumes a date string left to right. Any mismatch sets bad;
// later calls then return zero values, so ParseDate checks once at the end.
type dateParser struct {
	s   string
	bad bool
}

// digits reads exactly n decimal digits.
func (p *dateParser) digits(n int) int {
	if p.bad || len(p.s) < n {
		p.bad = true
		return 0
	}
	v := 0
	for i := 0; i < n; i++ {
		c := p.s[i]
		if c < '0' || c > '9' {
			p.bad = true
			return 0
		}
		v = v*10 + int(c-'0')
	}
	p.s = p.s[n:]
	return v
}

// accept consumes c if it comes next.
func (p *dateParser) accept(c byte) bool {
	if !p.bad && p.peek(c) {
		p.s = p.s[1:]
		return true
	}
	return false
}

func (p *dateParser) peek(c byte) bool { return len(p.s) > 0 && p.s[0] == c }

// fraction reads the digits after the decimal point as nanoseconds; digits
// beyond the ninth are read and dropped. No digit at all is fine: "." is one
// of the trailing dots.
func (p *dateParser) fraction() int {
	nsec, scale := 0, int(time.Second)
	for len(p.s) > 0 && p.s[0] >= '0' && p.s[0] <= '9' {
		scale /= 10
		nsec += int(p.s[0]-'0') * scale
		p.s = p.s[1:]
	}
	return nsec
}

// offset reads "+hh", "+hhmm" or "+hh:mm" (or '-') as a fixed zone.
func (p *dateParser) offset() *time.Location {
	sign := 1
	if p.s[0] == '-' {
		sign = -1
	}
	p.s = p.s[1:]
	hh := p.digits(2)
	mm := 0
	if len(p.s) > 0 {
		p.accept(':')
		mm = p.digits(2)
	}
	if p.bad || hh > 23 || mm > 59 {
		p.bad = true
		return nil
	}
	return time.FixedZone("", sign*(hh*3600+mm*60))
}

// daysIn is the number of days in the month of year (month 1..12).
func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
