package camsim

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// A hostile camera (Config.Hostile, camsim --hostile KIND,...) adds to the
// top level of slot 1 objects no sane camera reports, to prove that a host
// survives them. Each kind adds its own folder or files:
//
//	names       NAMES/: names with '/', "..", ".", empty, a NUL inside, a
//	            leading NUL, lone and reversed UTF-16 surrogates, control
//	            characters, a 304-byte (104-unit) name
//	duplicates  DUPS/: three files and two folders named alike, one handle
//	            listed twice
//	cycles      CYCLE_A and CYCLE_B, each the other's ParentObject, and
//	            SELF, its own, all three in the top-level handle list;
//	            LOOP/INNER/, whose handle list holds INNER and LOOP again
//	deep        DEEP/d/d/...: HostileDepth nested folders
//	many        MANY/: HostileMany files (handles computed, never stored)
//	huge        HUGE.MOV: CompressedSize HostileHugeSize (just under 4 GiB),
//	            its bytes computed when read (HostileByte)
//	truncated   TRUNCATED.JPG: a read is answered with Start Data and a Data
//	            packet cut short, then the connection ends
//	oversized   OVERSIZED.JPG: a read is answered with an Operation Response
//	            whose Length field says ~4 GiB, then the connection ends
//	slow        SLOW.JPG: a read is answered with Start Data, then one data
//	            byte every HostileTrickle, never more
//	probes      PROBES.JPG: a read is answered with a Probe Request every
//	            HostileTrickle on the command connection, never data
//	events      once a session opens, HostileEvents ObjectAdded events as
//	            fast as the link carries them, for handles no object has
//	proplist    PROPLIST/: its GetObjectPropList answer is just under 64 MiB
//	            of 9-byte entries, each of another object (HostilePropList
//	            objects; computed, never stored); its handle list is empty
//	badinfo     BADINFO/: GOOD.JPG, and three files whose GetObjectInfo
//	            answers AccessDenied (as a Nikon Z for photos not marked
//	            for upload), GeneralError, and a dataset cut short
//	denied      DENIED/: its GetObjectHandles answers AccessDenied
//	alike       ALIKE/: Config.HostileAlike files all named SAME.JPG
//	            (handles computed, never stored)
//	storages    GetStorageIDs lists HostileStorages storages after the
//	            card: each answers a StorageInfo called HOSTILE and holds
//	            nothing
//	zero64      ZERO64.MOV: CompressedSize 0xFFFFFFFF (4 GiB or more), and
//	            a 64-bit size (MTP ObjectSize, Nikon GetObjectSize) of 0
//	strings     a make, model and serial (DeviceInfo, the Init Command
//	            Ack's name) and a card name (StorageDescription) holding
//	            newlines, terminal escapes and bidirectional overrides;
//	            STRINGS/: files named so (HostileStringNames)
//	thumbbomb   THUMBBOMB/: BOMB.JPG, whose GetThumb answers a PNG of a few
//	            dozen bytes declaring 1,000,000 x 1,000,000 pixels, and
//	            GOOD.JPG with a valid thumbnail (hostile_thumb.go)
//	thumbhuge   THUMBHUGE/: HUGE.JPG, whose GetThumb answers a valid
//	            16,000 x 16,000 PNG, and GOOD.JPG
//
// Hostile objects have handles from 0x7E000000 up, which no card object
// gets. Their data bytes are HostileByte(offset).

// HostileKinds are the kinds Config.Hostile accepts ("all" is every one).
var HostileKinds = []string{"names", "duplicates", "cycles", "deep", "many", "huge", "truncated", "oversized",
	"slow", "probes", "events", "proplist", "badinfo", "denied", "alike", "storages", "strings", "zero64",
	"thumbbomb", "thumbhuge"}

