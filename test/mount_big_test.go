package test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// TestMountReadsPast4GiB mounts each make's simulator with a generated
// movie over 4 GiB and reads it through FUSE at offsets around and above
// 4 GiB: the size must be exact and every byte the generator's, which takes
// the make's 64-bit size query and 64-bit partial read: the generic
// camera, the EOS R (0x9170, 0x9174), and a D7200 listing Nikon's 0x9421
// and 0x9431 (nikon64: no Nikon body in the table documents both).
func TestMountReadsPast4GiB(t *testing.T) {
	mountRequireFUSE(t)
	mountBuild(t)
	for name, p := range map[string]*camsim.Personality{
		"generic": camsim.Generic(), "nikon": nikon64(t), "canon": bodyPersonality(t, "eos-r"),
	} {
		t.Run(name, func(t *testing.T) {
			cam, port := simStart(t, camsim.Config{
				Personality: p,
				Generate:    &camsim.CardSpec{Photos: 2, Seed: 11, Size: 300 << 10, Video: persVideo},
			})
			var movie camsim.File
			for _, f := range cam.Files() {
				if !f.Dir && f.Size > 1<<32 {
					movie = f
				}
			}
			if movie.Path == "" {
				t.Fatal("the generated card has no movie over 4 GiB")
			}
			mnt := mountDir(t)
			mountStart(t, "127.0.0.1:"+port, mnt, "--cache-size", "32MiB")

			p := filepath.Join(mountStorage(t, mnt), filepath.FromSlash(movie.Path))
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() != movie.Size {
				t.Fatalf("%s: size %d through the mount, %d on the camera", movie.Path, fi.Size(), movie.Size)
			}
			f, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			src, closer, err := cam.Open(movie.Slot, movie.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer closer.Close()

			offsets := []int64{
				1<<32 - 100<<10,       // crosses 4 GiB
				1 << 32,               // at 4 GiB
				movie.Size - 200<<10,  // the end, read past EOF below
				1<<32 + 1<<20 + 12345, // unaligned, above 4 GiB
			}
			rng := rand.New(rand.NewPCG(5, 6))
			for range 4 {
				offsets = append(offsets, 1<<32+rng.Int64N(movie.Size-1<<32))
			}
			for _, off := range offsets {
				got := make([]byte, 256<<10)
				n, err := f.ReadAt(got, off)
				if err != nil && err != io.EOF {
					t.Fatalf("read at %d: %v", off, err)
				}
				want := make([]byte, min(int64(len(got)), movie.Size-off))
				if _, err := src.ReadAt(want, off); err != nil && err != io.EOF {
					t.Fatal(err)
				}
				if !bytes.Equal(got[:n], want) {
					t.Fatalf("%d bytes read at %d (%#x) differ from the generator's %d", n, off, off, len(want))
				}
			}
			if s := mountStats(t, mnt); !strings.HasPrefix(s["session"], "connected") {
				t.Errorf("session state after the reads: %q", s["session"])
			}
		})
	}
}

// bodyPersonality is the personality of the body called name.
func bodyPersonality(t *testing.T, name string) *camsim.Personality {
	t.Helper()
	b, err := camsim.BodyNamed(name)
	if err != nil {
		t.Fatal(err)
	}
	return b.Personality()
}

// nikon64 is the D7200 listing Nikon's 64-bit operations, GetObjectSize
// (0x9421) and GetPartialObjectEx (0x9431), as libgphoto2's ptp.h names
// them.
func nikon64(t *testing.T) *camsim.Personality {
	t.Helper()
	b, err := camsim.BodyNamed("d7200")
	if err != nil {
		t.Fatal(err)
	}
	return b.With(mtp.OpNikonGetObjectSize, mtp.OpNikonGetPartialObjectEx).Personality()
}
