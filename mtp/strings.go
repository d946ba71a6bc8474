package mtp

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
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

// AppendString appends s as a PTP string. The empty string is the single
// byte 0. A string of more than MaxStringUnits UTF-16 units cannot be sent
// and is an error wrapping ErrStringTooLong; so is a string holding a NUL,
// which the camera (and DecodeString) would read as the end of the string.
// Invalid UTF-8 in s is sent as U+FFFD.
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
// It is strict about lengths and lenient about content:
//   - a count larger than the data is an error wrapping ErrMalformed;
//   - a missing terminating NUL is tolerated: the count alone delimits the
//     string on the wire, so the text is still unambiguous and the fields
//     after it stay in place (libgphoto2 accepts such strings too); the one
//     exception is a count of 255 without a NUL, which would hold 255 units
//     of text, more than any PTP string can: it is malformed;
//   - the text ends at the first NUL unit, whatever follows it inside the
//     count (some firmware pads fixed-size names with NULs);
//   - invalid UTF-16 (a lone surrogate) becomes U+FFFD rather than failing a
//     whole listing over one odd file name.
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

// appendStr appends a named PTP string field, naming the field in the error.
func appendStr(b []byte, s, what string) ([]byte, error) {
	b, err := AppendString(b, s)
	if err != nil {
		return b, fmt.Errorf("%s: %w", what, err)
	}
	return b, nil
}
