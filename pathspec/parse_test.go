package pathspec

import (
	"errors"
	"testing"
)

func TestParseErrors(t *testing.T) {
	tests := map[string]struct {
		spec string
		err  string // the whole message
		pos  int
	}{
		"unterminated":        {"abc@filename", `pathspec: unterminated specifier "@filename" at position 3`, 3},
		"unterminated end":    {"@filename@x@", `pathspec: unterminated specifier "@" at position 11`, 11},
		"lone at":             {"me@example.com", `pathspec: unterminated specifier "@example.com" at position 2`, 2},
		"unterminated runes":  {"ÄÖÜ@x", `pathspec: unterminated specifier "@x" at position 3`, 3},
		"unknown":             {"IMG_@capturedat@", `pathspec: unknown specifier "@capturedat@" at position 4`, 4},
		"unknown brief":       {"abcde@capturedat@", `pathspec: unknown specifier "@capturedat@" at position 5`, 5},
		"unknown after runes": {"日本@x@", `pathspec: unknown specifier "@x@" at position 2`, 2},
		"unknown path":        {"@path@", `pathspec: unknown specifier "@path@" at position 0`, 0},
		"unknown pf":          {"@pf@", `pathspec: unknown specifier "@pf@" at position 0`, 0},
		"unknown suffix":      {"@capturedate_x@x", `pathspec: unknown specifier "@capturedate_x@" at position 0`, 0},
		"space in name":       {"@ filename@", `pathspec: unknown specifier "@ filename@" at position 0`, 0},
		"empty name":          {"@:1:2@", `pathspec: unknown specifier "@:1:2@" at position 0`, 0},
		"dotless İ":           {"@f\u0130lename@", "pathspec: unknown specifier \"@f\u0130lename@\" at position 0", 0},
		"start not int":       {"@filename:a@", `pathspec: non-integer start subscript "@filename:a@" at position 0`, 0},
		"start float":         {"@filename:1.5:2@", `pathspec: non-integer start subscript "@filename:1.5:2@" at position 0`, 0},
		"start sign only":     {"@filename:-:2@", `pathspec: non-integer start subscript "@filename:-:2@" at position 0`, 0},
		"start underscore":    {"@filename:1_0@", `pathspec: non-integer start subscript "@filename:1_0@" at position 0`, 0},
		"end not int":         {"x@filename:1:b@", `pathspec: non-integer end subscript "@filename:1:b@" at position 1`, 1},
		"end hex":             {"@filename::0x2@", `pathspec: non-integer end subscript "@filename::0x2@" at position 0`, 0},
		"too many fields":     {"@filename:1:2:u:x@", `pathspec: too many subscript fields "@filename:1:2:u:x@" at position 0`, 0},
		"too many empty":      {"@filename::::@", `pathspec: too many subscript fields "@filename::::@" at position 0`, 0},
		"replace no search":   {"@replace@", `pathspec: missing search string in "@replace@" at position 0`, 0},
		"replace no repl":     {"ab@replace~a@", `pathspec: missing replacement in "@replace~a@" at position 2`, 2},
		"replacere no search": {"@replacere@", `pathspec: missing search string in "@replacere@" at position 0`, 0},
		"replacere no repl":   {"@replacere~a@", `pathspec: missing replacement in "@replacere~a@" at position 0`, 0},
		"replace too many":    {"@replace~a~b~c@", `pathspec: too many ~ fields in "@replace~a~b~c@" at position 0`, 0},
		"replace subscripts":  {"@replace:1:2~a~b@", `pathspec: subscripts not allowed on "@replace:1:2~a~b@" at position 0`, 0},
		"replace unknown":     {"@replacement~a~b@", `pathspec: unknown specifier "@replacement~a~b@" at position 0`, 0},
		"replace no tilde":    {"@replacement@", `pathspec: unknown specifier "@replacement@" at position 0`, 0},
		"replace unterminated": {"@filename@@replace~a~b",
			`pathspec: unterminated specifier "@replace~a~b" at position 10`, 10},
		"replacere regexp": {"@replacere~(~x@",
			"pathspec: invalid regular expression in \"@replacere~(~x@\" at position 0: error parsing regexp: missing closing ): `(`", 0},
		"replacere repl": {"@replacere~a~\\q@",
			`pathspec: invalid replacement in "@replacere~a~\\q@" at position 0: bad escape \q`, 0},
		"second error not reached": {"@nope@@alsonope@", `pathspec: unknown specifier "@nope@" at position 0`, 0},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := Parse(tt.spec)
			if s != nil {
				t.Errorf("Parse returned a Spec with the error")
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) = %v, want a *SyntaxError", tt.spec, err)
			}
			if err.Error() != tt.err {
				t.Errorf("error\n got %s\nwant %s", err, tt.err)
			}
			if se.Pos != tt.pos {
				t.Errorf("Pos = %d, want %d", se.Pos, tt.pos)
			}
		})
	}
}