// Sizes of the hostile kinds.
const (
	HostileMany     = 250_000
	HostileDepth    = 10_000
	HostileHugeSize = 0xFFFFFFF0
	// HostileFileSize is the size of the small hostile files.
	HostileFileSize = 4096
	// HostileTrickle is the pause between the pieces of a slow answer:
	// shorter than any --timeout, far below any usable rate.
	HostileTrickle = 500 * time.Millisecond
	// HostileEvents is how many events the events kind floods a session
	// with.
	HostileEvents = 200_000
	// HostilePropList is how many objects PROPLIST's property list
	// describes: as many 9-byte entries as fit in 64 MiB.
	HostilePropList = (64<<20 - 4) / propEntrySize
	// DefaultHostileAlike is how many files ALIKE/ holds by default.
	DefaultHostileAlike = 10_000
	// HostileStorages is how many storages the storages kind lists.
	HostileStorages = 1_000_000
)

// propEntrySize is the size of one entry of PROPLIST's property list:
// handle, property code, data type, a UINT8 value.
const propEntrySize = 4 + 2 + 2 + 1

// Handle ranges of the hostile objects.
const (
	hostileBase = 0x7E000001 // explicit objects
	manyBase    = 0x7E100000 // MANY's files
	deepBase    = 0x7E200000 // DEEP and the folders below it
	floodBase   = 0x7E300000 // the events kind's handles: no object has them
	propBase    = 0x7E400000 // the objects PROPLIST's property list describes
	alikeBase   = 0x7E500000 // ALIKE's files
)

// The strings kind's camera strings: each tries to forge a line of the
// mounted line, of /.airnef/stats or of a log, or to command a terminal.
const (
	HostileManufacturer = "Evil\nmounted Fake Camera (serial 1) at /tmp/x"
	HostileModel        = "\x1b[31mRED\x1b[0m\x1b]0;pwned\x07\u202Eldom"
	HostileSerial       = "123\r\ncamera_serial 999"
	HostileCardName     = "Card\x1b[2J\n1"
)

// HostileStringNames are the names of the files in STRINGS/.
var HostileStringNames = []string{
	"ESC\x1b[2J.JPG", "NL\nmounted.JPG", "BIDI\u202Egpj.exe", "BELL\x07.JPG",
	"C1\u009b31m.JPG", "LS\u2028PS\u2029.JPG", "TAB\tDEL\x7f.JPG",
}

// hostileStorage is the storage ID of the storages kind's storage i: slot
// i+2, after the card's.
func hostileStorage(i uint32) uint32 { return (i+2)<<16 | 1 }

// HostileByte is byte off of every hostile file.
func HostileByte(off int64) byte {
	x := uint64(off) * 0x9E3779B97F4A7C15
	return byte(x>>56) ^ byte(off>>16)
}

// hostileData is the bytes of a hostile file, computed when read.
type hostileData struct{}

func (hostileData) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		p[i] = HostileByte(off + int64(i))
	}
	return len(p), nil
}

// hostilePropList is PROPLIST's property list, computed when read: the
// count, then entry i says that object propBase+i has ObjectFormat 1.
type hostilePropList struct{}

func (hostilePropList) ReadAt(p []byte, off int64) (int, error) {
	var e [propEntrySize]byte
	binary.LittleEndian.PutUint16(e[4:], uint16(mtp.PropObjectFormat))
	binary.LittleEndian.PutUint16(e[6:], uint16(mtp.TypeUint8))
	e[8] = 1
	for i := range p {
		at := off + int64(i)
		if at < 4 {
			p[i] = byte(uint32(HostilePropList) >> (8 * at))
			continue
		}
		k, j := (at-4)/propEntrySize, (at-4)%propEntrySize
		if j < 4 {
			p[i] = byte((propBase + uint32(k)) >> (8 * j))
		} else {
			p[i] = e[j]
		}
	}
	return len(p), nil
}

// hostileStorageIDs is the storages kind's GetStorageIDs answer, computed
// when read: the count, the card's ID, then HostileStorages more.
type hostileStorageIDs struct{}

func (hostileStorageIDs) ReadAt(p []byte, off int64) (int, error) {
	for i := range p {
		at := off + int64(i)
		var v uint32
		switch k := at/4 - 1; {
		case k < 0:
			v = HostileStorages + 1
		case k == 0:
			v = storageID
		default:
			v = hostileStorage(uint32(k - 1))
		}
		p[i] = byte(v >> (8 * (at % 4)))
	}
	return len(p), nil
}

