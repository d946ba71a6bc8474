package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The config file holds flags, one per line, in either form:
//
//	# comments start with '#'
//	--cache-size 512MiB
//	cache-size=512MiB
//	thumbnails
//	exec = "rsync -a %s/ ~/Pictures/"
//
// It is read before the command line, so a flag given on the command line
// wins. A bare boolean flag means true. A value may be quoted with ' or ";
// a leading ~/ is the home directory. Anything else is an error naming
// file:line, exit status 2.

// configName is the file under the XDG config directory.
const configName = "airnef-mount/config"

// defaultConfigPath is $XDG_CONFIG_HOME/airnef-mount/config, or
// ~/.config/airnef-mount/config; "" when neither is known.
func defaultConfigPath() string {
	base := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(base) { // the XDG rule: a relative value is ignored
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".config")
	}
	return filepath.Join(base, configName)
}

// configPath finds --config in args (before the first argument that is not
// a flag, as the flag package parses) and returns its value, or the default
// path. explicit says the user named the file, so it must exist.
func configPath(args []string) (path string, explicit bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "config" {
			continue
		}
		if !hasValue && i+1 < len(args) {
			value = args[i+1]
		}
		return value, true
	}
	return defaultConfigPath(), false
}

// applyConfig sets the flags of fl from the config file (--config in args,
// or the default one). A missing default file is not an error.
func applyConfig(fl *flag.FlagSet, args []string) error {
	path, explicit := configPath(args)
	if path == "" && explicit {
		return usageErr("--config: empty file name")
	}
	if path == "" {
		return nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return usageErr("config file: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if err := applyConfigLine(fl, sc.Text()); err != nil {
			return usageErr("%s:%d: %v", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return usageErr("config file %s: %v", path, err)
	}
	return nil
}

// applyConfigLine sets the flag one line of the config file names.
func applyConfigLine(fl *flag.FlagSet, line string) error {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return nil
	}
	body := strings.TrimLeft(line, "-")
	end := strings.IndexAny(body, "= \t")
	name, value, hasValue := body, "", false
	if end >= 0 {
		name, value, hasValue = body[:end], strings.TrimSpace(body[end:]), true
		value = strings.TrimSpace(strings.TrimPrefix(value, "="))
	}
	if name == "" {
		return fmt.Errorf("%q is not a flag (write e.g. --cache-size 512MiB)", line)
	}
	fv := fl.Lookup(name)
	switch {
	case fv == nil:
		return fmt.Errorf("unknown flag --%s", name)
	case name == "config" || name == "version":
		return fmt.Errorf("--%s cannot be set in the config file", name)
	}
	isBool := false
	if b, ok := fv.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		isBool = true
	}
	if !hasValue || value == "" {
		if !isBool {
			return fmt.Errorf("--%s needs a value", name)
		}
		value = "true"
	}
	value = unquote(value)
	if rest, ok := strings.CutPrefix(value, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			value = filepath.Join(home, rest)
		}
	}
	if err := fl.Set(name, value); err != nil {
		return fmt.Errorf("--%s %s: %v", name, value, err)
	}
	return nil
}

// unquote removes one pair of matching ' or " around s.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
