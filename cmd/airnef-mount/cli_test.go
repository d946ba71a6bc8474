package main

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

// Go-style single-dash long flags still work, as getopt_long_only reads
// them; short flags cluster; values are never rewritten.
func TestLongOnly(t *testing.T) {
	fl := newCLI(io.Discard, io.Discard, nil).root.Flags()
	tests := map[string]struct{ in, want []string }{
		"long":         {[]string{"-camera", "x", "mnt"}, []string{"--camera", "x", "mnt"}},
		"long value":   {[]string{"-cache-size=1G", "mnt"}, []string{"--cache-size=1G", "mnt"}},
		"bool":         {[]string{"-thumbnails", "mnt"}, []string{"--thumbnails", "mnt"}},
		"unknown":      {[]string{"-nope", "mnt"}, []string{"--nope", "mnt"}},
		"cluster":      {[]string{"-dq", "mnt"}, []string{"-dq", "mnt"}},
		"short value":  {[]string{"-c", "-camera", "mnt"}, []string{"-c", "-camera", "mnt"}},
		"joined short": {[]string{"-dc", "-x", "mnt"}, []string{"-dc", "-x", "mnt"}},
		"long's value": {[]string{"--exec", "-cache-size", "mnt"}, []string{"--exec", "-cache-size", "mnt"}},
		"-o":           {[]string{"mnt", "-o", "ro,cache_size=1G"}, []string{"mnt", "-o", "ro,cache_size=1G"}},
		"after --":     {[]string{"--", "-camera"}, []string{"--", "-camera"}},
		"dash":         {[]string{"-", "-quiet"}, []string{"-", "--quiet"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := longOnly(fl, tc.in); !slices.Equal(got, tc.want) {
				t.Errorf("longOnly(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// Flags go anywhere; -o options map to flags; the command line wins over
// -o, which wins over the config file.
func TestMountForms(t *testing.T) {
	writeConfig(t, "cache-size 64MiB\nblock-size 256KiB\nthumbnails\n")
	mnt := t.TempDir()
	tests := map[string]struct {
		args  []string
		check func(o *options) bool
	}{
		"flags after": {[]string{mnt, "-c", "10.0.0.1", "--timeout", "30s", "-q"}, func(o *options) bool {
			return o.camera == "10.0.0.1" && o.mountpoint == mnt && o.timeout == 30*time.Second && o.quiet && !o.background
		}},
		"mount(8)": {[]string{"192.168.1.1", mnt, "-o", "rw,dev,suid,cache_size=512MiB,allow_other,uid=123,gid=45,umask=027,noauto,user,_netdev,x-systemd.automount,metadata-cache=false"}, func(o *options) bool {
			return o.camera == "192.168.1.1" && o.mountpoint == mnt && o.background && o.cacheSize == 512<<20 &&
				o.allowOther && o.uid == 123 && o.uidSet && o.gid == 45 && o.umask == 0o27 && !o.metadataCache &&
				o.blockSize == 256<<10 && o.thumbnails // the rest from the config file
		}},
		"auto": {[]string{"auto", mnt, "-o", "ro,foreground,wait"}, func(o *options) bool {
			return o.camera == "" && o.wait && !o.background
		}},
		"quoted list": {[]string{"auto", mnt, "-o", `debug="ptp,cache",listen_time=5s`}, func(o *options) bool {
			return o.debug["ptp"] && o.debug["cache"] && !o.debug["fuse"] && o.listenTime == 5*time.Second
		}},
		"command line wins": {[]string{"auto", mnt, "--cache-size", "1GiB", "-o", "cache_size=128MiB,block_size=128KiB"}, func(o *options) bool {
			return o.cacheSize == 1<<30 && o.blockSize == 128<<10
		}},
		"daemon":     {[]string{"-d", "-c", "x", mnt}, func(o *options) bool { return o.background }},
		"foreground": {[]string{"-c", "x", mnt}, func(o *options) bool { return !o.background }},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			o, err := parseFlags(tc.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(o) {
				t.Errorf("%q: options %+v", tc.args, *o)
			}
		})
	}
}

// mount(8)'s own flags, when it runs the program as its helper.
func TestParseHelper(t *testing.T) {
	h, args, err := parseHelper("/sbin/mount.fuse.airnef-mount", []string{"cam", "/mnt", "-s", "-f", "-n", "-v", "-o", "rw,users", "-t", "fuse.airnef-mount"})
	if err != nil || !h.active || !h.sloppy || !h.fake || !slices.Equal(args, []string{"cam", "/mnt", "-o", "rw,users"}) {
		t.Errorf("parseHelper = %+v, %q, %v", h, args, err)
	}
	h, args, _ = parseHelper("airnef-mount", []string{"-v", "x"})
	if h.active || !slices.Equal(args, []string{"-v", "x"}) {
		t.Errorf("not a helper: %+v, %q", h, args)
	}
	if _, _, err := parseHelper("mount.airnef-mount", []string{"cam", "/mnt", "-N", "ns"}); err == nil {
		t.Error("-N accepted")
	}
	// -s ignores what it does not know; -f checks and mounts nothing.
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	mnt := t.TempDir()
	var stdout, stderr bytes.Buffer
	err = runAs(context.Background(), "mount.fuse.airnef-mount", []string{"127.0.0.1:1", mnt, "-s", "-f", "-o", "rw,frobnicate"}, &stdout, &stderr)
	if err != nil || stdout.Len() != 0 {
		t.Errorf("mount -s -f: %v, stdout %q, stderr %q", err, stdout.String(), stderr.String())
	}
}

func TestSplitOptions(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []string
		err  bool
	}{
		"plain":      {in: "ro,cache_size=1G", want: []string{"ro", "cache_size=1G"}},
		"quoted":     {in: `debug='ptp,cache',ro`, want: []string{"debug=ptp,cache", "ro"}},
		"double":     {in: `exec="cp -a -t ~/P",wait`, want: []string{"exec=cp -a -t ~/P", "wait"}},
		"escaped":    {in: `debug=ptp\,fuse`, want: []string{"debug=ptp,fuse"}},
		"empty":      {in: ",,ro,", want: []string{"ro"}},
		"nothing":    {in: "", want: nil},
		"unclosed":   {in: `exec='cp`, err: true},
		"trailing\\": {in: `a\`, want: []string{`a\`}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := splitOptions(tc.in)
			if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
				t.Errorf("splitOptions(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
		})
	}
}

// help and version are words, not mount points.
func TestWords(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"help"}, &stdout, &stderr); err != nil || !strings.HasPrefix(stdout.String(), usageLine) {
		t.Errorf("help: %v\n%s", err, stdout.String())
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"version"}, &stdout, &stderr); err != nil || !strings.HasPrefix(stdout.String(), "airnef-mount ") {
		t.Errorf("version: %v, %q", err, stdout.String())
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"help", "discover"}, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), "--listen-time") {
		t.Errorf("help discover: %v\n%s", err, stdout.String())
	}
	stdout.Reset()
	if err := run(context.Background(), []string{"completion", "bash"}, &stdout, &stderr); err != nil || !strings.Contains(stdout.String(), "__start_airnef-mount") {
		t.Errorf("completion bash: %v", err)
	}
}