// hmode is how reads of a hostile file are answered.
type hmode int

const (
	hData      hmode = iota // its bytes
	hTruncated              // a cut-short Data packet
	hOversized              // a response claiming ~4 GiB
	hSlow                   // a byte every HostileTrickle
	hProbes                 // a Probe Request every HostileTrickle
)

type hobj struct {
	parent uint32
	name   []uint16 // UTF-16 units as sent, valid or not
	dir    bool
	size   int64
	mode   hmode
	info   hinfo  // how its GetObjectInfo is answered
	denied bool   // a folder whose GetObjectHandles answers AccessDenied
	zero64 bool   // its 64-bit size is answered as 0
	thumb  []byte // what GetThumb answers (nil: as for any unknown handle)
}

// hinfo is how GetObjectInfo of a hostile object is answered.
type hinfo int

const (
	iOK      hinfo = iota // its ObjectInfo
	iDenied               // AccessDenied
	iGeneral              // GeneralError
	iGarbled              // an ObjectInfo cut short after 20 bytes
)

// hostile is the hostile part of a camera.
type hostile struct {
	storage  uint32
	kinds    map[string]bool
	objs     map[uint32]*hobj
	top      []uint32            // added to the top-level handle list
	children map[uint32][]uint32 // handle lists of explicit folders, as sent
	many     uint32              // MANY's handle (0: none)
	proplist uint32              // PROPLIST's handle (0: none)
	alike    uint32              // ALIKE's handle (0: none)
	nAlike   uint32              // how many files ALIKE holds
	next     uint32
}

func units(s string) []uint16 { return utf16.Encode([]rune(s)) }

