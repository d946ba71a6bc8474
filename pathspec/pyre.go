package pathspec

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Airnef's @replacere~pattern~replacement@ calls Python's
// re.sub(pattern, replacement, output). Go's regexp (RE2) shares most of
// Python's syntax; this file rewrites the parts that are spelled
// differently and rejects, at parse time, what RE2 cannot do.
//
// Rewritten in the pattern:
//   - \Z (end of text) becomes \z;
//   - \uXXXX and \UXXXXXXXX become \x{...};
//   - octal escapes (\0, \012, \101; inside a class \1 .. \377 too) become
//     \x{...}, because Go reads \12 as octal where Python reads a
//     back-reference;
//   - [\b] (backspace in a class) becomes [\x08];
//   - '[' inside a class is escaped, so Python's [[:a]] stays a set of
//     characters rather than becoming a Go POSIX class;
//   - a ']' first in a class is escaped (literal in both);
//   - {,n} and {,} become {0,n} and {0,}, which Python means and Go
//     would read as literal text;
//   - (?#comment) is dropped.
//
// (?P<name>...) is already Go syntax and is kept.
//
// Rejected (a *SyntaxError at Parse): back-references (\1, (?P=name)),
// look-ahead and look-behind, (?x) and the other flags RE2 lacks,
// possessive and atomic groups, two groups with the same name (Python
// rejects those; Go would accept them).
//
// Kept as they are, with a difference from Python 3:
//   - \d, \w, \s, \b are ASCII-only in Go; Python 3 makes them Unicode-aware
//     for str patterns (Python 2, which Airnef 1.1 also ran on, did not);
//   - an empty match right after a non-empty one is skipped by Go, as by
//     Python up to 3.6; Python 3.7+ substitutes it too (re.sub("x*", "-",
//     "abxd") is "-a-b-d-" here and in Python 2.7, "-a-b--d-" in 3.7+);
//   - $ matches only at the very end; Python's also matches before a final
//     newline (file names have none);
//   - Go-only syntax that Python rejects (\pL, \Q...\E, (?U), \x{41}) is
//     accepted.

var errBackref = errors.New("back-references are not supported by Go's regexp")

// compilePattern translates a Python pattern and compiles it.
func compilePattern(p string) (*regexp.Regexp, error) {
	goPat, err := translatePattern(p)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(goPat)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, name := range re.SubexpNames() {
		if name == "" {
			continue
		}
		if seen[name] {
			return nil, fmt.Errorf("redefinition of group name %q", name)
		}
		seen[name] = true
	}
	return re, nil
}

var emptyMinRepeat = regexp.MustCompile(`^\{,[0-9]*\}`)

// translatePattern rewrites Python regular-expression syntax into Go's; see
// the comment at the top of this file.
func translatePattern(p string) (string, error) {
	var b strings.Builder
	inClass, classFirst := false, false
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", errors.New("bad escape (end of pattern)")
			}
			n, err := translateEscape(&b, p[i:], inClass)
			if err != nil {
				return "", err
			}
			i += n
			classFirst = false
		case inClass:
			switch {
			case c == ']' && classFirst:
				b.WriteString(`\]`)
			case c == ']':
				b.WriteByte(']')
				inClass = false
			case c == '[':
				b.WriteString(`\[`)
			default:
				b.WriteByte(c)
			}
			i++
			classFirst = false
		case c == '[':
			b.WriteByte('[')
			i++
			if i < len(p) && p[i] == '^' {
				b.WriteByte('^')
				i++
			}
			inClass, classFirst = true, true
		case strings.HasPrefix(p[i:], "(?#"):
			j := strings.IndexByte(p[i:], ')')
			if j < 0 {
				return "", errors.New("missing ), unterminated comment")
			}
			i += j + 1
		case c == '{' && emptyMinRepeat.MatchString(p[i:]):
			b.WriteString("{0,")
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// translateEscape writes the Go form of the escape at the start of s (which
// begins with a backslash and has at least two bytes) and returns how many
// bytes of s it consumed.
func translateEscape(b *strings.Builder, s string, inClass bool) (int, error) {
	e := s[1]
	switch {
	case e == 'Z' && !inClass:
		b.WriteString(`\z`)
		return 2, nil
	case e == 'b' && inClass:
		b.WriteString(`\x08`)
		return 2, nil
	case e == 'u' || e == 'U':
		n := 4
		if e == 'U' {
			n = 8
		}
		if len(s) < 2+n || !isHex(s[2:2+n]) {
			return 0, fmt.Errorf("incomplete escape \\%c", e)
		}
		fmt.Fprintf(b, `\x{%s}`, s[2:2+n])
		return 2 + n, nil
	case isDigit(e):
		n, v, err := pyOctal(s, inClass)
		if err != nil {
			return 0, err
		}
		fmt.Fprintf(b, `\x{%x}`, v)
		return n, nil
	}
	b.WriteString(s[:2]) // Go validates (and rejects) the rest
	return 2, nil
}

