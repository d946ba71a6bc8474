package mtp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// PTP strings
//
//	+--------+-----------------------------------------+
//	| u8 n   | n × u16 UTF-16LE code units, last = 0x0000 |
//	+--------+-----------------------------------------+
//
// n counts the terminating NUL, so the longest string holds 254 units; n = 0
// is the empty string and no units follow.

// MaxStringUnits is the largest number of UTF-16 code units a PTP string can
// hold, its terminating NUL excluded.
const MaxStringUnits = 254

// ErrStringTooLong is returned by AppendString for a string that needs more
// than MaxStringUnits UTF-16 code units.
var ErrStringTooLong = errors.New("mtp: string longer than 254 UTF-16 units")

// AppendString appends s as a PTP string (invalid UTF-8 as U+FFFD). Over
// MaxStringUnits units is ErrStringTooLong; a NUL inside is an error too.
func AppendString(b []byte, s string) ([]byte, error) {
	if s == "" {
		return append(b, 0), nil
	}
	if strings.IndexByte(s, 0) >= 0 {
		return b, fmt.Errorf("mtp: string %q holds a NUL", s)
	}
	units := utf16.Encode([]rune(s))
	if len(units) > MaxStringUnits {
		return b, fmt.Errorf("%w: %d units", ErrStringTooLong, len(units))
	}
	b = append(b, byte(len(units)+1))
	for _, u := range units {
		b = appendU16(b, u)
	}
	return appendU16(b, 0), nil
}

// DecodeString decodes the PTP string at the start of b and returns it with
// the bytes that follow it.
//
// A count beyond the data is ErrMalformed. A missing final NUL is
// tolerated, as libgphoto2 does (the count delimits the string), except
// with a count of 255; the text ends at the first NUL (some firmware pads
// names); invalid UTF-16 becomes U+FFFD rather than failing a listing.
func DecodeString(b []byte) (s string, rest []byte, err error) {
	r := readBuf{b: b}
	s = r.str("string")
	if r.err != nil {
		return "", b, r.err
	}
	return s, r.b, nil
}

// str reads a PTP string; see DecodeString for the rules.
func (r *readBuf) str(what string) string {
	n := int(r.u8(what + " length"))
	if n == 0 {
		return ""
	}
	p := r.take(2*n, what)
	if p == nil {
		return ""
	}
	units := make([]uint16, 0, n)
	for i := 0; i < n; i++ {
		u := le.Uint16(p[2*i:])
		if u == 0 {
			break
		}
		units = append(units, u)
	}
	if len(units) > MaxStringUnits {
		// 255 units and no NUL: a string no PTP encoder can produce (the
		// count has no room for the NUL), so neither can we send it back.
		r.fail("%s: 255 units without a terminating NUL", what)
		return ""
	}
	return string(utf16.Decode(units))
}

// skipStr skips a PTP string, refusing what str refuses, without
// decoding it.
func (r *readBuf) skipStr(what string) {
	n := int(r.u8(what + " length"))
	p := r.take(2*n, what)
	if n <= MaxStringUnits || p == nil {
		return
	}
	for i := 0; i < n; i++ {
		if le.Uint16(p[2*i:]) == 0 {
			return
		}
	}
	r.fail("%s: 255 units without a terminating NUL", what)
}

// Printable returns a camera string fit to print as part of one line of
// text (a terminal, a log, a line-based file): every character that is
// not printable (control characters such as ESC and newline, line and
// paragraph separators, format characters such as bidirectional
// overrides) is written as a Go escape (\x1b, \n, \u202e), an invalid
// byte as \xNN. A string without any is returned as it is.
func Printable(s string) string {
	if !strings.ContainsFunc(s, notPrintable) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case notPrintable(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// notPrintable reports whether r cannot be printed as it is: not a
// graphic character or a plain space.
func notPrintable(r rune) bool {
	return r != ' ' && !unicode.IsPrint(r)
}

// appendStr appends a named PTP string field, naming the field in the error.
func appendStr(b []byte, s, what string) ([]byte, error) {
	b, err := AppendString(b, s)
	if err != nil {
		return b, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}
