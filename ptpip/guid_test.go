package ptpip

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestParseGUID(t *testing.T) {
	want := [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	ok := []string{
		"00112233445566778899aabbccddeeff",
		"00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
		"00112233-4455-6677-8899-aabbccddeeff",
		"00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff",
		" 0011:2233 4455-6677 8899aabb ccddeeff ",
	}
	for _, s := range ok {
		g, err := ParseGUID(s)
		if err != nil || g != want {
			t.Errorf("ParseGUID(%q) = % x, %v", s, g, err)
		}
	}
	bad := []string{
		"",
		"00112233445566778899aabbccddee",     // 15 bytes
		"00112233445566778899aabbccddeeff00", // 17 bytes
		"00112233445566778899aabbccddeefg",   // not hex
		"0x00112233445566778899aabbccddee",   // prefix
		"00.11.22.33.44.55.66.77.88.99.aa.bb.cc.dd.ee.ff",
		"00112233445566778899aabbccddeef",    // odd
		"00112233445566778899aabbccddeeff\n", // newline is not a separator
	}
	for _, s := range bad {
		if g, err := ParseGUID(s); err == nil {
			t.Errorf("ParseGUID(%q) = % x, want an error", s, g)
		}
	}
}

func TestFormatGUID(t *testing.T) {
	g := [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	const want = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"
	if got := FormatGUID(g); got != want {
		t.Errorf("FormatGUID = %q, want %q", got, want)
	}
	if back, err := ParseGUID(want); err != nil || back != g {
		t.Errorf("ParseGUID(FormatGUID) = % x, %v", back, err)
	}
}

func TestHostGUIDCreatesAndKeeps(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "airnef-mount")
	g, err := HostGUID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if [6]byte(g[10:]) != [6]byte{} {
		t.Errorf("GUID % x: the last 6 bytes must be zero (accepted by unpaired Sony cameras)", g)
	}
	if [10]byte(g[:10]) == [10]byte{} {
		t.Errorf("GUID % x has no random part", g)
	}
	text, err := os.ReadFile(filepath.Join(dir, "guid"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(string(text)) != FormatGUID(g) {
		t.Errorf("file holds %q, want %q", text, FormatGUID(g))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("state dir holds %d entries, want only the guid file (temporary file left?)", len(entries))
	}
	for range 3 {
		again, err := HostGUID(dir)
		if err != nil || again != g {
			t.Fatalf("second HostGUID = % x, %v; want the same % x", again, err, g)
		}
	}
	// Two state directories get two identities.
	other, err := HostGUID(t.TempDir())
	if err != nil || other == g {
		t.Errorf("another state dir: % x, %v", other, err)
	}
}

func TestHostGUIDReadsUserFile(t *testing.T) {
	dir := t.TempDir()
	// A user may paste a Sony pairing GUID (00x8 ff ff + MAC) in any form.
	if err := os.WriteFile(filepath.Join(dir, "guid"), []byte("0000000000000000-ffff-080027f5164f\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := HostGUID(dir)
	want := [16]byte{8: 0xff, 9: 0xff, 10: 0x08, 11: 0x00, 12: 0x27, 13: 0xf5, 14: 0x16, 15: 0x4f}
	if err != nil || g != want {
		t.Errorf("HostGUID = % x, %v; want % x", g, err, want)
	}
}

func TestHostGUIDCorruptFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "guid")
	const corrupt = "not a guid\n"
	if err := os.WriteFile(path, []byte(corrupt), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := HostGUID(dir)
	if err == nil {
		t.Fatal("corrupt file accepted")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
	// The identity is not silently replaced.
	if text, _ := os.ReadFile(path); string(text) != corrupt {
		t.Errorf("corrupt file rewritten to %q", text)
	}
}

func TestHostGUIDErrors(t *testing.T) {
	if _, err := HostGUID(""); err == nil {
		t.Error("empty state dir accepted")
	}
	// The state dir path is a file: nothing can be created under it.
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := HostGUID(file); err == nil {
		t.Error("state dir under a file accepted")
	}
}

// TestHostGUIDConcurrent: processes starting at once agree on one GUID.
func TestHostGUIDConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	got := make([][16]byte, 8)
	for i := range got {
		wg.Go(func() {
			g, err := HostGUID(dir)
			if err != nil {
				t.Error(err)
			}
			got[i] = g
		})
	}
	wg.Wait()
	for _, g := range got[1:] {
		if g != got[0] {
			t.Fatalf("concurrent HostGUID returned different GUIDs: % x and % x", got[0], g)
		}
	}
}

func TestStateDir(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/xdg/state")
	if got := StateDir(); got != "/xdg/state/airnef-mount" {
		t.Errorf("with XDG_STATE_HOME: %q", got)
	}
	t.Setenv("HOME", "/home/u")
	t.Setenv("XDG_STATE_HOME", "")
	if got := StateDir(); got != "/home/u/.local/state/airnef-mount" {
		t.Errorf("without XDG_STATE_HOME: %q", got)
	}
	t.Setenv("XDG_STATE_HOME", "relative/dir") // the XDG spec says to ignore it
	if got := StateDir(); got != "/home/u/.local/state/airnef-mount" {
		t.Errorf("relative XDG_STATE_HOME: %q", got)
	}
	t.Setenv("HOME", "")
	if got := StateDir(); got != "" {
		t.Errorf("no home: %q", got)
	}
}
