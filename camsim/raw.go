package camsim

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// rawFormat is how a make lays out its RAW files. All three are TIFF
// containers: IFDs, the EXIF data, a JPEG preview and a thumbnail in the
// first part of the file, then the sensor data (here pseudo-random bytes).
type rawFormat int

const (
	// rawARW is Sony's ARW (and the layout of a RAW extension not known
	// here): little-endian; IFD0 holds the PreviewImage (JPEG, tags
	// 0x0201/0x0202) and a SubIFD the sensor data; IFD1 the JPEG
	// thumbnail (ExifTool's Exif tag notes, "PreviewImageStart in ...
	// IFD0 of ARW"; "CR2, ARW, SR2 and PEF use IFD1 for a
	// JPEG-compressed thumbnail").
	rawARW rawFormat = iota
	// rawNEF is Nikon's NEF: big-endian ("MM", all bodies but the E5700);
	// IFD0 is a 160x120 uncompressed RGB thumbnail with two SubIFDs, the
	// JpgFromRaw (a JPEG of the full picture) and the sensor data; the
	// maker note's PreviewIFD (0x0011) holds a JPEG PreviewImage, its
	// offsets counted from the maker note's own TIFF header, which
	// follows "Nikon\0" and a version (L. Clevy's NEF description,
	// lclevy.free.fr/nef; ExifTool's MakerNotes.pm and Nikon.pm).
	rawNEF
	// rawCR2 is Canon's CR2: little-endian, a 16-byte header ("CR",
	// version 2.0, the offset of the RAW IFD), IFD0 a JPEG of the picture
	// in one strip (compression 6), IFD1 the JPEG thumbnail, IFD2 a small
	// uncompressed RGB image, IFD3 the sensor data; IFD1 follows IFD0's
	// JPEG, so the thumbnail lies a few MB into the file (libopenraw's
	// CR2 notes; exifprobe's dump of an EOS 20D CR2).
	rawCR2
)

func rawFormatOf(ext string) rawFormat {
	switch strings.ToUpper(ext) {
	case ".NEF":
		return rawNEF
	case ".CR2":
		return rawCR2
	}
	return rawARW
}

// Nominal sensor sizes of the RAW IFDs (a D7200's, a 6D's, an A7 III's).
const (
	nefSensorW, nefSensorH = 6016, 4016
	cr2SensorW, cr2SensorH = 5472, 3648
	arwSensorW, arwSensorH = 6048, 4024
)

// Shares of a RAW file taken by its big JPEG (the rest of the picture's
// size is COM padding), as in real files: a NEF's full-size JpgFromRaw, a
// CR2's full-size IFD0 JPEG, an ARW's 1616x1080 preview.
const (
	nefJpgFromRawShare = 16 // 1/16 of the file
	cr2PreviewShare    = 10
	arwPreviewShare    = 60
)

// paddedTo is the JPEG big padded to about total bytes (never less than
// itself).
func paddedTo(big []byte, total int64) *paddedJPEG {
	j := &paddedJPEG{head: big[:len(big)-2]}
	if pad := total - int64(len(big)); pad >= 4 {
		j.pad = pad
	}
	return j
}

// rgbStrip is the picture of key as w×h 8-bit RGB samples, a TIFF strip.
func rgbStrip(key uint64, w, h int) []byte {
	img := picture(key, w, h)
	out := make([]byte, 0, 3*w*h)
	for i := 0; i < len(img.Pix); i += 4 {
		out = append(out, img.Pix[i], img.Pix[i+1], img.Pix[i+2])
	}
	return out
}

// rawFile lays out the generated RAW f in the make's format.
func (m *genMedium) rawFile(f genFile) ([]piece, error) {
	big, err := encodePicture(f.pic, genWidth, genHeight, pictureQuality)
	if err != nil {
		return nil, err
	}
	thumb, err := m.thumb(f.rel, false)
	if err != nil {
		return nil, err
	}
	tw, th := thumbSize(genWidth, genHeight)
	var b *tiffBuilder
	sensor := &tiffNode{} // the sensor data: the rest of the file
	switch m.raw {
	case rawNEF:
		b, err = m.nefLayout(f, big, rgbStrip(f.pic, int(tw), int(th)), tw, th, sensor)
	case rawCR2:
		b = m.cr2Layout(f, big, thumb, rgbStrip(f.pic, int(tw), int(th)), tw, th, sensor)
	default:
		b = m.arwLayout(f, big, thumb, sensor)
	}
	if err != nil {
		return nil, err
	}
	b.layout()
	if sensor.at > f.size {
		return nil, fmt.Errorf("camsim: %s: %d bytes too small for a RAW file of %d", f.rel, f.size, sensor.at)
	}
	sensor.fill = f.size - sensor.at
	return b.pieces(0), nil
}

