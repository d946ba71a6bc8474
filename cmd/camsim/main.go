// Command camsim runs a simulated PTP/IP camera: the camera of the
// project's tests and demo. Its memory card is a directory or a generated
// card; it speaks as a real camera body (--body, --list-bodies) or a generic
// MTP camera, over a link of chosen rate and latency, and a control socket
// lets scripts steer it.
//
//	camsim --listen 127.0.0.1:15740 (--dir DIR | --photos N [--seed S] [--video SIZE] ...) [--body eos-6d] [--control PATH] ...
//
// Once listening it prints one line, "listening ADDR:PORT", on standard
// output; logs go to standard error. SIGINT or SIGTERM stop it with status 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "camsim:", err)
		os.Exit(1)
	}
}

// errUsage is a command line that could not be used; usage was printed.
var errUsage = errors.New("usage")

// byteSize is a flag of bytes: an integer with an optional suffix k, M, G,
// T (powers of 1000) or Ki, Mi, Gi, Ti (powers of 1024), "B" allowed.
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	*b = byteSize(n)
	return err
}

func parseSize(s string) (int64, error) {
	t := strings.TrimSuffix(strings.TrimSpace(s), "B")
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSuffix(t, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// parseDate reads 2024-03-01 or an RFC 3339 time.
func parseDate(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		return t, nil
	}
	return time.Parse(time.RFC3339, s)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("camsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:15740", "TCP `address` to listen on, for both PTP/IP connections (port 0 picks a free port)")
	dir := fs.String("dir", "", "`directory` served as the memory card in slot 1; its entries are the card's root, e.g. DCIM/")
	dir2 := fs.String("dir2", "", "`directory` served as a second card, in slot 2 (storage 0x00020001)")
	vendor := fs.String("vendor", "generic", "camera `make`: generic (MTP), or nikon, canon or sony for its default body (d7200, eos-6d, ilce-7m3)")
	body := fs.String("body", "", "real camera `model` (see --list-bodies): its published DeviceInfo and its make's quirks")
	listBodies := fs.Bool("list-bodies", false, "print the bodies, one per line: NAME, make, model; then exit")
	without := fs.String("without", "", "run the body without these operations (comma-separated `codes`, e.g. 0x9109): its DeviceInfo does not list them; for comparisons")
	var quirks quirkList
	fs.Var(&quirks, "quirk", "answer like some foreign responders: `NAME` is "+strings.Join(camsim.QuirkNames, ", ")+" (repeatable; see below)")
	strictSending := fs.Bool("strict-sending", false, "Sony: refuse storage and object operations until \"Sending...\" (as the RX100M6 in libgphoto2's issue)")
	pairedMAC := fs.String("sony-paired-mac", "", "Sony: `MAC` of the computer the camera is paired with: only its GUID 00x8 FF FF MAC is accepted (unpaired: GUIDs with a zero tail)")
	giveUp := fs.Duration("sony-giveup", camsim.DefaultSonyGiveUp, "Sony: how `long` the camera waits for the \"Sending...\" command before it gives up")
	ssdpOn := fs.Bool("ssdp", false, "announce the camera by SSDP (sony, canon) with its real NOTIFY headers, and serve its description")
	ssdpIface := fs.String("ssdp-interface", "lo", "network `interface` the SSDP announcements go out on")
	ssdpInterval := fs.Duration("ssdp-interval", 3*time.Second, "how often the NOTIFYs are repeated while the camera is awake")
	model := fs.String("model", "", "camera `model` in DeviceInfo and the Init Command Ack (default: the make's, \"CamSim\" for generic)")
	serial := fs.String("serial", "", "serial `number` in DeviceInfo (default: the make's)")
	manufacturer := fs.String("manufacturer", "", "`manufacturer` in DeviceInfo (default: the make's, \"airnef-mount\" for generic)")
	photos := fs.Int("photos", 0, "generate a card of `N` photos in slot 1 instead of --dir")
	seed := fs.Uint64("seed", 1, "`seed` of the generated card: same seed, same card")
	folders := fs.Int("folders", 1, "spread the generated photos over `F` DCF folders")
	var size, video, rate byteSize
	fs.Var(&size, "size", "every generated photo file exactly `BYTES` long (default: camera-like sizes; minimum 256Ki)")
	fs.Var(&video, "video", "add one generated movie of `SIZE` bytes (may exceed 4 GiB; never stored)")
	from := fs.String("from", "", "first capture `date` of the generated card (2024-03-01 or RFC 3339; default 2024-03-01 08:00)")
	to := fs.String("to", "", "last capture `date` of the generated card (default 2024-09-30 20:00)")
	fs.Var(&rate, "rate", "link rate in `BYTES` per second for what the camera sends, e.g. 2M (0: unlimited)")
	latency := fs.Duration("latency", 0, "delay of each operation's answer: one round trip, e.g. 20ms")
	authDelay := fs.Duration("auth-delay", 0, "wait this `long` before answering an Init Command Request (Canon's authorisation prompt)")
	probe := fs.String("probe", "answer", "what the camera does with a Probe Request on the event connection: answer, or refuse (drop the connection, as reported for some Canon bodies)")
	control := fs.String("control", "", "unix socket `path` taking control commands (see below)")
	debug := fs.Bool("debug", false, "log every PTP operation")
	var deny globList
	fs.Var(&deny, "deny", "answer AccessDenied to reads of card paths matching `GLOB` (repeatable; \"2:GLOB\" for slot 2)")
	var dropAfter byteSize
	fs.Var(&dropAfter, "drop-after", "close every PTP/IP connection once, after the camera has sent `BYTES` (0: never)")
	transferList := fs.Int("transfer-list", 0, "Nikon: mark the first `N` photos as selected on the camera to send (GetTransferList 0x9408 answers them; 0: NoTransferList)")
	refuseUnmarked := fs.Bool("refuse-unmarked", false, "Nikon Z on WiFi: answer AccessDenied to reads of photos not marked on the camera")
	clockOffset := fs.Duration("clock-offset", 0, "the camera's clock is off the host's by this `duration` (e.g. -1h: behind)")
	sonyMode := fs.String("sony-mode", camsim.SonyModeComputer, "Sony WiFi `mode`: computer (Send to Computer, PTP/IP) or smartphone (Send to Smartphone: announces a media server, refuses PTP/IP)")
	hostileAlike := fs.Int("hostile-alike", camsim.DefaultHostileAlike, "how many files named alike --hostile alike puts in ALIKE/")
	hostileKinds := fs.String("hostile", "", "add hostile objects to slot 1: a comma-separated `list` of "+strings.Join(camsim.HostileKinds, ", ")+", or all (see below)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: camsim (--dir DIR | --photos N | --video SIZE) [flags]\n\n"+
			"camsim is a simulated PTP/IP camera serving a memory card read-only: a\n"+
			"directory (--dir) or a generated card (--photos, --video) in slot 1, and\n"+
			"optionally a directory in slot 2 (--dir2). It prints \"listening ADDR:PORT\"\n"+
			"on stdout once it accepts connections, and stops on SIGINT or SIGTERM.\n\n"+
			"Bodies (--body NAME; --list-bodies prints them): real models whose published\n"+
			"DeviceInfo the camera reports (operations, events, device properties, formats;\n"+
			"sources in camsim/bodies.go), with their make's quirks. Operations a body lists\n"+
			"that the simulator does not implement answer OperationNotSupported.\n"+
			"  nikon    d7200 (--vendor nikon), d750, z6: one End Data per data phase, seconds\n"+
			"           halved (D7200, D750), needs the probe (or a 1 s pause) before the\n"+
			"           first operation, hangs the next Init after a session shorter than\n"+
			"           1 s (D7200), GeneralError from GetObjectInfo for 1 s after a new\n"+
			"           shot, handles encoding slot/folder/file number, GetEvent 0x90C7;\n"+
			"           GetTransferList 0x9408 answers the photos marked (--transfer-list,\n"+
			"           mark/unmark), a Z's reads of the others AccessDenied (--refuse-unmarked)\n"+
			"  canon    eos-6d (--vendor canon), eos-80d, eos-r: GetObjectInfoEx 0x9109 lists\n"+
			"           a folder in one operation, 16 KiB Data packets, dates with \".0\", no\n"+
			"           PTP events; see --auth-delay and --probe=refuse\n"+
			"  sony     ilce-7m3 (--vendor sony), dsc-rx100, ilce-7s in Send to Computer: GUID\n"+
			"           pairing (--sony-paired-mac, zero-tail GUIDs accepted), one session per\n"+
			"           press, 0x9280/0x9281, connecting -> sending -> asleep, gives up\n"+
			"           without \"Sending...\" (--sony-giveup), ARW as 0xB101, undated\n"+
			"           YYYY-MM-DD folders; storage and object operations are answered\n"+
			"           before \"Sending...\" unless --strict-sending; --sony-mode smartphone\n"+
			"           announces Send to Smartphone's media server and refuses PTP/IP\n"+
			"  generic  (--vendor generic, the default) an MTP camera: GetObjectPropList,\n"+
			"           Android 64-bit read 0x95C1; not a real model\n\n"+
			"Quirks (--quirk NAME, repeatable): answers some responders give\n"+
			"  tid-zero          transaction ID 0 in every data and response packet\n"+
			"  storage-mismatch  objects report a StorageID the camera does not list\n"+
			"  proplist-drops    GetObjectPropList leaves out every other object\n"+
			"  nikon-z-unmarked  GetObject and GetPartialObject answer AccessDenied, GetPartialObjectEx\n"+
			"                    0x9431 reads (a Nikon Z with images not marked for upload)\n\n"+
			"%s\n%s\n%s\n%s\nFlags:\n", camsim.ControlHelp, camsim.FaultControlHelp, camsim.SelectionControlHelp, hostileHelp)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if *listBodies {
		for _, b := range camsim.Bodies() {
			fmt.Fprintf(stdout, "%s\t%s\t%s\n", b.Name, b.Manufacturer, b.Model)
		}
		return nil
	}
	usage := func(format string, a ...any) error {
		fmt.Fprintf(stderr, "camsim: "+format+"\n", a...)
		fs.Usage()
		return errUsage
	}
	generated := *photos > 0 || video > 0
	switch {
	case fs.NArg() != 0:
		return usage("unexpected argument %q", fs.Arg(0))
	case *dir == "" && !generated:
		return usage("--dir or --photos/--video is required")
	case *dir != "" && generated:
		return usage("--dir and a generated card (--photos, --video) both want slot 1: use --dir2 for a second card")
	case *probe != "answer" && *probe != "refuse":
		return usage("--probe %q: answer or refuse", *probe)
	}
	p, err := camsim.PersonalityNamed(*vendor)
	if err != nil {
		return usage("--vendor %q: generic, nikon, canon or sony", *vendor)
	}
	if *body != "" {
		vendorSet := false
		fs.Visit(func(f *flag.Flag) { vendorSet = vendorSet || f.Name == "vendor" })
		if vendorSet {
			return usage("--body and --vendor both choose the camera: give one")
		}
		b, err := camsim.BodyNamed(*body)
		if err != nil {
			return usage("--body %q: see --list-bodies", *body)
		}
		var off []mtp.OpCode
		for _, f := range strings.Split(*without, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			v, err := strconv.ParseUint(f, 0, 16)
			if err != nil {
				return usage("--without %q: operation codes such as 0x9109", *without)
			}
			off = append(off, mtp.OpCode(v))
		}
		p = b.Without(off...).Personality()
	} else if *without != "" {
		return usage("--without needs --body")
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cfg := camsim.Config{
		Dir: *dir, Dir2: *dir2, Personality: p,
		Model: *model, Serial: *serial, Manufacturer: *manufacturer, Logger: log,
		Rate: int64(rate), Latency: *latency, AuthDelay: *authDelay, ProbeRefuse: *probe == "refuse",
		SonyGiveUp: *giveUp, Quirks: quirks.q, StrictSending: *strictSending,
		Deny: deny, DropAfter: int64(dropAfter),
		TransferList: *transferList, RefuseUnmarked: *refuseUnmarked, ClockOffset: *clockOffset, SonyMode: *sonyMode,
	}
	if generated {
		spec := &camsim.CardSpec{Photos: *photos, Seed: *seed, Folders: *folders, Size: int64(size), Video: int64(video)}
		for _, d := range []struct {
			s string
			t *time.Time
		}{{*from, &spec.From}, {*to, &spec.To}} {
			if d.s == "" {
				continue
			}
			if *d.t, err = parseDate(d.s, time.Local); err != nil {
				return usage("bad date %q: %v", d.s, err)
			}
		}
		cfg.Generate = spec
	}
	if *hostileKinds != "" {
		cfg.Hostile = strings.Split(*hostileKinds, ",")
		cfg.HostileAlike = *hostileAlike
	}
	if *pairedMAC != "" {
		if cfg.SonyPairedMAC, err = net.ParseMAC(*pairedMAC); err != nil {
			return usage("--sony-paired-mac: %v", err)
		}
	}
	cam, err := camsim.New(cfg)
	if err != nil {
		return err
	}
	addr, err := cam.Start(*listen)
	if err != nil {
		cam.Close()
		return err
	}
	if *control != "" {
		if err := cam.ServeControl(*control); err != nil {
			cam.Close()
			return err
		}
	}
	if *ssdpOn {
		if err := cam.StartSSDP(camsim.SSDPConfig{Interface: *ssdpIface, Interval: *ssdpInterval}); err != nil {
			cam.Close()
			return err
		}
	}
	fmt.Fprintf(stdout, "listening %s\n", addr)
	<-ctx.Done()
	log.Info("stopping", "cause", context.Cause(ctx))
	return cam.Close()
}

// quirkList is the repeatable --quirk flag.
type quirkList struct {
	q     camsim.Quirks
	names []string
}

func (l *quirkList) String() string { return strings.Join(l.names, ",") }

func (l *quirkList) Set(s string) error {
	if err := l.q.Set(s); err != nil {
		return err
	}
	l.names = append(l.names, s)
	return nil
}

// globList is a repeatable flag.
type globList []string

func (g *globList) String() string { return strings.Join(*g, " ") }

func (g *globList) Set(s string) error {
	*g = append(*g, s)
	return nil
}

// hostileHelp documents --hostile.
const hostileHelp = `Hostile kinds (--hostile KIND,...; objects added to the top level of slot 1):
  names       NAMES/: names with '/', "..", ".", empty, NUL inside and leading, lone and
              reversed UTF-16 surrogates, control characters, a 304-byte name
  duplicates  DUPS/: three files and two folders named alike, one handle listed twice
  cycles      CYCLE_A and CYCLE_B (each the other's parent) and SELF (its own) in the
              top-level list; LOOP/INNER/ whose handle list holds INNER and LOOP again
  deep        DEEP/d/d/...: 10,000 nested folders
  many        MANY/: 250,000 files (computed, never stored)
  huge        HUGE.MOV: CompressedSize 0xFFFFFFF0, bytes computed when read
  truncated   TRUNCATED.JPG: reads get a Data packet cut short, then the connection ends
  oversized   OVERSIZED.JPG: reads get a response whose Length says ~4 GiB, then the end
  slow        SLOW.JPG: reads get Start Data, then one data byte every half second
  probes      PROBES.JPG: reads get a Probe Request every half second, never data
  events      200,000 ObjectAdded events for handles no object has, once a session opens
  proplist    PROPLIST/: its GetObjectPropList answer describes 7.4 million objects in
              just under 64 MiB (computed); its handle list is empty
  badinfo     BADINFO/: GOOD.JPG, and files whose GetObjectInfo answers AccessDenied,
              GeneralError, and a dataset cut short
  denied      DENIED/: its GetObjectHandles answers AccessDenied
  alike       ALIKE/: --hostile-alike files (default 10,000), all named SAME.JPG
  storages    GetStorageIDs lists 1,000,000 more storages, empty, all called HOSTILE
  zero64      ZERO64.MOV: 4 GiB or more (CompressedSize 0xFFFFFFFF), but a 64-bit size of 0
  strings     make, model, serial and card name with newlines, terminal escapes and
              bidirectional overrides; STRINGS/: files named so
  thumbbomb   THUMBBOMB/: BOMB.JPG's GetThumb is a 68-byte PNG declaring 1,000,000 x 1,000,000
              pixels; GOOD.JPG beside it has a valid thumbnail
  thumbhuge   THUMBHUGE/: HUGE.JPG's GetThumb is a valid 16,000 x 16,000 PNG; GOOD.JPG
`
