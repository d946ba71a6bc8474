package treetest

import "testing"

// Sample is a camera with two cards, an empty slot, nested folders,
// a duplicate name and a file over 4 GiB.
func Sample() *Camera {
	c := New()
	c.AddStorage(0x00010001, "SD", "", 32<<30, 10<<30)
	c.AddStorage(0x00020000, "", "", 0, 0) // empty slot
	c.AddStorage(0x00030001, "", "", 64<<30, 1<<30)
	dcim := c.Add(0x00010001, 0, "DCIM", true, nil, "", "")
	f100 := c.Add(0x00010001, dcim, "100NIKON", true, nil, "20240301T101010", "")
	c.Add(0x00010001, f100, "DSC_0001.JPG", false, []byte("first picture"), "20240315T143025", "20240316T000000")
	c.Add(0x00010001, f100, "DSC_0002.JPG", false, []byte("second"), "", "20240316T080000")
	c.Add(0x00010001, f100, "DSC_0003.JPG", false, []byte("third"), "19800000T000000", "")
	c.Add(0x00010001, f100, "a/b.JPG", false, []byte("slash"), "20240101T000000", "")
	c.Add(0x00010001, f100, "a_b.JPG", false, []byte("underscore"), "20240101T000000", "")
	c.Add(0x00010001, 0, "2024-03-15", true, nil, "", "") // Sony's dated folder
	big := c.Add(0x00030001, 0, "BIG.MOV", false, nil, "20240102T030405", "")
	c.Objects[big].Info.CompressedSize = 0xFFFFFFFF
	c.Objects[big].Size = 5 << 30
	return c
}

// RenameSample is a Nikon with two cards: the same file name in two
// folders with the same capture second (a tie broken by folder), the same
// name on the second card a day earlier, a file without a date, and a
// name with a backslash.
func RenameSample() *Camera {
	c := New()
	c.AddStorage(0x00010001, "SD", "", 32<<30, 10<<30)
	c.AddStorage(0x00020001, "SD2", "", 32<<30, 10<<30)
	dcim := c.Add(0x00010001, 0, "DCIM", true, nil, "", "")
	f100 := c.Add(0x00010001, dcim, "100NIKON", true, nil, "", "")
	f101 := c.Add(0x00010001, dcim, "101NIKON", true, nil, "", "")
	c.Add(0x00010001, f100, "DSC_0002.NEF", false, []byte("two"), "20150924T150000", "")
	c.Add(0x00010001, f101, "DSC_0001.NEF", false, []byte("one in 101"), "20150924T140513", "")
	c.Add(0x00010001, f100, "DSC_0001.NEF", false, []byte("one in 100"), "20150924T140513", "")
	c.Add(0x00010001, f100, "NODATE.JPG", false, []byte("no date"), "", "")
	dcim2 := c.Add(0x00020001, 0, "DCIM", true, nil, "", "")
	f2 := c.Add(0x00020001, dcim2, "100NIKON", true, nil, "", "")
	c.Add(0x00020001, f2, "DSC_0001.NEF", false, []byte("one on card 2"), "20150923T100000", "")
	c.Add(0x00020001, f2, `A\B.JPG`, false, []byte("backslash"), "20150925T000000", "")
	return c
}

// FindHandle is the handle of the object called name on storage.
// FindHandle is the handle of the object called name on storage.
func FindHandle(t *testing.T, c *Camera, storage uint32, name string) uint32 {
	t.Helper()
	c.Mu.Lock()
	defer c.Mu.Unlock()
	for h, o := range c.Objects {
		if o.Info.StorageID == storage && o.Info.Filename == name {
			return h
		}
	}
	t.Fatalf("no %q on storage %#x", name, storage)
	return 0
}
