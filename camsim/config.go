package camsim

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// Config describes one simulated camera. Slot 1 holds Dir or a generated
// card (Generate), never both; Dir2 is an optional card in slot 2.
type Config struct {
	// Dir is the memory card in slot 1: its entries are the card's root
	// (usually DCIM/...). Dotfiles, symlinks and unreadable entries are
	// not on the card.
	Dir string
	// Generate makes slot 1 a generated card instead of Dir: files whose
	// bytes are computed when read, never stored (see CardSpec).
	Generate *CardSpec
	// Dir2 is the memory card in slot 2 (storage 0x00020001) of a
	// dual-slot camera; empty: slot 2 is not reported.
	Dir2 string

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

	// Link model: Rate is the camera->host bandwidth in bytes per second
	// (0: unlimited), applied to every byte the camera sends on either
	// connection; Latency delays the first packet of each operation's
	// answer by one round trip.
	Rate    int64
	Latency time.Duration

	// AuthDelay is how long the camera waits before answering an Init
	// Command Request: Canon shows an authorisation prompt there that the
	// user must accept.
	AuthDelay time.Duration
	// ProbeRefuse makes the camera drop the whole PTP/IP connection (both
	// TCP connections) when the host sends a Probe Request on the event
	// connection, as reported for some Canon bodies ("connection
	// refused" in a fork of Airnef). Default: probes are answered.
	ProbeRefuse bool

	// SonyPairedMAC is the MAC of the computer a Sony (SendToComputer)
	// was paired with: it accepts GUID 00x8 FF FF <MAC> and zero-tail
	// GUIDs, and refuses any other with Init Fail reason 1.
	SonyPairedMAC net.HardwareAddr
	// SonyGiveUp is how long a Sony waits for the "Sending..." command
	// before it ends Send to Computer (default DefaultSonyGiveUp).
	SonyGiveUp time.Duration

	// Faults (faults.go): Deny lists globs of card paths whose reads
	// answer AccessDenied; DropAfter > 0 cuts every PTP/IP connection
	// once after the camera has sent that many bytes. Hostile lists
	// hostile kinds (hostile.go, HostileKinds) added to slot 1.
	Deny      []string
	DropAfter int64
	Hostile   []string
	// HostileAlike is how many files the alike kind puts in ALIKE/
	// (default DefaultHostileAlike).
	HostileAlike int

	// Quirks (quirks.go) are foreign responders' answers to tolerate; all
	// off by default.
	Quirks Quirks
	// StrictSending makes a Sony refuse storage and object operations
	// until "Sending..." (sony.go); by default it accepts them.
	StrictSending bool

	// TransferList marks the first N photos of a Nikon (in card and path
	// order) as selected on the camera to send (selection.go); 0: none,
	// GetTransferList answers NoTransferList. RefuseUnmarked makes reads
	// of the photos not marked answer AccessDenied, as a Nikon Z on WiFi
	// does.
	TransferList   int
	RefuseUnmarked bool
	// ClockOffset is how far the camera's clock is off the host's
	// (clock.go): negative runs behind.
	ClockOffset time.Duration
	// SonyMode is a Sony's WiFi mode: "computer" (default, Send to
	// Computer, PTP/IP) or "smartphone" (Send to Smartphone: other SSDP
	// services, no PTP/IP; see SonyModeSmartphone).
	SonyMode string

	// Logger receives the simulator's logs (nil: discarded). At Debug
	// level every operation is logged.
	Logger *slog.Logger

	// PollInterval is how often the directories are scanned for added and
	// removed files (default 300 ms; negative disables polling, see
	// Rescan).
	PollInterval time.Duration

	// Location is the time zone in which file modification times become
	// the camera's dates, written as local wall time like a camera
	// clock (default time.Local).
	Location *time.Location
}

