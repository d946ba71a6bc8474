package camsim

import (
	"encoding/binary"
	"fmt"
)

// EXIF and TIFF tags the generated files carry (EXIF 2.3, TIFF 6.0).
const (
	tagNewSubfileType       = 0x00FE
	tagImageWidth           = 0x0100
	tagImageLength          = 0x0101
	tagBitsPerSample        = 0x0102
	tagCompression          = 0x0103
	tagPhotometric          = 0x0106
	tagMake                 = 0x010F
	tagModel                = 0x0110
	tagStripOffsets         = 0x0111
	tagOrientation          = 0x0112
	tagSamplesPerPixel      = 0x0115
	tagRowsPerStrip         = 0x0116
	tagStripByteCounts      = 0x0117
	tagXResolution          = 0x011A
	tagYResolution          = 0x011B
	tagPlanarConfiguration  = 0x011C
	tagResolutionUnit       = 0x0128
	tagDateTime             = 0x0132
	tagSubIFDs              = 0x014A
	tagJPEGInterchange      = 0x0201 // ThumbnailOffset, PreviewImageStart, JpgFromRawStart
	tagJPEGInterchangeLen   = 0x0202
	tagYCbCrPositioning     = 0x0213
	tagCFARepeatPatternDim  = 0x828D
	tagCFAPattern           = 0x828E
	tagExposureTime         = 0x829A
	tagFNumber              = 0x829D
	tagExifIFD              = 0x8769
	tagISO                  = 0x8827
	tagExifVersion          = 0x9000
	tagDateTimeOriginal     = 0x9003
	tagCreateDate           = 0x9004
	tagComponentsConfig     = 0x9101
	tagFocalLength          = 0x920A
	tagMakerNote            = 0x927C
	tagFlashpixVersion      = 0xA000
	tagColorSpace           = 0xA001
	tagPixelXDimension      = 0xA002
	tagPixelYDimension      = 0xA003
	tagCR2Slice             = 0xC640
	compressionNone         = 1
	compressionJPEG         = 6 // old-style JPEG: what cameras write for embedded JPEGs
	photometricRGB          = 2
	photometricCFA          = 32803
	compressionNikonNEF     = 34713
	compressionSonyARW      = 32767
	resolutionUnitInch      = 2
	ycbcrCosited            = 2
	newSubfileTypeReduced   = 1
	newSubfileTypeFullImage = 0
)

// exifDate is the EXIF form of f's capture date, in the camera's time.
func exifDate(f genFile) string { return f.mtime.Format("2006:01:02 15:04:05") }

// exifOrder is the byte order of the make's EXIF data: Nikon writes
// big-endian (as in its NEF files), Canon and Sony little-endian.
func (m *genMedium) exifOrder() byteOrder {
	if m.raw == rawNEF {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// ifd0Tags are the IFD0 tags of every generated photo: make, model, the
// date the file was written.
func (m *genMedium) ifd0Tags(b *tiffBuilder, f genFile) []tiffEntry {
	return []tiffEntry{
		b.ascii(tagMake, m.make),
		b.ascii(tagModel, m.model),
		b.short(tagOrientation, 1),
		b.rational(tagXResolution, 300, 1),
		b.rational(tagYResolution, 300, 1),
		b.short(tagResolutionUnit, resolutionUnitInch),
		b.ascii(tagDateTime, exifDate(f)),
	}
}

// exifIFD is the Exif IFD of f (w×h pixels), with more entries (a maker
// note).
func (m *genMedium) exifIFD(b *tiffBuilder, f genFile, w, h uint32, more ...tiffEntry) *tiffNode {
	return newIFD(append([]tiffEntry{
		b.rational(tagExposureTime, 1, 250),
		b.rational(tagFNumber, 56, 10),
		b.short(tagISO, 200),
		b.undefined(tagExifVersion, []byte("0230")),
		b.ascii(tagDateTimeOriginal, exifDate(f)),
		b.ascii(tagCreateDate, exifDate(f)),
		b.undefined(tagComponentsConfig, []byte{1, 2, 3, 0}),
		b.rational(tagFocalLength, 35, 1),
		b.undefined(tagFlashpixVersion, []byte("0100")),
		b.short(tagColorSpace, 1),
		b.long(tagPixelXDimension, w),
		b.long(tagPixelYDimension, h),
	}, more...)...)
}

// thumbTags are the tags of an IFD of a JPEG thumbnail (or preview) at
// n.
func thumbTags(b *tiffBuilder, n *tiffNode, more ...tiffEntry) []tiffEntry {
	return append([]tiffEntry{
		b.short(tagCompression, compressionJPEG),
		b.rational(tagXResolution, 72, 1),
		b.rational(tagYResolution, 72, 1),
		b.short(tagResolutionUnit, resolutionUnitInch),
		b.offsets(tagJPEGInterchange, n),
		b.length(tagJPEGInterchangeLen, n),
	}, more...)
}

// jpegFile lays out the generated JPEG f as a camera writes one: SOI, an
// APP1 segment with the EXIF data (IFD0, the Exif IFD with the capture
// date, IFD1 with the thumbnail), the picture's tables, frame and scan,
// then COM segments up to the file's size, and EOI. A reader of the
// metadata stops at the scan, in the first tens of KiB.
func (m *genMedium) jpegFile(f genFile) ([]piece, error) {
	big, err := encodePicture(f.pic, genWidth, genHeight, pictureQuality)
	if err != nil {
		return nil, err
	}
	thumb, err := m.thumb(f.rel, false)
	if err != nil {
		return nil, err
	}
	b := newTIFF(m.exifOrder(), false)
	exif := m.exifIFD(b, f, genWidth, genHeight)
	b.ifd0 = newIFD(append(m.ifd0Tags(b, f), b.short(tagYCbCrPositioning, ycbcrCosited), b.offsets(tagExifIFD, exif))...)
	th := &tiffNode{data: thumb}
	ifd1 := newIFD(thumbTags(b, th)...)
	b.ifd0.ifd.next = ifd1
	b.add(b.ifd0, exif, ifd1, th)
	tiff, err := b.bytes()
	if err != nil {
		return nil, err
	}
	app1 := append([]byte("Exif\x00\x00"), tiff...)
	if len(app1)+2 > 0xFFFF {
		return nil, fmt.Errorf("camsim: EXIF of %d bytes", len(app1))
	}
	head := []byte{0xFF, 0xD8, 0xFF, 0xE1}
	head = binary.BigEndian.AppendUint16(head, uint16(len(app1)+2))
	head = append(head, app1...)
	head = append(head, big[2:len(big)-2]...) // the picture between its SOI and EOI
	pad := f.size - int64(len(head)) - 2
	if pad < 0 {
		return nil, fmt.Errorf("camsim: %s: %d bytes too small for its picture", f.rel, f.size)
	}
	if _, err := padSegments(pad); err != nil {
		return nil, err
	}
	var ps pieceList
	ps.lit(0, head)
	if pad > 0 {
		ps.com(int64(len(head)), pad)
	}
	ps.lit(f.size-2, []byte{0xFF, 0xD9})
	return ps.p, nil
}
