package tree

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// What a camera (or a hostile device posing as one) may not make the tree
// do: hold more than --max-objects objects, nest folders deeper than
// MaxDepth, or loop through ParentObject. Bad objects are skipped and
// logged once each.

// DefaultMaxObjects is the default cap on the objects the tree holds
// (--max-objects): ten times a full card, about 100 MB of metadata.
const DefaultMaxObjects = 200_000

// MaxDepth is how many directory levels below the mount root the tree
// shows (the storage is level 1; DCF cards use three): a deeper folder is
// skipped, as deeper paths approach PATH_MAX.
const MaxDepth = 256

// ErrTooManyObjects is returned by a listing that would make the tree hold
// more objects than its cap (Config.MaxObjects).
var ErrTooManyObjects = errors.New("tree: too many objects")

// maxBadLogged bounds how many bad objects are remembered (each is logged
// once); past it they are logged at debug level only.
const maxBadLogged = 10_000

// limits is the tree's bookkeeping for the bounds above.
type limits struct {
	maxObjects int

	mu      sync.Mutex
	refused map[*Object]error // folders refused for their size: not asked again
	logged  map[badKey]bool   // bad objects already logged
	badList map[*Object]bool  // folders whose one-operation listing was unusable
}

// badKey identifies one bad object in one folder listing.
type badKey struct {
	storage, handle uint32
	why             string
}

func newLimits(maxObjects int) limits {
	if maxObjects <= 0 {
		maxObjects = DefaultMaxObjects
	}
	return limits{maxObjects: maxObjects, refused: map[*Object]error{}, logged: map[badKey]bool{}, badList: map[*Object]bool{}}
}

// listUnusable reports whether dir's answer to a one-operation listing
// (GetObjectInfoEx, GetObjectPropList) was unusable (too large, malformed,
// too many objects); set records that it was. Such a folder is listed one
// GetObjectInfo per object.
func (l *limits) listUnusable(dir *Object, set bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if set {
		l.badList[dir] = true
	}
	return l.badList[dir]
}

// objectLimiter is a Camera whose answers can be bounded while they
// decode: deviceCamera.
type objectLimiter interface{ limitObjects(n int) }

// limitCamera makes cam refuse, while it decodes, an answer of more
// objects than the tree may hold.
func (t *Tree) limitCamera(cam Camera) {
	if l, ok := cam.(objectLimiter); ok {
		l.limitObjects(t.lim.maxObjects)
	}
}

// refusedErr is the error dir was refused with for its size, if it was.
func (l *limits) refusedErr(dir *Object) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refused[dir]
}

// checkCount refuses a listing of dir that returned n handles when the
// tree would then hold more than the cap. A refusal is remembered (the
// folder is not asked again) and logged once.
func (t *Tree) checkCount(dir *Object, n int) error {
	t.mu.Lock()
	held := len(t.byIno) - len(dir.children)
	t.mu.Unlock()
	if held+n <= t.lim.maxObjects {
		return nil
	}
	err := fmt.Errorf("%w: the camera lists %d objects in %q and the mount holds %d; the cap is %d (--max-objects)",
		ErrTooManyObjects, n, "/"+dir.Path(), held, t.lim.maxObjects)
	return t.refuse(dir, err, "objects", n, "held", held)
}

// objectHandles lists dir's handles. A list longer than the cap, refused
// by the camera layer while it decodes (mtp.ErrTooManyObjects), refuses
// dir as checkCount does.
func (t *Tree) objectHandles(ctx context.Context, cam Camera, dir *Object, at address) ([]uint32, error) {
	hs, err := cam.ObjectHandles(ctx, at.storage, at.handle)
	if errors.Is(err, mtp.ErrTooManyObjects) {
		return nil, t.refuse(dir, fmt.Errorf("%w: %q: %w", ErrTooManyObjects, "/"+dir.Path(), err), "err", err)
	}
	return hs, err
}

// refuse remembers that dir was refused for its size with err (it is not
// asked again) and logs it once.
func (t *Tree) refuse(dir *Object, err error, attrs ...any) error {
	t.lim.mu.Lock()
	_, before := t.lim.refused[dir]
	t.lim.refused[dir] = err
	t.lim.mu.Unlock()
	if !before {
		t.log.Error("folder not listed: too many objects; it answers EIO (raise --max-objects to list it)",
			append([]any{"dir", "/" + dir.Path()}, append(attrs, "max_objects", t.lim.maxObjects)...)...)
	}
	return err
}

// depth is how many levels below the mount root o is (root 0, storage 1).
func depth(o *Object) int {
	d := 0
	for p := o; p != nil && p.Kind != KindRoot; p = p.parent {
		d++
	}
	return d
}

