package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// commit is set at build time with -ldflags "-X main.commit=..." (the
// Makefile does, from git).
var commit = ""

// versionLine is what --version prints: the version and commit the Makefile
// stamps, or else those of the build info (`go install`).
func versionLine() string {
	v, c := version, commit
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		if c == "" {
			c = vcsRevision(bi.Settings)
		}
	}
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("airnef-mount %s (commit %s, %s)", v, c, runtime.Version())
}

// vcsRevision is the vcs.revision build setting, "-dirty" appended when
// the tree had changes.
func vcsRevision(settings []debug.BuildSetting) string {
	var rev string
	var modified bool
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev != "" && modified {
		rev += "-dirty"
	}
	return rev
}
