package thumbnail

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
)

// pngSignature starts every PNG file.
const pngSignature = "\x89PNG\r\n\x1a\n"

var errPNG = errors.New("thumbnail: not a PNG file")

// text is one tEXt chunk: a keyword and its Latin-1 text.
type text struct{ key, value string }

// encodePNG encodes img as PNG with the text chunks right after IHDR,
// where the thumbnail specification wants them (readers stop at IDAT).
// image/png has no API for text chunks, so they are spliced into its
// output.
func encodePNG(img image.Image, texts []text) ([]byte, error) {
	var b bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&b, img); err != nil {
		return nil, err
	}
	return insertText(b.Bytes(), texts)
}

// insertText returns the PNG file p with tEXt chunks inserted after its
// IHDR chunk.
//
//	chunk:  length (4, big-endian, of data) | type (4) | data | CRC-32 (4, of type+data)
//	tEXt data: keyword (1-79 Latin-1 bytes) | 0 | text (Latin-1, no NUL)
func insertText(p []byte, texts []text) ([]byte, error) {
	// IHDR is always first and always 13 bytes: 8+4+4+13+4.
	const ihdrEnd = len(pngSignature) + 12 + 13
	if len(p) < ihdrEnd || string(p[:len(pngSignature)]) != pngSignature || string(p[12:16]) != "IHDR" {
		return nil, errPNG
	}
	out := make([]byte, 0, len(p)+256)
	out = append(out, p[:ihdrEnd]...)
	for _, t := range texts {
		if len(t.key) == 0 || len(t.key) > 79 || bytes.IndexByte([]byte(t.key+t.value), 0) >= 0 {
			return nil, fmt.Errorf("thumbnail: bad text chunk %q", t.key)
		}
		data := make([]byte, 0, len(t.key)+1+len(t.value))
		data = append(append(append(data, t.key...), 0), t.value...)
		out = appendChunk(out, "tEXt", data)
	}
	return append(out, p[ihdrEnd:]...), nil
}

func appendChunk(b []byte, typ string, data []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
	start := len(b)
	b = append(b, typ...)
	b = append(b, data...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// readText returns the tEXt chunks of the PNG file p that come before its
// image data, checking each chunk's CRC. It reads what GLib's thumbnail
// check reads, no more.
func readText(p []byte) (map[string]string, error) {
	if len(p) < len(pngSignature) || string(p[:len(pngSignature)]) != pngSignature {
		return nil, errPNG
	}
	texts := map[string]string{}
	for rest := p[len(pngSignature):]; ; {
		if len(rest) < 12 {
			return nil, fmt.Errorf("%w: truncated chunk", errPNG)
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-12) {
			return nil, fmt.Errorf("%w: chunk longer than the file", errPNG)
		}
		typ, data := string(rest[4:8]), rest[8:8+n]
		if crc32.ChecksumIEEE(rest[4:8+n]) != binary.BigEndian.Uint32(rest[8+n:]) {
			return nil, fmt.Errorf("%w: bad CRC in %q chunk", errPNG, typ)
		}
		switch typ {
		case "IDAT", "IEND":
			return texts, nil
		case "tEXt":
			if k, v, ok := bytes.Cut(data, []byte{0}); ok {
				texts[string(k)] = string(v)
			}
		}
		rest = rest[12+n:]
	}
}
