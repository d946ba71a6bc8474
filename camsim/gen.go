package camsim

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// CardSpec describes a generated card: DCF folders and files named as the
// personality's make names them, whose bytes are computed from the seed
// when they are read and never stored, so a card of any size costs no
// disk and little memory.
//
// Every photo is a JPEG shaped like a camera's (exif.go): SOI, an EXIF
// APP1 segment with the capture date and a thumbnail, the picture, then
// COM segments that bring it to a camera's file size before EOI. Every
// other one, chosen by the seed, also has a RAW file of a RAW's size, laid
// out as the make's RAW format (raw.go: NEF, CR2 or ARW, TIFF containers
// with a JPEG preview and thumbnail, then the sensor data as pseudo-random
// bytes) and showing the same picture. Capture dates rise from From to To.
// A movie of Video bytes, which may exceed 4 GiB, comes last. Every photo
// and the movie has a camera thumbnail (GetThumb).
type CardSpec struct {
	Photos  int    // number of photos (JPEGs)
	Seed    uint64 // same seed, same card
	Folders int    // DCF folders the photos are spread over (default 1)
	// Size is the size of every photo file, JPEG and RAW alike (0: sizes
	// vary like a camera's, 4-9 MB JPEGs and 20-30 MB RAWs). At least
	// MinGeneratedSize.
	Size int64
	// Video is the size of the one movie (0: none).
	Video int64
	// From and To bound the capture dates (default 2024-03-01 08:00 to
	// 2024-09-30 20:00 in the camera's time zone).
	From, To time.Time
}

// MinGeneratedSize is the smallest CardSpec.Size: a JPEG's picture,
// thumbnail and headers fit well within it.
const MinGeneratedSize = 256 << 10

// Generated picture sizes: the main image (also the RAW's previews) and,
// per thumbSize, the thumbnail.
const genWidth, genHeight = 480, 320

func (sp *CardSpec) check() error {
	switch {
	case sp.Photos < 0 || sp.Folders < 0 || sp.Size < 0 || sp.Video < 0:
		return errors.New("camsim: negative count or size in the card spec")
	case sp.Size != 0 && sp.Size < MinGeneratedSize:
		return fmt.Errorf("camsim: generated file size %d below the minimum %d", sp.Size, MinGeneratedSize)
	case sp.Folders > 900:
		return fmt.Errorf("camsim: %d folders: DCF numbers folders 100 to 999", sp.Folders)
	case sp.Photos == 0 && sp.Video == 0:
		return errors.New("camsim: a generated card needs photos or a video")
	case !sp.From.IsZero() && !sp.To.IsZero() && sp.To.Before(sp.From):
		return errors.New("camsim: date range ends before it starts")
	}
	return nil
}

// genKind is what a generated file holds.
type genKind int

const (
	kindJPEG genKind = iota
	kindRAW
	kindVideo
	kindHost // a host file added through the control socket
)

// genFile is one generated file (or folder).
type genFile struct {
	entry
	kind genKind
	key  uint64 // seeds its bytes
	pic  uint64 // seeds its picture: a RAW shows its JPEG's
	src  string // kindHost: the host file
}

// genMedium is a generated card.
type genMedium struct {
	make, model string
	raw         rawFormat
	files       []genFile      // the generated tree, parents first
	index       map[string]int // files by path

	mu      sync.Mutex
	extra   map[string]genFile // added through the control socket
	removed map[string]bool    // taken off the card: a folder takes its contents
	layouts map[uint64][]piece // by file key
	order   []uint64           // layouts in the order made, for eviction
}

// layoutCache is how many files' layouts (their encoded pictures) are kept.
const layoutCache = 32

