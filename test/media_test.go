package test

// Media shaped like a camera's, judged by programs no one here wrote:
// exiftool and PIL read a generated card's photos through the mount, over
// a slow link, fetching only the first blocks of each; --thumbnails gives
// every photo, RAW and movie a thumbnail GIO accepts, from the camera or,
// when it keeps none, from the file's first blocks. Helpers start with
// "media".

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/jpeg"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// mediaLink is the simulated WiFi link: what a real camera sends.
const (
	mediaRate    = 20_000_000
	mediaLatency = 3 * time.Millisecond
)

// mediaPersonality is the personality called name.
func mediaPersonality(t *testing.T, name string) *camsim.Personality {
	t.Helper()
	p, err := camsim.PersonalityNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mediaMount mounts a generated card of photos (camera-like sizes, each
// other one with a RAW) on a camera of personality p over the media link,
// with args, and returns the camera, its files and the mount.
func mediaMount(t *testing.T, p *camsim.Personality, photos int, video int64, env []string, args ...string) (*camsim.Camera, []camsim.File, string, *mountRun) {
	t.Helper()
	cam, addr := faultSim(t, camsim.Config{
		Personality: p, Rate: mediaRate, Latency: mediaLatency,
		Generate: &camsim.CardSpec{Photos: photos, Seed: 21, Video: video},
	})
	var files []camsim.File
	for _, f := range cam.Files() {
		if !f.Dir {
			files = append(files, f)
		}
	}
	mnt := mountDir(t)
	run := mountStartEnv(t, env, addr, mnt, append([]string{"--timeout", "10s"}, args...)...)
	return cam, files, mountStorage(t, mnt), run
}

// mediaServed is the most bytes the kernel may read (bytes_served) for
// exiftool reading a photo's metadata, by extension: a JPEG's EXIF
// segment and its last bytes (exiftool looks for a trailer); a NEF's IFDs
// and maker note, and its end; an ARW's IFDs, its raw IFD past the
// preview, and its end; a CR2's IFD0, its IFD1..3 a few MB in (after the
// full-size JPEG, as in Canon's files), and its end; with the kernel's
// read-ahead of up to 128 KiB after each.
var mediaServed = map[string]int64{".JPG": 64 << 10, ".NEF": 384 << 10, ".ARW": 256 << 10, ".CR2": 256 << 10}

// mediaSettle waits until the mount fetches nothing more (read-ahead of
// the last program done) and returns bytes_from_camera and bytes_served.
func mediaSettle(t *testing.T, mnt string) (fetched, served int64) {
	t.Helper()
	last := int64(-1)
	for range 100 {
		stats := mountStats(t, mnt)
		fetched, served = mountStatInt(t, stats, "bytes_from_camera"), mountStatInt(t, stats, "bytes_served")
		if fetched == last {
			return fetched, served
		}
		last = fetched
		time.Sleep(150 * time.Millisecond)
	}
	t.Fatal("the mount kept fetching for 15s")
	return 0, 0
}

// exiftool reads each photo's metadata through the mount as from a card:
// the capture date the camera wrote and its embedded images, reading
// only the parts that hold them; a JPEG costs the camera its first and
// last blocks alone. (What a RAW costs the camera depends on the cache's
// read-ahead, which a second contiguous 128 KiB read starts: logged.)
func TestMediaExiftool(t *testing.T) {
	mountRequireFUSE(t)
	et := mountRequireTool(t, "exiftool")
	for _, name := range []string{"nikon", "canon", "generic"} {
		t.Run(name, func(t *testing.T) {
			p := mediaPersonality(t, name)
			_, files, storage, run := mediaMount(t, p, 6, 0, nil)
			raws := 0
			for _, f := range files {
				ext := filepath.Ext(f.Path)
				if mediaServed[ext] == 0 {
					continue
				}
				if ext != ".JPG" {
					raws++
				}
				path := filepath.Join(storage, f.Path)
				fetched0, served0 := mediaSettle(t, run.mnt)
				out := mountRunCmd(t, 60*time.Second, nil, et, "-j", path) // every tag, as a photo manager asks
				fetched1, served1 := mediaSettle(t, run.mnt)
				fetched, served := fetched1-fetched0, served1-served0
				var got []map[string]any
				if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != 1 {
					t.Fatalf("%s: exiftool -j: %v\n%s", f.Path, err, out)
				}
				g := got[0]
				if date := f.ModTime.Format("2006:01:02 15:04:05"); g["DateTimeOriginal"] != date || g["Make"] != p.Manufacturer {
					t.Errorf("%s: exiftool sees %v, want taken %s by %s", f.Path, g, date, p.Manufacturer)
				}
				if g["ThumbnailImage"] == nil && g["PreviewImage"] == nil {
					t.Errorf("%s: exiftool finds no embedded image: %v", f.Path, g)
				}
				if limit := mediaServed[ext]; served > limit || served <= 0 {
					t.Errorf("%s (%d bytes): exiftool read %d bytes, want at most %d", f.Path, f.Size, served, limit)
				}
				if ext == ".JPG" && fetched > 2*cache.BlockUnit {
					t.Errorf("%s (%d bytes): exiftool cost %d bytes from the camera, want its first and last blocks", f.Path, f.Size, fetched)
				}
				t.Logf("%s: exiftool read %d bytes of %d, %d fetched from the camera", f.Path, served, f.Size, fetched)
			}
			if raws == 0 {
				t.Fatal("no RAW on the card")
			}
		})
	}
}

// PIL opens each photo through the mount reading only its first 256 KiB;
// file(1), which reads up to 7 MiB in one read(2) whatever the format, is
// measured after it. (What that costs the camera depends on the cache's
// read-ahead, which a second contiguous 128 KiB read starts: logged.)
func TestMediaPILAndFile(t *testing.T) {
	mountRequireFUSE(t)
	py := "/usr/bin/python3" // Debian's, with python3-pil
	if err := exec.Command(py, "-c", "import PIL").Run(); err != nil {
		t.Skip("PIL not installed (Debian: python3-pil; make deps installs it)")
	}
	fileCmd := mountRequireTool(t, "file")
	_, files, storage, run := mediaMount(t, mediaPersonality(t, "canon"), 6, 0, nil)
	var photos []camsim.File
	for _, f := range files {
		if ext := filepath.Ext(f.Path); ext == ".JPG" || ext == ".CR2" {
			photos = append(photos, f)
		}
	}
	for _, f := range photos {
		ext := filepath.Ext(f.Path)
		fetched0, served0 := mediaSettle(t, run.mnt)
		out := mountRunCmd(t, 60*time.Second, nil, py, "-c", "import sys\nfrom PIL import Image\nwith Image.open(sys.argv[1]) as im: print(im.format, im.size[0])", filepath.Join(storage, f.Path))
		fetched1, served1 := mediaSettle(t, run.mnt)
		if want := map[string]string{".JPG": "JPEG 480", ".CR2": "TIFF 480"}[ext]; strings.TrimSpace(out) != want {
			t.Errorf("%s: PIL says %q, want %q", f.Path, out, want)
		}
		if served1-served0 > 2*cache.BlockUnit {
			t.Errorf("%s: PIL read %d bytes, want its header's two blocks", f.Path, served1-served0)
		}
		t.Logf("%s (%d bytes): PIL read %d, fetched %d", f.Path, f.Size, served1-served0, fetched1-fetched0)
	}
	for _, f := range photos {
		fetched0, served0 := mediaSettle(t, run.mnt)
		desc := mountRunCmd(t, 60*time.Second, nil, fileCmd, "-b", filepath.Join(storage, f.Path))
		fetched1, served1 := mediaSettle(t, run.mnt)
		if want := map[string]string{".JPG": "JPEG image data, Exif standard", ".CR2": "Canon CR2 raw image data"}[filepath.Ext(f.Path)]; !strings.HasPrefix(desc, want) {
			t.Errorf("%s: file says %q", f.Path, desc)
		}
		t.Logf("%s (%d bytes): file read %d, fetched %d", f.Path, f.Size, served1-served0, fetched1-fetched0)
	}
}

// mediaWaitThumbnails waits until the mount has made (or given up on)
// want thumbnails and returns its stats.
func mediaWaitThumbnails(t *testing.T, mnt string, want int64) map[string]string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		stats := mountStats(t, mnt)
		done := mountStatInt(t, stats, "thumbnails_made") + mountStatInt(t, stats, "thumbnails_none") + mountStatInt(t, stats, "thumbnails_failed")
		if done >= want && mountStatInt(t, stats, "thumbnails_pending") == 0 {
			return stats
		}
		if time.Now().After(deadline) {
			t.Fatalf("thumbnails not made within 90s: %v", stats)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mediaGIOValid checks that GIO finds a valid thumbnail in cacheHome for
// each of paths, and none for each of without.
func mediaGIOValid(t *testing.T, gio, cacheHome string, paths, without []string) {
	t.Helper()
	for _, p := range paths {
		attrs := dailyGIOThumb(t, gio, cacheHome, p)
		if attrs["thumbnail::is-valid"] != "TRUE" || !strings.HasPrefix(attrs["thumbnail::path"], filepath.Join(cacheHome, "thumbnails", "normal")+"/") {
			t.Errorf("%s: gio sees %v, want a valid thumbnail in %s", p, attrs, cacheHome)
		}
	}
	for _, p := range without {
		if attrs := dailyGIOThumb(t, gio, cacheHome, p); attrs["thumbnail::path"] != "" {
			t.Errorf("%s: gio finds a thumbnail %v, want none", p, attrs)
		}
	}
}

// --thumbnails gives every JPEG, RAW and movie the camera keeps a
// thumbnail of a valid one, from GetThumb alone; a camera that keeps none
// has its JPEGs' and RAWs' thumbnails read from the files' first block
// (a CR2's from one more, its IFD1 megabytes in), never whole files, and
// its movie gets none.
func TestMediaThumbnails(t *testing.T) {
	mountRequireFUSE(t)
	gio := mountRequireTool(t, "gio")
	tests := []struct {
		body       string
		cameraHas  bool
		perPicture map[string]int64 // blocks a thumbnail may fetch from a file, by extension
	}{
		{"generic", true, nil},
		{"nikon", true, nil},
		{"canon", true, nil},
		{"generic", false, map[string]int64{".JPG": 1, ".ARW": 1}},
		{"nikon", false, map[string]int64{".JPG": 1, ".NEF": 1}},
		{"canon", false, map[string]int64{".JPG": 1, ".CR2": 2}},
	}
	for _, tc := range tests {
		name := tc.body
		if !tc.cameraHas {
			name += " keeping none"
		}
		t.Run(name, func(t *testing.T) {
			p := mediaPersonality(t, tc.body)
			p.Thumbnails = tc.cameraHas
			cacheHome := t.TempDir()
			_, files, storage, run := mediaMount(t, p, 8, 3<<20, []string{"XDG_CACHE_HOME=" + cacheHome}, "--thumbnails")
			walked := mountWalk(t, storage) // listing queues the thumbnails
			if len(walked) < len(files) {
				t.Fatalf("walked %d of %d files", len(walked), len(files))
			}
			var with, without []string
			var budget int64
			kinds := map[string]int{}
			for _, f := range files {
				ext := filepath.Ext(f.Path)
				kinds[ext]++
				path := filepath.Join(storage, f.Path)
				if !tc.cameraHas && tc.perPicture[ext] == 0 {
					without = append(without, path) // the movie
					continue
				}
				with = append(with, path)
				budget += tc.perPicture[ext] * cache.BlockUnit
			}
			if len(kinds) != 3 {
				t.Fatalf("card holds %v, want JPEGs, RAWs and a movie", kinds)
			}
			stats := mediaWaitThumbnails(t, run.mnt, int64(len(files)))
			if made, none := mountStatInt(t, stats, "thumbnails_made"), mountStatInt(t, stats, "thumbnails_none"); made != int64(len(with)) || none != int64(len(without)) || mountStatInt(t, stats, "thumbnails_failed") != 0 {
				t.Errorf("stats %v: want %d made, %d without one", stats, len(with), len(without))
			}
			mediaGIOValid(t, gio, cacheHome, with, without)
			fetched := mountStatInt(t, stats, "bytes_from_camera")
			if fetched > budget {
				t.Errorf("making thumbnails fetched %d bytes of the files, want at most %d", fetched, budget)
			}
			var total int64
			for _, f := range files {
				total += f.Size
			}
			t.Logf("%d thumbnails (%v), %d bytes of %d fetched from the files, %s thumbnail bytes", len(with), slices.Sorted(func(yield func(string) bool) {
				for k, n := range kinds {
					if !yield(fmt.Sprintf("%s:%d", k, n)) {
						return
					}
				}
			}), fetched, total, stats["thumbnail_bytes"])
		})
	}
}

// gphoto2 fetches the generated card's thumbnails as from a Nikon: a
// small one for every photo, RAWs included, and with thumbsize=large
// the preview Nikon's GetLargeThumb (0x90C4) sends, where the body lists
// it.
func TestMediaGphoto2Thumbnails(t *testing.T) {
	gphotoTool(t, "gphoto2")
	p := mediaPersonality(t, "nikon")
	p.ProbeRequired, p.QuickCloseHang = false, false // gphoto2 neither probes nor lingers
	if !slices.Contains(p.Ops, mtp.OpNikonGetLargeThumb) {
		p.Ops = append(p.Ops, mtp.OpNikonGetLargeThumb)
	}
	cam, port := simStart(t, camsim.Config{Generate: &camsim.CardSpec{Photos: 4, Seed: 5, Size: camsim.MinGeneratedSize}, Personality: p})
	g := newGphoto(t, port)
	files := simFiles(cam)
	for _, size := range []struct {
		config string
		width  int
	}{{"", 160}, {"large", 480}} {
		cwd := t.TempDir()
		args := []string{"--get-all-thumbnails"}
		if size.config != "" {
			args = append([]string{"--set-config", "thumbsize=" + size.config}, args...)
		}
		g.run(t, cwd, args...)
		for _, f := range files {
			name := path.Base(f.Path)
			b, err := os.ReadFile(filepath.Join(cwd, "thumb_"+strings.TrimSuffix(name, path.Ext(name))+".jpg"))
			if err != nil {
				t.Errorf("%s: no %s thumbnail: %v", f.Path, size.config, err)
				continue
			}
			if cfg, err := jpeg.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width != size.width {
				t.Errorf("%s: %s thumbnail %dx%d, %v; want %d wide", f.Path, size.config, cfg.Width, cfg.Height, err, size.width)
			}
		}
	}
	if cam.OpCount(mtp.OpNikonGetLargeThumb) != len(files) {
		t.Errorf("%d GetLargeThumb for %d files", cam.OpCount(mtp.OpNikonGetLargeThumb), len(files))
	}
}
