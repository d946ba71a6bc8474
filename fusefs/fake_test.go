package fusefs

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// fakeCamera is an in-memory Camera: storages and objects by handle, with
// counters of the operations asked and hooks to block or fail them.
type fakeCamera struct {
	mu       sync.Mutex
	storages map[uint32]*mtp.StorageInfo
	ids      []uint32 // GetStorageIDs answer, empty slots included
	objects  map[uint32]*fakeObject
	next     uint32

	// block, when non-nil, is received from before each ObjectHandles
	// answer: the test controls when a listing finishes.
	block chan struct{}
	// fail, when non-nil, is returned by every operation.
	fail error
	// gone lists handles GetObjectInfo answers InvalidObjectHandle for.
	gone map[uint32]bool
	// sizeErr, when non-nil, is ObjectSize's answer.
	sizeErr error

	handleCalls  atomic.Int64
	infoCalls    atomic.Int64
	storageCalls atomic.Int64
	readCalls    atomic.Int64
	sizeCalls    atomic.Int64
}

type fakeObject struct {
	info mtp.ObjectInfo
	data []byte // nil for folders; for "huge" objects see size
	size uint64 // the real size when info.CompressedSize is 0xFFFFFFFF
}

func newFakeCamera() *fakeCamera {
	return &fakeCamera{storages: map[uint32]*mtp.StorageInfo{}, objects: map[uint32]*fakeObject{}, next: 1, gone: map[uint32]bool{}}
}

func (c *fakeCamera) addStorage(id uint32, desc, label string, capacity, free uint64) {
	c.ids = append(c.ids, id)
	if id&0xFFFF == 0 {
		return
	}
	c.storages[id] = &mtp.StorageInfo{StorageDescription: desc, VolumeLabel: label, MaxCapacity: capacity, FreeSpaceInBytes: free}
}

// add adds an object and returns its handle; parent 0 is the storage's top.
func (c *fakeCamera) add(storage, parent uint32, name string, folder bool, data []byte, capture, modified string) uint32 {
	h := c.next
	c.next++
	o := &fakeObject{data: data}
	o.info = mtp.ObjectInfo{
		StorageID: storage, ParentObject: parent, Filename: name,
		CaptureDate: capture, ModificationDate: modified,
		ObjectFormat: mtp.FormatEXIFJPEG, CompressedSize: uint32(len(data)),
	}
	if folder {
		o.info.ObjectFormat = mtp.FormatAssociation
		o.info.CompressedSize = 0
		o.info.AssociationType = 1
	}
	c.objects[h] = o
	return h
}

func (c *fakeCamera) StorageIDs(ctx context.Context) ([]uint32, error) {
	c.storageCalls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return nil, c.fail
	}
	return append([]uint32(nil), c.ids...), nil
}

func (c *fakeCamera) StorageInfo(ctx context.Context, id uint32) (*mtp.StorageInfo, error) {
	c.storageCalls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return nil, c.fail
	}
	si, ok := c.storages[id]
	if !ok {
		return nil, fmt.Errorf("get storage info: %w", mtp.RespInvalidStorageID)
	}
	cp := *si
	return &cp, nil
}

func (c *fakeCamera) ObjectHandles(ctx context.Context, storage, parent uint32) ([]uint32, error) {
	c.handleCalls.Add(1)
	c.mu.Lock()
	block := c.block
	c.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return nil, c.fail
	}
	if parent == 0xFFFFFFFF {
		parent = 0
	}
	var hs []uint32
	// Answer in descending handle order: the tree must not rely on it.
	for h := c.next - 1; h >= 1; h-- {
		o, ok := c.objects[h]
		if ok && o.info.StorageID == storage && o.info.ParentObject == parent {
			hs = append(hs, h)
		}
	}
	return hs, nil
}

func (c *fakeCamera) ObjectInfo(ctx context.Context, h uint32) (*mtp.ObjectInfo, error) {
	c.infoCalls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail != nil {
		return nil, c.fail
	}
	o, ok := c.objects[h]
	if !ok || c.gone[h] {
		return nil, fmt.Errorf("get object info %#x: %w", h, mtp.RespInvalidObjectHandle)
	}
	info := o.info
	return &info, nil
}

func (c *fakeCamera) ObjectSize(ctx context.Context, h uint32, info *mtp.ObjectInfo) (uint64, error) {
	c.sizeCalls.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	o, ok := c.objects[h]
	if !ok {
		return 0, mtp.RespInvalidObjectHandle
	}
	if c.sizeErr != nil {
		return 0, c.sizeErr
	}
	if o.info.CompressedSize != 0xFFFFFFFF {
		return uint64(o.info.CompressedSize), nil
	}
	return o.size, nil
}

func (c *fakeCamera) ReadAt(ctx context.Context, h uint32, off int64, size uint32, w io.Writer) (int64, error) {
	c.readCalls.Add(1)
	c.mu.Lock()
	fail := c.fail
	o, ok := c.objects[h]
	gone := c.gone[h]
	c.mu.Unlock()
	if fail != nil {
		return 0, fail
	}
	if !ok || gone {
		return 0, fmt.Errorf("read %#x: %w", h, mtp.RespInvalidObjectHandle)
	}
	if off >= int64(len(o.data)) {
		return 0, nil
	}
	end := min(off+int64(size), int64(len(o.data)))
	n, err := w.Write(o.data[off:end])
	return int64(n), err
}

var errBroken = fmt.Errorf("ptpip: session broken")
