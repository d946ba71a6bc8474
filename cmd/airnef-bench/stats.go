package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// sample is the measurements of one quantity, one per run.
type sample []float64

func (s sample) sorted() []float64 {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// median is the middle value (the mean of the two middle ones for an even
// count); NaN when empty.
func (s sample) median() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	c := s.sorted()
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

func (s sample) min() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return slices.Min(s)
}

func (s sample) max() float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	return slices.Max(s)
}

// spread writes "min-max" with f, or "" for one run.
func (s sample) spread(f func(float64) string) string {
	if len(s) < 2 {
		return ""
	}
	return f(s.min()) + "-" + f(s.max())
}

// secs writes a duration in seconds with three significant digits.
func secs(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case v < 0.01:
		return fmt.Sprintf("%.4f", v)
	case v < 1:
		return fmt.Sprintf("%.3f", v)
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// pct writes a fraction as a percentage with one decimal.
func pct(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// ratio writes a ratio with two or three significant digits and an x.
func ratio(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2fx", v)
	case v < 100:
		return fmt.Sprintf("%.1fx", v)
	}
	return fmt.Sprintf("%.0fx", v)
}

// mbps writes bytes per second as MB/s (10^6).
func mbps(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if v < 10e6 {
		return fmt.Sprintf("%.2f MB/s", v/1e6)
	}
	return fmt.Sprintf("%.1f MB/s", v/1e6)
}

// mib writes bytes in binary units.
func mib(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.0f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

// mb writes bytes in decimal megabytes.
func mb(v float64) string { return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1e6), ".0") + " MB" }
