package mtp

import (
	"testing"
	"time"
)

func TestParseDate(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600) // no tzdata: any non-UTC zone will do
	}
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	local := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, paris)
	}
	tests := map[string]struct {
		in   string
		want time.Time // zero: ParseDate must report false
	}{
		"plain":              {"20240315T143025", local(2024, 3, 15, 14, 30, 25, 0)},
		"canon tenths":       {"20240315T143025.0", local(2024, 3, 15, 14, 30, 25, 0)},
		"tenths":             {"20240315T143025.7", local(2024, 3, 15, 14, 30, 25, 700_000_000)},
		"millis":             {"20240315T143025.123", local(2024, 3, 15, 14, 30, 25, 123_000_000)},
		"too many digits":    {"20240315T143025.1234567891", local(2024, 3, 15, 14, 30, 25, 123_456_789)},
		"trailing dot":       {"20240315T143025.", local(2024, 3, 15, 14, 30, 25, 0)},
		"trailing dots":      {"20240315T143025...", local(2024, 3, 15, 14, 30, 25, 0)},
		"tenths then dot":    {"20240315T143025.0.", local(2024, 3, 15, 14, 30, 25, 0)},
		"Z":                  {"20240315T143025Z", utc(2024, 3, 15, 14, 30, 25, 0)},
		"tenths Z":           {"20240315T143025.5Z", utc(2024, 3, 15, 14, 30, 25, 500_000_000)},
		"plus offset":        {"20240315T143025+0100", utc(2024, 3, 15, 13, 30, 25, 0)},
		"minus offset":       {"20240315T143025-0700", utc(2024, 3, 15, 21, 30, 25, 0)},
		"offset hours":       {"20240315T143025+02", utc(2024, 3, 15, 12, 30, 25, 0)},
		"offset colon":       {"20240315T143025+05:30", utc(2024, 3, 15, 9, 0, 25, 0)},
		"date only":          {"20240315", local(2024, 3, 15, 0, 0, 0, 0)},
		"date only Z":        {"20240315Z", utc(2024, 3, 15, 0, 0, 0, 0)},
		"padding":            {" 20240315T143025\x00", local(2024, 3, 15, 14, 30, 25, 0)},
		"leap day":           {"20240229T000000", local(2024, 2, 29, 0, 0, 0, 0)},
		"end of year":        {"19991231T235959", local(1999, 12, 31, 23, 59, 59, 0)},
		"nikon non-file":     {"19800000T000000", time.Time{}},
		"2048 zero":          {"20480000T000000", time.Time{}},
		"empty":              {"", time.Time{}},
		"NULs only":          {"\x00\x00", time.Time{}},
		"month 13":           {"20241301T000000", time.Time{}},
		"day 0":              {"20240100T000000", time.Time{}},
		"feb 30":             {"20240230T000000", time.Time{}},
		"feb 29 non-leap":    {"20230229T000000", time.Time{}},
		"hour 24":            {"20240315T240000", time.Time{}},
		"minute 60":          {"20240315T236000", time.Time{}},
		"second 60":          {"20240315T235960", time.Time{}},
		"year 0":             {"00000101T000000", time.Time{}},
		"short time":         {"20240315T1430", time.Time{}},
		"T only":             {"20240315T", time.Time{}},
		"letters":            {"2024O315T143025", time.Time{}},
		"garbage tail":       {"20240315T143025abc", time.Time{}},
		"bad offset":         {"20240315T143025+2500", time.Time{}},
		"offset no digits":   {"20240315T143025+", time.Time{}},
		"offset three":       {"20240315T143025+010", time.Time{}},
		"dashes (not PTP)":   {"2024-03-15T14:30:25", time.Time{}},
		"negative sign year": {"-2024031", time.Time{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok := ParseDate(tc.in, paris)
			if ok != !tc.want.IsZero() {
				t.Fatalf("ParseDate(%q) ok = %v (%v)", tc.in, ok, got)
			}
			if ok && !got.Equal(tc.want) {
				t.Fatalf("ParseDate(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseDateNilLocation(t *testing.T) {
	got, ok := ParseDate("20240315T143025", nil)
	if !ok || !got.Equal(time.Date(2024, 3, 15, 14, 30, 25, 0, time.UTC)) {
		t.Fatalf("got %v, %v; want UTC wall time", got, ok)
	}
}

func TestFormatDate(t *testing.T) {
	east := time.FixedZone("", 9*3600)
	tests := map[string]struct {
		in   time.Time
		want string
	}{
		"utc":          {time.Date(2024, 3, 15, 14, 30, 25, 999, time.UTC), "20240315T143025"},
		"own location": {time.Date(2024, 3, 15, 14, 30, 25, 0, east), "20240315T143025"},
		"padding":      {time.Date(987, 1, 2, 3, 4, 5, 0, time.UTC), "09870102T030405"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := FormatDate(tc.in); got != tc.want {
				t.Fatalf("FormatDate = %q, want %q", got, tc.want)
			}
			back, ok := ParseDate(tc.want, tc.in.Location())
			if !ok || !back.Equal(tc.in.Truncate(time.Second)) {
				t.Fatalf("round trip: %v, %v", back, ok)
			}
		})
	}
}
