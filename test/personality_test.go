package test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"net"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// Our client (ptpip.Dial with the default ProbeAuto, mtp.Device) against
// each personality of the simulator, on generated cards.

// persVideo is the size of the generated movie: over 4 GiB, so reads
// beyond 4 GiB need the make's 64-bit read.
const persVideo = 4<<30 + 3<<20 + 777

// persDial connects with the mount's defaults: ProbeAuto.
func persDial(t *testing.T, ctx context.Context, addr string, cfg ptpip.Config) (*ptpip.Session, *mtp.Device, error) {
	t.Helper()
	cfg.GUID, cfg.Name = clientGUID, "airnef-mount test"
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	s, err := ptpip.Dial(ctx, addr, cfg)
	if err != nil {
		return nil, nil, err
	}
	t.Cleanup(func() { s.Close() })
	d := mtp.NewDevice(s, nil)
	if _, err := d.GetDeviceInfo(ctx); err != nil {
		return s, d, err
	}
	return s, d, d.OpenSession(ctx, s.ConnectionNumber())
}

// persCase is what the client must do with one personality: the make it
// detects, and for a movie over 4 GiB the operations that read and size it
// (0 when the body lists none: its movie is then small).
type persCase struct {
	p      *camsim.Personality
	vendor mtp.Vendor
	folder string
	read64 mtp.OpCode
	size64 mtp.OpCode
}

// persCases is the generic camera and every body.
func persCases() map[string]persCase {
	vendors := map[string]mtp.Vendor{"generic": mtp.VendorGeneric, "nikon": mtp.VendorNikon, "canon": mtp.VendorCanon, "sony": mtp.VendorSony}
	nikon64 := func() *camsim.Personality {
		b, _ := camsim.BodyNamed("d7200")
		p := b.With(mtp.OpNikonGetObjectSize, mtp.OpNikonGetPartialObjectEx).Personality()
		p.Name = "d7200+64bit"
		return p
	}
	ps := []*camsim.Personality{camsim.Generic(), nikon64()}
	for _, b := range camsim.Bodies() {
		ps = append(ps, b.Personality())
	}
	out := map[string]persCase{}
	for _, p := range ps {
		listed := func(op mtp.OpCode) bool { return slices.Contains(p.Ops, op) }
		c := persCase{p: p, vendor: vendors[p.Make], folder: "DCIM/100" + p.Layout.FolderSuffix}
		for _, op := range []mtp.OpCode{mtp.OpNikonGetPartialObjectEx, mtp.OpCanonEOSGetPartialObjectEx64, mtp.OpAndroidGetPartialObject64} {
			if listed(op) && c.read64 == 0 {
				c.read64 = op
			}
		}
		for _, op := range []mtp.OpCode{mtp.OpGetObjectPropValue, mtp.OpNikonGetObjectSize, mtp.OpCanonEOSGetObjectInfo64} {
			if listed(op) && c.size64 == 0 {
				c.size64 = op
			}
		}
		if c.read64 == 0 || c.size64 == 0 {
			c.read64, c.size64 = 0, 0
		}
		out[p.Name] = c
	}
	return out
}

// TestPersonalities: our client enumerates and reads the generic camera and
// every body, and reads a movie over 4 GiB with the body's own 64-bit
// operations where it lists them.
func TestPersonalities(t *testing.T) {
	for name, tc := range persCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			movie := int64(persVideo)
			if tc.read64 == 0 {
				movie = 3<<20 + 77
			}
			cam, port := simStart(t, camsim.Config{
				Personality: tc.p,
				Generate:    &camsim.CardSpec{Photos: 4, Seed: 7, Folders: 2, Size: 300<<10 + 17, Video: movie},
			})
			_, d, err := persDial(t, ctx, net.JoinHostPort("127.0.0.1", port), ptpip.Config{})
			if err != nil {
				t.Fatal(err)
			}
			if v := d.Vendor(); v != tc.vendor {
				t.Errorf("vendor %v, want %v", v, tc.vendor)
			}
			objs := clientEnumerate(t, ctx, d)
			want := cam.Files()
			if len(objs) != len(want) {
				t.Errorf("client sees %d objects, camera has %d", len(objs), len(want))
			}
			var video camsim.File
			for _, f := range want {
				key := f.Path
				if f.Dir {
					key += "/"
				}
				o, ok := objs[key]
				switch {
				case !ok:
					t.Errorf("%s not enumerated", key)
					continue
				case o.handle != f.Handle:
					t.Errorf("%s: handle %#x, camera says %#x", key, o.handle, f.Handle)
				case !f.Dir && o.size != uint64(f.Size):
					t.Errorf("%s: size %d, want %d", key, o.size, f.Size)
				}
				if !f.Dir && !strings.HasPrefix(f.Path, tc.folder[:len("DCIM/1")]) {
					t.Errorf("%s outside DCIM/1xx", f.Path)
				}
				if strings.HasSuffix(f.Path, ".MOV") || strings.HasSuffix(f.Path, ".MP4") {
					video = f
					continue
				}
				if f.Dir {
					continue
				}
				got, err := clientRead(ctx, d, o, 100<<10)
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				if !bytes.Equal(got, simBytes(t, cam, f)) {
					t.Errorf("%s: bytes differ from the generator's", key)
				}
				if path.Ext(f.Path) == ".JPG" {
					if img, err := jpeg.Decode(bytes.NewReader(got)); err != nil {
						t.Errorf("%s does not decode: %v", key, err)
					} else if b := img.Bounds(); b.Dx() != int(o.info.ImagePixWidth) || b.Dy() != int(o.info.ImagePixHeight) {
						t.Errorf("%s: %v, ObjectInfo says %dx%d", key, b, o.info.ImagePixWidth, o.info.ImagePixHeight)
					}
				}
			}
			if _, ok := objs[tc.folder+"/"]; !ok {
				t.Errorf("no folder %s", tc.folder)
			}
			if video.Path == "" {
				t.Fatal("no movie on the card")
			}
			if tc.read64 == 0 {
				return // no 64-bit operations: the movie is under 4 GiB
			}

			// The movie: 0xFFFFFFFF in ObjectInfo, its size through the
			// make's operation, reads beyond and across 4 GiB through
			// the make's 64-bit read.
			o := objs[video.Path]
			if o.info.CompressedSize != 0xFFFFFFFF {
				t.Errorf("movie CompressedSize %#x", o.info.CompressedSize)
			}
			if cam.OpCount(tc.size64) == 0 {
				t.Errorf("size not asked with %v", tc.size64)
			}
			mr, mc, err := cam.Open(video.Slot, video.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer mc.Close()
			before := cam.OpCount(tc.read64)
			for _, at := range []struct {
				off  int64
				size uint32
			}{{4<<30 - 1000, 5000}, {4<<30 + 12345, 1 << 20}, {persVideo - 100, 4096}, {0, 64 << 10}} {
				var got bytes.Buffer
				n, err := d.ReadAt(ctx, o.handle, at.off, at.size, &got)
				if err != nil {
					t.Fatalf("movie at %d: %v", at.off, err)
				}
				want := make([]byte, min(int64(at.size), persVideo-at.off))
				if _, err := mr.ReadAt(want, at.off); err != nil {
					t.Fatal(err)
				}
				if n != int64(len(want)) || !bytes.Equal(got.Bytes(), want) {
					t.Errorf("movie at %d: %d bytes, differ from the generator's %d", at.off, n, len(want))
				}
			}
			if n := cam.OpCount(tc.read64) - before; n != 3 {
				t.Errorf("%d reads with %v, want the 3 beyond 4 GiB", n, tc.read64)
			}
		})
	}
}

