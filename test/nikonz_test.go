package test

import (
	"path/filepath"
	"testing"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
)

// A Nikon Z with images not marked for upload refuses GetPartialObject
// (AccessDenied) while GetPartialObjectEx 0x9431 reads them (notes,
// protocol.md section 5; camsim --quirk nikon-z-unmarked): every read of a
// Z goes through 0x9431 and every file reads byte-exact; a D750 with
// normal answers is not a Z and keeps GetPartialObject.
func TestNikonZReads64(t *testing.T) {
	mountRequireFUSE(t)
	for _, tc := range []struct {
		body string
		z    bool
	}{{"z6", true}, {"d750", false}} {
		t.Run(tc.body, func(t *testing.T) {
			b, err := camsim.BodyNamed(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			cfg := camsim.Config{Personality: b.Personality(), Generate: faultCard()}
			cfg.Quirks.NikonZUnmarked = tc.z
			cam, addr := faultSim(t, cfg)
			files, data := faultFiles(t, cam)
			mnt := mountDir(t)
			mountStart(t, addr, mnt, "--timeout", faultTimeout.String())
			storage := mountStorage(t, mnt)
			for _, f := range files {
				if err := faultCheck(filepath.Join(storage, f.Path), data[f.Path]); err != nil {
					t.Error(err)
				}
			}
			partial, ex := cam.OpCount(mtp.OpGetPartialObject), cam.OpCount(mtp.OpNikonGetPartialObjectEx)
			t.Logf("GetPartialObject %d, GetPartialObjectEx %d", partial, ex)
			switch {
			case tc.z && (partial != 0 || ex == 0):
				t.Errorf("Nikon Z: GetPartialObject %d, GetPartialObjectEx %d; want every read by 0x9431", partial, ex)
			case !tc.z && (partial == 0 || ex != 0):
				t.Errorf("D750: GetPartialObject %d, GetPartialObjectEx %d; want every read by GetPartialObject", partial, ex)
			}
		})
	}
}
