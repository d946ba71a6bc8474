package thumbnail

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFileURI(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"plain":     {"/mnt/cam/SD/DCIM/100NIKON/DSC_0001.JPG", "file:///mnt/cam/SD/DCIM/100NIKON/DSC_0001.JPG"},
		"space":     {"/a b/c", "file:///a%20b/c"},
		"reserved":  {"/x#y?z%;[]", "file:///x%23y%3Fz%25%3B%5B%5D"},
		"glib safe": {"/-_.!~*'()&=:@+$,", "file:///-_.!~*'()&=:@+$,"},
		"utf-8":     {"/été", "file:///%C3%A9t%C3%A9"},
		"control":   {"/a\tb\x7f", "file:///a%09b%7F"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := FileURI(tc.in); got != tc.want {
				t.Errorf("FileURI(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestFileURIMatchesGIO checks FileURI against GIO's own URI of files with
// awkward names: the cache key must be the very string GIO hashes.
func TestFileURIMatchesGIO(t *testing.T) {
	gio := requireGIO(t)
	dir := t.TempDir()
	for _, name := range []string{"plain.JPG", "a b#c?d%e.jpg", "été [1];x.NEF", "q'&=:@+$,~!*().ARW", "back\\slash{}|^`\"<>.jpg"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		out, err := exec.CommandContext(ctx, gio, "info", "-a", "standard::name", p).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("gio info %q: %v\n%s", p, err, out)
		}
		var uri string
		for _, l := range strings.Split(string(out), "\n") {
			if u, ok := strings.CutPrefix(l, "uri: "); ok {
				uri = u
			}
		}
		if got := FileURI(p); got != uri {
			t.Errorf("FileURI(%q) = %q, GIO says %q", p, got, uri)
		}
	}
}

func requireGIO(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("gio")
	if err != nil {
		t.Skip("gio is not installed (package libglib2.0-bin; make deps installs it)")
	}
	return p
}

func testImage(w, h int, c color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func TestTextChunks(t *testing.T) {
	texts := []text{{"Thumb::URI", "file:///a%20b"}, {"Thumb::MTime", "1710504000"}, {"Software", "airnef-mount"}}
	p, err := encodePNG(testImage(3, 2, color.RGBA{10, 20, 30, 255}), texts)
	if err != nil {
		t.Fatal(err)
	}
	// Still a valid PNG (image/png checks every chunk's CRC).
	img, err := png.Decode(bytes.NewReader(p))
	if err != nil {
		t.Fatalf("PNG with text chunks does not decode: %v", err)
	}
	if img.Bounds().Dx() != 3 || img.Bounds().Dy() != 2 {
		t.Errorf("decoded %v", img.Bounds())
	}
	got, err := readText(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, tx := range texts {
		if got[tx.key] != tx.value {
			t.Errorf("%s = %q, want %q", tx.key, got[tx.key], tx.value)
		}
	}
	// The chunks sit right after IHDR, before any image data.
	if i, j := bytes.Index(p, []byte("tEXt")), bytes.Index(p, []byte("IDAT")); i != 37 || j < i {
		t.Errorf("first tEXt at %d, IDAT at %d; want tEXt at 37 (after IHDR), before IDAT", i, j)
	}

	bad := map[string][]byte{
		"not png":   []byte("GIF89a..."),
		"truncated": p[:40],
		"bad crc":   append(append([]byte{}, p[:45]...), append([]byte{p[45] ^ 1}, p[46:]...)...),
	}
	for name, b := range bad {
		if _, err := readText(b); !errors.Is(err, errPNG) {
			t.Errorf("%s: readText err %v, want errPNG", name, err)
		}
	}
	if _, err := insertText(p, []text{{"", "x"}}); err == nil {
		t.Error("empty keyword accepted")
	}
	if _, err := insertText(p, []text{{"k", "a\x00b"}}); err == nil {
		t.Error("NUL in text accepted")
	}
}

func TestScale(t *testing.T) {
	sizes := map[string]struct{ w, h, ww, wh int }{
		"landscape": {160, 120, 128, 96},
		"portrait":  {120, 160, 96, 128},
		"wide":      {1000, 3, 128, 1},
		"small":     {100, 50, 100, 50},
		"exact":     {128, 128, 128, 128},
	}
	for name, tc := range sizes {
		t.Run(name, func(t *testing.T) {
			c := color.RGBA{200, 100, 50, 255}
			got := scale(testImage(tc.w, tc.h, c), NormalSize)
			if got.Bounds().Dx() != tc.ww || got.Bounds().Dy() != tc.wh {
				t.Fatalf("%dx%d -> %v, want %dx%d", tc.w, tc.h, got.Bounds(), tc.ww, tc.wh)
			}
			// A solid colour stays that colour.
			for _, p := range [][2]int{{0, 0}, {tc.ww - 1, tc.wh - 1}, {tc.ww / 2, tc.wh / 2}} {
				if g := got.NRGBAAt(p[0], p[1]); g != (color.NRGBA{200, 100, 50, 255}) {
					t.Errorf("pixel %v = %v", p, g)
				}
			}
		})
	}
	// Averaging: 4 columns black, white, black, white -> 2 grey pixels;
	// 3 columns into 2 weigh the middle one half to each.
	img := image.NewGray(image.Rect(0, 0, 256, 1))
	for x := range 256 {
		if x%2 == 1 {
			img.Pix[x] = 255
		}
	}
	got := scale(img, 128)
	for x := range 128 {
		if g := got.NRGBAAt(x, 0); g.R != 128 || g.A != 255 {
			t.Fatalf("pixel %d = %v, want grey 128", x, g)
		}
	}
	three := image.NewGray(image.Rect(0, 0, 3, 3))
	copy(three.Pix, []byte{0, 90, 255, 0, 90, 255, 0, 90, 255})
	if got := scale(three, 2); got.NRGBAAt(0, 0).R != 30 || got.NRGBAAt(1, 0).R != 200 {
		t.Errorf("3->2: %v %v, want 30 and 200", got.NRGBAAt(0, 0), got.NRGBAAt(1, 0))
	}
	// Transparent pixels do not darken their neighbours.
	half := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	half.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
	if got := scale(half, 1).NRGBAAt(0, 0); got.R != 255 || got.A != 64 {
		t.Errorf("premultiplied average: %v, want red at alpha 64", got)
	}
}

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h, color.RGBA{0, 128, 255, 255}), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestCacheWrite(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "thumbnails", "normal")
	c := NewCache(dir)
	e := Entry{URI: "file:///mnt/SD/DCIM/IMG_0001.JPG", MTime: 1710504000, Size: 12345}
	sum := md5.Sum([]byte(e.URI))
	if want := filepath.Join(dir, hex.EncodeToString(sum[:])+".png"); c.Path(e.URI) != want {
		t.Errorf("Path = %s, want %s", c.Path(e.URI), want)
	}
	if c.Valid(e) {
		t.Fatal("valid before written")
	}
	if err := c.Write(e, jpegBytes(t, 160, 120)); err != nil {
		t.Fatal(err)
	}
	if !c.Valid(e) {
		t.Fatal("not valid after Write")
	}
	for name, other := range map[string]Entry{
		"mtime": {e.URI, e.MTime + 1, e.Size},
		"size":  {e.URI, e.MTime, e.Size + 1},
	} {
		if c.Valid(other) {
			t.Errorf("valid for another %s", name)
		}
	}
	fi, err := os.Stat(c.Path(e.URI))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("thumbnail mode %v, want 0600", fi.Mode().Perm())
	}
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, mode %v, want 0700", d, err, fi.Mode().Perm())
		}
	}
	b, _ := os.ReadFile(c.Path(e.URI))
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 128 || img.Bounds().Dy() != 96 {
		t.Errorf("thumbnail %v, %v; want a 128x96 PNG", img.Bounds(), err)
	}
	des, _ := os.ReadDir(dir)
	if len(des) != 1 {
		t.Errorf("cache directory holds %d files, want 1 (no temporary left)", len(des))
	}
	if err := c.Write(e, []byte("not an image")); !errors.Is(err, ErrDecode) {
		t.Errorf("Write of garbage: %v, want ErrDecode", err)
	}
	if !c.Valid(e) {
		t.Error("a failed Write spoilt the valid thumbnail")
	}
}

