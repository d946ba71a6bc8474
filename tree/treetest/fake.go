package treetest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/sched"
)

// Camera is an in-memory tree.Camera: storages and objects by handle, with
// counters of the operations asked and hooks to block or fail them.
type Camera struct {
	Mu       sync.Mutex
	Storages map[uint32]*mtp.StorageInfo
	IDs      []uint32 // GetStorageIDs answer, empty slots included
	Objects  map[uint32]*Object
	Next     uint32

	// Block, when non-nil, is received from before each ObjectHandles
	// answer: the test controls when a listing finishes.
	Block chan struct{}
	// Fail, when non-nil, is returned by every operation.
	Fail error
	// Gone lists handles GetObjectInfo answers InvalidObjectHandle for.
	Gone map[uint32]bool
	// SizeErr, when non-nil, is ObjectSize's answer.
	SizeErr error

	classes []string // Classes

	HandleCalls  atomic.Int64
	InfoCalls    atomic.Int64
	StorageCalls atomic.Int64
	ReadCalls    atomic.Int64
	SizeCalls    atomic.Int64
}

// Object is one object of the camera.
type Object struct {
	Info mtp.ObjectInfo
	Data []byte // nil for folders; for "huge" objects see size
	Size uint64 // the real size when info.CompressedSize is 0xFFFFFFFF
}

// New returns a camera without storages.
func New() *Camera {
	return &Camera{Storages: map[uint32]*mtp.StorageInfo{}, Objects: map[uint32]*Object{}, Next: 1, Gone: map[uint32]bool{}}
}

// AddStorage adds storage id; an id with zero low 16 bits is an empty slot.
func (c *Camera) AddStorage(id uint32, desc, label string, capacity, free uint64) {
	c.IDs = append(c.IDs, id)
	if id&0xFFFF == 0 {
		return
	}
	c.Storages[id] = &mtp.StorageInfo{StorageDescription: desc, VolumeLabel: label, MaxCapacity: capacity, FreeSpaceInBytes: free}
}

// Add adds an object and returns its handle; parent 0 is the storage's top.
func (c *Camera) Add(storage, parent uint32, name string, folder bool, data []byte, capture, modified string) uint32 {
	h := c.Next
	c.Next++
	o := &Object{Data: data}
	o.Info = mtp.ObjectInfo{
		StorageID: storage, ParentObject: parent, Filename: name,
		CaptureDate: capture, ModificationDate: modified,
		ObjectFormat: mtp.FormatEXIFJPEG, CompressedSize: uint32(len(data)),
	}
	if folder {
		o.Info.ObjectFormat = mtp.FormatAssociation
		o.Info.CompressedSize = 0
		o.Info.AssociationType = 1
	}
	c.Objects[h] = o
	return h
}

func (c *Camera) StorageIDs(ctx context.Context) ([]uint32, error) {
	c.note(ctx, "StorageIDs")
	c.StorageCalls.Add(1)
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if c.Fail != nil {
		return nil, c.Fail
	}
	return append([]uint32(nil), c.IDs...), nil
}

func (c *Camera) StorageInfo(ctx context.Context, id uint32) (*mtp.StorageInfo, error) {
	c.note(ctx, "StorageInfo")
	c.StorageCalls.Add(1)
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if c.Fail != nil {
		return nil, c.Fail
	}
	si, ok := c.Storages[id]
	if !ok {
		return nil, fmt.Errorf("get storage info: %w", mtp.RespInvalidStorageID)
	}
	cp := *si
	return &cp, nil
}

func (c *Camera) ObjectHandles(ctx context.Context, storage, parent uint32) ([]uint32, error) {
	c.note(ctx, "ObjectHandles")
	c.HandleCalls.Add(1)
	c.Mu.Lock()
	block := c.Block
	c.Mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if c.Fail != nil {
		return nil, c.Fail
	}
	if parent == 0xFFFFFFFF {
		parent = 0
	}
	var hs []uint32
	// Answer in descending handle order: the tree must not rely on it.
	for h := c.Next - 1; h >= 1; h-- {
		o, ok := c.Objects[h]
		if ok && o.Info.StorageID == storage && o.Info.ParentObject == parent {
			hs = append(hs, h)
		}
	}
	return hs, nil
}

func (c *Camera) ObjectInfo(ctx context.Context, h uint32) (*mtp.ObjectInfo, error) {
	c.note(ctx, "ObjectInfo")
	c.InfoCalls.Add(1)
	c.Mu.Lock()
	defer c.Mu.Unlock()
	if c.Fail != nil {
		return nil, c.Fail
	}
	o, ok := c.Objects[h]
	if !ok || c.Gone[h] {
		return nil, fmt.Errorf("get object info %#x: %w", h, mtp.RespInvalidObjectHandle)
	}
	info := o.Info
	return &info, nil
}

func (c *Camera) ObjectSize(ctx context.Context, h uint32, info *mtp.ObjectInfo) (uint64, error) {
	c.note(ctx, "ObjectSize")
	c.SizeCalls.Add(1)
	c.Mu.Lock()
	defer c.Mu.Unlock()
	o, ok := c.Objects[h]
	if !ok {
		return 0, mtp.RespInvalidObjectHandle
	}
	if c.SizeErr != nil {
		return 0, c.SizeErr
	}
	if o.Info.CompressedSize != 0xFFFFFFFF {
		return uint64(o.Info.CompressedSize), nil
	}
	return o.Size, nil
}

func (c *Camera) ReadAt(ctx context.Context, h uint32, off int64, size uint32, w io.Writer) (int64, error) {
	c.note(ctx, "ReadAt")
	c.ReadCalls.Add(1)
	c.Mu.Lock()
	fail := c.Fail
	o, ok := c.Objects[h]
	gone := c.Gone[h]
	c.Mu.Unlock()
	if fail != nil {
		return 0, fail
	}
	if !ok || gone {
		return 0, fmt.Errorf("read %#x: %w", h, mtp.RespInvalidObjectHandle)
	}
	if off >= int64(len(o.Data)) {
		return 0, nil
	}
	end := min(off+int64(size), int64(len(o.Data)))
	n, err := w.Write(o.Data[off:end])
	return int64(n), err
}

var ErrBroken = fmt.Errorf("ptpip: session broken")

// note records the class and owner the request for op carried (sched.From).
func (c *Camera) note(ctx context.Context, op string) {
	class, owner := sched.From(ctx)
	c.Mu.Lock()
	c.classes = append(c.classes, fmt.Sprintf("%s %s/%d", op, class, owner))
	c.Mu.Unlock()
}

// Classes returns "OP CLASS/OWNER" for every request so far, in order, and
// forgets them.
func (c *Camera) Classes() []string {
	c.Mu.Lock()
	defer c.Mu.Unlock()
	out := c.classes
	c.classes = nil
	return out
}
