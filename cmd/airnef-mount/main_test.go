package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"
)

func TestParseSize(t *testing.T) {
	tests := map[string]struct {
		in   string
		want int64
		err  bool
	}{
		"bytes":    {in: "1048576", want: 1 << 20},
		"B":        {in: "512B", want: 512},
		"KiB":      {in: "128KiB", want: 128 << 10},
		"MiB":      {in: "256MiB", want: 256 << 20},
		"GiB":      {in: "2GiB", want: 2 << 30},
		"KB":       {in: "100KB", want: 100000},
		"MB":       {in: "64MB", want: 64000000},
		"GB":       {in: "1GB", want: 1e9},
		"k":        {in: "512k", want: 512 << 10},
		"M":        {in: "64M", want: 64 << 20},
		"G":        {in: "1G", want: 1 << 30},
		"space":    {in: "64 MiB", want: 64 << 20},
		"empty":    {in: "", err: true},
		"word":     {in: "lots", err: true},
		"negative": {in: "-1M", err: true},
		"fraction": {in: "1.5G", err: true},
		"unit":     {in: "MiB", err: true},
		"overflow": {in: "99999999999999GiB", err: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
	if s := formatSize(256 << 20); s != "256MiB" {
		t.Errorf("formatSize = %q", s)
	}
}

func TestCameraAddr(t *testing.T) {
	tests := map[string]struct {
		in, want string
		err      bool
	}{
		"ip":          {in: "192.168.1.1", want: "192.168.1.1:15740"},
		"ip port":     {in: "192.168.1.1:1234", want: "192.168.1.1:1234"},
		"name":        {in: "camera.local", want: "camera.local:15740"},
		"ipv6":        {in: "fe80::1", want: "[fe80::1]:15740"},
		"ipv6 braces": {in: "[fe80::1]", want: "[fe80::1]:15740"},
		"ipv6 port":   {in: "[fe80::1]:99", want: "[fe80::1]:99"},
		"empty":       {in: "", err: true},
		"bad port":    {in: "1.2.3.4:http0", err: true},
		"port 0":      {in: "1.2.3.4:0", err: true},
		"no host":     {in: ":15740", err: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := cameraAddr(tc.in)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("cameraAddr(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}

// Both -x and --x work, and every misuse is exit status 2 with the usage
// line, before anything is dialled or mounted.
func TestRunMisuse(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct {
		args []string
		say  string
	}{
		"no args":       {nil, "no mount point"},
		"three args":    {[]string{"--camera", "x", dir, dir, dir}, "one mount point expected"},
		"camera twice":  {[]string{"--camera", "x", "192.168.1.1", dir}, "the camera is given twice"},
		"exec no wait":  {[]string{"--exec", "true", dir}, "give --wait too"},
		"wait camera":   {[]string{"--wait", "--camera", "x", dir}, "takes no --camera"},
		"bad guid mac":  {[]string{"-camera", "x", "--guid", "mac:no-such-if0", dir}, "no network interface"},
		"discover args": {[]string{"discover", "extra"}, "takes no arguments"},
		"unknown flag":  {[]string{"-nope", dir}, "unknown flag: --nope"},
		"unknown short": {[]string{"-x", dir}, "unknown shorthand flag: 'x' in -x"},
		"no unit":       {[]string{"-c", "x", dir, "--timeout", "10"}, "--timeout: 10 has no unit; did you mean 10s?"},
		"bad duration":  {[]string{"-c", "x", "--connect-timeout", "soon", dir}, `--connect-timeout: "soon" is not a duration`},
		"typo command":  {[]string{"dicover"}, "did you mean discover?"},
		"bad option":    {[]string{"-c", "x", "-o", "ro,frobnicate", dir}, "-o frobnicate: unknown option"},
		"option value":  {[]string{"-c", "x", "-o", "timeout=10", dir}, "-o timeout=10: --timeout: 10 has no unit; did you mean 10s?"},
		"allow_root":    {[]string{"-c", "x", "-o", "allow_root", dir}, "use allow_other"},
		"bad uid":       {[]string{"-c", "x", "--uid", "no-such-user-here", dir}, "--uid"},
		"bad umask":     {[]string{"-c", "x", "--umask", "999", dir}, "not an octal umask"},
		"bad level":     {[]string{"-c", "x", "--log-level", "loud", dir}, "not a level"},
		"daemon fg":     {[]string{"-c", "x", "-d", "--foreground", dir}, "contradict"},
		"block size":    {[]string{"-camera", "x", "--block-size", "64KiB", dir}, "multiple of 128KiB"},
		"cache < block": {[]string{"-camera", "x", "--cache-size", "256KiB", dir}, "smaller than four blocks"},
		"bad size":      {[]string{"-camera", "x", "--cache-size", "big", dir}, "not a size"},
		"bad debug":     {[]string{"-camera", "x", "-debug", "usb", dir}, "unknown subsystem"},
		"bad tz":        {[]string{"-camera", "x", "--camera-tz", "Mars/Olympus", dir}, "--camera-tz"},
		"bad guid":      {[]string{"-camera", "x", "--guid", "xyz", dir}, "--guid"},
		"bad timeout":   {[]string{"-camera", "x", "--timeout", "0s", dir}, "must be positive"},
		"bad camera":    {[]string{"-camera", "1.2.3.4:99999", dir}, "bad port"},
		"no mountpoint": {[]string{"-camera", "127.0.0.1", dir + "/missing"}, "create the directory"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", t.TempDir())
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, &stderr)
			code := exitCode(err, &stderr)
			if code != exitUsage {
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

func TestRunVersionAndHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stdout.String(), "airnef-mount ") {
		t.Errorf("--version printed %q", stdout.String())
	}
	stdout.Reset()
	err := run(context.Background(), []string{"-h"}, &stdout, &stderr)
	if exitCode(err, &stderr) != exitOK || !strings.Contains(stdout.String(), "--cache-size") || stderr.Len() != 0 {
		t.Errorf("-h: %v; help belongs on stdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
}

// No camera at the address: exit status 1 with what was tried.
func TestRunNoCamera(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = run(ctx, []string{"--camera", addr, "--connect-timeout", "5s", t.TempDir()}, &stdout, &stderr)
	var ee *exitError
	_, port, _ := net.SplitHostPort(addr)
	if !errors.As(err, &ee) || ee.code != exitFailure || !strings.Contains(err.Error(), "on port "+port+" (connection refused)") {
		t.Fatalf("run = %v, want exit status 1 saying what was tried", err)
	}
}