func (m *genMedium) nefLayout(f genFile, big, rgb []byte, tw, th uint32, sensor *tiffNode) (*tiffBuilder, error) {
	// The maker note: "Nikon\0", version 2.10, then a TIFF structure of
	// its own holding the PreviewIFD and the preview.
	mb := newTIFF(binary.BigEndian, false)
	prev := &tiffNode{data: big}
	pifd := newIFD(thumbTags(mb, prev,
		mb.long(tagNewSubfileType, newSubfileTypeReduced),
		mb.short(tagYCbCrPositioning, ycbcrCosited))...)
	mb.ifd0 = newIFD(
		mb.undefined(0x0001, []byte("0210")), // MakerNoteVersion
		mb.offsets(0x0011, pifd),             // PreviewIFD
	)
	mb.add(mb.ifd0, pifd, prev)
	note, err := mb.bytes()
	if err != nil {
		return nil, err
	}
	note = append([]byte("Nikon\x00\x02\x10\x00\x00"), note...)

	b := newTIFF(binary.BigEndian, false)
	strip := &tiffNode{data: rgb}
	jfr := &tiffNode{jpeg: paddedTo(big, f.size/nefJpgFromRawShare)}
	sub0 := newIFD(
		b.long(tagNewSubfileType, newSubfileTypeReduced),
		b.short(tagCompression, compressionJPEG),
		b.rational(tagXResolution, 300, 1),
		b.rational(tagYResolution, 300, 1),
		b.short(tagResolutionUnit, resolutionUnitInch),
		b.offsets(tagJPEGInterchange, jfr), // JpgFromRawStart
		b.length(tagJPEGInterchangeLen, jfr),
		b.short(tagYCbCrPositioning, ycbcrCosited),
	)
	sub1 := newIFD(
		b.long(tagNewSubfileType, newSubfileTypeFullImage),
		b.long(tagImageWidth, nefSensorW),
		b.long(tagImageLength, nefSensorH),
		b.short(tagBitsPerSample, 14),
		b.short(tagCompression, compressionNikonNEF),
		b.short(tagPhotometric, photometricCFA),
		b.offsets(tagStripOffsets, sensor),
		b.short(tagSamplesPerPixel, 1),
		b.long(tagRowsPerStrip, nefSensorH),
		b.length(tagStripByteCounts, sensor),
		b.rational(tagXResolution, 300, 1),
		b.rational(tagYResolution, 300, 1),
		b.short(tagPlanarConfiguration, 1),
		b.short(tagResolutionUnit, resolutionUnitInch),
		b.short(tagCFARepeatPatternDim, 2, 2),
		tiffEntry{tag: tagCFAPattern, typ: tiffByte, count: 4, val: []byte{0, 1, 1, 2}},
	)
	exif := m.exifIFD(b, f, nefSensorW, nefSensorH, b.undefined(tagMakerNote, note))
	b.ifd0 = newIFD(append(m.ifd0Tags(b, f),
		b.long(tagNewSubfileType, newSubfileTypeReduced),
		b.short(tagImageWidth, uint16(tw)),
		b.short(tagImageLength, uint16(th)),
		b.short(tagBitsPerSample, 8, 8, 8),
		b.short(tagCompression, compressionNone),
		b.short(tagPhotometric, photometricRGB),
		b.offsets(tagStripOffsets, strip),
		b.short(tagSamplesPerPixel, 3),
		b.short(tagRowsPerStrip, uint16(th)),
		b.length(tagStripByteCounts, strip),
		b.short(tagPlanarConfiguration, 1),
		b.offsets(tagSubIFDs, sub0, sub1),
		b.offsets(tagExifIFD, exif),
	)...)
	b.add(b.ifd0, exif, sub0, sub1, strip, jfr, sensor)
	return b, nil
}

