package camsim

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// Config describes one simulated camera. Only Dir is required.
type Config struct {
	// Dir is the memory card in slot 1: its entries are the card's root
	// (usually DCIM/...). Dotfiles, symlinks and unreadable entries are
	// not on the card.
	Dir string

	// Identity, as reported in DeviceInfo; Model is also the name in the
	// Init Command Ack. Empty fields take the personality's defaults.
	Model, Serial, Manufacturer, DeviceVersion string
	// VolumeLabel of the card (default "CAMSIM").
	VolumeLabel string
	// GUID sent in the Init Command Ack; zero derives one from the
	// manufacturer, model and serial, so it is stable across runs.
	GUID [16]byte

	// Personality is what the camera make does differently; nil means
	// Generic().
	Personality *Personality

	// Logger receives the simulator's logs (nil: discarded). At Debug
	// level every operation is logged.
	Logger *slog.Logger

	// PollInterval is how often Dir is scanned for added and removed
	// files (default 300 ms; negative disables polling, see Rescan).
	PollInterval time.Duration

	// Location is the time zone in which file modification times become
	// the camera's dates, written as local wall time like a camera
	// clock (default time.Local).
	Location *time.Location
}

// Personality holds everything a camera make does differently. Each field
// is a quirk switch; Generic() sets them for a plain MTP-capable camera.
type Personality struct {
	// Name identifies the personality in logs.
	Name string

	// Defaults for Config's identity fields.
	Manufacturer, Model, Serial, DeviceVersion string

	// DeviceInfo vendor extension.
	VendorExtensionID      uint32
	VendorExtensionVersion uint16
	VendorExtensionDesc    string

	// DataChunk is the most payload bytes one Data or End Data packet
	// carries in a camera->host data phase: the phase is Start Data, Data
	// packets of DataChunk bytes, and an End Data with the last piece
	// (empty when the data is empty).
	DataChunk int

	// MaxConnections is how many command connections may be open at
	// once (0: no limit). A further Init Command Request gets Init Fail
	// (busy).
	MaxConnections int

	// Formats maps a lower-case file extension (with its dot) to the
	// object format reported for it; other files are FormatUndefined.
	Formats map[string]mtp.ObjectFormat

	// Thumbnails makes GetThumb return a small JPEG made from files that
	// decode as JPEG; without it every GetThumb answers
	// NoThumbnailPresent.
	Thumbnails bool
}

// Generic is the personality of a plain MTP-capable camera: Microsoft/MTP
// vendor extension, standard object formats (RAW files are Undefined), data
// split in 64 KiB packets, thumbnails.
//
// libgphoto2 chooses its code path from DeviceInfo; with this one it takes
// its MTP path (see the package tests in test/gphoto2_test.go).
func Generic() *Personality {
	return &Personality{
		Name:                   "generic",
		Manufacturer:           "airnef-mount",
		Model:                  "CamSim",
		Serial:                 "000000000001",
		DeviceVersion:          "1.0",
		VendorExtensionID:      0x00000006,
		VendorExtensionVersion: 100,
		VendorExtensionDesc:    "microsoft.com: 1.0;",
		DataChunk:              64 << 10,
		Formats: map[string]mtp.ObjectFormat{
			".jpg": mtp.FormatEXIFJPEG, ".jpeg": mtp.FormatEXIFJPEG,
			".tif": mtp.FormatTIFF, ".tiff": mtp.FormatTIFF,
			".png": mtp.FormatPNG, ".dng": mtp.FormatDNG,
			".mov": mtp.FormatQuickTime, ".mp4": mtp.FormatMP4,
			".avi": mtp.FormatAVI, ".wav": mtp.FormatWAV,
			".txt":  mtp.FormatText,
			".heif": mtp.FormatHEIF, ".heic": mtp.FormatHEIF, ".hif": mtp.FormatHEIF,
		},
		Thumbnails: true,
	}
}

// settings is Config with every default filled in.
type settings struct {
	Config
	p *Personality
}

func (cfg Config) resolve() (*settings, error) {
	if cfg.Dir == "" {
		return nil, errors.New("camsim: no card directory")
	}
	fi, err := os.Stat(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("camsim: card: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("camsim: card %s is not a directory", cfg.Dir)
	}
	p := cfg.Personality
	if p == nil {
		p = Generic()
	}
	if p.DataChunk <= 0 {
		return nil, fmt.Errorf("camsim: personality %s: DataChunk %d", p.Name, p.DataChunk)
	}
	s := &settings{Config: cfg, p: p}
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&s.Manufacturer, p.Manufacturer)
	def(&s.Model, p.Model)
	def(&s.Serial, p.Serial)
	def(&s.DeviceVersion, p.DeviceVersion)
	def(&s.VolumeLabel, "CAMSIM")
	if s.GUID == ([16]byte{}) {
		sum := sha256.Sum256([]byte(s.Manufacturer + "\x00" + s.Model + "\x00" + s.Serial))
		copy(s.GUID[:], sum[:])
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.PollInterval == 0 {
		s.PollInterval = 300 * time.Millisecond
	}
	if s.Location == nil {
		s.Location = time.Local
	}
	return s, nil
}