func newGenMedium(sp CardSpec, l Layout, manufacturer, model string, loc *time.Location) *genMedium {
	if sp.Folders == 0 {
		sp.Folders = 1
	}
	if sp.From.IsZero() {
		sp.From = time.Date(2024, 3, 1, 8, 0, 0, 0, loc)
	}
	if sp.To.IsZero() {
		sp.To = time.Date(2024, 9, 30, 20, 0, 0, 0, loc)
		if sp.To.Before(sp.From) {
			sp.To = sp.From.Add(200 * 24 * time.Hour)
		}
	}
	m := &genMedium{make: manufacturer, model: model, raw: rawFormatOf(l.RawExt), extra: map[string]genFile{}, removed: map[string]bool{}, layouts: map[uint64][]piece{}}
	rng := rand.New(rand.NewPCG(sp.Seed, 0x63616d73696d))
	folder := func(k int) string { return fmt.Sprintf("DCIM/%03d%s", 100+k, l.FolderSuffix) }
	m.files = append(m.files, genFile{entry: entry{rel: "DCIM", dir: true, mtime: sp.From}})
	span := sp.To.Sub(sp.From)
	step := time.Duration(0)
	if sp.Photos > 0 {
		step = span / time.Duration(sp.Photos)
	}
	lastFolder := -1
	for i := range sp.Photos {
		k := i * sp.Folders / sp.Photos
		at := sp.From.Add(step * time.Duration(i))
		if step > 2*time.Second {
			at = at.Add(time.Duration(rng.Int64N(int64(step / 2))))
		}
		at = at.Truncate(time.Second)
		for ; lastFolder < k; lastFolder++ {
			m.files = append(m.files, genFile{entry: entry{rel: folder(lastFolder + 1), dir: true, mtime: at}})
		}
		base := fmt.Sprintf("%s/%s%04d", folder(k), l.FilePrefix, i%9999+1)
		jsize, rsize := sp.Size, sp.Size
		if sp.Size == 0 {
			jsize = 4_000_000 + rng.Int64N(5_000_000)
			rsize = 20_000_000 + rng.Int64N(10_000_000)
		}
		jkey := rng.Uint64()
		m.files = append(m.files, genFile{entry: entry{rel: base + ".JPG", size: jsize, mtime: at}, kind: kindJPEG, key: jkey, pic: jkey})
		if rng.IntN(2) == 1 {
			m.files = append(m.files, genFile{entry: entry{rel: base + l.RawExt, size: rsize, mtime: at}, kind: kindRAW, key: rng.Uint64(), pic: jkey})
		}
	}
	if sp.Video > 0 {
		if lastFolder < 0 {
			m.files = append(m.files, genFile{entry: entry{rel: folder(0), dir: true, mtime: sp.To}})
			lastFolder = 0
		}
		rel := fmt.Sprintf("%s/%s%04d%s", folder(lastFolder), l.FilePrefix, sp.Photos%9999+1, l.VideoExt)
		key := rng.Uint64()
		m.files = append(m.files, genFile{entry: entry{rel: rel, size: sp.Video, mtime: sp.To.Truncate(time.Second)}, kind: kindVideo, key: key, pic: key})
	}
	m.index = make(map[string]int, len(m.files))
	for i, f := range m.files {
		m.index[f.rel] = i
	}
	return m
}

func (m *genMedium) String() string { return fmt.Sprintf("generated card of %d entries", len(m.files)) }

// goneLocked reports whether rel or a folder above it was removed.
func (m *genMedium) goneLocked(rel string) bool {
	for p := rel; p != "."; p = path.Dir(p) {
		if m.removed[p] {
			return true
		}
	}
	return false
}

// pathKey orders paths parents first, then by name within a folder.
func pathKey(rel string) string { return strings.ReplaceAll(rel, "/", "\x00") }

func (m *genMedium) walk() ([]entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []entry
	for _, f := range m.files {
		if _, replaced := m.extra[f.rel]; !replaced && !m.goneLocked(f.rel) {
			out = append(out, f.entry)
		}
	}
	for _, f := range m.extra {
		if !m.goneLocked(f.rel) {
			out = append(out, f.entry)
		}
	}
	slices.SortFunc(out, func(a, b entry) int { return cmp.Compare(pathKey(a.rel), pathKey(b.rel)) })
	return out, nil
}

// file finds the live file at rel.
func (m *genMedium) file(rel string) (genFile, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.goneLocked(rel) {
		return genFile{}, false
	}
	if f, ok := m.extra[rel]; ok {
		return f, true
	}
	if i, ok := m.index[rel]; ok {
		return m.files[i], true
	}
	return genFile{}, false
}

func (m *genMedium) open(rel string) (blob, error) {
	f, ok := m.file(rel)
	switch {
	case !ok:
		return nil, fmt.Errorf("camsim: %s: %w", rel, errNotFound)
	case f.dir:
		return nil, fmt.Errorf("camsim: %s is a folder", rel)
	case f.kind == kindHost:
		return os.Open(f.src)
	}
	return &genReader{m: m, f: f}, nil
}

func (m *genMedium) dims(rel string) (w, h uint32) {
	f, ok := m.file(rel)
	if !ok || f.kind != kindJPEG {
		return 0, 0
	}
	return genWidth, genHeight
}

// space reports a 64 GB card, or twice what is on it if that is more.
func (m *genMedium) space() (capacity, free uint64, err error) {
	es, _ := m.walk()
	var used uint64
	for _, e := range es {
		used += uint64(e.size)
	}
	capacity = max(64_000_000_000, 2*used)
	return capacity, capacity - used, nil
}

