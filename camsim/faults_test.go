package camsim

import (
	"strings"
	"testing"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// The drop-after budget lets exactly N bytes through, cuts inside a write,
// and disarms itself.
func TestDropperBudget(t *testing.T) {
	var d dropper
	if n, cut := d.budget(100); n != 100 || cut {
		t.Fatalf("unarmed: %d %v", n, cut)
	}
	d.arm(10)
	steps := []struct {
		in, n int
		cut   bool
	}{{4, 4, false}, {8, 6, true}, {5, 5, false}}
	for _, s := range steps {
		if n, cut := d.budget(s.in); n != s.n || cut != s.cut {
			t.Errorf("budget(%d) = %d, %v; want %d, %v", s.in, n, cut, s.n, s.cut)
		}
	}
	d.arm(0)
	if n, cut := d.budget(3); n != 0 || !cut {
		t.Errorf("armed at 0: %d, %v", n, cut)
	}
}

func faultCamera(t *testing.T, cfg Config) *Camera {
	t.Helper()
	if cfg.Generate == nil {
		cfg.Generate = &CardSpec{Photos: 2, Seed: 1, Size: MinGeneratedSize}
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestFaultControl(t *testing.T) {
	c := faultCamera(t, Config{})
	var file object
	for _, o := range c.objects(0xFFFFFFFF, func(o *object) bool { return !o.dir }) {
		file = o
		break
	}
	read := &txn{op: mtp.OpGetPartialObject, params: []uint32{file.handle, 0, 10}}
	info := &txn{op: mtp.OpGetObjectInfo, params: []uint32{file.handle}}
	ids := &txn{op: mtp.OpGetStorageIDs}
	for _, step := range []struct {
		cmd, answer   string
		read, info, i mtp.ResponseCode
	}{
		{"deny [", "error", mtp.RespOK, mtp.RespOK, mtp.RespOK},
		{"deny 2:" + file.rel, "ok", mtp.RespOK, mtp.RespOK, mtp.RespOK}, // another slot
		{"deny DCIM/*/" + strings.TrimSuffix(file.name(), ".JPG") + "*", "ok", mtp.RespAccessDenied, mtp.RespOK, mtp.RespOK},
		{"deny off", "ok deny off", mtp.RespOK, mtp.RespOK, mtp.RespOK},
		{"store-gone", "ok store-gone", mtp.RespStoreNotAvailable, mtp.RespStoreNotAvailable, mtp.RespOK},
		{"store-gone x", "error", mtp.RespStoreNotAvailable, mtp.RespStoreNotAvailable, mtp.RespOK},
		{"store-back", "ok store-back", mtp.RespOK, mtp.RespOK, mtp.RespOK},
		{"drop-after x", "error", mtp.RespOK, mtp.RespOK, mtp.RespOK},
		{"drop-after off", "ok drop-after off", mtp.RespOK, mtp.RespOK, mtp.RespOK},
	} {
		if a := c.Control(step.cmd); !strings.HasPrefix(a, step.answer) {
			t.Errorf("%q: %q, want %q...", step.cmd, a, step.answer)
		}
		if got := c.fault(read); got != step.read {
			t.Errorf("after %q: read %v, want %v", step.cmd, got, step.read)
		}
		if got := c.fault(info); got != step.info {
			t.Errorf("after %q: info %v, want %v", step.cmd, got, step.info)
		}
		if got := c.fault(ids); got != step.i {
			t.Errorf("after %q: GetStorageIDs %v, want %v", step.cmd, got, step.i)
		}
	}
	if _, err := New(Config{Generate: &CardSpec{Photos: 1, Size: MinGeneratedSize}, Hostile: []string{"names,bogus"}}); err == nil {
		t.Error("an unknown hostile kind was accepted")
	}
	if _, err := New(Config{Generate: &CardSpec{Photos: 1, Size: MinGeneratedSize}, Deny: []string{"["}}); err == nil {
		t.Error("a bad deny glob was accepted")
	}
}

// The hostile ObjectInfo carries its name as raw UTF-16 units, decoded by
// package mtp as a host would.
func TestHostileInfo(t *testing.T) {
	c := faultCamera(t, Config{Hostile: []string{"all"}})
	h := c.hostile
	for hd, want := range map[uint32]string{
		manyBase + 7:            "F000007.JPG",
		deepBase:                "DEEP",
		deepBase + 9999:         "d",
		h.children[h.top[0]][5]: "NUL", // NAMES: the NUL inside ends the name
	} {
		o, ok := h.lookup(hd)
		if !ok {
			t.Fatalf("%#x not found", hd)
		}
		var oi mtp.ObjectInfo
		if err := oi.UnmarshalBinary(h.info(o)); err != nil {
			t.Fatalf("%#x: %v", hd, err)
		}
		if oi.Filename != want || oi.StorageID != storageID {
			t.Errorf("%#x: %q in %#x, want %q", hd, oi.Filename, oi.StorageID, want)
		}
	}
	if _, ok := h.lookup(deepBase + HostileDepth); ok {
		t.Error("the deep chain goes on past HostileDepth")
	}
	if n := len(h.list(h.many)); n != HostileMany {
		t.Errorf("MANY lists %d", n)
	}
}

// The state command shows the faults in force, each command's effect
// included, and shows them cleared again.
func TestFaultState(t *testing.T) {
	c := faultCamera(t, Config{DropAfter: 1 << 20})
	for _, step := range []struct{ cmd, want string }{
		{"", "deny=off store-gone=false drop-after=1048576"},
		{"deny DCIM/*/A*.JPG", "deny=DCIM/*/A*.JPG store-gone=false drop-after=1048576"},
		{"deny 2:B.JPG", "deny=DCIM/*/A*.JPG,2:B.JPG store-gone=false"},
		{"store-gone", "store-gone=true"},
		{"drop-after 12", "drop-after=12"},
		{"stall 1h", "stalled=true"},
		{"deny off", "deny=off store-gone=true drop-after=12"},
		{"store-back", "store-gone=false"},
		{"drop-after off", "deny=off store-gone=false drop-after=off"},
	} {
		if step.cmd != "" {
			if a := c.Control(step.cmd); !strings.HasPrefix(a, "ok") {
				t.Fatalf("%q: %q", step.cmd, a)
			}
		}
		if got := c.Control("state"); !strings.HasPrefix(got, "ok ") || !strings.Contains(got, step.want) {
			t.Errorf("state after %q: %q, want it to hold %q", step.cmd, got, step.want)
		}
	}
}