// TestValidForGIO writes a thumbnail of a real file and asks GIO, as a file
// manager would, whether it is there and valid.
func TestValidForGIO(t *testing.T) {
	gio := requireGIO(t)
	cacheHome := t.TempDir()
	dir := t.TempDir()
	file := filepath.Join(dir, "DSC 0001.JPG")
	if err := os.WriteFile(file, jpegBytes(t, 640, 480), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCache(filepath.Join(cacheHome, "thumbnails", "normal"))
	e := Entry{URI: FileURI(file), MTime: fi.ModTime().Unix(), Size: fi.Size()}
	if err := c.Write(e, jpegBytes(t, 160, 120)); err != nil {
		t.Fatal(err)
	}
	attrs := gioThumb(t, gio, cacheHome, file)
	if attrs["thumbnail::path"] != c.Path(e.URI) || attrs["thumbnail::is-valid"] != "TRUE" {
		t.Errorf("gio sees %v, want path %s and is-valid TRUE", attrs, c.Path(e.URI))
	}
	// Touching the file makes it stale, for GIO and for Valid alike.
	later := fi.ModTime().Add(time.Hour)
	if err := os.Chtimes(file, later, later); err != nil {
		t.Fatal(err)
	}
	if attrs := gioThumb(t, gio, cacheHome, file); attrs["thumbnail::is-valid"] != "FALSE" {
		t.Errorf("after touch gio sees %v, want is-valid FALSE", attrs)
	}
	if c.Valid(Entry{e.URI, later.Unix(), e.Size}) {
		t.Error("Valid after touch")
	}
}

// gioThumb runs gio info for the thumbnail attributes of file with
// XDG_CACHE_HOME=cacheHome.
func gioThumb(t *testing.T, gio, cacheHome, file string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, gio, "info", "-a", "thumbnail::path,thumbnail::is-valid", file)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheHome)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gio info: %v\n%s", err, out)
	}
	attrs := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), ": "); ok {
			attrs[k] = v
		}
	}
	return attrs
}

