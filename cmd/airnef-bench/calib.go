package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// calibration is what the link model does, measured through our own PTP/IP
// client (ptpip + mtp, no FUSE): the round trip of an operation without
// data, a GetObject against its model N/rate + latency, and the efficiency
// of stop-and-wait GetPartialObject requests of several sizes, which bounds
// any client that keeps one request in flight.
type calibration struct {
	profile profile
	rtt     sample // GetStorageIDs, seconds
	objSize int64
	getObj  sample // GetObject of objSize, seconds
	sweep   []sweepPoint
}

// sweepPoint reads sweepBytes in requests of req bytes, one at a time.
type sweepPoint struct {
	req  int64
	secs sample
}

// calibCard is one photo of 8 MiB: long enough to see the rate, short
// enough on wifi (2.8 s).
var calibCard = card{label: "calibration 8 MiB", photos: 1, size: 8 << 20, seed: 1}

// sweepBytes is what each request size reads.
const sweepBytes = 8 << 20

// model is the link model's time for an operation sending n bytes.
func (p profile) model(n int64) float64 {
	t := p.latency.Seconds()
	if p.rate > 0 {
		t += float64(n) / float64(p.rate)
	}
	return t
}

// calibrate measures p's link on a simulator serving calibCard.
func (b *bench) calibrate(ctx context.Context, p profile, reps int) (*calibration, error) {
	s, err := b.startSim(ctx, p, calibCard)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cl, err := dialClient(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	defer cl.close()
	d := cl.d

	c := &calibration{profile: p}
	for range 5 {
		start := time.Now()
		if _, err := d.GetStorageIDs(ctx); err != nil {
			return nil, fmt.Errorf("calibration: %w", err)
		}
		c.rtt = append(c.rtt, time.Since(start).Seconds())
	}
	objs, err := cl.walk(ctx)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	var photo uint32
	for h, info := range objs {
		if int64(info.CompressedSize) == calibCard.size {
			photo, c.objSize = h, int64(info.CompressedSize)
			break
		}
	}
	if photo == 0 {
		return nil, fmt.Errorf("calibration: no object of %d bytes among %d", calibCard.size, len(objs))
	}
	for range reps {
		cw := &countWriter{}
		start := time.Now()
		if err := d.GetObject(ctx, photo, cw); err != nil {
			return nil, fmt.Errorf("calibration: %w", err)
		}
		if cw.n != c.objSize {
			return nil, fmt.Errorf("calibration: GetObject sent %d bytes, want %d", cw.n, c.objSize)
		}
		c.getObj = append(c.getObj, time.Since(start).Seconds())
	}
	for _, req := range []int64{128 << 10, 1 << 20, 4 << 20, 8 << 20} {
		pt := sweepPoint{req: req}
		for range max(1, reps-1) {
			start := time.Now()
			for off := int64(0); off < sweepBytes; off += req {
				n, err := d.GetPartialObject(ctx, photo, uint32(off), uint32(req), io.Discard)
				if err != nil {
					return nil, fmt.Errorf("calibration: %w", err)
				}
				if int64(n) != req {
					return nil, fmt.Errorf("calibration: GetPartialObject sent %d bytes, want %d", n, req)
				}
			}
			pt.secs = append(pt.secs, time.Since(start).Seconds())
		}
		c.sweep = append(c.sweep, pt)
	}
	b.logf("calibration %s: rtt %s s, GetObject %d B %s s (model %s s)", p.name, secs(c.rtt.median()), c.objSize, secs(c.getObj.median()), secs(p.model(c.objSize)))
	return c, nil
}

// efficiency is the share of the link rate the request size reaches:
// (bytes/rate) / time.
func (c *calibration) efficiency(pt sweepPoint) float64 {
	return float64(sweepBytes) / float64(c.profile.rate) / pt.secs.median()
}

// modelEfficiency is T/(T+RTT) for requests of req bytes.
func (p profile) modelEfficiency(req int64) float64 {
	t := float64(req) / float64(p.rate)
	return t / (t + p.latency.Seconds())
}

// client is our own PTP/IP client (ptpip + mtp) on a simulator, with a
// session open.
type client struct {
	sess *ptpip.Session
	d    *mtp.Device
}

func dialClient(ctx context.Context, s *sim) (*client, error) {
	sess, err := ptpip.Dial(ctx, s.addr, ptpip.Config{
		GUID: [16]byte{0x62, 0x65, 0x6e, 0x63, 0x68}, Name: "airnef-bench",
		ConnectTimeout: 10 * time.Second, Timeout: 10 * time.Second, KeepAlive: -1,
	})
	if err != nil {
		return nil, err
	}
	d := mtp.NewDevice(sess, nil)
	if _, err := d.GetDeviceInfo(ctx); err != nil {
		sess.Close()
		return nil, err
	}
	if err := d.OpenSession(ctx, sess.ConnectionNumber()); err != nil {
		sess.Close()
		return nil, err
	}
	return &client{sess: sess, d: d}, nil
}

func (c *client) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.d.CloseSession(ctx)
	c.sess.Close()
}

// walk lists every object of every storage, folder by folder, with one
// GetObjectInfo each.
func (c *client) walk(ctx context.Context) (map[uint32]*mtp.ObjectInfo, error) {
	ids, err := c.d.GetStorageIDs(ctx)
	if err != nil {
		return nil, err
	}
	out := map[uint32]*mtp.ObjectInfo{}
	for _, id := range ids {
		parents := []uint32{0xFFFFFFFF}
		for len(parents) > 0 {
			parent := parents[0]
			parents = parents[1:]
			hs, err := c.d.GetObjectHandles(ctx, id, 0, parent)
			if err != nil {
				return nil, err
			}
			for _, h := range hs {
				info, err := c.d.GetObjectInfo(ctx, h)
				if err != nil {
					return nil, err
				}
				out[h] = info
				if info.ObjectFormat == mtp.FormatAssociation {
					parents = append(parents, h)
				}
			}
		}
	}
	return out, nil
}

// warmReads is the most files warm reads a byte of: camsim keeps the
// encoded pictures of its layoutCache files read last.
const warmReads = 32

// warm lists the whole card of s once, untimed: camsim finds a JPEG's
// thumbnail on the first GetObjectInfo of it (a JPEG encode on a
// generated card) and keeps it, so without this whoever lists first would
// pay for the simulator. On a card of at most warmReads files it also
// reads a byte of each: the first read of a generated photo encodes its
// picture (3 ms here, more than the lan's round trip), which is the
// simulator's cost, not the link's or any tool's.
func (b *bench) warm(ctx context.Context, s *sim) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	start := time.Now()
	cl, err := dialClient(ctx, s)
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	defer cl.close()
	objs, err := cl.walk(ctx)
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	var files []uint32
	for h, info := range objs {
		if info.ObjectFormat != mtp.FormatAssociation && info.CompressedSize > 0 {
			files = append(files, h)
		}
	}
	read := 0
	if len(files) <= warmReads {
		for _, h := range files {
			if _, err := cl.d.GetPartialObject(ctx, h, 0, 1, io.Discard); err != nil {
				return fmt.Errorf("warm-up: %w", err)
			}
			read++
		}
	}
	b.logf("warm-up: %d objects, a byte of %d files read, in %v", len(objs), read, time.Since(start).Round(time.Millisecond))
	return nil
}

type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