// Personality holds everything a camera make does differently. Each field
// is a quirk switch; Generic(), Nikon() and Canon() set them per make.
type Personality struct {
	// Name identifies the personality in logs and on the command line:
	// a body's name, or its make's.
	Name string
	// Make is the camera make whose quirks these are: generic, nikon,
	// canon or sony.
	Make string

	// Defaults for Config's identity fields.
	Manufacturer, Model, Serial, DeviceVersion string

	// DeviceInfo vendor extension.
	VendorExtensionID      uint32
	VendorExtensionVersion uint16
	VendorExtensionDesc    string

	// Ops lists the operations the camera implements and reports in
	// DeviceInfo; each must be one the simulator knows (see allOps).
	Ops []mtp.OpCode

	// DataChunk is the most payload bytes one Data or End Data packet
	// carries in a camera->host data phase: the phase is Start Data, Data
	// packets of DataChunk bytes, and an End Data with the last piece
	// (empty when the data is empty).
	DataChunk int
	// EndDataOnly sends every data phase as Start Data and one End Data
	// holding all the bytes, no Data packet (Nikon). DataChunk is then
	// unused.
	EndDataOnly bool

	// MaxConnections is how many command connections may be open at
	// once (0: no limit). A further Init Command Request gets Init Fail
	// (busy).
	MaxConnections int

	// Formats maps a lower-case file extension (with its dot) to the
	// object format reported for it; other files are FormatUndefined.
	Formats map[string]mtp.ObjectFormat

	// Thumbnails makes GetThumb (and Nikon's GetLargeThumb, where Ops
	// lists it) return the thumbnail the camera keeps of a file: a
	// generated photo's or movie's, a JPEG's EXIF thumbnail or one made
	// from its picture, a RAW's embedded JPEG; without it every GetThumb
	// answers NoThumbnailPresent.
	Thumbnails bool

	// DateTail is appended to every date string (Canon: ".0", tenths of
	// a second).
	DateTail string
	// HalveSeconds reports the seconds of dates halved (Nikon D7200/D750
	// firmware: 15:05:40 is reported as 15:05:20). The card's file system
	// stores seconds/2 (FAT's 2-second resolution) and the firmware
	// forgets to double them.
	HalveSeconds bool

	// ProbeRequired hangs a session whose first operation comes less
	// than a second after the event connection opened without a Probe
	// Request on it: Airnef found Nikon bodies hang the MTP session
	// unless the host probes (or waits a second) before GetDeviceInfo.
	// The camera then never answers on that connection.
	ProbeRequired bool
	// QuickCloseHang makes the next Init Command Request go unanswered
	// when a PTP session ended less than a second after it opened
	// (Nikon D7200/J5).
	QuickCloseHang bool
	// ShotSettle is how long GetObjectInfo answers GeneralError for an
	// object that appeared while the camera runs (a new shot still being
	// written); 0: never.
	ShotSettle time.Duration

	// EncodedHandles makes handles encode the place of an object: slot,
	// folder number and file number (Nikon), rather than counting from 1
	// in the order objects are found.
	EncodedHandles bool

	// Layout is how a generated card names its folders and files.
	Layout Layout

	// SendToComputer is Sony's "Send to Computer": GUID pairing, one
	// session per press, 0x9280/0x9281, the states connecting, sending
	// and asleep (see sony.go). Cards are not polled: new files appear at
	// the next Press.
	SendToComputer bool
	// UndatedFolders reports folders without capture or modification
	// date (Sony's YYYY-MM-DD folders).
	UndatedFolders bool

	// Events is how the camera tells a host of added and removed
	// objects.
	Events EventDelivery

	// Body is the real model whose published DeviceInfo the camera
	// reports (bodies.go): its operations, events, device properties and
	// formats; Ops are then the ones among them the simulator
	// implements. Nil: DeviceInfo lists Ops and the card's formats.
	Body *Body
}

// EventDelivery is how a camera reports changes to its cards.
type EventDelivery uint8

const (
	// EventsOnConnection sends events on the PTP/IP event connection.
	EventsOnConnection EventDelivery = iota
	// EventsGetEvent queues events for Nikon's GetEvent (0x90C7), which
	// the host polls; nothing is sent on the event connection (Nikon
	// bodies of the WU-1a era).
	EventsGetEvent
	// EventsNone reports nothing and lists no events in DeviceInfo: a
	// host sees changes only by listing again (Canon EOS over PTP/IP
	// without its vendor event polling).
	EventsNone
)

// Layout is a make's DCF naming: folder NNN+FolderSuffix, files
// FilePrefix+number and an extension.
type Layout struct {
	FolderSuffix string // "NIKON": DCIM/100NIKON
	FilePrefix   string // "DSC_": DSC_0001.JPG
	RawExt       string // ".NEF"
	VideoExt     string // ".MOV"
}

