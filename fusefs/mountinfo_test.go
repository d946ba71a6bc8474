package fusefs

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseMountinfo(t *testing.T) {
	const in = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
36 22 0:45 / /home/u/cam\040one rw,nosuid,nodev,relatime shared:7 master:2 - fuse.airnef-mount Nikon\040D7200 rw,user_id=0,group_id=0
37 22 0:46 / /mnt/back\134slash ro - fuse.sshfs u@h:/x ro
`
	got, err := parseMountinfo(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []MountEntry{
		{Dev: "8:1", Point: "/", FSType: "ext4", Source: "/dev/sda1"},
		{Dev: "0:45", Point: "/home/u/cam one", FSType: FSType, Source: "Nikon D7200"},
		{Dev: "0:46", Point: `/mnt/back\slash`, FSType: "fuse.sshfs", Source: "u@h:/x"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if !got[1].Ours() || got[2].Ours() {
		t.Error("Ours() wrong")
	}
	for _, bad := range []string{"1 2 3", "1 2 0:1 / /x rw shared:1 ext4 /dev/x rw", "1 2 0:1 / /x rw - ext4"} {
		if _, err := parseMountinfo(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestMountAt(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link")
	if err := os.Symlink("/", link); err != nil {
		t.Fatal(err)
	}
	old := mountinfoPath
	mountinfoPath = filepath.Join(dir, "mountinfo")
	t.Cleanup(func() { mountinfoPath = old })
	os.WriteFile(mountinfoPath, []byte("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n23 22 0:5 / / rw - tmpfs tmpfs rw\n"), 0o644)
	m, ok, err := MountAt(link)
	if err != nil || !ok || m.FSType != "tmpfs" {
		t.Errorf("MountAt(%s) = %+v, %t, %v; want the tmpfs on top", link, m, ok, err)
	}
	if _, ok, _ := MountAt(dir); ok {
		t.Errorf("%s is no mount point", dir)
	}
}
