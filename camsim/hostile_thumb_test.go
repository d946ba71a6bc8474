package camsim

import (
	"bytes"
	"compress/zlib"
	"image/jpeg"
	"image/png"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// The hostile thumbnails: the bomb declares 10^12 pixels in a few dozen
// bytes; the huge one is a valid PNG whose IDAT inflates to every row of
// 16,000 x 16,000 pixels; GetThumb answers them, and GOOD.JPG's decodes.
func TestHostileThumbs(t *testing.T) {
	_, addr := startCamera(t, Config{Generate: &CardSpec{Photos: 1, Seed: 1, Size: MinGeneratedSize}, Hostile: []string{"thumbbomb", "thumbhuge"}})
	cl := dial(t, addr)
	cl.open()
	top := cl.handles(0xFFFFFFFF, 0, 0xFFFFFFFF)
	found := map[string][]byte{}
	for _, d := range top {
		folder := cl.objectInfo(d).Filename
		if folder != "THUMBBOMB" && folder != "THUMBHUGE" {
			continue
		}
		for _, h := range cl.handles(0xFFFFFFFF, 0, d) {
			found[folder+"/"+cl.objectInfo(h).Filename] = cl.must(mtp.OpGetThumb, h).data
		}
	}
	if len(found) != 4 {
		t.Fatalf("found %d hostile thumbnails: %v", len(found), slices.Collect(maps.Keys(found)))
	}
	for name, side := range map[string]int{"THUMBBOMB/BOMB.JPG": HostileBombSide, "THUMBHUGE/HUGE.JPG": HostileHugeSide} {
		b := found[name]
		cfg, err := png.DecodeConfig(bytes.NewReader(b))
		if err != nil || cfg.Width != side || cfg.Height != side {
			t.Errorf("%s: %dx%d, %v", name, cfg.Width, cfg.Height, err)
		}
		t.Logf("%s: %d bytes", name, len(b))
	}
	if n := len(found["THUMBBOMB/BOMB.JPG"]); n > 100 {
		t.Errorf("the bomb is %d bytes", n)
	}
	// The huge one's IDAT holds every row: it is valid, not a lie.
	huge := found["THUMBHUGE/HUGE.JPG"]
	idat := huge[8+25+8 : len(huge)-12-4]
	zr, err := zlib.NewReader(bytes.NewReader(idat))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, zr)
	if err != nil || n != HostileHugeSide*(1+HostileHugeSide/8) {
		t.Errorf("the huge PNG's IDAT inflates to %d bytes, %v", n, err)
	}
	for name, b := range found {
		if strings.HasSuffix(name, "GOOD.JPG") {
			if _, err := jpeg.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}
