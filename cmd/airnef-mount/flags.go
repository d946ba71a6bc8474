package main

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
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

// debugFlags is the -debug list: subsystems whose debug records are shown.
type debugFlags map[string]bool

// debugSubsystems are the names -debug accepts.
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