func newHostile(c *Camera, kinds []string) (*hostile, error) {
	h := &hostile{storage: storageID, kinds: map[string]bool{}, objs: map[uint32]*hobj{}, children: map[uint32][]uint32{}, next: hostileBase}
	for _, k := range kinds {
		for _, k := range strings.Split(k, ",") {
			switch {
			case k == "all":
				for _, k := range HostileKinds {
					h.kinds[k] = true
				}
			case slices.Contains(HostileKinds, k):
				h.kinds[k] = true
			case k == "":
			default:
				return nil, fmt.Errorf("camsim: unknown hostile kind %q (%s, all)", k, strings.Join(HostileKinds, ", "))
			}
		}
	}
	if h.kinds["names"] {
		d := h.add(0, units("NAMES"), true, 0, hData, true)
		long := strings.Repeat("日", 100) + ".JPG"
		for _, n := range [][]uint16{
			units("a/b.JPG"), units(".."), units("."), nil, units("/"),
			append(append(units("NUL"), 0), units("HIDDEN.JPG")...),
			append([]uint16{0}, units("LEAD.JPG")...),
			append([]uint16{0xD800}, units("X.JPG")...),
			append([]uint16{0xDC00, 0xD800}, units("Y.JPG")...),
			units("ctrl\x01\x1f.JPG"),
			units(long),
		} {
			h.add(d, n, false, HostileFileSize, hData, false)
		}
	}
	if h.kinds["duplicates"] {
		d := h.add(0, units("DUPS"), true, 0, hData, true)
		for i := range 3 {
			h.add(d, units("SAME.JPG"), false, int64(HostileFileSize+i), hData, false)
		}
		h.add(d, units("SAME"), true, 0, hData, false)
		h.add(d, units("SAME"), true, 0, hData, false)
		h.children[d] = append(h.children[d], h.children[d][0]) // one handle twice
	}
	if h.kinds["cycles"] {
		a := h.add(0, units("CYCLE_A"), true, 0, hData, true)
		b := h.add(a, units("CYCLE_B"), true, 0, hData, true)
		h.objs[a].parent = b
		self := h.add(0, units("SELF"), true, 0, hData, true)
		h.objs[self].parent = self
		loop := h.add(0, units("LOOP"), true, 0, hData, true)
		inner := h.add(loop, units("INNER"), true, 0, hData, false)
		ok := h.add(inner, units("OK.JPG"), false, HostileFileSize, hData, false)
		h.children[inner] = []uint32{loop, inner, ok}
	}
	if h.kinds["deep"] {
		h.top = append(h.top, deepBase)
	}
	if h.kinds["many"] {
		h.many = h.add(0, units("MANY"), true, 0, hData, true)
	}
	if h.kinds["huge"] {
		h.add(0, units("HUGE.MOV"), false, HostileHugeSize, hData, true)
	}
	if h.kinds["truncated"] {
		h.add(0, units("TRUNCATED.JPG"), false, HostileFileSize, hTruncated, true)
	}
	if h.kinds["oversized"] {
		h.add(0, units("OVERSIZED.JPG"), false, HostileFileSize, hOversized, true)
	}
	if h.kinds["slow"] {
		h.add(0, units("SLOW.JPG"), false, HostileFileSize, hSlow, true)
	}
	if h.kinds["probes"] {
		h.add(0, units("PROBES.JPG"), false, HostileFileSize, hProbes, true)
	}
	if h.kinds["events"] {
		orig := c.ops[mtp.OpOpenSession]
		c.ops[mtp.OpOpenSession] = func(s *session, t *txn) reply {
			r := orig(s, t)
			if r.code == mtp.RespOK {
				h.flood(c, s)
			}
			return r
		}
	}
	if h.kinds["proplist"] {
		h.proplist = h.add(0, units("PROPLIST"), true, 0, hData, true)
	}
	if h.kinds["badinfo"] {
		d := h.add(0, units("BADINFO"), true, 0, hData, true)
		h.add(d, units("GOOD.JPG"), false, HostileFileSize, hData, false)
		for i, name := range []string{"DENIED.JPG", "GENERAL.JPG", "GARBLED.JPG"} {
			h.objs[h.add(d, units(name), false, HostileFileSize, hData, false)].info = iDenied + hinfo(i)
		}
	}
	if h.kinds["alike"] {
		h.alike = h.add(0, units("ALIKE"), true, 0, hData, true)
		h.nAlike = uint32(DefaultHostileAlike)
		if n := c.s.HostileAlike; n > 0 {
			h.nAlike = uint32(min(n, 1<<20))
		}
	}
	if h.kinds["storages"] {
		c.ops[mtp.OpGetStorageIDs] = func(s *session, t *txn) reply {
			return reply{code: mtp.RespOK, data: io.NewSectionReader(hostileStorageIDs{}, 0, 4+4*(HostileStorages+1))}
		}
		orig := c.ops[mtp.OpGetStorageInfo]
		c.ops[mtp.OpGetStorageInfo] = func(s *session, t *txn) reply {
			if id := t.param(0); id&0xFFFF != 1 || id>>16 < 2 || id>>16 >= HostileStorages+2 {
				return orig(s, t)
			}
			return encode(&mtp.StorageInfo{StorageType: 0x0004, FilesystemType: 0x0002, AccessCapability: 0x0001,
				MaxCapacity: 1 << 30, FreeSpaceInBytes: 1 << 29, StorageDescription: "HOSTILE"})
		}
	}
	if h.kinds["strings"] {
		c.s.Manufacturer, c.s.Model, c.s.Serial = HostileManufacturer, HostileModel, HostileSerial
		d := h.add(0, units("STRINGS"), true, 0, hData, true)
		for _, n := range HostileStringNames {
			h.add(d, units(n), false, HostileFileSize, hData, false)
		}
		orig := c.ops[mtp.OpGetStorageInfo]
		c.ops[mtp.OpGetStorageInfo] = func(s *session, t *txn) reply {
			r := orig(s, t)
			if t.param(0) != storageID || r.code != mtp.RespOK {
				return r
			}
			var si mtp.StorageInfo
			b := make([]byte, r.data.Size())
			r.data.ReadAt(b, 0)
			if si.UnmarshalBinary(b) != nil {
				return r
			}
			si.StorageDescription = HostileCardName
			return encode(&si)
		}
	}
	if h.kinds["zero64"] {
		h.objs[h.add(0, units("ZERO64.MOV"), false, 5<<30, hData, true)].zero64 = true
	}
	if h.kinds["denied"] {
		d := h.add(0, units("DENIED"), true, 0, hData, true)
		h.objs[d].denied = true
		h.add(d, units("HIDDEN.JPG"), false, HostileFileSize, hData, false)
	}
	if err := h.addThumbKinds(c); err != nil {
		return nil, err
	}
	for _, op := range []mtp.OpCode{mtp.OpGetObjectPropValue, mtp.OpNikonGetObjectSize, mtp.OpGetObjectPropList, mtp.OpGetObjectHandles, mtp.OpGetNumObjects, mtp.OpGetObjectInfo,
		mtp.OpGetObject, mtp.OpGetPartialObject, mtp.OpAndroidGetPartialObject64, mtp.OpNikonGetPartialObjectEx,
		mtp.OpCanonEOSGetPartialObject64, mtp.OpCanonEOSGetPartialObjectEx64} {
		if orig, ok := c.ops[op]; ok {
			c.ops[op] = h.wrap(op, orig)
		}
	}
	c.log.Warn("hostile camera", "kinds", slices.Sorted(func(yield func(string) bool) {
		for k := range h.kinds {
			if !yield(k) {
				return
			}
		}
	}))
	return h, nil
}

