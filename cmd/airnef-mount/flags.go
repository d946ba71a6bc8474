package main

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// byteSize is a flag holding a size in bytes, written with a unit or
// without: "256MiB", "1GiB", "64M", "512k", "100MB", "1048576".
// KiB/MiB/GiB and k/K/M/G are powers of 1024 (as dd and rsync read K, M,
// G); KB/MB/GB are powers of 1000.
type byteSize int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	// Longest suffixes first, so that "MiB" is not read as "B".
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
	{"k", 1 << 10}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"T", 1 << 40},
	{"B", 1},
}

func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size (write e.g. 256MiB, 64M or 1048576)", s)
	}
	if n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return n * mult, nil
}

func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func (b *byteSize) String() string {
	if b == nil {
		return "0"
	}
	return formatSize(int64(*b))
}

// formatSize writes n with the largest binary unit that divides it.
func formatSize(n int64) string {
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult && n%u.mult == 0 {
			return strconv.FormatInt(n/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// debugFlags is the --debug list: subsystems whose debug records are shown.
type debugFlags map[string]bool

// debugSubsystems are the names --debug accepts.
var debugSubsystems = []string{"ptp", "fuse", "cache"}

func (d debugFlags) Set(s string) error {
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if name == "all" {
			for _, n := range debugSubsystems {
				d[n] = true
			}
			continue
		}
		if !slices.Contains(debugSubsystems, name) {
			return fmt.Errorf("unknown subsystem %q (want a list of %s, or all)", name, strings.Join(debugSubsystems, ","))
		}
		d[name] = true
	}
	return nil
}

func (d debugFlags) String() string {
	var on []string
	for _, n := range debugSubsystems {
		if d[n] {
			on = append(on, n)
		}
	}
	return strings.Join(on, ",")
}

// defaultPort is the PTP/IP port.
const defaultPort = "15740"

// cameraAddr adds the PTP/IP port to a --camera value that has none:
// "192.168.1.1" -> "192.168.1.1:15740", "[fe80::1]" or "fe80::1" ->
// "[fe80::1]:15740".
func cameraAddr(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty camera address")
	}
	if host, port, err := net.SplitHostPort(s); err == nil {
		if host == "" {
			return "", fmt.Errorf("camera address %q has no host", s)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return "", fmt.Errorf("camera address %q: bad port %q", s, port)
		}
		return s, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	if strings.ContainsAny(host, "[]/ ") {
		return "", fmt.Errorf("camera address %q is not HOST or HOST:PORT", s)
	}
	return net.JoinHostPort(host, defaultPort), nil
}

func (b *byteSize) Type() string { return "size" }

func (d debugFlags) Type() string { return "list" }

// durationFlag is a flag holding a duration written with its unit, as
// time.ParseDuration reads it ("30s", "2m", "1h30m"); a bare number gets
// a hint rather than a parse error.
type durationFlag time.Duration

func (d *durationFlag) Set(s string) error {
	v, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		if _, nerr := strconv.ParseFloat(strings.TrimSpace(s), 64); nerr == nil {
			return fmt.Errorf("%s has no unit; did you mean %ss?", s, strings.TrimSpace(s))
		}
		return fmt.Errorf("%q is not a duration (write e.g. 30s, 2m or 1h)", s)
	}
	*d = durationFlag(v)
	return nil
}

func (d *durationFlag) String() string { return time.Duration(*d).String() }
func (d *durationFlag) Type() string   { return "duration" }

// durationVar defines a duration flag with the hint for a missing unit.
func durationVar(fl *pflag.FlagSet, p *time.Duration, name string, value time.Duration, usage string) {
	*p = value
	fl.Var((*durationFlag)(p), name, usage)
}

// idFlag is --uid or --gid: a number, or a user or group name.
type idFlag struct {
	id    *uint32
	set   *bool
	group bool
}

func (f idFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		lookup, what := func(n string) (string, error) {
			u, err := user.Lookup(n)
			if err != nil {
				return "", err
			}
			return u.Uid, nil
		}, "user"
		if f.group {
			lookup, what = func(n string) (string, error) {
				g, err := user.LookupGroup(n)
				if err != nil {
					return "", err
				}
				return g.Gid, nil
			}, "group"
		}
		id, lerr := lookup(s)
		if lerr != nil {
			return fmt.Errorf("%q is not a number nor a known %s", s, what)
		}
		if n, err = strconv.ParseUint(id, 10, 32); err != nil {
			return fmt.Errorf("%s %q has id %q", what, s, id)
		}
	}
	*f.id, *f.set = uint32(n), true
	return nil
}

func (f idFlag) String() string {
	if f.set == nil || !*f.set {
		return ""
	}
	return strconv.FormatUint(uint64(*f.id), 10)
}

func (f idFlag) Type() string { return "id" }

// umaskFlag is --umask: permission bits taken away from every file and
// folder, in octal.
type umaskFlag uint32

func (u *umaskFlag) Set(s string) error {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 8, 32)
	if err != nil || n > 0o777 {
		return fmt.Errorf("%q is not an octal umask (write e.g. 022 or 077)", s)
	}
	*u = umaskFlag(n)
	return nil
}

func (u *umaskFlag) String() string { return fmt.Sprintf("%03o", uint32(*u)) }
func (u *umaskFlag) Type() string   { return "octal" }

// logLevel is --log-level: the least level logged.
type logLevel struct{ slog.Level }

func (l *logLevel) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		l.Level = slog.LevelDebug
	case "info":
		l.Level = slog.LevelInfo
	case "warn", "warning":
		l.Level = slog.LevelWarn
	case "error":
		l.Level = slog.LevelError
	default:
		return fmt.Errorf("%q is not a level (debug, info, warning or error)", s)
	}
	return nil
}

func (l *logLevel) String() string { return strings.ToLower(l.Level.String()) }
func (l *logLevel) Type() string   { return "level" }