// TestNikonNeedsTheProbe: with ProbeOff our client hangs a Nikon like
// gphoto2 does; ProbeAuto (the default) probes and works.
func TestNikonNeedsTheProbe(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cam, port := simStart(t, camsim.Config{Personality: camsim.Nikon(), Generate: &camsim.CardSpec{Photos: 1, Seed: 1, Size: camsim.MinGeneratedSize}})
	addr := net.JoinHostPort("127.0.0.1", port)
	_, _, err := persDial(t, ctx, addr, ptpip.Config{Probe: ptpip.ProbeOff, Timeout: 1500 * time.Millisecond, KeepAlive: -1})
	if err == nil {
		t.Fatal("a Nikon answered without the probe")
	}
	if !errors.Is(err, ptpip.ErrBroken) {
		t.Errorf("error %v, want a broken session (timeout)", err)
	}
	simGone(t, ctx, cam)
	s, d, err := persDial(t, ctx, addr, ptpip.Config{})
	if err != nil {
		t.Fatalf("with ProbeAuto: %v", err)
	}
	if _, err := d.GetStorageIDs(ctx); err != nil {
		t.Fatal(err)
	}
	// Keep the session over a second: a shorter one hangs the next Init.
	time.Sleep(time.Second)
	if err := d.CloseSession(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	simGone(t, ctx, cam)
	if _, _, err := persDial(t, ctx, addr, ptpip.Config{}); err != nil {
		t.Errorf("after a session of over a second: %v", err)
	}
	if n := cam.Inits(); n != 3 {
		t.Errorf("%d Init Command Requests, want 3", n)
	}
}

// TestCanonProbe: a Canon that drops the connection for the probe. Our
// client skips the probe for a Canon name in the Init Command Ack; for any
// other name it probes, sees the connection dropped and dials again
// without the probe. The authorisation prompt delays the Ack.
func TestCanonProbe(t *testing.T) {
	spec := &camsim.CardSpec{Photos: 1, Seed: 1, Size: camsim.MinGeneratedSize}
	t.Run("canon name", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		const prompt = 700 * time.Millisecond
		cam, port := simStart(t, camsim.Config{Personality: camsim.Canon(), Generate: spec, ProbeRefuse: true, AuthDelay: prompt})
		start := time.Now()
		s, d, err := persDial(t, ctx, net.JoinHostPort("127.0.0.1", port), ptpip.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < prompt {
			t.Errorf("connected in %v, before the %v prompt", el, prompt)
		}
		if !ptpip.SkipsProbe(s.CameraName()) {
			t.Errorf("name %q not taken for a Canon", s.CameraName())
		}
		if _, err := d.GetStorageIDs(ctx); err != nil {
			t.Fatal(err)
		}
		if n := cam.Inits(); n != 1 {
			t.Errorf("%d Init Command Requests, want 1 (no probe, no redial)", n)
		}
	})
	t.Run("other name", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cam, port := simStart(t, camsim.Config{Personality: camsim.Canon(), Model: "Studio Cam", Generate: spec, ProbeRefuse: true})
		_, d, err := persDial(t, ctx, net.JoinHostPort("127.0.0.1", port), ptpip.Config{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.GetStorageIDs(ctx); err != nil {
			t.Fatal(err)
		}
		if n := cam.Inits(); n != 2 {
			t.Errorf("%d Init Command Requests, want 2 (probe refused, then without)", n)
		}
	})
}

// simGone waits until the camera has no command connection: a Nikon takes
// one at a time and answers Init Fail (busy) to another.
func simGone(t *testing.T, ctx context.Context, cam *camsim.Camera) {
	t.Helper()
	for cam.Connections() != 0 {
		select {
		case <-ctx.Done():
			t.Fatal("the camera did not see the connection end")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