// pyOctal reads the escape \<digits> at the start of s as Python's pattern
// parser does. Outside a class, \0 plus up to two octal digits, or three
// octal digits, is a character; anything else is a back-reference, which
// Go cannot do. Inside a class, up to three octal digits are a character.
func pyOctal(s string, inClass bool) (n int, v int, err error) {
	n = 2
	switch {
	case inClass || s[1] == '0':
		if !isOctal(s[1]) {
			return 0, 0, fmt.Errorf("bad escape \\%c", s[1])
		}
		for n < 4 && n < len(s) && isOctal(s[n]) {
			n++
		}
	case len(s) >= 4 && isOctal(s[1]) && isOctal(s[2]) && isOctal(s[3]):
		n = 4
	default:
		return 0, 0, errBackref
	}
	u, _ := strconv.ParseUint(s[1:n], 8, 16)
	if u > 0o377 {
		return 0, 0, fmt.Errorf("octal escape value \\%s outside of range 0-0o377", s[1:n])
	}
	return n, int(u), nil
}

// translateTemplate turns a Python re.sub replacement into a template for
// re.Expand (group references to ${n}, '$' to "$$", character escapes to
// their characters, other non-letter escapes kept), and returns the literal
// text it can insert, for ParseFilename. Its errors are Python 3.7's.
func translateTemplate(t string, re *regexp.Regexp) (tmpl, lit string, err error) {
	var tb, lb strings.Builder
	lits := func(s string) {
		tb.WriteString(strings.ReplaceAll(s, "$", "$$"))
		lb.WriteString(s)
	}
	group := func(n int) error {
		if n > re.NumSubexp() {
			return fmt.Errorf("invalid group reference %d", n)
		}
		fmt.Fprintf(&tb, "${%d}", n)
		return nil
	}
	for i := 0; i < len(t); {
		c := t[i]
		if c != '\\' {
			lits(t[i : i+1])
			i++
			continue
		}
		if i+1 >= len(t) {
			return "", "", errors.New("bad escape (end of replacement)")
		}
		e := t[i+1]
		switch {
		case e == 'g':
			if i+2 >= len(t) || t[i+2] != '<' {
				return "", "", errors.New("missing < after \\g")
			}
			j := strings.IndexByte(t[i+3:], '>')
			if j < 0 {
				return "", "", errors.New("missing >, unterminated group name")
			}
			name := t[i+3 : i+3+j]
			switch {
			case name == "":
				return "", "", errors.New("missing group name")
			case isIdentifier(name):
				if re.SubexpIndex(name) < 0 {
					return "", "", fmt.Errorf("unknown group name %q", name)
				}
				tb.WriteString("${" + name + "}")
			case isDigits(name):
				n, perr := strconv.Atoi(name)
				if perr != nil {
					return "", "", fmt.Errorf("invalid group reference %s", name)
				}
				if err := group(n); err != nil {
					return "", "", err
				}
			default:
				return "", "", fmt.Errorf("bad character in group name %q", name)
			}
			i += 3 + j + 1
		case e == '0':
			n := 2
			for n < 4 && i+n < len(t) && isOctal(t[i+n]) {
				n++
			}
			u, _ := strconv.ParseUint(t[i+1:i+n], 8, 16)
			lits(string(rune(u)))
			i += n
		case isDigit(e):
			n := 2
			if i+2 < len(t) && isDigit(t[i+2]) {
				n = 3
				if isOctal(e) && isOctal(t[i+2]) && i+3 < len(t) && isOctal(t[i+3]) {
					u, _ := strconv.ParseUint(t[i+1:i+4], 8, 16)
					if u > 0o377 {
						return "", "", fmt.Errorf("octal escape value \\%s outside of range 0-0o377", t[i+1:i+4])
					}
					lits(string(rune(u)))
					i += 4
					continue
				}
			}
			g, _ := strconv.Atoi(t[i+1 : i+n])
			if err := group(g); err != nil {
				return "", "", err
			}
			i += n
		case strings.IndexByte(`abfnrtv\`, e) >= 0:
			lits(string("\a\b\f\n\r\t\v\\"[strings.IndexByte(`abfnrtv\`, e)]))
			i += 2
		case e < 0x80 && unicode.IsLetter(rune(e)):
			return "", "", fmt.Errorf("bad escape \\%c", e)
		default:
			// Python keeps an unknown non-letter escape as is; the
			// character after the backslash is handled on the next turn.
			lits(`\`)
			i++
		}
	}
	return tb.String(), lb.String(), nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isOctal(c byte) bool { return '0' <= c && c <= '7' }

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !('a' <= c && c <= 'f') && !('A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// isIdentifier approximates Python's str.isidentifier.
func isIdentifier(s string) bool {
	for i, r := range s {
		if r != '_' && !unicode.IsLetter(r) && (i == 0 || !unicode.IsDigit(r)) {
			return false
		}
	}
	return s != ""
}
