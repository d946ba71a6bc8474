package mtp

import (
	"context"
	"io"
)

// Request is one PTP operation request: an operation code and up to five
// parameters. The transport assigns the transaction ID.
type Request struct {
	Code   OpCode
	Params []uint32
}

// Response is a camera's answer to one operation. A response code other than
// RespOK is not a transport error: the transport returns it with a nil error
// and Device turns it into a ResponseCode error.
type Response struct {
	Code          ResponseCode
	TransactionID uint32
	Params        []uint32
}

// Event is an asynchronous notification from the camera (PTP/IP event
// connection, or a vendor's polled event list).
type Event struct {
	Code          EventCode
	TransactionID uint32
	Params        []uint32
}

// Transport runs PTP transactions, one at a time. ptpip.Session implements
// it; tests implement it with a fake camera.
type Transport interface {
	// Do runs one operation. When dataOut is non-nil the operation has a
	// host->camera data phase of dataOutSize bytes read from dataOut. When
	// dataIn is non-nil a camera->host data phase, if the camera sends one,
	// is streamed into dataIn (never buffered whole). The returned error
	// is a transport failure (I/O, desync, timeout, cancelled context); the
	// camera's verdict is Response.Code.
	Do(ctx context.Context, req Request, dataOut io.Reader, dataOutSize int64, dataIn io.Writer) (Response, error)
	// Events delivers the camera's events. It is closed when the transport
	// ends.
	Events() <-chan Event
	// Close ends the transport. It does not send CloseSession.
	Close() error
}
