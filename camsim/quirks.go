package camsim

import (
	"fmt"
	"strings"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// Quirks are answers some PTP/IP responders give that a client must
// tolerate (issue 15: "a foreign responder breaks our client on its first
// operation"); each is off unless asked for (camsim --quirk NAME).
type Quirks struct {
	// TIDZero puts transaction ID 0 in the data and response packets of
	// every operation, whatever the request's ID: the responder whose
	// GetDeviceInfo answer made airnef-mount give up ("StartData for
	// transaction 0, want 1") while gphoto2 carried on.
	TIDZero bool
	// StorageMismatch reports, in ObjectInfo, object property lists and
	// EOS folder entries, a StorageID the camera does not list (the real
	// one plus one): the same responder's objects, which gphoto2 then
	// hides.
	StorageMismatch bool
	// PropListDrops leaves every other object out of GetObjectPropList
	// answers while GetObjectHandles lists them all, as libmtp flags some
	// devices' property lists (DEVICE_FLAG_BROKEN_MTPGETOBJPROPLIST).
	PropListDrops bool
	// NikonZUnmarked answers AccessDenied (0x200F) to GetObject and
	// GetPartialObject of every object, while GetPartialObjectEx (0x9431)
	// reads it: a Nikon Z in PC mode with images not marked for upload
	// (notes, protocol.md section 5). Its GetObjectInfo answers as usual
	// here, so that the read's workaround can be tested on its own.
	NikonZUnmarked bool
}

// QuirkNames are the names --quirk takes.
var QuirkNames = []string{"tid-zero", "storage-mismatch", "proplist-drops", "nikon-z-unmarked"}

// Set turns on the quirk called name (one of QuirkNames).
func (q *Quirks) Set(name string) error {
	switch name {
	case "tid-zero":
		q.TIDZero = true
	case "storage-mismatch":
		q.StorageMismatch = true
	case "proplist-drops":
		q.PropListDrops = true
	case "nikon-z-unmarked":
		q.NikonZUnmarked = true
	default:
		return fmt.Errorf("camsim: unknown quirk %q (%s)", name, strings.Join(QuirkNames, ", "))
	}
	return nil
}

// answerTID is the transaction ID the camera puts in the data and
// response packets of transaction tid.
func (s *session) answerTID(tid uint32) uint32 {
	if s.cam.s.Quirks.TIDZero {
		return 0
	}
	return tid
}

// reportedStorage is the StorageID the camera reports for an object of
// card cd.
func (s *session) reportedStorage(cd *card) uint32 {
	if s.cam.s.Quirks.StorageMismatch {
		return cd.storage + 1
	}
	return cd.storage
}

// quirkDenied is the answer the NikonZUnmarked quirk forces on operation
// op, or RespOK.
func (s *session) quirkDenied(op mtp.OpCode) mtp.ResponseCode {
	if s.cam.s.Quirks.NikonZUnmarked && (op == mtp.OpGetObject || op == mtp.OpGetPartialObject) {
		return mtp.RespAccessDenied
	}
	return mtp.RespOK
}
