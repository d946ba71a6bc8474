package camsim

import (
	"github.com/airnef-mount/airnef-mount/mtp"
)

// EOS folder entry flags as libgphoto2's dumps show them (ptp-pack.c,
// above ptp_unpack_Canon_EOS_FE): 0x11 for a folder, 0x21 for a JPEG;
// bit 0 marks a read-only object and stays clear here (ProtectionStatus 0).
const (
	eosFlagFolder = 0x10
	eosFlagFile   = 0x20
)

// canonGetObjectInfoEx is Canon EOS GetObjectInfoEx (0x9109: StorageID,
// Parent, 0x100000): one entry per object of folder Parent (0xFFFFFFFF,
// or 0, the storage's top level), in the layout of mtp.EOSFolder. The
// third parameter, whose meaning is not documented, is not looked at.
func (s *session) canonGetObjectInfoEx(t *txn) reply {
	storage, parent := t.param(0), t.param(1)
	cd := s.cam.cardFor(storage)
	if cd == nil {
		return fail(mtp.RespInvalidStorageID)
	}
	if parent == 0xFFFFFFFF {
		parent = 0
	}
	if parent != 0 {
		p, pcd, ok := s.cam.object(parent)
		switch {
		case !ok || pcd != cd:
			return fail(mtp.RespInvalidObjectHandle)
		case !p.dir:
			return fail(mtp.RespInvalidParentObject)
		}
	}
	objs := s.cam.objects(storage, func(o *object) bool { return o.parent == parent })
	f := make(mtp.EOSFolder, len(objs))
	for i := range objs {
		o := &objs[i]
		e := mtp.EOSFolderEntry{
			Handle: o.handle, StorageID: s.reportedStorage(cd), Format: o.format, Flags: eosFlagFile,
			Size: size32(o.size), Name: o.name(),
			Time: mtp.EOSTime(o.mtime.In(s.cam.s.Location)),
		}
		if o.dir {
			e.Flags = eosFlagFolder
		}
		f[i] = e
	}
	return encode(f)
}

// canonSetMode is Canon EOS SetRemoteMode (0x9114) and SetEventMode
// (0x9115): libgphoto2 sends both when it opens an EOS body and gives up
// on one that refuses. The camera takes any mode; nothing changes here.
func (s *session) canonSetMode(t *txn) reply {
	s.log.Debug("canon eos mode", "op", t.op, "mode", t.param(0))
	return ok()
}

// eosNoEvents is the data of Canon EOS GetEvent (0x9116) with nothing to
// report: the record that ends an event list, size 8 and code 0
// (libgphoto2 ptp-pack.c ptp_unpack_EOS_events stops there). Changes on
// the card are not reported this way (Personality.Events is EventsNone):
// a host lists again.
var eosNoEvents = []byte{8, 0, 0, 0, 0, 0, 0, 0}

// canonGetEvent is Canon EOS GetEvent (0x9116).
func (s *session) canonGetEvent(*txn) reply { return okData(eosNoEvents) }