func TestMaker(t *testing.T) {
	dir := t.TempDir()
	c := NewCache(dir)
	m := NewMaker(c, nil)
	defer m.Close()

	var mu sync.Mutex
	var order []string
	fetches := map[string]int{}
	block, started := make(chan struct{}), make(chan struct{})
	thumb := jpegBytes(t, 160, 120)
	job := func(name string, fail bool) Job {
		return Job{
			Entry: Entry{URI: "file:///m/" + name, MTime: 100, Size: 10}, Name: name,
			Fetch: func(ctx context.Context) ([]byte, error) {
				if name == "first" {
					close(started)
					<-block
				}
				mu.Lock()
				defer mu.Unlock()
				order = append(order, name)
				fetches[name]++
				if fail {
					return nil, errors.New("camera busy")
				}
				return thumb, nil
			},
		}
	}
	// "first" holds the worker while two folders are listed: the later
	// folder's jobs run before the earlier's.
	m.Add([]Job{job("first", false)})
	<-started
	m.Add([]Job{job("a1", false), job("a2", false)})
	m.Add([]Job{job("b1", false), job("b2", true)})
	m.Add([]Job{job("a1", false)}) // already queued: dropped
	close(block)
	waitIdle(t, m)
	mu.Lock()
	if got := strings.Join(order, " "); got != "first b1 b2 a1 a2" {
		t.Errorf("fetch order %q, want \"first b1 b2 a1 a2\"", got)
	}
	mu.Unlock()
	s := m.Stats()
	if s.Made != 4 || s.Failed != 1 || s.Skipped != 0 || s.Bytes != uint64(4*len(thumb)) {
		t.Errorf("stats %+v, want 4 made, 1 failed, %d bytes", s, 4*len(thumb))
	}
	for _, n := range []string{"first", "a1", "a2", "b1"} {
		if !c.Valid(Entry{URI: "file:///m/" + n, MTime: 100, Size: 10}) {
			t.Errorf("%s: no valid thumbnail", n)
		}
	}
	// Listing again: made ones are not fetched again, the failed one is
	// retried.
	m.Add([]Job{job("a1", false), job("b2", false)})
	waitIdle(t, m)
	mu.Lock()
	if fetches["a1"] != 1 || fetches["b2"] != 2 {
		t.Errorf("fetches %v: want a1 once, b2 twice", fetches)
	}
	mu.Unlock()

	// A new Maker (a new mount) finds the valid thumbnails on disk and
	// fetches nothing; a changed file (new mtime) is made again.
	m2 := NewMaker(c, nil)
	defer m2.Close()
	m2.Add([]Job{job("a2", false), {Entry: Entry{URI: "file:///m/a1", MTime: 200, Size: 10}, Fetch: func(context.Context) ([]byte, error) { return thumb, nil }}})
	waitIdle(t, m2)
	if s := m2.Stats(); s.Skipped != 1 || s.Made != 1 {
		t.Errorf("second maker: %+v, want 1 skipped and 1 made", s)
	}
}

func waitIdle(t *testing.T, m *Maker) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !m.Idle() {
		if time.Now().After(deadline) {
			t.Fatalf("maker not idle after 10s: %+v", m.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMakerCloseAbandonsFetch(t *testing.T) {
	m := NewMaker(NewCache(t.TempDir()), nil)
	started := make(chan struct{})
	m.Add([]Job{{Entry: Entry{URI: "file:///x"}, Fetch: func(ctx context.Context) ([]byte, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	}}})
	<-started
	done := make(chan struct{})
	go func() { m.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return while a fetch was running")
	}
}
