package camsim

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// Sizes of the hostile thumbnails: the bomb's declared size (a decoder
// that trusts it allocates 10^12 bytes) and the valid huge PNG's (a
// decoder allocates 256 MB, a naive scaler gigabytes).
const (
	HostileBombSide = 1_000_000
	HostileHugeSide = 16_000
)

// addThumbKinds adds the folders of the thumbbomb and thumbhuge kinds and
// answers GetThumb for their files.
func (h *hostile) addThumbKinds(c *Camera) error {
	kinds := []struct {
		kind, folder, name string
		thumb              func() []byte
	}{
		{"thumbbomb", "THUMBBOMB", "BOMB.JPG", func() []byte { return hostilePNG(HostileBombSide, HostileBombSide, 8, 0) }},
		{"thumbhuge", "THUMBHUGE", "HUGE.JPG", func() []byte { return hostilePNG(HostileHugeSide, HostileHugeSide, 1, HostileHugeSide) }},
	}
	added := false
	for _, k := range kinds {
		if !h.kinds[k.kind] {
			continue
		}
		added = true
		good, err := encodePicture(uint64(len(k.kind)), thumbMax, thumbMax*2/3, thumbQuality)
		if err != nil {
			return err
		}
		d := h.add(0, units(k.folder), true, 0, hData, true)
		h.objs[h.add(d, units(k.name), false, HostileFileSize, hData, false)].thumb = k.thumb()
		h.objs[h.add(d, units("GOOD.JPG"), false, HostileFileSize, hData, false)].thumb = good
	}
	if orig, ok := c.ops[mtp.OpGetThumb]; ok && added {
		c.ops[mtp.OpGetThumb] = func(s *session, t *txn) reply {
			if o, found := h.lookup(t.param(0)); found && o.thumb != nil {
				return okData(o.thumb)
			}
			return orig(s, t)
		}
	}
	return nil
}

// hostilePNG is a PNG declaring w×h grey pixels of the given bit depth,
// with rows zero rows compressed in its IDAT (0: an empty zlib stream,
// a file of a few dozen bytes whatever it declares).
func hostilePNG(w, h uint32, depth byte, rows int) []byte {
	chunk := func(b []byte, typ string, data []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		start := len(b)
		b = append(append(b, typ...), data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, 0, 0, 0, 0) // greyscale, deflate, adaptive filters, not interlaced
	var z bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
	row := make([]byte, 1+(int(w)*int(depth)+7)/8) // filter byte, then the samples
	for range rows {
		zw.Write(row)
	}
	zw.Close()
	b := chunk([]byte("\x89PNG\r\n\x1a\n"), "IHDR", ihdr)
	b = chunk(b, "IDAT", z.Bytes())
	return chunk(b, "IEND", nil)
}
