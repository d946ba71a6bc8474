package main

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// The config file holds flags, one per line, in either form:
//
//	# comments start with '#'
//	--cache-size 512MiB
//	cache-size=512MiB
//	thumbnails
//	exec = "rsync -a %s/ ~/Pictures/"
//
// A flag given on the command line (or by mount(8)'s -o) wins over the
// file. A bare boolean flag means true. A value may be quoted with ' or ";
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

// applyConfig sets the flags of fl from the config file: path (given with
// --config, so it must exist), or the default one when path is "". Flags
// in skip (given on the command line) are left as they are.
func applyConfig(fl *pflag.FlagSet, path string, skip map[string]bool) error {
	explicit := path != ""
	if !explicit {
		path = defaultConfigPath()
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
		if err := applyConfigLine(fl, sc.Text(), skip); err != nil {
			return usageErr("%s:%d: %v", path, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return usageErr("config file %s: %v", path, err)
	}
	return nil
}

// applyConfigLine sets the flag one line of the config file names.
func applyConfigLine(fl *pflag.FlagSet, line string, skip map[string]bool) error {
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
	case noConfigFlags[fv.Name]:
		return fmt.Errorf("--%s cannot be set in the config file", fv.Name)
	}
	name = fv.Name
	if !hasValue || value == "" {
		if fv.NoOptDefVal == "" {
			return fmt.Errorf("--%s needs a value", name)
		}
		value = fv.NoOptDefVal
	}
	value = unquote(value)
	if rest, ok := strings.CutPrefix(value, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			value = filepath.Join(home, rest)
		}
	}
	if skip[name] {
		return nil
	}
	if err := fl.Set(name, value); err != nil {
		var inv *pflag.InvalidValueError
		if errors.As(err, &inv) {
			err = inv.Unwrap()
		}
		return fmt.Errorf("--%s %s: %v", name, value, err)
	}
	return nil
}

// noConfigFlags are flags the config file cannot set.
var noConfigFlags = map[string]bool{"config": true, "version": true, "help": true, "options": true}

// unquote removes one pair of matching ' or " around s.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
