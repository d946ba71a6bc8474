package test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// gphoto2 is a real PTP/IP client: these tests check that the simulated
// camera is one, end to end.

const gphotoTimeout = 30 * time.Second

// gphotoGUID is the host GUID gphoto2 is given, so runs are deterministic.
const gphotoGUID = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"

func gphotoTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s is not installed (make deps installs it): %v", name, err)
	}
	return p
}

// gphotoJPEG is a w×h JPEG of noise, which compresses badly: large files
// from small images.
func gphotoJPEG(t *testing.T, w, h int, seed uint64) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range img.Pix {
		if i%4 == 3 {
			img.Pix[i] = 255
		} else {
			img.Pix[i] = uint8(rng.Uint32())
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// gphotoCard is a card of JPEGs of several sizes, one over 1 MiB (gphoto2
// reads files from 1 MiB on with GetPartialObject), and one RAW file that
// the generic camera reports as format 0x3000 (Undefined).
func gphotoCard(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{
		"IMG_0001.JPG": gphotoJPEG(t, 64, 48, 1),
		"IMG_0002.JPG": gphotoJPEG(t, 640, 480, 2),
		"IMG_0003.JPG": gphotoJPEG(t, 1400, 1050, 3),
		"DSC_0004.NEF": bytes.Repeat([]byte("not really a NEF "), 1000),
	}
	if n := len(files["IMG_0003.JPG"]); n <= 1<<20 {
		t.Fatalf("large JPEG has %d bytes, not over 1 MiB", n)
	}
	folder := filepath.Join(dir, "DCIM", "100TEST")
	if err := os.MkdirAll(folder, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(folder, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir, files
}

// gphoto runs gphoto2 against the camera at port with its own HOME.
type gphoto struct {
	bin, home, port string
}

func newGphoto(t *testing.T, port string) *gphoto {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, ".gphoto"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".gphoto", "settings"), []byte("ptp2_ip=guid="+gphotoGUID+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return &gphoto{bin: gphotoTool(t, "gphoto2"), home: home, port: port}
}

func (g *gphoto) command(ctx context.Context, dir string, args ...string) *exec.Cmd {
	args = append([]string{"--port", fmt.Sprintf("ptpip:127.0.0.1:%s:%s", g.port, g.port), "--camera", "PTP/IP Camera"}, args...)
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+g.home, "LANG=C", "LC_ALL=C")
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs gphoto2 to its end and returns its output; it fails the test if
// gphoto2 fails.
func (g *gphoto) run(t *testing.T, dir string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), gphotoTimeout)
	defer cancel()
	out, err := g.command(ctx, dir, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("gphoto2 %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// gphotoCamera serves dir as the card of a generic camera whose identity
// the gphoto2 tests check, watching dir for added and removed files.
func gphotoCamera(t *testing.T, dir string) (*camsim.Camera, string) {
	t.Helper()
	return simStart(t, camsim.Config{
		Dir: dir, Model: "Sim Model 7", Serial: "SN123456", Manufacturer: "Simulated Optics",
		PollInterval: 100 * time.Millisecond,
	})
}

func TestGphoto2(t *testing.T) {
	gphotoTool(t, "gphoto2")
	dir, files := gphotoCard(t)
	cam, port := gphotoCamera(t, dir)
	g := newGphoto(t, port)

	t.Run("summary", func(t *testing.T) {
		out := g.run(t, t.TempDir(), "--summary")
		for _, want := range []string{"Manufacturer: Simulated Optics", "Model: Sim Model 7", "Serial Number: SN123456",
			"StorageDescription: Card 1", "Vendor Extension ID: 0x6"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("list-files", func(t *testing.T) {
		out := g.run(t, t.TempDir(), "--list-files")
		if !strings.Contains(out, fmt.Sprintf("There are %d files in folder '/store_00010001/DCIM/100TEST'", len(files))) {
			t.Errorf("listing:\n%s", out)
		}
		for name := range files {
			if !regexp.MustCompile(`(?m)^#\d+\s+` + regexp.QuoteMeta(name) + `\s`).MatchString(out) {
				t.Errorf("%s not listed:\n%s", name, out)
			}
		}
	})

	t.Run("get-all-files", func(t *testing.T) {
		cwd := t.TempDir()
		log := filepath.Join(t.TempDir(), "gphoto2.log")
		g.run(t, cwd, "--get-all-files", "--debug", "--debug-logfile="+log)
		// On the generic (MTP) path libgphoto2 2.5 downloads the format
		// 0x3000 (Undefined) NEF as well: it skips nothing by format, so
		// every file is compared, not only the JPEGs.
		for name, want := range files {
			got, err := os.ReadFile(filepath.Join(cwd, name))
			if err != nil {
				t.Errorf("%s not downloaded: %v", name, err)
				continue
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s: downloaded %d bytes differ from the card's %d", name, len(got), len(want))
			}
		}
		// Files over 1 MiB are read in 1 MiB GetPartialObject chunks.
		b, err := os.ReadFile(log)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "PTP_OC 0x101b (Get partial object)") {
			t.Error("gphoto2 did not use GetPartialObject")
		}
	})

	t.Run("get-all-thumbnails", func(t *testing.T) {
		cwd := t.TempDir()
		g.run(t, cwd, "--get-all-thumbnails")
		for name := range files {
			thumb := filepath.Join(cwd, "thumb_"+strings.TrimSuffix(name, filepath.Ext(name))+".jpg")
			b, err := os.ReadFile(thumb)
			if strings.HasSuffix(name, ".NEF") { // not a JPEG: no thumbnail
				if err == nil {
					t.Errorf("%s has a thumbnail", name)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			if cfg, err := jpeg.DecodeConfig(bytes.NewReader(b)); err != nil || max(cfg.Width, cfg.Height) > 160 {
				t.Errorf("%s: thumbnail %+v, %v", name, cfg, err)
			}
		}
	})

	t.Run("wait-event", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), gphotoTimeout)
		defer cancel()
		type result struct {
			out []byte
			err error
		}
		done := make(chan result, 1)
		go func() {
			out, err := g.command(ctx, t.TempDir(), "--wait-event=6s").CombinedOutput()
			done <- result{out, err}
		}()
		// gphoto2's stdout is a pipe, hence buffered: wait for its
		// session on the camera's side instead of its "Waiting" line.
		for cam.OpenSessions() == 0 {
			select {
			case r := <-done:
				t.Fatalf("gphoto2 ended before opening a session: %v\n%s", r.err, r.out)
			case <-time.After(20 * time.Millisecond):
			}
		}
		// A file appears, written under a dotfile name and renamed
		// like a camera finishing a shot.
		tmp := filepath.Join(dir, "DCIM", "100TEST", ".new")
		if err := os.WriteFile(tmp, files["IMG_0001.JPG"], 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "DCIM", "100TEST", "NEW_0005.JPG")); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if r.err != nil {
			t.Fatalf("gphoto2 --wait-event: %v\n%s", r.err, r.out)
		}
		if !regexp.MustCompile(`(?m)^FILEADDED NEW_0005\.JPG /store_00010001/DCIM/100TEST$`).Match(r.out) {
			t.Errorf("no FILEADDED line:\n%s", r.out)
		}
	})
}

// TestGphoto2Wire captures a gphoto2 session on loopback and has tshark's
// PTP/IP dissector look for malformed packets.
func TestGphoto2Wire(t *testing.T) {
	gphotoTool(t, "gphoto2")
	dir, files := gphotoCard(t)
	_, port := gphotoCamera(t, dir)
	g := newGphoto(t, port)
	ctx, cancel := context.WithTimeout(context.Background(), 2*gphotoTimeout)
	defer cancel()
	stop := wireCapture(t, ctx, port)

	cwd := t.TempDir()
	g.run(t, cwd, "--get-all-files")
	for name := range files {
		if _, err := os.Stat(filepath.Join(cwd, name)); err != nil {
			t.Errorf("%s not downloaded: %v", name, err)
		}
	}

	decode := stop()
	if out := decode("-Y", "_ws.malformed"); out != "" {
		t.Errorf("tshark finds malformed packets:\n%s", out)
	}
	// The check above means something only if tshark decoded PTP/IP:
	// gphoto2's GUID must be in the Init Command Request it saw.
	guids := decode("-Y", "ptpip.pktType == 1", "-T", "fields", "-e", "ptpip.guid")
	if want := strings.ReplaceAll(gphotoGUID, ":", ""); !strings.Contains(strings.ReplaceAll(guids, ":", ""), want) {
		t.Errorf("tshark saw Init Command Request GUIDs %q, want %s", guids, gphotoGUID)
	}
}

// simStart serves a camera of cfg on 127.0.0.1:0 until the test ends and
// returns it with its port. A generated card is the default.
func simStart(t *testing.T, cfg camsim.Config) (*camsim.Camera, string) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = -1
	}
	cam, err := camsim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	addr, err := cam.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cam.Close() })
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return cam, port
}

// simBytes reads a whole file of the camera's card from its medium: for a
// generated card, straight from the generator.
func simBytes(t *testing.T, cam *camsim.Camera, f camsim.File) []byte {
	t.Helper()
	r, c, err := cam.Open(f.Slot, f.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b := make([]byte, f.Size)
	if _, err := r.ReadAt(b, 0); err != nil && !(err == io.EOF && len(b) == 0) {
		t.Fatalf("%s: %v", f.Path, err)
	}
	return b
}

// gphotoOps counts the operations in a gphoto2 debug log by code.
func gphotoOps(t *testing.T, log string) map[string]int {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]int{}
	for _, m := range regexp.MustCompile(`PTP_OC (0x[0-9a-f]{4})`).FindAllStringSubmatch(string(b), -1) {
		ops[m[1]]++
	}
	return ops
}

// TestGphoto2Vendors runs gphoto2 --list-files and --get-all-files against
// the nikon and canon personalities on generated cards of photos just
// over 1 MiB (so gphoto2 takes its GetPartialObject path), and records
// what it does differently from the generic (MTP) camera.
func TestGphoto2Vendors(t *testing.T) {
	gphotoTool(t, "gphoto2")
	spec := func() *camsim.CardSpec { return &camsim.CardSpec{Photos: 3, Seed: 42, Size: 1<<20 + 4321} }

	t.Run("nikon", func(t *testing.T) {
		t.Parallel()
		// gphoto2 sends no Probe Request after Init Event and starts
		// with OpenSession at once: the D7200 quirk Airnef found (no
		// probe, no second of grace) hangs the session, and gphoto2
		// gives up with a timeout.
		cam, port := simStart(t, camsim.Config{Generate: spec(), Personality: camsim.Nikon()})
		g := newGphoto(t, port)
		ctx, cancel := context.WithTimeout(context.Background(), gphotoTimeout)
		defer cancel()
		out, err := g.command(ctx, t.TempDir(), "--list-files").CombinedOutput()
		if err == nil {
			t.Fatalf("gphoto2 listed a Nikon that needs the probe:\n%s", out)
		}
		if !strings.Contains(string(out), "Timeout") {
			t.Errorf("gphoto2 failed otherwise than by a timeout:\n%s", out)
		}
		if n := cam.OpCount(mtp.OpOpenSession); n != 1 {
			t.Errorf("camera got %d OpenSession, want the 1 it hung on", n)
		}
		if n := cam.OpCount(mtp.OpGetDeviceInfo); n != 0 {
			t.Errorf("camera got %d GetDeviceInfo after hanging", n)
		}
	})

	t.Run("nikon with probe grace", func(t *testing.T) {
		t.Parallel()
		// The same Nikon with that one quirk off (as if gphoto2 had
		// probed): everything else is Nikon's.
		p := camsim.Nikon()
		p.ProbeRequired = false
		cam, port := simStart(t, camsim.Config{Generate: spec(), Personality: p})
		g := newGphoto(t, port)
		files := simFiles(cam)
		out := g.run(t, t.TempDir(), "--list-files")
		if !strings.Contains(out, fmt.Sprintf("There are %d files in folder '/store_00010001/DCIM/100NIKON'", len(files))) {
			t.Errorf("listing:\n%s", out)
		}
		// NEF is format 0x3000 on a Nikon: gphoto2 lists it, with no
		// MIME type of its own.
		for _, f := range files {
			line := regexp.MustCompile(`(?m)^#\d+\s+` + regexp.QuoteMeta(path.Base(f.Path)) + `\s.*$`).FindString(out)
			switch {
			case line == "":
				t.Errorf("%s not listed:\n%s", f.Path, out)
			case strings.HasSuffix(f.Path, ".JPG") && !strings.Contains(line, "image/jpeg"):
				t.Errorf("JPEG listed as %q", line)
			case strings.HasSuffix(f.Path, ".NEF") && strings.Contains(line, "image/"):
				t.Errorf("NEF (format 0x3000) listed with an image type: %q", line)
			}
		}
		cwd, log := t.TempDir(), filepath.Join(t.TempDir(), "gphoto2.log")
		// gphoto2's --list-files session lasted far less than a second:
		// the D7200 then leaves the next Init unanswered (one
		// connection), so the next gphoto2 times out and the one after
		// works. Over real Nikon WiFi that is a failed run in two.
		ctx, cancel := context.WithTimeout(context.Background(), gphotoTimeout)
		defer cancel()
		if out, err := g.command(ctx, t.TempDir(), "--summary").CombinedOutput(); err == nil {
			t.Errorf("gphoto2 connected right after a session shorter than a second:\n%s", out)
		}
		g.run(t, cwd, "--get-all-files", "--debug", "--debug-logfile="+log)
		// NEF files (0x3000) are downloaded too, like every file.
		simCheckDownloads(t, cam, cwd, files)
		ops := gphotoOps(t, log)
		t.Logf("gphoto2 operations against nikon: %v", ops)
		// gphoto2 reads with plain GetPartialObject, not Nikon's 0x9431.
		if ops["0x101b"] == 0 || ops["0x9431"] != 0 {
			t.Errorf("gphoto2 read with GetPartialObject %d times and 0x9431 %d times", ops["0x101b"], ops["0x9431"])
		}
	})

	t.Run("canon", func(t *testing.T) {
		t.Parallel()
		cam, port := simStart(t, camsim.Config{Generate: spec(), Personality: camsim.Canon()})
		g := newGphoto(t, port)
		files := simFiles(cam)
		out := g.run(t, t.TempDir(), "--list-files")
		if !strings.Contains(out, fmt.Sprintf("There are %d files in folder '/store_00010001/DCIM/100CANON'", len(files))) {
			t.Errorf("listing:\n%s", out)
		}
		// CR2 is Canon's format 0xB103: gphoto2 names its type.
		for _, f := range files {
			line := regexp.MustCompile(`(?m)^#\d+\s+` + regexp.QuoteMeta(path.Base(f.Path)) + `\s.*$`).FindString(out)
			if strings.HasSuffix(f.Path, ".CR2") && !strings.Contains(line, "image/x-canon-cr2") {
				t.Errorf("CR2 listed as %q", line)
			}
		}
		cwd, log := t.TempDir(), filepath.Join(t.TempDir(), "gphoto2.log")
		g.run(t, cwd, "--get-all-files", "--debug", "--debug-logfile="+log)
		simCheckDownloads(t, cam, cwd, files)
		ops := gphotoOps(t, log)
		t.Logf("gphoto2 operations against canon: %v", ops)
		// Canon's EOS 64-bit operations are listed but unused for files
		// under 4 GiB: gphoto2 reads with plain GetPartialObject.
		if ops["0x101b"] == 0 || ops["0x9170"]+ops["0x9172"]+ops["0x9174"] != 0 {
			t.Errorf("gphoto2 operations %v", ops)
		}
	})
}

// simFiles lists the files (not folders) of a camera's cards.
func simFiles(cam *camsim.Camera) []camsim.File {
	var out []camsim.File
	for _, f := range cam.Files() {
		if !f.Dir {
			out = append(out, f)
		}
	}
	return out
}

// simCheckDownloads compares the files gphoto2 saved in dir with the card.
func simCheckDownloads(t *testing.T, cam *camsim.Camera, dir string, files []camsim.File) {
	t.Helper()
	for _, f := range files {
		got, err := os.ReadFile(filepath.Join(dir, path.Base(f.Path)))
		if err != nil {
			t.Errorf("%s not downloaded: %v", f.Path, err)
			continue
		}
		if !bytes.Equal(got, simBytes(t, cam, f)) {
			t.Errorf("%s: downloaded %d bytes differ from the card's %d", f.Path, len(got), f.Size)
		}
	}
}