func (m *genMedium) cr2Layout(f genFile, big, thumb, rgb []byte, tw, th uint32, sensor *tiffNode) *tiffBuilder {
	b := newTIFF(binary.LittleEndian, true)
	prev := &tiffNode{jpeg: paddedTo(big, f.size/cr2PreviewShare)}
	thumbN := &tiffNode{data: thumb}
	strip := &tiffNode{data: rgb}
	ifd3 := newIFD(
		b.short(tagCompression, compressionJPEG),
		b.offsets(tagStripOffsets, sensor),
		b.length(tagStripByteCounts, sensor),
		b.short(tagCR2Slice, 1, cr2SensorW/2, cr2SensorW/2),
	)
	ifd2 := newIFD(
		b.short(tagImageWidth, uint16(tw)),
		b.short(tagImageLength, uint16(th)),
		b.short(tagBitsPerSample, 8, 8, 8),
		b.short(tagCompression, compressionNone),
		b.short(tagPhotometric, photometricRGB),
		b.offsets(tagStripOffsets, strip),
		b.short(tagSamplesPerPixel, 3),
		b.short(tagRowsPerStrip, uint16(th)),
		b.length(tagStripByteCounts, strip),
		b.short(tagPlanarConfiguration, 1),
	)
	ifd2.ifd.next = ifd3
	exif := m.exifIFD(b, f, cr2SensorW, cr2SensorH)
	ifd1 := newIFD(thumbTags(b, thumbN)...)
	ifd1.ifd.next = ifd2
	b.ifd0 = newIFD(append(m.ifd0Tags(b, f),
		b.long(tagImageWidth, genWidth),
		b.long(tagImageLength, genHeight),
		b.short(tagBitsPerSample, 8, 8, 8),
		b.short(tagCompression, compressionJPEG),
		b.offsets(tagStripOffsets, prev),
		b.length(tagStripByteCounts, prev),
		b.offsets(tagExifIFD, exif),
	)...)
	b.ifd0.ifd.next = ifd1
	b.add(b.ifd0, exif, prev, ifd1, thumbN, ifd2, strip, ifd3, sensor)
	b.cr2Raw = ifd3
	return b
}

func (m *genMedium) arwLayout(f genFile, big, thumb []byte, sensor *tiffNode) *tiffBuilder {
	b := newTIFF(binary.LittleEndian, false)
	prev := &tiffNode{jpeg: paddedTo(big, f.size/arwPreviewShare)}
	thumbN := &tiffNode{data: thumb}
	rawIFD := newIFD(
		b.long(tagNewSubfileType, newSubfileTypeFullImage),
		b.long(tagImageWidth, arwSensorW),
		b.long(tagImageLength, arwSensorH),
		b.short(tagBitsPerSample, 12),
		b.short(tagCompression, compressionSonyARW),
		b.short(tagPhotometric, photometricCFA),
		b.offsets(tagStripOffsets, sensor),
		b.short(tagSamplesPerPixel, 1),
		b.long(tagRowsPerStrip, arwSensorH),
		b.length(tagStripByteCounts, sensor),
		b.short(tagPlanarConfiguration, 1),
		b.short(tagCFARepeatPatternDim, 2, 2),
		tiffEntry{tag: tagCFAPattern, typ: tiffByte, count: 4, val: []byte{0, 1, 1, 2}},
	)
	exif := m.exifIFD(b, f, arwSensorW, arwSensorH)
	ifd1 := newIFD(thumbTags(b, thumbN)...)
	b.ifd0 = newIFD(append(m.ifd0Tags(b, f),
		b.long(tagNewSubfileType, newSubfileTypeReduced),
		b.short(tagCompression, compressionJPEG),
		b.offsets(tagJPEGInterchange, prev), // PreviewImageStart
		b.length(tagJPEGInterchangeLen, prev),
		b.short(tagYCbCrPositioning, ycbcrCosited),
		b.offsets(tagSubIFDs, rawIFD),
		b.offsets(tagExifIFD, exif),
	)...)
	b.ifd0.ifd.next = ifd1
	b.add(b.ifd0, exif, ifd1, thumbN, prev, rawIFD, sensor)
	return b
}
