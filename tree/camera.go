package tree

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// Camera is what the tree needs from an open camera session: listing
// storages and folders, and reading a range of an object. *mtp.Device
// provides it through DeviceCamera; tests use a fake.
//
// Errors are returned as the camera layer produced them: a response code
// as an mtp.ResponseCode (errors.Is(err, mtp.RespInvalidObjectHandle) means
// the object is gone), everything else as a transport or protocol error.
type Camera interface {
	// StorageIDs lists the camera's storages, empty slots included.
	StorageIDs(ctx context.Context) ([]uint32, error)
	// StorageInfo describes one storage.
	StorageInfo(ctx context.Context, id uint32) (*mtp.StorageInfo, error)
	// ObjectHandles lists the objects in one folder of a storage;
	// parent 0xFFFFFFFF is the storage's top level.
	ObjectHandles(ctx context.Context, storage, parent uint32) ([]uint32, error)
	// ObjectInfo describes one object.
	ObjectInfo(ctx context.Context, h uint32) (*mtp.ObjectInfo, error)
	// ObjectSize is the exact size of an object whose ObjectInfo reports
	// 0xFFFFFFFF (4 GiB or more).
	ObjectSize(ctx context.Context, h uint32, info *mtp.ObjectInfo) (uint64, error)
	// ReadAt streams at most size bytes of object h from offset off into
	// w and returns how many it wrote; fewer than size only at the end of
	// the object.
	ReadAt(ctx context.Context, h uint32, off int64, size uint32, w io.Writer) (int64, error)
}

// FolderDescriber is a Camera that can describe every object of a folder
// in one operation instead of one GetObjectInfo per object. The tree uses
// it when the camera provides it and falls back to ObjectHandles and
// ObjectInfo when it fails.
type FolderDescriber interface {
	// DescribeFolder describes the objects in folder parent, in the
	// camera's order. An object the camera described incompletely has a
	// nil Info (see mtp.DescribeObjects). A camera that cannot do it at
	// all answers an error wrapping errors.ErrUnsupported, without a
	// round trip; one that refuses answers its response code.
	DescribeFolder(ctx context.Context, parent uint32) ([]mtp.ObjectDesc, error)
}

// StorageFolderDescriber is a Camera that can describe every object of a
// folder of a storage, a storage's top level included, in one operation:
// Canon EOS GetObjectInfoEx. Its contract is FolderDescriber's.
type StorageFolderDescriber interface {
	// DescribeStorageFolder describes the objects in folder parent of
	// storage (parent 0xFFFFFFFF: the storage's top level).
	DescribeStorageFolder(ctx context.Context, storage, parent uint32) ([]mtp.ObjectDesc, error)
}

// DeviceCamera adapts an mtp.Device with an open session to Camera.
func DeviceCamera(d *mtp.Device) Camera { return deviceCamera{d} }

type deviceCamera struct{ d *mtp.Device }

func (c deviceCamera) StorageIDs(ctx context.Context) ([]uint32, error) {
	return c.d.GetStorageIDs(ctx)
}

func (c deviceCamera) StorageInfo(ctx context.Context, id uint32) (*mtp.StorageInfo, error) {
	return c.d.GetStorageInfo(ctx, id)
}

// ObjectHandles sends all three parameters (format 0 = any): Sony refuses
// GetObjectHandles with the "optional" ones left out.
func (c deviceCamera) ObjectHandles(ctx context.Context, storage, parent uint32) ([]uint32, error) {
	return c.d.GetObjectHandles(ctx, storage, 0, parent)
}

func (c deviceCamera) ObjectInfo(ctx context.Context, h uint32) (*mtp.ObjectInfo, error) {
	return c.d.GetObjectInfo(ctx, h)
}

func (c deviceCamera) ObjectSize(ctx context.Context, h uint32, info *mtp.ObjectInfo) (uint64, error) {
	return c.d.ObjectSize(ctx, h, info)
}

func (c deviceCamera) ReadAt(ctx context.Context, h uint32, off int64, size uint32, w io.Writer) (int64, error) {
	return c.d.ReadAt(ctx, h, off, size, w)
}

// DescribeFolder runs MTP GetObjectPropList(folder, any format, every
// property, no group, depth 1): the folder's children with every property
// in one round trip, where GetObjectInfo costs one per object. Only cameras
// whose DeviceInfo lists 0x9805 are asked: MTP cameras (and Sony's) do;
// Nikon's and Canon's PTP firmware does not.
func (c deviceCamera) DescribeFolder(ctx context.Context, parent uint32) ([]mtp.ObjectDesc, error) {
	if !c.d.Info().Supports(mtp.OpGetObjectPropList) {
		return nil, fmt.Errorf("describe folder %#x: GetObjectPropList not listed by the camera: %w", parent, errors.ErrUnsupported)
	}
	return c.d.DescribeObjects(ctx, parent, 1)
}

// limitObjects makes the device refuse an answer of more than n objects
// while it decodes it (the tree's cap: New, Reconnect).
func (c deviceCamera) limitObjects(n int) { c.d.SetMaxObjects(n) }

// DescribeStorageFolder runs Canon EOS GetObjectInfoEx (0x9109), as
// libgphoto2 lists an EOS folder (ptp_list_folder_eos): only a Canon whose
// DeviceInfo lists the operation is asked.
func (c deviceCamera) DescribeStorageFolder(ctx context.Context, storage, parent uint32) ([]mtp.ObjectDesc, error) {
	if c.d.Vendor() != mtp.VendorCanon || !c.d.Info().Supports(mtp.OpCanonEOSGetObjectInfoEx) {
		return nil, fmt.Errorf("describe folder %#x: GetObjectInfoEx not listed by a Canon: %w", parent, errors.ErrUnsupported)
	}
	f, err := c.d.CanonEOSGetObjectInfoEx(ctx, storage, parent)
	if err != nil {
		return nil, err
	}
	if parent == storageRoot {
		parent = 0
	}
	return f.Describe(parent), nil
}

var (
	_ = (FolderDescriber)(deviceCamera{})
	_ = (StorageFolderDescriber)(deviceCamera{})
)

// ThumbCamera is a Camera that can send the thumbnail the camera keeps of
// an object (PTP GetThumb). DeviceCamera's camera is one.
type ThumbCamera interface {
	Camera
	// Thumb streams object h's thumbnail (usually a small JPEG) into w.
	Thumb(ctx context.Context, h uint32, w io.Writer) error
}

func (c deviceCamera) Thumb(ctx context.Context, h uint32, w io.Writer) error {
	return c.d.GetThumb(ctx, h, w)
}

// LossReporter is a Camera that tells when its session is lost (the
// transport broke): a read that failed then waits for the next session
// and resumes (resume.go) instead of failing. DeviceCamera's camera is one.
type LossReporter interface {
	// Lost is closed once the session is lost; nil: never told.
	Lost() <-chan struct{}
}

func (c deviceCamera) Lost() <-chan struct{} { return c.d.Lost() }

var _ LossReporter = deviceCamera{}
