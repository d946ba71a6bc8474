package ptpip

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// guidFile is the name of the host GUID file in the state directory.
const guidFile = "guid"

// HostGUID returns this host's PTP/IP identity, kept in stateDir/guid as
// hex text. On first use it creates a random GUID whose last 6 bytes are
// zero and stores it.
//
// The GUID must never change once a camera has seen it: Canon binds its
// WiFi setup to the first GUID that connects, and Sony accepts only the
// GUID of the computer it was paired with (or, as Airnef found, one whose
// last 6 bytes are zero, which is why the random part stops there). So a
// file that cannot be parsed is an error naming it, never silently
// replaced by a new identity.
func HostGUID(stateDir string) ([16]byte, error) {
	if stateDir == "" {
		return [16]byte{}, errors.New("ptpip: no state directory for the host GUID (set XDG_STATE_HOME or HOME)")
	}
	path := filepath.Join(stateDir, guidFile)
	if g, err := readGUID(path); !errors.Is(err, fs.ErrNotExist) {
		return g, err
	}
	var g [16]byte
	if _, err := rand.Read(g[:10]); err != nil {
		return g, fmt.Errorf("ptpip: host GUID: %w", err)
	}
	if err := createGUIDFile(path, g); err != nil {
		if errors.Is(err, fs.ErrExist) {
			// Another process created it first: use theirs.
			return readGUID(path)
		}
		return [16]byte{}, fmt.Errorf("ptpip: storing the host GUID: %w", err)
	}
	return g, nil
}

// readGUID reads a GUID file; a missing file is an error wrapping
// fs.ErrNotExist.
func readGUID(path string) ([16]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return [16]byte{}, fmt.Errorf("ptpip: host GUID: %w", err)
	}
	g, err := ParseGUID(strings.TrimSpace(string(b)))
	if err != nil {
		return g, fmt.Errorf("ptpip: host GUID file %s is corrupt (%w): repair it or delete it, "+
			"knowing that cameras paired with the old GUID (Canon, Sony) must then be set up again", path, err)
	}
	return g, nil
}

// createGUIDFile writes g to path atomically: a temporary file in the same
// directory, synced, then linked into place. Linking fails if path exists,
// so two processes starting at once agree on one GUID; filesystems
// without hard links fall back to rename.
func createGUIDFile(path string, g [16]byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".guid-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if _, err := f.WriteString(FormatGUID(g) + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	err = os.Link(tmp, path)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		err = os.Rename(tmp, path)
	}
	return err
}

// ParseGUID parses 32 hex digits, optionally separated by ':', '-' or
// spaces in any places: "00:11:22:…", a UUID's "00112233-4455-…", or plain
// hex.
func ParseGUID(s string) ([16]byte, error) {
	var g [16]byte
	digits := make([]byte, 0, 32)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ':' || c == '-' || c == ' ':
		case len(digits) == 32:
			return g, fmt.Errorf("ptpip: GUID %q has more than 32 hex digits", s)
		default:
			digits = append(digits, c)
		}
	}
	if len(digits) != 32 {
		return g, fmt.Errorf("ptpip: GUID %q has %d hex digits, want 32", s, len(digits))
	}
	if _, err := hex.Decode(g[:], digits); err != nil {
		return [16]byte{}, fmt.Errorf("ptpip: GUID %q: %w", s, err)
	}
	return g, nil
}

// FormatGUID formats g as 16 colon-separated lowercase hex bytes, the form
// libgphoto2 keeps in ~/.gphoto/settings ("ptp2_ip=guid=…").
func FormatGUID(g [16]byte) string {
	var b strings.Builder
	for i, v := range g {
		if i > 0 {
			b.WriteByte(':')
		}
		fmt.Fprintf(&b, "%02x", v)
	}
	return b.String()
}

// StateDir is the directory for state kept across runs:
// $XDG_STATE_HOME/airnef-mount, or ~/.local/state/airnef-mount. It is ""
// when neither XDG_STATE_HOME (absolute, as the XDG spec requires) nor the
// home directory is known.
func StateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "airnef-mount")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".local", "state", "airnef-mount")
}