// standardOps are the PTP operations every personality implements.
var standardOps = []mtp.OpCode{
	mtp.OpGetDeviceInfo, mtp.OpOpenSession, mtp.OpCloseSession,
	mtp.OpGetStorageIDs, mtp.OpGetStorageInfo, mtp.OpGetNumObjects,
	mtp.OpGetObjectHandles, mtp.OpGetObjectInfo, mtp.OpGetObject,
	mtp.OpGetThumb, mtp.OpGetPartialObject,
}

// Generic is the personality of a plain MTP-capable camera: Microsoft/MTP
// vendor extension, standard object formats (RAW files are Undefined), the
// MTP object property operations and Android's 64-bit read, data split in
// 64 KiB packets, thumbnails.
//
// libgphoto2 chooses its code path from DeviceInfo; with this one it takes
// its MTP path (see the package tests in test/gphoto2_test.go).
func Generic() *Personality {
	return &Personality{
		Name:                   "generic",
		Make:                   "generic",
		Manufacturer:           "airnef-mount",
		Model:                  "CamSim",
		Serial:                 "000000000001",
		DeviceVersion:          "1.0",
		VendorExtensionID:      0x00000006,
		VendorExtensionVersion: 100,
		VendorExtensionDesc:    "microsoft.com: 1.0;",
		Ops: append(append([]mtp.OpCode(nil), standardOps...),
			mtp.OpGetObjectPropsSupported, mtp.OpGetObjectPropDesc, mtp.OpGetObjectPropValue,
			mtp.OpGetObjectPropList, mtp.OpAndroidGetPartialObject64),
		DataChunk: 64 << 10,
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
		Layout:     Layout{FolderSuffix: "MSDCF", FilePrefix: "DSC0", RawExt: ".ARW", VideoExt: ".MP4"},
	}
}

// Nikon is the default Nikon body, the D7200 (bodies.go).
func Nikon() *Personality { return defaultBody("nikon") }

// Canon is the default Canon body, the EOS 6D (bodies.go).
func Canon() *Personality { return defaultBody("canon") }

// Sony is the default Sony body, the ILCE-7M3 (bodies.go).
func Sony() *Personality { return defaultBody("sony") }

// defaultBody is the personality of make's default body.
func defaultBody(make string) *Personality {
	b, err := BodyNamed(defaultBodies[make])
	if err != nil {
		panic(err)
	}
	return b.Personality()
}

// nikonMake is a Nikon DSLR on WiFi (D7200 with its built-in WiFi or a WU-1a):
// Nikon's vendor extension ID, plain PTP plus Nikon's 64-bit operations
// GetObjectSize (0x9421) and GetPartialObjectEx (0x9431), no MTP property
// operations; data phases as Start Data and one End Data; NEF files as
// format 0x3000 (Undefined), which is what Nikon bodies report for them
// (libgphoto2 recognises NEF by the file name, not the format code);
// and the quirks Airnef and libgphoto2 users met: halved seconds, the
// probe it needs, the hang after a quick close, GeneralError right after a
// shot, and handles that encode where an object is.
func nikonMake() *Personality {
	return &Personality{
		Name:                   "nikon",
		Make:                   "nikon",
		Manufacturer:           "Nikon Corporation",
		Model:                  "D7200",
		Serial:                 "3012345",
		DeviceVersion:          "V1.01",
		VendorExtensionID:      0x0000000A,
		VendorExtensionVersion: 100,
		VendorExtensionDesc:    "microsoft.com: 1.0",
		Ops: append(append([]mtp.OpCode(nil), standardOps...),
			mtp.OpNikonGetObjectSize, mtp.OpNikonGetPartialObjectEx, mtp.OpNikonGetEvent,
			mtp.OpNikonGetTransferList, mtp.OpGetDevicePropValue, mtp.OpSetDevicePropValue),
		EndDataOnly:    true,
		MaxConnections: 1,
		Formats: map[string]mtp.ObjectFormat{
			".jpg": mtp.FormatEXIFJPEG, ".nef": mtp.FormatUndefined,
			".mov": mtp.FormatQuickTime, ".avi": mtp.FormatAVI,
		},
		Thumbnails:     true,
		HalveSeconds:   true,
		ProbeRequired:  true,
		QuickCloseHang: true,
		ShotSettle:     time.Second,
		EncodedHandles: true,
		Events:         EventsGetEvent,
		Layout:         Layout{FolderSuffix: "NIKON", FilePrefix: "DSC_", RawExt: ".NEF", VideoExt: ".MOV"},
	}
}