// ancestorHandles are the handles of dir and the folders above it in the
// current session (not the storage level, whose "handle" is the
// storage-root marker).
func (t *Tree) ancestorHandles(dir *Object) map[uint32]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	anc := map[uint32]bool{}
	for p := dir; p != nil && p.Kind == KindFolder; p = p.parent {
		anc[p.cur.handle] = true
	}
	return anc
}

// skipBad logs, once per object, that an object the camera listed in dir
// was skipped and why.
func (t *Tree) skipBad(dir *Object, storage, h uint32, why string, attrs ...any) {
	k := badKey{storage: storage, handle: h, why: why}
	t.lim.mu.Lock()
	first := !t.lim.logged[k] && len(t.lim.logged) < maxBadLogged
	if first {
		t.lim.logged[k] = true
	}
	t.lim.mu.Unlock()
	lvl := slog.LevelDebug
	if first {
		lvl = slog.LevelWarn
	}
	args := append([]any{"dir", "/" + dir.Path(), "handle", fmt.Sprintf("%#x", h), "why", why}, attrs...)
	t.log.Log(t.ctx, lvl, "object skipped", args...)
}

// leftOut reports whether err, the camera's answer to GetObjectInfo of
// object h listed in dir, leaves only that object out of the listing: a
// refusal of that object (GeneralError; AccessDenied, which a Nikon Z
// answers for photos not marked for upload) or an ObjectInfo that does not
// decode. It is logged once. A transport error, or a refusal that says
// the camera cannot answer now (the card gone, busy, no session), fails
// the listing instead.
func (t *Tree) leftOut(dir *Object, h uint32, err error) bool {
	var refused mtp.ResponseCode
	switch {
	case err == nil:
		return false
	case errors.As(err, &refused) && !deviceWide[refused]:
		t.skipBad(dir, t.storageOf(dir), h, "the camera refuses to describe it", "err", err)
	case errors.Is(err, mtp.ErrMalformed), errors.Is(err, mtp.ErrTooLarge):
		t.skipBad(dir, t.storageOf(dir), h, "its ObjectInfo is malformed", "err", err)
	default:
		return false
	}
	return true
}

// deviceWide are the refusals that are about the camera, not one object.
var deviceWide = map[mtp.ResponseCode]bool{
	mtp.RespSessionNotOpen: true, mtp.RespOperationNotSupported: true, mtp.RespStoreNotAvailable: true,
	mtp.RespDeviceBusy: true, mtp.RespTransactionCancelled: true, mtp.RespInvalidStorageID: true,
}

// listingRefused logs, once per folder, a listing the camera refused
// with AccessDenied: the folder answers EACCES, which would otherwise
// leave no trace.
func (t *Tree) listingRefused(dir *Object, err error) {
	if !errors.Is(err, mtp.RespAccessDenied) {
		return
	}
	k := badKey{storage: t.storageOf(dir), handle: dir.Handle, why: "listing refused"}
	t.lim.mu.Lock()
	first := !t.lim.logged[k] && len(t.lim.logged) < maxBadLogged
	if first {
		t.lim.logged[k] = true
	}
	t.lim.mu.Unlock()
	lvl := slog.LevelDebug
	if first {
		lvl = slog.LevelWarn
	}
	t.log.Log(t.ctx, lvl, "folder not listed: the camera refuses to list it (AccessDenied); it answers EACCES",
		"dir", "/"+dir.Path(), "err", err)
}

// storageOf is the storage dir is on in the current session.
func (t *Tree) storageOf(dir *Object) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return dir.cur.storage
}

// parentCycles returns the handles among strays (handle -> ParentObject,
// the objects a folder listing returned that are not in that folder) whose
// chain of parents, followed through strays, comes back to themselves.
func parentCycles(strays map[uint32]uint32) []uint32 {
	var out []uint32
	for h, p := range strays {
		for range len(strays) {
			if p == h {
				out = append(out, h)
				break
			}
			next, ok := strays[p]
			if !ok {
				break
			}
			p = next
		}
	}
	return out
}

// reportCycles logs the objects of strays (see parentCycles) whose
// ParentObject chain loops: they belong to no folder and are skipped.
func (t *Tree) reportCycles(dir *Object, storage uint32, strays map[uint32]uint32) {
	cycles := parentCycles(strays)
	slices.Sort(cycles)
	for _, h := range cycles {
		t.skipBad(dir, storage, h, "parent cycle: its ParentObject chain loops", "parent", fmt.Sprintf("%#x", strays[h]))
	}
}
