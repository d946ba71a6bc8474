package pathspec

import (
	"errors"
	"regexp/syntax"
	"strings"
	"testing"
)

// TestReplaceRE checks @replacere@ against Python's re.sub: every want was
// produced by Python 3.11's re.sub(pattern, replacement, input).
func TestReplaceRE(t *testing.T) {
	tests := []struct{ pattern, repl, in, want string }{
		{`(\d+)`, `<\1>`, "DSC_0014.NEF", "DSC_<0014>.NEF"},
		{`(?P<pre>[A-Z]+)_(?P<num>\d+)`, `\g<num>-\g<pre>`, "DSC_0014.NEF", "0014-DSC.NEF"},
		{`(?P<pre>[A-Z]+)_(?P<num>\d+)`, `\g<2>\g<1>\g<0>`, "DSC_0014.NEF", "0014DSCDSC_0014.NEF"},
		{`NEF\Z`, `raw`, "DSC_0014.NEF", "DSC_0014.raw"},
		{`\.`, `$`, "DSC_0014.NEF", "DSC_0014$NEF"},
		{`(\w)`, `$1`, "ab", "$1$1"},
		{`(\w)`, `${1}$$`, "a", "${1}$$"},
		{`0{,2}1`, `z`, "0001", "0z"},
		{`[[:D]`, `#`, "DSC_[:0", "#SC_##0"},
		{`[]S]`, `#`, "DSC]", "D#C#"},
		{`[^]S]`, `#`, "DSC]", "#S#]"},
		{`(?#comment)S`, `s`, "DSC", "DsC"},
		{`\u0053`, `s`, "DSC", "DsC"},
		{`\U00000053`, `s`, "DSC", "DsC"},
		{`\123`, `s`, "DSC", "DsC"},
		{`\x53`, `s`, "DSC", "DsC"},
		{`[\123]`, `s`, "DSC", "DsC"},
		{`[\b]`, `-`, "a\bb", "a-b"},
		{`(D)(S)(C)`, `\3\2\1\100\0`, "DSC", "CSD@\x00"},
		{`S`, `\n\t\\`, "DSC", "D\n\t\\C"},
		{`S`, `\/\.`, "DSC", `D\/\.C`},
		{`(a)|(D)`, `[\1\2]`, "DaD", "[D][a][D]"},
		{`^`, `pre_`, "DSC", "pre_DSC"},
		{`(?i)dsc`, `img`, "DSC_0014", "img_0014"},
		{`_(\d)(\d)`, `\2\1x`, "A_12B", "A21xB"},
		{`(?P<x>S)`, `\g<x>\g<x>`, "DSC", "DSSC"},
		{`\.[^.]*$`, ``, "a.b.NEF", "a.b"},
		{`(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)(.)`, `\12\11\1`, "abcdefghijkl", "lka"},
		{`(.)`, `\1\010`, "a", "a\x08"}, // \010 is octal; \10 would be group 10
		{`é+`, `e`, "Résumé", "Resume"},
		// Go skips an empty match right after a non-empty one, as Python
		// 2.7 and up to 3.6 do; Python 3.7+ gives "-a-b--d-".
		{`x*`, `-`, "abxd", "-a-b-d-"},
		{``, `-`, "ab", "-a-b-"},
	}
	for _, tt := range tests {
		spec := "@filename@@replacere~" + tt.pattern + "~" + tt.repl + "@"
		t.Run(spec, func(t *testing.T) {
			if got := mustParse(t, spec).Expand(Meta{Filename: tt.in}); got != tt.want {
				t.Errorf("on %q: %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestReplaceREErrors checks that what Python rejects, and what Go's
// regexp cannot do, fails at Parse.
func TestReplaceREErrors(t *testing.T) {
	tests := []struct {
		pattern, repl string
		msg           string // SyntaxError.Msg
		cause         string // in SyntaxError.Err
	}{
		{`(`, `x`, "invalid regular expression in", "missing closing )"},
		{`(a)\1`, `x`, "invalid regular expression in", "back-references"},
		{`\8`, `x`, "invalid regular expression in", "back-references"},
		{`(?P<n>a)(?P=n)`, `x`, "invalid regular expression in", "unsupported Perl syntax"},
		{`(?=a)`, `x`, "invalid regular expression in", "unsupported Perl syntax"},
		{`(?<=a)b`, `x`, "invalid regular expression in", "invalid named capture"},
		{`(?x)a`, `x`, "invalid regular expression in", "unsupported Perl syntax"},
		{`(?P<n>a)(?P<n>b)`, `x`, "invalid regular expression in", `redefinition of group name "n"`},
		{`[\8]`, `x`, "invalid regular expression in", `bad escape \8`},
		{`\777`, `x`, "invalid regular expression in", "outside of range"},
		{`\u12`, `x`, "invalid regular expression in", `incomplete escape \u`},
		{`(?#x`, `x`, "invalid regular expression in", "unterminated comment"},
		{`a\`, `x`, "invalid regular expression in", "end of pattern"},
		{`a`, `\q`, "invalid replacement in", `bad escape \q`},
		{`a`, `\`, "invalid replacement in", "end of replacement"},
		{`(a)`, `\2`, "invalid replacement in", "invalid group reference 2"},
		{`(a)`, `\10`, "invalid replacement in", "invalid group reference 10"},
		{`(a)`, `\g<2>`, "invalid replacement in", "invalid group reference 2"},
		{`(a)`, `\g<n>`, "invalid replacement in", `unknown group name "n"`},
		{`(a)`, `\g<`, "invalid replacement in", "unterminated group name"},
		{`(a)`, `\g<1`, "invalid replacement in", "unterminated group name"},
		{`(a)`, `\g<>`, "invalid replacement in", "missing group name"},
		{`(a)`, `\g<-1>`, "invalid replacement in", "bad character in group name"},
		{`(a)`, `\g`, "invalid replacement in", `missing <`},
		{`(a)`, `\g<99999999999999999999>`, "invalid replacement in", "invalid group reference"},
		{`a`, `\777`, "invalid replacement in", "outside of range"},
	}
	for _, tt := range tests {
		spec := "x@replacere~" + tt.pattern + "~" + tt.repl + "@"
		t.Run(spec, func(t *testing.T) {
			_, err := Parse(spec)
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse: %v, want a *SyntaxError", err)
			}
			if se.Msg != tt.msg || se.Pos != 1 || se.Spec != spec[1:] {
				t.Errorf("got Msg %q Pos %d Spec %q, want %q 1 %q", se.Msg, se.Pos, se.Spec, tt.msg, spec[1:])
			}
			if se.Err == nil || !strings.Contains(se.Err.Error(), tt.cause) {
				t.Errorf("cause %v, want it to contain %q", se.Err, tt.cause)
			}
		})
	}
	// The regexp package's own error is reachable with errors.As.
	_, err := Parse("@replacere~(~x@")
	var re *syntax.Error
	if !errors.As(err, &re) || re.Code != syntax.ErrMissingParen {
		t.Errorf("Parse: %v, want a wrapped *syntax.Error with ErrMissingParen", err)
	}
}