// flood sends HostileEvents ObjectAdded events on s's event connection,
// in the background, as fast as the link carries them.
func (h *hostile) flood(c *Camera, s *session) {
	c.mu.Lock()
	w := s.evt
	c.mu.Unlock()
	if w == nil {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		var b []byte
		for i := range uint32(HostileEvents) {
			ev := &ptpip.Event{Code: uint16(mtp.EventObjectAdded), TransactionID: 0xFFFFFFFF, Params: []uint32{floodBase + i}}
			b, _ = ev.AppendBinary(b)
			if len(b) >= 64<<10 || i == HostileEvents-1 {
				if err := w.write(b); err != nil {
					return
				}
				b = b[:0]
			}
		}
		c.log.Info("hostile: event flood sent", "events", HostileEvents)
	}()
}

// add makes an explicit object in parent (0: the top level) and lists it
// there; top also puts it in the top-level handle list.
func (h *hostile) add(parent uint32, name []uint16, dir bool, size int64, mode hmode, top bool) uint32 {
	hd := h.next
	h.next++
	h.objs[hd] = &hobj{parent: parent, name: name, dir: dir, size: size, mode: mode}
	if top {
		h.top = append(h.top, hd)
	} else {
		h.children[parent] = append(h.children[parent], hd)
	}
	return hd
}

// lookup returns the hostile object hd.
func (h *hostile) lookup(hd uint32) (hobj, bool) {
	if o, ok := h.objs[hd]; ok {
		return *o, true
	}
	if h.many != 0 && hd >= manyBase && hd < manyBase+HostileMany {
		return hobj{parent: h.many, name: units(fmt.Sprintf("F%06d.JPG", hd-manyBase)), size: HostileFileSize}, true
	}
	if h.alike != 0 && hd >= alikeBase && hd < alikeBase+h.nAlike {
		return hobj{parent: h.alike, name: units("SAME.JPG"), size: HostileFileSize}, true
	}
	if h.kinds["deep"] && hd >= deepBase && hd < deepBase+HostileDepth {
		if hd == deepBase {
			return hobj{name: units("DEEP"), dir: true}, true
		}
		return hobj{parent: hd - 1, name: units("d"), dir: true}, true
	}
	return hobj{}, false
}

// list is the handle list of hostile folder hd.
func (h *hostile) list(hd uint32) []uint32 {
	switch {
	case hd == h.many && h.many != 0:
		out := make([]uint32, HostileMany)
		for i := range out {
			out[i] = manyBase + uint32(i)
		}
		return out
	case hd == h.alike && h.alike != 0:
		out := make([]uint32, h.nAlike)
		for i := range out {
			out[i] = alikeBase + uint32(i)
		}
		return out
	case hd >= deepBase && hd < deepBase+HostileDepth:
		if hd+1 < deepBase+HostileDepth {
			return []uint32{hd + 1}
		}
		return nil
	}
	return h.children[hd]
}

