// Package mtp speaks PTP and its MTP extensions to a camera: the operation,
// response, event and format codes, the datasets (DeviceInfo, StorageInfo,
// ObjectInfo, object property lists) with their binary codecs, PTP dates,
// vendor detection, and Device, which runs typed operations (GetObjectInfo,
// GetPartialObject, the 64-bit reads of Nikon, Canon and Android, ...) over
// any Transport.
//
// The camera quirks this program works around live here, each explained
// next to the code that handles it: Sony's need for all three
// GetObjectHandles parameters, the Nikon J5's SessionID, the vendors'
// 64-bit reads and sizes, cameras that send more data than asked for.
//
// What it is not for: it knows nothing of TCP or PTP/IP packets (package
// ptpip implements Transport; mtp never imports it), nor of files, caches
// or FUSE. It never writes to the card: no delete, send or format
// operation is implemented.
//
// Decoders are strict about lengths (a count larger than the data is an
// error wrapping ErrMalformed, found before anything is allocated) and
// lenient about content (trailing vendor bytes, strings without a NUL,
// invalid UTF-16, dates in every variant seen in the wild). They never
// panic; fuzz targets with committed seeds check that.
package mtp