func TestParseString(t *testing.T) {
	const spec = "@cameramodel@/@capturedate_y@"
	if got := mustParse(t, spec).String(); got != spec {
		t.Errorf("String() = %q", got)
	}
}

func TestParseFilename(t *testing.T) {
	ok := []string{
		"@filename@",
		"@cameraserial@@replace~35551323~Main Camera@_@dlnum@.@filename_ext@",
		"a/b@replace~/~_@",                // the separator is replaced away again
		`a\b@replace~\~_@`,                // the same for '\'
		"a/b@replace~/~\\@@replace~\\~-@", // replaced by '\', which is replaced in turn
		"@cameramodel@@replace~D~/@@replace~/~-@",
		"@filename@@replacere~(\\d)~<\\1>@",
		"@@",
	}
	for _, spec := range ok {
		if _, err := ParseFilename(spec); err != nil {
			t.Errorf("ParseFilename(%q): %v", spec, err)
		}
	}
	bad := map[string]struct {
		spec string
		err  string
	}{
		"empty":            {"", `pathspec: empty filename spec "" at position 0`},
		"slash":            {"@cameramodel@/@filename@", `pathspec: path separator in filename spec "/" at position 13`},
		"backslash":        {`ab\@filename@`, `pathspec: path separator in filename spec "\\" at position 2`},
		"after runes":      {"日本/x", `pathspec: path separator in filename spec "/" at position 2`},
		"leading":          {"/x", `pathspec: path separator in filename spec "/" at position 0`},
		"first of two":     {`a\b/c`, `pathspec: path separator in filename spec "\\" at position 1`},
		"replace inserts":  {"@filename@@replace~_~/@", `pathspec: path separator in filename spec "@replace~_~/@" at position 10`},
		"replace other":    {"a/b@replace~\\~_@", `pathspec: path separator in filename spec "/" at position 1`},
		"replace partial":  {"a/b@replace~a/~x@", `pathspec: path separator in filename spec "/" at position 1`},
		"after removal":    {"a/b@replace~/~_@/", `pathspec: path separator in filename spec "/" at position 16`},
		"replacere slash":  {"@filename@@replacere~_~/@", `pathspec: path separator in filename spec "@replacere~_~/@" at position 10`},
		"replacere escape": {"@filename@@replacere~_~\\\\@", `pathspec: path separator in filename spec "@replacere~_~\\\\@" at position 10`},
		"replacere kept":   {"@filename@@replacere~_~\\/@", `pathspec: path separator in filename spec "@replacere~_~\\/@" at position 10`},
		"regexp no undo":   {"a/b@replacere~/~_@", `pathspec: path separator in filename spec "/" at position 1`},
		"syntax first":     {"a/@nope@", `pathspec: unknown specifier "@nope@" at position 2`},
	}
	for name, tt := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := ParseFilename(tt.spec)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseFilename(%q) = %v, want a *SyntaxError", tt.spec, err)
			}
			if err.Error() != tt.err {
				t.Errorf("error\n got %s\nwant %s", err, tt.err)
			}
		})
	}
	// The separator checks agree with what Expand produces on plain data.
	for _, spec := range ok {
		name := mustParse(t, spec).Expand(testMeta())
		if CheckFilename(name) != nil {
			t.Errorf("%q accepted but expands to %q: %v", spec, name, CheckFilename(name))
		}
	}
}
