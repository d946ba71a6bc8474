package mtp

import (
	"context"
	"errors"
	"fmt"
)

// ErrNoTransferList is wrapped by NikonTransferList's error when the
// camera has no list: nothing is marked, or the body (a WU-1a adapter)
// keeps none. The camera's response code is wrapped too.
var ErrNoTransferList = errors.New("mtp: the camera has no transfer list")

// NikonTransferList runs Nikon's GetTransferList (0x9408): the handles of
// the photos the user marked on the camera for upload ("Select to send to
// smart device"). Airnef asks every Nikon, listed in its DeviceInfo or not
// (a J4 answers it without listing it), so this does not check the
// DeviceInfo. A camera with nothing marked answers NoTransferList
// (0xA205), a WU-1a 0xA081: both are ErrNoTransferList. The answer is
// decoded as a PTP array of u32 handles, like GetObjectHandles' (Airnef
// reads it so); one longer than the object limit (SetMaxObjects) is
// ErrTooManyObjects.
func (d *Device) NikonTransferList(ctx context.Context) ([]uint32, error) {
	max := d.objectLimit()
	data, total, err := d.readPrefix(ctx, OpNikonGetTransferList, nil, 4+4*int64(max))
	if errors.Is(err, RespNikonNoTransferList) || errors.Is(err, RespNikonWU1aNoTransferList) {
		return nil, fmt.Errorf("get transfer list: %w (%w)", ErrNoTransferList, err)
	}
	if err == nil {
		var hs []uint32
		if hs, err = decodeTransferList(data, total, max); err == nil {
			return hs, nil
		}
	}
	return nil, fmt.Errorf("get transfer list: %w", err)
}

// decodeTransferList decodes GetTransferList's data (of which data holds
// the first bytes and total is the size): a u32 count and that many u32
// handles, at most max of them. Handles 0 and 0xFFFFFFFF name no object
// and are dropped, and so are repeats: the camera's list is a set.
func decodeTransferList(data []byte, total int64, max int) ([]uint32, error) {
	hs, _, err := decodeArrayPrefix(data, total, max, false)
	if err != nil {
		return nil, err
	}
	seen := make(map[uint32]bool, len(hs))
	out := hs[:0]
	for _, h := range hs {
		if h == 0 || h == 0xFFFFFFFF || seen[h] {
			continue
		}
		seen[h] = true
		out = append(out, h)
	}
	return out, nil
}
