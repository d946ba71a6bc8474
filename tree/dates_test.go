package tree

import (
	"context"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// Folders without a date of their own, card roots and the root take their
// newest entry's date, as far as listed; a dated folder keeps its own.
func TestDirTime(t *testing.T) {
	c := treetest.New()
	c.AddStorage(0x00010001, "SD", "", 1<<30, 1<<29)
	dcim := c.Add(0x00010001, 0, "DCIM", true, nil, "", "")                        // no date (Nikon)
	old := c.Add(0x00010001, dcim, "100OLD", true, nil, "20230101T000000", "")     // dated
	undated := c.Add(0x00010001, dcim, "101NEW", true, nil, "19800000T000000", "") // an invalid date
	c.Add(0x00010001, old, "A.JPG", false, []byte("a"), "20230105T100000", "")
	c.Add(0x00010001, undated, "B.JPG", false, []byte("b"), "20240315T120000", "")
	c.Add(0x00010001, undated, "C.JPG", false, []byte("c"), "20240316T080000", "")
	c.Add(0x00010001, 0, "EMPTY", true, nil, "", "")
	tr := newTestTree(t, c)
	ctx := context.Background()
	utc := func(s string) time.Time {
		tm, err := time.Parse("2006-01-02 15:04", s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	check := func(what string, o *Object, want time.Time, wantOK bool) {
		t.Helper()
		got, ok := tr.DirTime(o)
		if ok != wantOK || (ok && !got.Equal(want)) {
			t.Errorf("%s: DirTime = %v, %t; want %v, %t", what, got, ok, want, wantOK)
		}
	}

	sd := walk(t, tr, "SD")
	check("the root, its cards not listed", tr.Root(), time.Time{}, false)
	d := walk(t, tr, "SD", "DCIM")
	check("the card root, DCIM not listed", sd, time.Time{}, false)
	check("DCIM, not listed", d, time.Time{}, false)
	tr.List(ctx, d)
	check("DCIM, 101NEW not listed", d, utc("2023-01-01 00:00"), true)
	check("100OLD, its own", walk(t, tr, "SD", "DCIM", "100OLD"), utc("2023-01-01 00:00"), true)
	tr.List(ctx, walk(t, tr, "SD", "DCIM", "101NEW"))
	check("101NEW, its newest file", walk(t, tr, "SD", "DCIM", "101NEW"), utc("2024-03-16 08:00"), true)
	check("DCIM, once all listed", d, utc("2024-03-16 08:00"), true)
	check("the card root", sd, utc("2024-03-16 08:00"), true)
	check("the root", tr.Root(), utc("2024-03-16 08:00"), true)
	empty := walk(t, tr, "SD", "EMPTY")
	tr.List(ctx, empty)
	check("an empty folder without a date", empty, time.Time{}, false)
	if !sd.DatedByEntries() || walk(t, tr, "SD", "DCIM", "100OLD").DatedByEntries() {
		t.Error("DatedByEntries wrong")
	}
}