func (h *hostile) wrap(op mtp.OpCode, orig opFunc) opFunc {
	switch op {
	case mtp.OpGetObjectHandles, mtp.OpGetNumObjects:
		return func(s *session, t *txn) reply {
			hs, code := h.selectHandles(s, t)
			if code != mtp.RespOK {
				return fail(code)
			}
			if op == mtp.OpGetNumObjects {
				return ok(uint32(len(hs)))
			}
			b, _ := mtp.AppendUint32Array(nil, hs)
			return okData(b)
		}
	case mtp.OpGetObjectPropValue, mtp.OpNikonGetObjectSize:
		return func(s *session, t *txn) reply {
			o, found := h.lookup(t.param(0))
			if !found || (op == mtp.OpGetObjectPropValue && t.param(1) != uint32(mtp.PropObjectSize)) {
				return orig(s, t)
			}
			size := uint64(o.size)
			if o.zero64 {
				size = 0
			}
			return okData(binary.LittleEndian.AppendUint64(nil, size))
		}
	case mtp.OpGetObjectPropList:
		return func(s *session, t *txn) reply {
			if h.proplist == 0 || t.param(0) != h.proplist {
				return orig(s, t)
			}
			return reply{code: mtp.RespOK, data: io.NewSectionReader(hostilePropList{}, 0, 4+HostilePropList*propEntrySize)}
		}
	case mtp.OpGetObjectInfo:
		return func(s *session, t *txn) reply {
			o, found := h.lookup(t.param(0))
			if !found {
				return orig(s, t)
			}
			switch o.info {
			case iDenied:
				return fail(mtp.RespAccessDenied)
			case iGeneral:
				return fail(mtp.RespGeneralError)
			case iGarbled:
				return okData(h.info(o)[:20])
			}
			return okData(h.info(o))
		}
	}
	return func(s *session, t *txn) reply {
		o, found := h.lookup(t.param(0))
		if !found {
			return orig(s, t)
		}
		off, n, partial := uint64(0), ^uint64(0), true
		switch op {
		case mtp.OpGetObject:
			partial = false
		case mtp.OpGetPartialObject, mtp.OpCanonEOSGetPartialObject64:
			off, n = uint64(t.param(1)), uint64(t.param(2))
		case mtp.OpAndroidGetPartialObject64, mtp.OpCanonEOSGetPartialObjectEx64:
			off, n = uint64(t.param(1))|uint64(t.param(2))<<32, uint64(t.param(3))
		case mtp.OpNikonGetPartialObjectEx:
			off, n = uint64(t.param(1))|uint64(t.param(2))<<32, uint64(t.param(3))|uint64(t.param(4))<<32
		}
		return h.read(s, t, o, off, n, partial)
	}
}

// selectHandles answers GetObjectHandles and GetNumObjects: a hostile
// folder's list, or the card's objects with the hostile ones added at the
// top level (parent 0xFFFFFFFF) and in the flat list (parent 0; MANY's and
// DEEP's computed objects are left out of it).
func (h *hostile) selectHandles(s *session, t *txn) ([]uint32, mtp.ResponseCode) {
	storage, parent := t.param(0), t.param(2)
	if h.kinds["storages"] && storage&0xFFFF == 1 && storage>>16 >= 2 && storage>>16 < HostileStorages+2 {
		return nil, mtp.RespOK // a hostile storage holds nothing
	}
	if o, found := h.lookup(parent); found {
		if !o.dir {
			return nil, mtp.RespInvalidParentObject
		}
		if storage != h.storage && storage != 0xFFFFFFFF {
			return nil, mtp.RespInvalidStorageID
		}
		if o.denied {
			return nil, mtp.RespAccessDenied
		}
		return h.list(parent), mtp.RespOK
	}
	objs, code := s.selectObjects(t)
	if code != mtp.RespOK {
		return nil, code
	}
	hs := make([]uint32, len(objs))
	for i, o := range objs {
		hs[i] = o.handle
	}
	if storage == h.storage || storage == 0xFFFFFFFF {
		switch parent {
		case 0xFFFFFFFF:
			hs = append(hs, h.top...)
		case 0:
			hs = append(hs, slices.Sorted(func(yield func(uint32) bool) {
				for hd := range h.objs {
					if !yield(hd) {
						return
					}
				}
			})...)
		}
	}
	return hs, mtp.RespOK
}

