package sonyauth

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// call is one operation as the fake camera saw it.
type call struct {
	code       mtp.OpCode
	params     []uint32
	dataOut    []byte // nil when the operation had no host->camera data phase
	hasDataIn  bool   // the caller offered a writer for camera->host data
	ctxDone    bool   // the ctx was already cancelled when Do was called
	dataOutLen int64  // the size announced for dataOut
}

// answer is what the fake camera does for one operation.
type answer struct {
	code mtp.ResponseCode // 0 means RespOK
	data []byte           // camera->host data phase
	err  error            // transport failure
}

// fakeCamera is an mtp.Transport that records every operation with its
// data and answers from a script keyed by operation code.
type fakeCamera struct {
	mu     sync.Mutex
	calls  []call
	answer map[mtp.OpCode]answer
	onDo   func(mtp.OpCode) // called before answering, e.g. to cancel a ctx
}

func (f *fakeCamera) Do(ctx context.Context, req mtp.Request, dataOut io.Reader, dataOutSize int64, dataIn io.Writer) (mtp.Response, error) {
	c := call{code: req.Code, params: slices.Clone(req.Params), hasDataIn: dataIn != nil,
		ctxDone: ctx.Err() != nil, dataOutLen: dataOutSize}
	if dataOut != nil {
		b, err := io.ReadAll(dataOut)
		if err != nil {
			return mtp.Response{}, err
		}
		c.dataOut = b
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if f.onDo != nil {
		f.onDo(req.Code)
	}
	a := f.answer[req.Code]
	if a.err != nil {
		return mtp.Response{}, a.err
	}
	if a.data != nil {
		if dataIn == nil {
			return mtp.Response{}, errors.New("fake: camera has data but the host offered no writer")
		}
		// Odd-sized pieces, as PTP/IP data packets arrive; every byte
		// must be accepted or the data phase (and session) would break.
		for p := a.data; len(p) > 0; {
			n := min(len(p), 1000)
			m, err := dataIn.Write(p[:n])
			if err != nil || m != n {
				return mtp.Response{}, errors.New("fake: host refused reply data")
			}
			p = p[n:]
		}
	}
	code := a.code
	if code == 0 {
		code = mtp.RespOK
	}
	return mtp.Response{Code: code}, nil
}

func (f *fakeCamera) Events() <-chan mtp.Event { return nil }
func (f *fakeCamera) Close() error             { return nil }

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reply8K is a stand-in for the camera's ~8 KiB 0x9281 answer.
var reply8K = bytes.Repeat([]byte{0xA5, 0x01, 0x00}, 8192/3+1)[:8192]

func TestSequences(t *testing.T) {
	tests := map[string]struct {
		run  func(context.Context, mtp.Transport, *slog.Logger) error
		want string // 0x9280 payload
	}{
		"start sending": {StartSending, "02 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 01 01"},
		"sleep":         {Sleep, "00 00 00 00 05 00 00 00 00 00 00 00 00 00 00 00"},
		"cancelled":     {Cancelled, "00 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cam := &fakeCamera{answer: map[mtp.OpCode]answer{mtp.OpSonyCommandReply: {data: reply8K}}}
			var logBuf bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			if err := tc.run(t.Context(), cam, log); err != nil {
				t.Fatal(err)
			}
			if len(cam.calls) != 2 {
				t.Fatalf("%d operations, want 2: %+v", len(cam.calls), cam.calls)
			}
			send, reply := cam.calls[0], cam.calls[1]
			if send.code != mtp.OpSonySendCommand || !slices.Equal(send.params, []uint32{4}) {
				t.Errorf("first op %v %v, want 0x9280 [4]", send.code, send.params)
			}
			if want := unhex(t, tc.want); !bytes.Equal(send.dataOut, want) || send.dataOutLen != int64(len(want)) {
				t.Errorf("0x9280 data % x (announced %d), want % x", send.dataOut, send.dataOutLen, want)
			}
			if send.hasDataIn {
				t.Error("0x9280 offered a camera->host writer; it is a host->camera operation")
			}
			if reply.code != mtp.OpSonyCommandReply || !slices.Equal(reply.params, []uint32{4}) {
				t.Errorf("second op %v %v, want 0x9281 [4]", reply.code, reply.params)
			}
			if reply.dataOut != nil || !reply.hasDataIn {
				t.Errorf("0x9281: dataOut %v, writer %v; want no data out and a writer", reply.dataOut, reply.hasDataIn)
			}
			if !strings.Contains(logBuf.String(), "bytes=8192") {
				t.Errorf("reply size not logged:\n%s", logBuf.String())
			}
		})
	}
}

// A reply far larger than expected is drained, not buffered or refused.
func TestRunDrainsLargeReply(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 3<<20)
	cam := &fakeCamera{answer: map[mtp.OpCode]answer{mtp.OpSonyCommandReply: {data: big}}}
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if err := StartSending(t.Context(), cam, log); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logBuf.String(), "bytes=3145728") {
		t.Errorf("reply size not logged:\n%s", logBuf.String())
	}
}

