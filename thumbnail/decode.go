package thumbnail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // cameras' thumbnails are JPEG; accept the other common ones
	_ "image/jpeg"
	_ "image/png"
)

// MaxDecodeBytes bounds what decoding one image may allocate, judged from
// its header before any pixel is decoded: it trades the largest preview
// the desktop's thumbnails can be made from (about 3 megapixels even for
// a progressive JPEG) against the memory of an idle mount.
const MaxDecodeBytes = 48 << 20

// MaxInput bounds the encoded bytes of an image Write accepts.
const MaxInput = 16 << 20

// ErrTooLarge is returned by Write for an image whose decoding would
// allocate more than MaxDecodeBytes (or whose bytes exceed MaxInput).
var ErrTooLarge = errors.New("thumbnail: image too large to decode")

// decode decodes the image in data once its header shows that decoding it
// stays within MaxDecodeBytes; the stdlib decoders allocate the whole
// picture up front, so a few bytes declaring 10^12 pixels would
// otherwise end the process.
func decode(data []byte) (image.Image, error) {
	if len(data) > MaxInput {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(data))
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: %dx%d pixels", ErrDecode, cfg.Width, cfg.Height)
	}
	if need := decodeCost(cfg, format, data); need > MaxDecodeBytes {
		return nil, fmt.Errorf("%w: %s of %dx%d pixels needs %d MiB", ErrTooLarge, format, cfg.Width, cfg.Height, need>>20)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecode, err)
	}
	return img, nil
}

// decodeCost is about what the stdlib decoder of format allocates for an
// image of cfg: the pixels (bytes per pixel by colour model) plus, for a
// progressive JPEG, its coefficients (4 bytes per pixel and component),
// and for an interlaced PNG a pass image beside the result.
func decodeCost(cfg image.Config, format string, data []byte) int64 {
	px := int64(cfg.Width) * int64(cfg.Height)
	switch format {
	case "jpeg":
		comps := int64(3)
		switch cfg.ColorModel {
		case color.GrayModel:
			comps = 1
		case color.CMYKModel:
			comps = 4 + 4 // the decoder's YCbCr and K planes, then the CMYK image
		}
		per := comps
		if progressiveJPEG(data) {
			per += 4 * comps
		}
		return px * per
	case "png":
		per := int64(4)
		switch cfg.ColorModel {
		case color.GrayModel:
			per = 1
		case color.Gray16Model:
			per = 2
		case color.RGBA64Model, color.NRGBA64Model:
			per = 8
		default:
			if _, ok := cfg.ColorModel.(color.Palette); ok {
				per = 1
			}
		}
		if interlacedPNG(data) {
			per *= 2
		}
		return px * per
	case "gif":
		return px // one paletted frame at a time
	}
	return px * 8
}

// progressiveJPEG reports whether the JPEG data's frame header is a
// progressive one (SOF2), walking its segments up to the first frame.
func progressiveJPEG(data []byte) bool {
	for p := 2; p+4 <= len(data); {
		if data[p] != 0xFF {
			return false
		}
		m := data[p+1]
		switch {
		case m == 0xFF: // fill byte
			p++
			continue
		case m == 0xD8 || m == 0x01 || m >= 0xD0 && m <= 0xD7:
			p += 2
			continue
		case m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC:
			return m == 0xC2 || m == 0xC6 || m == 0xCA || m == 0xCE
		}
		p += 2 + int(binary.BigEndian.Uint16(data[p+2:]))
	}
	return false
}

// interlacedPNG reports whether the PNG data's IHDR says Adam7.
func interlacedPNG(data []byte) bool {
	const at = 8 + 8 + 12 // signature, IHDR length and type, then width..filter
	return len(data) > at && data[at] == 1
}
