package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Every malformed --dirnamespec or --filenamespec is misuse: exit status
// 2, before anything is dialled, with a message naming the flag, the
// specifier and its position.
func TestRunBadSpecs(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		flag, spec string
		say        string
	}{
		"unterminated":         {"--dirnamespec", "x/@capturedate", `--dirnamespec: pathspec: unterminated specifier "@capturedate" at position 2`},
		"unknown":              {"--dirnamespec", "@capturedate_y@/@capturedat@", `--dirnamespec: pathspec: unknown specifier "@capturedat@" at position 16`},
		"non-integer start":    {"--filenamespec", "@filename:x:2@", `--filenamespec: pathspec: non-integer start subscript "@filename:x:2@" at position 0`},
		"non-integer end":      {"--filenamespec", "a@filename:1:y@", `non-integer end subscript "@filename:1:y@" at position 1`},
		"too many fields":      {"--dirnamespec", "@filename:1:2:u:x@", `too many subscript fields "@filename:1:2:u:x@" at position 0`},
		"replace no repl":      {"--filenamespec", "@filename@@replace~NEF@", `missing replacement in "@replace~NEF@" at position 10`},
		"replace no search":    {"--dirnamespec", "@replace@", `missing search string in "@replace@" at position 0`},
		"replace too many":     {"--dirnamespec", "@replace~a~b~c@", `too many ~ fields in "@replace~a~b~c@"`},
		"replacere bad regexp": {"--filenamespec", "@filename@@replacere~(a~b@", `invalid regular expression in "@replacere~(a~b@" at position 10`},
		"replacere backref":    {"--dirnamespec", `@replacere~(a)\1~b@`, `invalid regular expression in`},
		"slash in file name":   {"--filenamespec", "@capturedate_y@/@filename@", `--filenamespec: pathspec: path separator in filename spec "/" at position 15`},
		"backslash in name":    {"--filenamespec", `@cameramodel@\@filename@`, `path separator in filename spec "\\" at position 13`},
		"slash by replace":     {"--filenamespec", "@filename@@replace~_~/@", `path separator in filename spec "@replace~_~/@" at position 10`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", t.TempDir())
			var stdout, stderr bytes.Buffer
			// The camera address is unreachable: a spec error must
			// come first.
			err := run(context.Background(), []string{"--camera", "127.0.0.1:1", tc.flag, tc.spec, dir}, &stdout, &stderr)
			if code := exitCode(err, &stderr); code != exitUsage {
				t.Errorf("exit status %d, want %d (err %v)", code, exitUsage, err)
			}
			if !strings.Contains(stderr.String(), tc.say) || !strings.Contains(stderr.String(), usageLine) {
				t.Errorf("stderr lacks %q and the usage line:\n%s", tc.say, stderr.String())
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: %q", stdout.String())
			}
		})
	}
}

// Good specs parse into the options; none given keeps the camera tree.
func TestParseSpecs(t *testing.T) {
	dir := t.TempDir()
	o, err := parseFlags([]string{"--camera", "x", dir}, &bytes.Buffer{})
	if err != nil || o.renaming() {
		t.Fatalf("no specs: renaming %v, %v", o != nil && o.renaming(), err)
	}
	o, err = parseFlags([]string{"--camera", "x", "--dirnamespec", `@cameramodel@\@filename_ext@@replace~NEF~Raw Files@`, dir}, &bytes.Buffer{})
	if err != nil || !o.renaming() || o.dirSpec == nil || o.fileSpec != nil {
		t.Fatalf("--dirnamespec: %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"--camera", "x", "-filenamespec", "@cameraserial@@replace~35551323~Main Camera@_@dlnum@.@filename_ext@", dir}, &bytes.Buffer{})
	if err != nil || !o.renaming() || o.fileSpec == nil || o.dirSpec != nil {
		t.Fatalf("--filenamespec: %+v, %v", o, err)
	}
	var help bytes.Buffer
	parseFlags([]string{"-h"}, &help)
	for _, f := range []string{"-dirnamespec", "-filenamespec"} {
		if !strings.Contains(help.String(), f) {
			t.Errorf("-h does not list %s", f)
		}
	}
}