func TestRunNoReplyData(t *testing.T) {
	cam := &fakeCamera{}
	if err := Sleep(t.Context(), cam, nil); err != nil {
		t.Fatal(err)
	}
	if len(cam.calls) != 2 {
		t.Fatalf("%d operations, want 2", len(cam.calls))
	}
}

func TestRunErrors(t *testing.T) {
	ioErr := errors.New("connection reset")
	replyErr := errors.New("read timeout")
	tests := map[string]struct {
		answers   map[mtp.OpCode]answer
		wantOps   []mtp.OpCode
		wantIs    []error
		wantInMsg []string
	}{
		"command refused, reply still collected": {
			answers:   map[mtp.OpCode]answer{mtp.OpSonySendCommand: {code: mtp.RespDeviceBusy}, mtp.OpSonyCommandReply: {data: reply8K}},
			wantOps:   []mtp.OpCode{mtp.OpSonySendCommand, mtp.OpSonyCommandReply},
			wantIs:    []error{mtp.RespDeviceBusy},
			wantInMsg: []string{"sony sending command (0x9280)"},
		},
		"command transport failure, no reply op": {
			answers:   map[mtp.OpCode]answer{mtp.OpSonySendCommand: {err: ioErr}},
			wantOps:   []mtp.OpCode{mtp.OpSonySendCommand},
			wantIs:    []error{ioErr},
			wantInMsg: []string{"sony sending command (0x9280)"},
		},
		"reply refused": {
			answers:   map[mtp.OpCode]answer{mtp.OpSonyCommandReply: {code: mtp.RespGeneralError}},
			wantOps:   []mtp.OpCode{mtp.OpSonySendCommand, mtp.OpSonyCommandReply},
			wantIs:    []error{mtp.RespGeneralError},
			wantInMsg: []string{"sony sending reply (0x9281)"},
		},
		"reply transport failure": {
			answers:   map[mtp.OpCode]answer{mtp.OpSonyCommandReply: {err: replyErr}},
			wantOps:   []mtp.OpCode{mtp.OpSonySendCommand, mtp.OpSonyCommandReply},
			wantIs:    []error{replyErr},
			wantInMsg: []string{"sony sending reply (0x9281)"},
		},
		"both refused": {
			answers:   map[mtp.OpCode]answer{mtp.OpSonySendCommand: {code: mtp.RespParameterNotSupported}, mtp.OpSonyCommandReply: {code: mtp.RespDeviceBusy}},
			wantOps:   []mtp.OpCode{mtp.OpSonySendCommand, mtp.OpSonyCommandReply},
			wantIs:    []error{mtp.RespParameterNotSupported, mtp.RespDeviceBusy},
			wantInMsg: []string{"(0x9280)", "(0x9281)"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cam := &fakeCamera{answer: tc.answers}
			err := StartSending(t.Context(), cam, nil)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.wantIs {
				if !errors.Is(err, want) {
					t.Errorf("error %q does not wrap %v", err, want)
				}
			}
			for _, s := range tc.wantInMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			var ops []mtp.OpCode
			for _, c := range cam.calls {
				ops = append(ops, c.code)
			}
			if !slices.Equal(ops, tc.wantOps) {
				t.Errorf("operations %v, want %v", ops, tc.wantOps)
			}
		})
	}
}

// A ctx cancelled before Run sends nothing: no half pair.
func TestRunCancelledBefore(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cam := &fakeCamera{}
	if err := Sleep(ctx, cam, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if len(cam.calls) != 0 {
		t.Fatalf("sent %d operations with a cancelled ctx", len(cam.calls))
	}
}

// A ctx cancelled after 0x9280 went through still gets its 0x9281, on a
// ctx that is not cancelled (the transport would refuse a cancelled one).
func TestRunCancelledBetween(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cam := &fakeCamera{onDo: func(op mtp.OpCode) {
		if op == mtp.OpSonySendCommand {
			cancel()
		}
	}}
	if err := StartSending(ctx, cam, nil); err != nil {
		t.Fatal(err)
	}
	if len(cam.calls) != 2 || cam.calls[1].code != mtp.OpSonyCommandReply {
		t.Fatalf("operations %+v, want 0x9280 then 0x9281", cam.calls)
	}
	if cam.calls[1].ctxDone {
		t.Error("0x9281 sent on a cancelled ctx")
	}
}

func TestReplySink(t *testing.T) {
	var r replySink
	for _, p := range [][]byte{nil, bytes.Repeat([]byte{1}, 20), bytes.Repeat([]byte{2}, 20), {3}} {
		if n, err := r.Write(p); n != len(p) || err != nil {
			t.Fatalf("Write(%d bytes) = %d, %v", len(p), n, err)
		}
	}
	if r.n != 41 {
		t.Errorf("counted %d bytes, want 41", r.n)
	}
	want := append(bytes.Repeat([]byte{1}, 20), bytes.Repeat([]byte{2}, 12)...)
	if !bytes.Equal(r.head, want) {
		t.Errorf("head % x, want % x", r.head, want)
	}
}
