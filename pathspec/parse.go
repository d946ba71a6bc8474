package pathspec

import (
	"math"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Spec is a parsed --dirnamespec or --filenamespec. It is immutable and
// safe for concurrent use.
type Spec struct {
	src   string
	items []item
}

type kind uint8

const (
	kindLiteral   kind = iota // text copied to the output
	kindField                 // a specifier such as @filename:4:8@
	kindReplace               // @replace~old~new@
	kindReplaceRE             // @replacere~pattern~replacement@
)

// item is one piece of a Spec, in order.
type item struct {
	kind kind
	pos  int    // rune position of the item's first character in the spec
	raw  string // the item's text in the spec (for errors)

	text string // kindLiteral: the text; kindReplace: the search string

	// kindField
	field              field
	start, end         int
	hasStart, hasEnd   bool
	upper, lower, capz bool

	repl string         // kindReplace: replacement; kindReplaceRE: Go template
	lit  string         // kindReplaceRE: literal text the template inserts
	re   *regexp.Regexp // kindReplaceRE
}

// String returns the spec's source text.
func (s *Spec) String() string { return s.src }

// Parse parses a spec. The error, if any, is a *SyntaxError naming the
// offending specifier and its position. Parse accepts everything Airnef
// 1.1 accepts, and also replace/replacere spelled in any case (Airnef 1.1
// wants them lower-case); see the package documentation for the language.
func Parse(spec string) (*Spec, error) {
	s := &Spec{src: spec}
	for pos := 0; pos < len(spec); {
		at := strings.IndexByte(spec[pos:], '@')
		if at < 0 {
			s.addLiteral(spec, pos, len(spec))
			break
		}
		at += pos
		s.addLiteral(spec, pos, at)
		end := strings.IndexByte(spec[at+1:], '@')
		if end < 0 {
			return nil, &SyntaxError{Pos: runePos(spec, at), Spec: spec[at:], Msg: "unterminated specifier"}
		}
		end += at + 1
		it, err := parseSpecifier(spec[at+1:end], spec[at:end+1], runePos(spec, at))
		if err != nil {
			return nil, err
		}
		s.items = append(s.items, it)
		pos = end + 1
	}
	return s, nil
}

func (s *Spec) addLiteral(spec string, from, to int) {
	if from < to {
		s.items = append(s.items, item{kind: kindLiteral, pos: runePos(spec, from), raw: spec[from:to], text: spec[from:to]})
	}
}

// runePos converts byte offset i of s to a character position, counting
// each byte of invalid UTF-8 as one character.
func runePos(s string, i int) int { return utf8.RuneCountInString(s[:i]) }

// parseSpecifier parses body, the text between two '@'. raw is the whole
// specifier with its '@' and pos its position, both for errors.
func parseSpecifier(body, raw string, pos int) (item, error) {
	fail := func(msg string, err error) (item, error) {
		return item{}, &SyntaxError{Pos: pos, Spec: raw, Msg: msg, Err: err}
	}
	if body == "" { // "@@" is a literal '@'
		return item{kind: kindLiteral, pos: pos, raw: raw, text: "@"}, nil
	}
	// As in Airnef, anything starting with "replace" is a replace
	// specifier, split on '~' rather than ':'.
	if strings.HasPrefix(foldName(body), "replace") {
		return parseReplace(body, raw, pos)
	}

	fields := strings.Split(body, ":")
	f, ok := lookupName(fields[0])
	if !ok {
		return fail("unknown specifier", nil)
	}
	if len(fields) > 4 {
		return fail("too many subscript fields", nil)
	}
	it := item{kind: kindField, pos: pos, raw: raw, field: f}
	if len(fields) > 1 && fields[1] != "" {
		if it.start, ok = pyInt(fields[1]); !ok {
			return fail("non-integer start subscript", nil)
		}
		it.hasStart = true
	}
	if len(fields) > 2 && fields[2] != "" {
		if it.end, ok = pyInt(fields[2]); !ok {
			return fail("non-integer end subscript", nil)
		}
		it.hasEnd = true
	}
	if len(fields) > 3 {
		// Airnef looks for each option letter in the lower-cased field
		// and ignores any other character; so does this.
		opts := foldName(fields[3])
		it.upper = strings.ContainsRune(opts, 'u')
		it.lower = strings.ContainsRune(opts, 'l')
		it.capz = strings.ContainsRune(opts, 'c')
	}
	return it, nil
}

func parseReplace(body, raw string, pos int) (item, error) {
	fail := func(msg string, err error) (item, error) {
		return item{}, &SyntaxError{Pos: pos, Spec: raw, Msg: msg, Err: err}
	}
	parts := strings.Split(body, "~")
	name := foldName(parts[0])
	if name != "replace" && name != "replacere" {
		if i := strings.IndexByte(name, ':'); i >= 0 && (name[:i] == "replace" || name[:i] == "replacere") {
			return fail("subscripts not allowed on", nil)
		}
		return fail("unknown specifier", nil)
	}
	switch {
	case len(parts) == 1:
		return fail("missing search string in", nil)
	case len(parts) == 2:
		return fail("missing replacement in", nil)
	case len(parts) > 3:
		return fail("too many ~ fields in", nil)
	}
	if name == "replace" {
		return item{kind: kindReplace, pos: pos, raw: raw, text: parts[1], repl: parts[2]}, nil
	}
	re, err := compilePattern(parts[1])
	if err != nil {
		return fail("invalid regular expression in", err)
	}
	tmpl, lit, err := translateTemplate(parts[2], re)
	if err != nil {
		return fail("invalid replacement in", err)
	}
	return item{kind: kindReplaceRE, pos: pos, raw: raw, re: re, repl: tmpl, lit: lit}, nil
}

// pyInt parses a subscript as Python's int() does for Airnef: surrounding
// white space and a sign are allowed, then ASCII digits. (Python 3 also
// takes '_' between digits and non-ASCII digits; those are rejected here.)
// Values beyond the int range saturate, which slices the same way.
func pyInt(s string) (int, bool) {
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if !isDigits(s) {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		d := int(s[i] - '0')
		if n > (math.MaxInt-d)/10 {
			n = math.MaxInt
			break
		}
		n = n*10 + d
	}
	if neg {
		return -n, true
	}
	return n, true
}

// ParseFilename parses a --filenamespec, rejecting an empty spec and one
// whose own text (literal or replacement, unless a later @replace~/~...@
// removes it) puts '/' or '\' in the name. Airnef 1.1 finds that per file
// and exits, which a mount cannot do mid-listing; separators from the
// camera's metadata are CheckFilename's job.
func ParseFilename(spec string) (*Spec, error) {
	if spec == "" {
		return nil, &SyntaxError{Msg: "empty filename spec"}
	}
	s, err := Parse(spec)
	if err != nil {
		return nil, err
	}
	// The first still-pending separator of each kind, with where it came
	// from, for the error.
	var pending [2]*SyntaxError
	seps := [2]string{"/", `\`}
	for _, it := range s.items {
		var inserted string
		switch it.kind {
		case kindLiteral:
			inserted = it.text
		case kindReplace:
			for k, sep := range seps {
				if it.text == sep {
					pending[k] = nil
				}
			}
			inserted = it.repl
		case kindReplaceRE:
			inserted = it.lit
		}
		for k, sep := range seps {
			i := strings.Index(inserted, sep)
			if i < 0 || pending[k] != nil {
				continue
			}
			e := &SyntaxError{Pos: it.pos, Spec: it.raw, Msg: "path separator in filename spec"}
			if it.kind == kindLiteral && it.raw == it.text {
				e.Pos, e.Spec = it.pos+runePos(it.text, i), sep
			}
			pending[k] = e
		}
	}
	switch a, b := pending[0], pending[1]; {
	case a != nil && (b == nil || a.Pos <= b.Pos):
		return nil, a
	case b != nil:
		return nil, b
	}
	return s, nil
}
