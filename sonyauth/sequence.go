package sonyauth

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// commandParam is param1 of both 0x9280 and 0x9281 in every capture
// (PlayMemories, Auto Import, libgphoto2, Airnef). Its meaning is unknown.
const commandParam = 4

// replyHead is how much of a 0x9281 reply is kept, for the debug log only.
const replyHead = 32

// StartSending shows "Sending..." on the camera; the mount sends it right
// after OpenSession. It is the sequence libgphoto2 copied from
// PlayMemories: 0x9280(4) with
//
//	02 00 00 00  02 00 00 00  00 00 00 00  00 00 00 00  01 01
//
// (two extra bytes, sub-command 2, two zero words, extra bytes 01 01),
// then 0x9281(4). Without it the camera keeps showing "Connecting...",
// gives up on the session after about two minutes, and some models (an
// RX100M6 in a libgphoto2 report) refuse every filesystem request.
// Airnef sends a 21-byte variant that cameras accept too; this sends the
// PlayMemories bytes, the ones most cameras have seen.
func StartSending(ctx context.Context, t mtp.Transport, log *slog.Logger) error {
	return Run(ctx, t, sendingCommand(), log)
}

// Cancelled shows "The saving process has been cancelled." on the camera:
// 0x9280(4) with sub-command 4 and no extra bytes, then 0x9281(4). Sony's
// Auto Import sends it before the sleep command when a transfer is
// aborted; Airnef saw it take effect only after StartSending.
func Cancelled(ctx context.Context, t mtp.Transport, log *slog.Logger) error {
	return Run(ctx, t, cancelledCommand(), log)
}

// Sleep takes the camera out of Send to Computer: 0x9280(4) with
//
//	00 00 00 00  05 00 00 00  00 00 00 00  00 00 00 00
//
// then 0x9281(4). The camera ends the session and goes to sleep. The mount
// sends it at unmount: otherwise the camera stays in Send to Computer, the
// user must press Cancel on it, and until then the battery drains; it also
// never answers a second Init Command Request in the same Send to Computer
// (Airnef's reason for sending it). After Sleep the session is gone: send
// nothing else on it, and expect the transport to see the camera hang up.
//
// PTP/IP only: libgphoto2 sends the same bytes at exit over PTP/IP but not
// over USB, where the command powers the camera off.
func Sleep(ctx context.Context, t mtp.Transport, log *slog.Logger) error {
	return Run(ctx, t, sleepCommand(), log)
}

// Run sends cmd as the data phase of 0x9280(4), then collects the reply
// with 0x9281(4): after a 0x9280 without its 0x9281 the camera answers
// DeviceBusy to what follows (Airnef, libgphoto2). The reply (about 8 KiB,
// meaning unknown) is drained, its head logged; a nil log discards.
//
// 0x9281 is sent after a 0x9280 answered with an error code too (the
// session is in step), and even if ctx ends between the two (a half pair
// wedges the camera), but not after a transport error. Errors name the
// step and wrap the response code or transport error, both when both fail.
func Run(ctx context.Context, t mtp.Transport, cmd Command, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	payload, err := cmd.AppendBinary(nil)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sony %v command (0x9280): %w", cmd.Sub, err)
	}

	start := time.Now()
	resp, err := t.Do(ctx, mtp.Request{Code: mtp.OpSonySendCommand, Params: []uint32{commandParam}},
		bytes.NewReader(payload), int64(len(payload)), nil)
	log.Debug("sony command", "op", mtp.OpSonySendCommand, "sub", cmd.Sub, "bytes", len(payload),
		"resp", resp.Code, "dur", time.Since(start), "err", err)
	if err != nil {
		return fmt.Errorf("sony %v command (0x9280): %w", cmd.Sub, err)
	}
	var cmdErr error
	if resp.Code != mtp.RespOK {
		cmdErr = fmt.Errorf("sony %v command (0x9280): %w", cmd.Sub, resp.Code)
	}

	var reply replySink
	start = time.Now()
	resp, err = t.Do(context.WithoutCancel(ctx), mtp.Request{Code: mtp.OpSonyCommandReply, Params: []uint32{commandParam}},
		nil, 0, &reply)
	log.Debug("sony reply", "op", mtp.OpSonyCommandReply, "sub", cmd.Sub, "bytes", reply.n,
		"head", hex.EncodeToString(reply.head), "resp", resp.Code, "dur", time.Since(start), "err", err)
	var replyErr error
	switch {
	case err != nil:
		replyErr = fmt.Errorf("sony %v reply (0x9281): %w", cmd.Sub, err)
	case resp.Code != mtp.RespOK:
		replyErr = fmt.Errorf("sony %v reply (0x9281): %w", cmd.Sub, resp.Code)
	}
	if cmdErr == nil {
		return replyErr
	}
	if replyErr == nil {
		return cmdErr
	}
	return errors.Join(cmdErr, replyErr)
}

// replySink counts and drops a 0x9281 reply, keeping its first replyHead
// bytes for the log. It never fails a write: failing would abort the data
// phase mid-way and break the session over bytes nobody needs.
type replySink struct {
	n    int64
	head []byte
}

func (r *replySink) Write(p []byte) (int, error) {
	if k := min(len(p), replyHead-len(r.head)); k > 0 {
		r.head = append(r.head, p[:k]...)
	}
	r.n += int64(len(p))
	return len(p), nil
}
