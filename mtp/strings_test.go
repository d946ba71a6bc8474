package mtp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestDecodeString(t *testing.T) {
	tests := map[string]struct {
		in   []byte
		want string
		rest []byte
		err  error
	}{
		"empty":               {[]byte{0}, "", nil, nil},
		"empty with rest":     {[]byte{0, 9}, "", []byte{9}, nil},
		"only NUL":            {[]byte{1, 0, 0}, "", nil, nil},
		"ascii":               {[]byte{3, 'h', 0, 'i', 0, 0, 0, 7}, "hi", []byte{7}, nil},
		"missing NUL":         {[]byte{2, 'h', 0, 'i', 0}, "hi", nil, nil},
		"NUL inside":          {[]byte{4, 'a', 0, 0, 0, 'b', 0, 0, 0}, "a", nil, nil},
		"non-ASCII":           {[]byte{2, 0xE9, 0x00, 0, 0}, "é", nil, nil},
		"surrogate pair":      {[]byte{3, 0x3D, 0xD8, 0x37, 0xDE, 0, 0}, "😷", nil, nil},
		"lone high surrogate": {[]byte{3, 0x3D, 0xD8, 'x', 0, 0, 0}, "\uFFFDx", nil, nil},
		"lone low surrogate":  {[]byte{2, 0x37, 0xDE, 0, 0}, "\uFFFD", nil, nil},
		"no length":           {nil, "", nil, ErrMalformed},
		"count beyond data":   {[]byte{3, 'h', 0, 'i', 0}, "", nil, ErrMalformed},
		"odd byte":            {[]byte{1, 0}, "", nil, ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, rest, err := DecodeString(tc.in)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if got != tc.want || !bytes.Equal(rest, tc.rest) {
				t.Fatalf("got %q rest % x, want %q rest % x", got, rest, tc.want, tc.rest)
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []byte
		err  bool
	}{
		"empty":          {"", []byte{0}, false},
		"ascii":          {"hi", []byte{3, 'h', 0, 'i', 0, 0, 0}, false},
		"surrogate pair": {"😷", []byte{3, 0x3D, 0xD8, 0x37, 0xDE, 0, 0}, false},
		"invalid UTF-8":  {"\xff", []byte{2, 0xFD, 0xFF, 0, 0}, false},
		"254 units":      {strings.Repeat("a", 254), append(append([]byte{255}, bytes.Repeat([]byte{'a', 0}, 254)...), 0, 0), false},
		"255 units":      {strings.Repeat("a", 255), nil, true},
		"pairs too long": {strings.Repeat("😷", 128), nil, true},
		"NUL":            {"a\x00", nil, true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := AppendString([]byte{}, tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("got % x, want % x", got, tc.want)
			}
			back, rest, err := DecodeString(got)
			if err != nil || back != strings.ToValidUTF8(tc.in, "\uFFFD") || len(rest) != 0 {
				t.Fatalf("round trip: %q, % x, %v", back, rest, err)
			}
		})
	}
	if _, err := AppendString(nil, strings.Repeat("a", 300)); !errors.Is(err, ErrStringTooLong) {
		t.Fatalf("err = %v, want ErrStringTooLong", err)
	}
}

func TestDecodeString255NoNUL(t *testing.T) {
	in := append([]byte{255}, bytes.Repeat([]byte{'a', 0}, 255)...)
	if _, _, err := DecodeString(in); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	in[len(in)-2] = 0 // now the 255th unit is the NUL: 254 units of text
	s, _, err := DecodeString(in)
	if err != nil || len(s) != 254 {
		t.Fatalf("got %d chars, %v", len(s), err)
	}
}

func TestPrintable(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":        {"Nikon D7200", "Nikon D7200"},
		"unicode kept": {"Fujifilm X-T5 日本 \uFFFD", "Fujifilm X-T5 日本 \uFFFD"},
		"newline":      {"D7200\nmounted Evil at /", `D7200\nmounted Evil at /`},
		"escape":       {"\x1b[31mRED\x1b[0m", `\x1b[31mRED\x1b[0m`},
		"osc title":    {"a\x1b]0;pwned\x07b", `a\x1b]0;pwned\ab`},
		"cr":           {"123\r\n456", `123\r\n456`},
		"bidi":         {"x\u202Egpj.exe", `x\u202egpj.exe`},
		"line sep":     {"a\u2028b\u0085c", `a\u2028b\u0085c`},
		"c1 csi":       {"a\u009bb", `a\u009bb`},
		"invalid":      {"a\xffb", `a\xffb`},
		"tab":          {"a\tb", `a\tb`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Printable(tc.in)
			if got != tc.want {
				t.Errorf("Printable(%q) = %q, want %q", tc.in, got, tc.want)
			}
			for _, r := range got {
				if r != ' ' && !unicode.IsPrint(r) {
					t.Errorf("Printable(%q) = %q holds %U", tc.in, got, r)
				}
			}
		})
	}
}
