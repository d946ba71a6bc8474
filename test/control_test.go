package test

import (
	"bufio"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/camsim"
	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// simControl is a connection to a camera's control socket.
type simControl struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func simControlDial(t *testing.T, path string) *simControl {
	t.Helper()
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &simControl{t: t, c: c, r: bufio.NewReader(c)}
}

// do sends one command and returns its one answer line.
func (s *simControl) do(cmd string) string {
	s.t.Helper()
	s.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.c.Write([]byte(cmd + "\n")); err != nil {
		s.t.Fatal(err)
	}
	line, err := s.r.ReadString('\n')
	if err != nil {
		s.t.Fatalf("%s: %v", cmd, err)
	}
	return strings.TrimSuffix(line, "\n")
}

// simEvent waits for an event of code on the session.
func simEvent(t *testing.T, s *ptpip.Session, code mtp.EventCode) mtp.Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case ev, ok := <-s.Events():
			if !ok {
				t.Fatalf("events ended waiting for %v", code)
			}
			if ev.Code == code {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %v event", code)
		}
	}
}

func TestControl(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	dir, _ := gphotoCard(t)
	sock := filepath.Join(t.TempDir(), "ctl")
	cam, port := simStart(t, camsim.Config{Dir: dir, Personality: camsim.Generic()})
	if err := cam.ServeControl(sock); err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", port)
	ctl := simControlDial(t, sock)
	s, d, err := persDial(t, ctx, addr, ptpip.Config{KeepAlive: -1})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("state", func(t *testing.T) {
		got := ctl.do("state")
		want := regexp.MustCompile(`^ok personality=generic connections=1 sessions=1 objects=6 storages=0x10001 stalled=false refuse-init=0 deny=off store-gone=false drop-after=off$`)
		if !want.MatchString(got) {
			t.Errorf("state: %q", got)
		}
	})

	var added uint32
	t.Run("add", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "IMG_0099.JPG")
		if err := os.WriteFile(src, gphotoJPEG(t, 32, 32, 9), 0o644); err != nil {
			t.Fatal(err)
		}
		got := ctl.do("add " + src)
		m := regexp.MustCompile(`^ok (0x[0-9a-f]+) DCIM/100TEST/IMG_0099\.JPG$`).FindStringSubmatch(got)
		if m == nil {
			t.Fatalf("add: %q", got)
		}
		h, _ := strconv.ParseUint(m[1], 0, 32)
		added = uint32(h)
		if ev := simEvent(t, s, mtp.EventObjectAdded); len(ev.Params) != 1 || ev.Params[0] != added {
			t.Errorf("event %+v, want ObjectAdded %#x", ev, added)
		}
		oi, err := d.GetObjectInfo(ctx, added)
		if err != nil || oi.Filename != "IMG_0099.JPG" {
			t.Errorf("added object: %+v, %v", oi, err)
		}
		if got := ctl.do("add " + src + " NEW/X.JPG"); !strings.HasPrefix(got, "ok ") {
			t.Errorf("add with a destination: %q", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "NEW", "X.JPG")); err != nil {
			t.Errorf("not on the card: %v", err)
		}
		for _, bad := range []string{"add", "add /nonexistent", "add " + src + " ../escape.jpg", "add " + src + " 2:DCIM/x.jpg"} {
			if got := ctl.do(bad); !strings.HasPrefix(got, "error ") {
				t.Errorf("%q: %q", bad, got)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		got := ctl.do("delete DCIM/100TEST/IMG_0099.JPG")
		if got != "ok 0x"+strconv.FormatUint(uint64(added), 16) {
			t.Fatalf("delete: %q", got)
		}
		if ev := simEvent(t, s, mtp.EventObjectRemoved); len(ev.Params) != 1 || ev.Params[0] != added {
			t.Errorf("event %+v, want ObjectRemoved %#x", ev, added)
		}
		if _, err := d.GetObjectInfo(ctx, added); !errors.Is(err, mtp.RespInvalidObjectHandle) {
			t.Errorf("deleted object: %v", err)
		}
		if got := ctl.do("delete DCIM/100TEST/IMG_0099.JPG"); !strings.HasPrefix(got, "error ") {
			t.Errorf("second delete: %q", got)
		}
	})

	t.Run("stall", func(t *testing.T) {
		const stall = 600 * time.Millisecond
		if got := ctl.do("stall " + stall.String()); got != "ok stalled for 600ms" {
			t.Fatalf("stall: %q", got)
		}
		if got := ctl.do("state"); !strings.Contains(got, "stalled=true") {
			t.Errorf("state while stalled: %q", got)
		}
		start := time.Now()
		if _, err := d.GetStorageIDs(ctx); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < stall-100*time.Millisecond {
			t.Errorf("an operation during a %v stall took %v", stall, el)
		}
		if got := ctl.do("stall soon"); !strings.HasPrefix(got, "error ") {
			t.Errorf("bad duration: %q", got)
		}
	})

	t.Run("refuse-init", func(t *testing.T) {
		if got := ctl.do("refuse-init busy"); got != "ok refuse-init 2" {
			t.Fatalf("refuse-init: %q", got)
		}
		_, err := ptpip.Dial(ctx, addr, ptpip.Config{GUID: clientGUID, ConnectTimeout: 5 * time.Second})
		var fail *ptpip.InitFailError
		if !errors.As(err, &fail) || fail.Reason != ptpip.FailBusy {
			t.Errorf("dial while refused: %v", err)
		}
		if got := ctl.do("refuse-init off"); got != "ok refuse-init 0" {
			t.Errorf("refuse-init off: %q", got)
		}
		if got := ctl.do("refuse-init sometimes"); !strings.HasPrefix(got, "error ") {
			t.Errorf("bad reason: %q", got)
		}
	})

	t.Run("drop", func(t *testing.T) {
		// The connection refused above ends on the camera's side a moment
		// after the client has read its Init Fail.
		for end := time.Now().Add(5 * time.Second); cam.PTPConnections() != 2 && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
		}
		if got := ctl.do("drop"); got != "ok dropped 2" {
			t.Errorf("drop: %q (want the command and event connections)", got)
		}
		if _, err := d.GetStorageIDs(ctx); !errors.Is(err, ptpip.ErrBroken) {
			t.Errorf("operation after drop: %v", err)
		}
		// Still listening, and the control connection survived.
		_, d2, err := persDial(t, ctx, addr, ptpip.Config{KeepAlive: -1})
		if err != nil {
			t.Fatalf("dial after drop: %v", err)
		}
		if _, err := d2.GetStorageIDs(ctx); err != nil {
			t.Error(err)
		}
	})

	t.Run("announce", func(t *testing.T) {
		if got := ctl.do("announce"); got != "error announce: no SSDP (--ssdp)" {
			t.Errorf("announce: %q", got)
		}
	})

	t.Run("unknown", func(t *testing.T) {
		if got := ctl.do("explode now"); !strings.HasPrefix(got, "error unknown command") {
			t.Errorf("unknown: %q", got)
		}
	})
}