// canonMake is a Canon EOS body on WiFi (6D): Canon's vendor extension ID,
// plain PTP plus the EOS 64-bit operations GetObjectInfo64 (0x9170),
// GetPartialObject64 (0x9172) and GetPartialObjectEx64 (0x9174); data
// phases split in several 16 KiB Data packets; dates with a ".0" tail;
// CR2 files as Canon's format 0xB103. The authorisation prompt
// (Config.AuthDelay) and the refused probe (Config.ProbeRefuse) are set
// per camera.
func canonMake() *Personality {
	return &Personality{
		Name:                   "canon",
		Make:                   "canon",
		Manufacturer:           "Canon Inc.",
		Model:                  "Canon EOS 6D",
		Serial:                 "012345678901",
		DeviceVersion:          "1-1.1.8",
		VendorExtensionID:      0x0000000B,
		VendorExtensionVersion: 100,
		VendorExtensionDesc:    "",
		Ops: append(append([]mtp.OpCode(nil), standardOps...),
			mtp.OpCanonEOSGetObjectInfo64, mtp.OpCanonEOSGetPartialObject64, mtp.OpCanonEOSGetPartialObjectEx64),
		DataChunk: 16 << 10,
		Formats: map[string]mtp.ObjectFormat{
			".jpg": mtp.FormatEXIFJPEG, ".cr2": mtp.FormatCanonCR2, ".cr3": mtp.FormatCanonCR3,
			".crw": mtp.FormatCanonCRW, ".mov": mtp.FormatQuickTime, ".mp4": mtp.FormatMP4,
		},
		Thumbnails: true,
		DateTail:   ".0",
		Events:     EventsNone,
		Layout:     Layout{FolderSuffix: "CANON", FilePrefix: "IMG_", RawExt: ".CR2", VideoExt: ".MOV"},
	}
}

// PersonalityNamed returns the personality called name: generic, or a
// make (nikon, canon, sony), which stands for its default body.
func PersonalityNamed(name string) (*Personality, error) {
	switch name {
	case "generic", "":
		return Generic(), nil
	case "nikon", "canon", "sony":
		return defaultBody(name), nil
	}
	return nil, fmt.Errorf("camsim: unknown personality %q (generic, nikon, canon, sony)", name)
}

// settings is Config with every default filled in.
type settings struct {
	Config
	p *Personality
}

func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("camsim: card: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("camsim: card %s is not a directory", dir)
	}
	return nil
}

func (cfg Config) resolve() (*settings, error) {
	switch {
	case cfg.Dir == "" && cfg.Generate == nil:
		return nil, errors.New("camsim: no card directory and no generated card")
	case cfg.Dir != "" && cfg.Generate != nil:
		return nil, errors.New("camsim: a card directory and a generated card both in slot 1")
	}
	if cfg.Dir != "" {
		if err := checkDir(cfg.Dir); err != nil {
			return nil, err
		}
	}
	if cfg.Dir2 != "" {
		if err := checkDir(cfg.Dir2); err != nil {
			return nil, err
		}
	}
	if cfg.Rate < 0 || cfg.Latency < 0 || cfg.AuthDelay < 0 {
		return nil, errors.New("camsim: negative rate, latency or auth delay")
	}
	p := cfg.Personality
	if p == nil {
		p = Generic()
	}
	if p.DataChunk <= 0 && !p.EndDataOnly {
		return nil, fmt.Errorf("camsim: personality %s: DataChunk %d", p.Name, p.DataChunk)
	}
	for _, op := range p.Ops {
		if _, ok := allOps[op]; !ok {
			return nil, fmt.Errorf("camsim: personality %s: operation %v is not simulated", p.Name, op)
		}
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
	switch s.SonyMode {
	case "", SonyModeComputer:
	case SonyModeSmartphone:
		if p.Make != "sony" {
			return nil, fmt.Errorf("camsim: --sony-mode %s: a %s camera has no such mode", s.SonyMode, p.Make)
		}
	default:
		return nil, fmt.Errorf("camsim: Sony mode %q (computer or smartphone)", s.SonyMode)
	}
	if s.TransferList < 0 {
		return nil, errors.New("camsim: negative transfer list")
	}
	if s.Location == nil {
		s.Location = time.Local
	}
	return s, nil
}
