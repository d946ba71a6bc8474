package fusefs

import (
	"context"
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
