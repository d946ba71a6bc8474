package tree

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/tree/treetest"
)

// thumbCamera is the fake camera with GetThumb: the thumbnail of object h
// is "thumb of NAME", or big bytes for names starting with "HUGE".
type thumbCamera struct {
	*treetest.Camera
	thumbCalls int
}

func (c *thumbCamera) Thumb(ctx context.Context, h uint32, w io.Writer) error {
	c.Mu.Lock()
	o, ok := c.Objects[h]
	c.thumbCalls++
	c.Mu.Unlock()
	if !ok {
		return errors.New("no such object")
	}
	if strings.HasPrefix(o.Info.Filename, "HUGE") {
		// Sent in pieces, as a data phase is: every Write must succeed.
		for range 3 {
			if _, err := w.Write(make([]byte, MaxThumbSize/2)); err != nil {
				return err
			}
		}
		return nil
	}
	_, err := w.Write([]byte("thumb of " + o.Info.Filename))
	return err
}

func TestTreeThumb(t *testing.T) {
	ctx := context.Background()
	fc := treetest.Sample()
	f100 := uint32(2)
	fc.Add(0x00010001, f100, "HUGE.JPG", false, []byte("x"), "", "")
	cam := &thumbCamera{Camera: fc}
	tr := newTestTree(t, cam)
	file := walk(t, tr, "SD", "DCIM", "100NIKON", "DSC_0001.JPG")
	got, err := tr.Thumb(ctx, file)
	if err != nil || string(got) != "thumb of DSC_0001.JPG" {
		t.Fatalf("Thumb = %q, %v", got, err)
	}
	if n := fc.ReadCalls.Load(); n != 0 {
		t.Errorf("Thumb read the file's content: %d ReadAt calls", n)
	}
	if _, err := tr.Thumb(ctx, walk(t, tr, "SD", "DCIM")); !errors.Is(err, ErrNotFile) {
		t.Errorf("Thumb of a folder: %v", err)
	}
	if _, err := tr.Thumb(ctx, walk(t, tr, "SD", "DCIM", "100NIKON", "HUGE.JPG")); err == nil || !strings.Contains(err.Error(), "more than") {
		t.Errorf("Thumb of an oversized thumbnail: %v", err)
	}
	// A camera without GetThumb.
	plain := newTestTree(t, treetest.Sample())
	if _, err := plain.Thumb(ctx, walk(t, plain, "SD", "DCIM", "100NIKON", "DSC_0001.JPG")); !errors.Is(err, ErrNoThumbs) {
		t.Errorf("Thumb without GetThumb: %v, want ErrNoThumbs", err)
	}
}

// A long listing logs its progress at a steady pace: not before the first
// interval, then once per interval.
func TestProgress(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	p := newProgress(log, "listing a folder", 50*time.Millisecond)
	p.tick(1, 100)
	if buf.Len() != 0 {
		t.Fatalf("logged before the first interval: %s", buf.String())
	}
	deadline := time.Now().Add(220 * time.Millisecond)
	for i := 2; time.Now().Before(deadline); i++ {
		p.tick(i, 1000000)
		time.Sleep(time.Millisecond)
	}
	lines := strings.Count(buf.String(), "\n")
	if lines < 2 || lines > 5 {
		t.Errorf("%d progress lines in ~220ms at one per 50ms:\n%s", lines, buf.String())
	}
	if !strings.Contains(buf.String(), `msg="listing a folder" done=`) || !strings.Contains(buf.String(), "total=1000000") || !strings.Contains(buf.String(), "left=") {
		t.Errorf("progress line lacks figures:\n%s", buf.String())
	}
}