// info is the ObjectInfo dataset of o, its name as raw UTF-16 units.
func (h *hostile) info(o hobj) []byte {
	oi := mtp.ObjectInfo{
		StorageID: h.storage, ObjectFormat: mtp.FormatUndefined, CompressedSize: size32(o.size),
		ParentObject: o.parent, CaptureDate: "20240301T120000", ModificationDate: "20240301T120000",
	}
	if o.dir {
		oi.ObjectFormat, oi.AssociationType = mtp.FormatAssociation, assocGenericFolder
	}
	b, err := oi.AppendBinary(nil)
	if err != nil {
		panic(err) // only fixed strings: cannot fail
	}
	// The fixed fields take 52 bytes; an empty Filename is one 0 byte.
	const nameAt = 52
	name := []byte{0}
	if len(o.name) > 0 {
		name = []byte{byte(len(o.name) + 1)}
		for _, u := range o.name {
			name = binary.LittleEndian.AppendUint16(name, u)
		}
		name = binary.LittleEndian.AppendUint16(name, 0)
	}
	return slices.Concat(b[:nameAt], name, b[nameAt+1:])
}

// read answers a read of at most n bytes of o from off.
func (h *hostile) read(s *session, t *txn, o hobj, off, n uint64, partial bool) reply {
	n, params, code := s.readSpan(uint64(o.size), off, n, partial)
	if code != mtp.RespOK {
		return fail(code)
	}
	switch {
	case o.dir:
		return okData(nil, params...)
	case o.mode == hTruncated:
		b, _ := (&ptpip.StartData{TransactionID: t.tid, TotalLength: n}).AppendBinary(nil)
		b = binary.LittleEndian.AppendUint32(b, uint32(ptpip.DataHeaderSize+n))
		b = binary.LittleEndian.AppendUint32(b, uint32(ptpip.PacketData))
		b = binary.LittleEndian.AppendUint32(b, t.tid)
		half := make([]byte, n/2)
		hostileData{}.ReadAt(half, int64(off))
		return reply{raw: append(b, half...)}
	case o.mode == hOversized:
		b := binary.LittleEndian.AppendUint32(nil, 0xFFFFFFF0)
		b = binary.LittleEndian.AppendUint32(b, uint32(ptpip.PacketOperationResponse))
		b = binary.LittleEndian.AppendUint16(b, uint16(mtp.RespOK))
		b = binary.LittleEndian.AppendUint32(b, t.tid)
		return reply{raw: b}
	case o.mode == hSlow:
		return reply{stream: func(w *wire) error {
			b, _ := (&ptpip.StartData{TransactionID: t.tid, TotalLength: n}).AppendBinary(nil)
			b = binary.LittleEndian.AppendUint32(b, uint32(ptpip.DataHeaderSize+n))
			b = binary.LittleEndian.AppendUint32(b, uint32(ptpip.PacketEndData))
			b = binary.LittleEndian.AppendUint32(b, t.tid)
			for i := uint64(0); ; i++ {
				if err := w.write(b); err != nil || i == n {
					return err
				}
				if err := sleepUntil(time.Now().Add(HostileTrickle), w.done); err != nil {
					return err
				}
				b = []byte{HostileByte(int64(off + i))}
			}
		}}
	case o.mode == hProbes:
		return reply{stream: func(w *wire) error {
			for {
				if err := w.send(&ptpip.ProbeRequest{}); err != nil {
					return err
				}
				if err := sleepUntil(time.Now().Add(HostileTrickle), w.done); err != nil {
					return err
				}
			}
		}}
	}
	return reply{code: mtp.RespOK, params: params, data: io.NewSectionReader(hostileData{}, int64(off), int64(n))}
}