// add puts the host file src on the card at rel; its bytes are read from
// src when read (the file must stay).
func (m *genMedium) add(src, rel string) error {
	if err := checkRel(rel); err != nil {
		return err
	}
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("camsim: %s is not a regular file", src)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := path.Dir(rel); p != "."; p = path.Dir(p) {
		delete(m.removed, p)
		if !m.hasDirLocked(p) {
			m.extra[p] = genFile{entry: entry{rel: p, dir: true, mtime: fi.ModTime()}}
		}
	}
	delete(m.removed, rel)
	m.extra[rel] = genFile{entry: entry{rel: rel, size: fi.Size(), mtime: fi.ModTime()}, kind: kindHost, src: src}
	return nil
}

func (m *genMedium) hasDirLocked(rel string) bool {
	if f, ok := m.extra[rel]; ok {
		return f.dir
	}
	i, ok := m.index[rel]
	return ok && m.files[i].dir
}

func (m *genMedium) remove(rel string) error {
	if err := checkRel(rel); err != nil {
		return err
	}
	if _, ok := m.file(rel); !ok {
		return fmt.Errorf("camsim: %s: %w", rel, errNotFound)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for r := range m.extra {
		if r == rel || strings.HasPrefix(r, rel+"/") {
			delete(m.extra, r)
		}
	}
	m.removed[rel] = true
	return nil
}

// genReader reads a generated file.
type genReader struct {
	m *genMedium
	f genFile
}

func (r *genReader) Close() error { return nil }

func (r *genReader) ReadAt(p []byte, off int64) (int, error) {
	size := r.f.size
	if off < 0 {
		return 0, errors.New("camsim: negative offset")
	}
	if off >= size {
		return 0, io.EOF
	}
	n := len(p)
	if int64(n) > size-off {
		n = int(size - off)
	}
	if r.f.kind == kindVideo {
		fillHeaded(p[:n], off, movieHeader, r.f.key)
	} else {
		ps, err := r.m.layout(r.f)
		if err != nil {
			return 0, err
		}
		readPieces(ps, r.f.key, p[:n], off)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// movieHeader starts a movie: a QuickTime ftyp box.
var movieHeader = []byte("\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ")

// fillHeaded fills p with the bytes at off of a file that is head followed
// by the pseudo-random stream of key.
func fillHeaded(p []byte, off int64, head []byte, key uint64) {
	if off < int64(len(head)) {
		k := copy(p, head[off:])
		p, off = p[k:], off+int64(k)
	}
	fillStream(p, key, uint64(off))
}

// layout returns the pieces of the photo f, made on first use and kept for
// the layoutCache files read last.
func (m *genMedium) layout(f genFile) ([]piece, error) {
	m.mu.Lock()
	ps := m.layouts[f.key]
	m.mu.Unlock()
	if ps != nil {
		return ps, nil
	}
	var err error
	if f.kind == kindRAW {
		ps, err = m.rawFile(f)
	} else {
		ps, err = m.jpegFile(f)
	}
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if q := m.layouts[f.key]; q != nil {
		return q, nil
	}
	m.layouts[f.key] = ps
	m.order = append(m.order, f.key)
	if len(m.order) > layoutCache {
		delete(m.layouts, m.order[0])
		m.order = m.order[1:]
	}
	return ps, nil
}

// thumb returns the camera's thumbnail of the file at rel (large: Nikon's
// large thumbnail, the preview), or nil: every photo and the movie have
// one, and an added host file has what thumbFromFile finds in it.
func (m *genMedium) thumb(rel string, large bool) ([]byte, error) {
	f, ok := m.file(rel)
	switch {
	case !ok:
		return nil, fmt.Errorf("camsim: %s: %w", rel, errNotFound)
	case f.dir:
		return nil, nil
	case f.kind == kindHost:
		r, err := os.Open(f.src)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return thumbFromFile(r, f.size, large)
	case f.kind == kindVideo:
		if large {
			return nil, nil
		}
		return encodePicture(f.pic, thumbMax, thumbMax*9/16, thumbQuality)
	case large:
		return encodePicture(f.pic, genWidth, genHeight, pictureQuality)
	}
	tw, th := thumbSize(genWidth, genHeight)
	return encodePicture(f.pic, int(tw), int(th), thumbQuality)
}

// JPEG qualities of the generated pictures and thumbnails.
const pictureQuality, thumbQuality = 90, 80

// encodePicture is the JPEG of the w×h picture of key.
func encodePicture(key uint64, w, h, quality int) ([]byte, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, picture(key, w, h), &jpeg.Options{Quality: quality}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// fillStream fills p with the bytes at pos of the pseudo-random stream of
// key: byte i is byte i%8 of splitmix64(key, i/8), so any byte can be
// computed without the ones before it.
func fillStream(p []byte, key, pos uint64) {
	for len(p) > 0 {
		w := splitmix(key ^ (pos>>3)*0x9E3779B97F4A7C15)
		if pos&7 == 0 && len(p) >= 8 {
			binary.LittleEndian.PutUint64(p, w)
			p, pos = p[8:], pos+8
			continue
		}
		p[0] = byte(w >> (8 * (pos & 7)))
		p, pos = p[1:], pos+1
	}
}

func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	return x ^ x>>31
}

// A piece is a run of a generated file's bytes: stored bytes, COM segments
// of pseudo-random bytes (a JPEG's padding), or the file's pseudo-random
// stream.
type piece struct {
	at, n  int64
	lit    []byte
	com    bool
	segs   []int64 // com: the segments' lengths, each with its 4-byte header
	starts []int64 // com: their offsets from at
}

// pieceList builds a file's pieces in order.
type pieceList struct{ p []piece }

func (l *pieceList) lit(at int64, b []byte) {
	if len(b) > 0 {
		l.p = append(l.p, piece{at: at, n: int64(len(b)), lit: b})
	}
}

func (l *pieceList) stream(at, n int64) {
	if n > 0 {
		l.p = append(l.p, piece{at: at, n: n})
	}
}

// com adds n bytes of COM segments; n is 0 or at least 4 (padSegments).
func (l *pieceList) com(at, n int64) {
	segs, err := padSegments(n)
	if err != nil || n == 0 {
		panic(fmt.Sprintf("camsim: padding of %d bytes", n)) // callers choose n
	}
	pc := piece{at: at, n: n, com: true, segs: segs, starts: make([]int64, len(segs))}
	var s int64
	for i, sz := range segs {
		pc.starts[i] = s
		s += sz
	}
	l.p = append(l.p, pc)
}

// readPieces fills p with the bytes at off of the file of pieces ps and
// key.
func readPieces(ps []piece, key uint64, p []byte, off int64) {
	i := sort.Search(len(ps), func(i int) bool { return ps[i].at+ps[i].n > off })
	for len(p) > 0 && i < len(ps) {
		pc := &ps[i]
		in := off - pc.at
		k := int(min(int64(len(p)), pc.n-in))
		switch {
		case pc.lit != nil:
			copy(p[:k], pc.lit[in:])
		case pc.com:
			j := sort.Search(len(pc.starts), func(j int) bool { return pc.starts[j] > in }) - 1
			s := in - pc.starts[j]
			seg := pc.segs[j]
			if s < 4 {
				var hdr [4]byte
				hdr[0], hdr[1] = 0xFF, 0xFE // COM
				binary.BigEndian.PutUint16(hdr[2:], uint16(seg-2))
				k = copy(p[:k], hdr[s:])
			} else {
				k = int(min(int64(k), seg-s))
				fillStream(p[:k], key, uint64(off))
			}
		default:
			fillStream(p[:k], key, uint64(off))
		}
		p, off = p[k:], off+int64(k)
		if off >= pc.at+pc.n {
			i++
		}
	}
}

// maxSegment is the longest JPEG segment: marker, 16-bit length, 65533
// payload bytes.
const maxSegment = 2 + 0xFFFF

// padSegments splits n padding bytes into COM segments of 4 to maxSegment
// bytes each.
func padSegments(n int64) ([]int64, error) {
	full, r := n/maxSegment, n%maxSegment
	segs := make([]int64, 0, full+2)
	switch {
	case r == 0:
	case r >= 4:
		segs = append(segs, r)
	case full > 0:
		full--
		segs = append(segs, maxSegment-(4-r), 4)
	default:
		return nil, fmt.Errorf("camsim: cannot pad %d bytes with JPEG segments", n)
	}
	for range full {
		segs = append(segs, maxSegment)
	}
	return segs, nil
}

// picture is the generated image of key: a gradient in colours from the
// key with a few blocks on it, different for every file.
func picture(key uint64, w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(key, 1))
	c0 := [3]int{rng.IntN(256), rng.IntN(256), rng.IntN(256)}
	c1 := [3]int{rng.IntN(256), rng.IntN(256), rng.IntN(256)}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			t := (x*w + y*h) * 256 / (w*w + h*h)
			var px [3]uint8
			for i := range 3 {
				px[i] = uint8(c0[i] + (c1[i]-c0[i])*t/256)
			}
			img.SetRGBA(x, y, color.RGBA{px[0], px[1], px[2], 255})
		}
	}
	for range 4 {
		x0, y0 := rng.IntN(w), rng.IntN(h)
		bw, bh := w/8+rng.IntN(w/4), h/8+rng.IntN(h/4)
		c := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		for y := y0; y < min(h, y0+bh); y++ {
			for x := x0; x < min(w, x0+bw); x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	return img
}
