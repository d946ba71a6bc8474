package mtp

//go:generate go run ../internal/codenames -type OpCode -trimprefix Op -hex
//go:generate go run ../internal/codenames -type ResponseCode -trimprefix Resp -linecomment -hex
//go:generate go run ../internal/codenames -type EventCode -trimprefix Event -hex
//go:generate go run ../internal/codenames -type ObjectFormat -trimprefix Format -linecomment -hex
//go:generate go run ../internal/codenames -type PropCode -trimprefix Prop -linecomment -hex
//go:generate go run ../internal/codenames -type DevicePropCode -trimprefix DeviceProp -linecomment -hex

// OpCode is a PTP/MTP operation code.
type OpCode uint16

// ResponseCode is a PTP response code. Every code but RespOK is an error.
type ResponseCode uint16

// EventCode is a PTP event code.
type EventCode uint16

// ObjectFormat is a PTP object format code (ObjectInfo.ObjectFormat).
type ObjectFormat uint16

// PropCode is an MTP object property code.
type PropCode uint16

// DevicePropCode is a PTP device property code (DeviceInfo's
// DevicePropertiesSupported, Get/SetDevicePropValue).
type DevicePropCode uint16

// Operation codes (PTP 1.1, MTP 1.1, and the vendor extensions the project
// uses; vendor codes as in libgphoto2's camlibs/ptp2/ptp.h).
const (
	OpGetDeviceInfo           OpCode = 0x1001 // GetDeviceInfo
	OpOpenSession             OpCode = 0x1002 // OpenSession(SessionID)
	OpCloseSession            OpCode = 0x1003 // CloseSession
	OpGetStorageIDs           OpCode = 0x1004 // GetStorageIDs
	OpGetStorageInfo          OpCode = 0x1005 // GetStorageInfo(StorageID)
	OpGetNumObjects           OpCode = 0x1006 // GetNumObjects(StorageID, Format, Parent)
	OpGetObjectHandles        OpCode = 0x1007 // GetObjectHandles(StorageID, Format, Parent)
	OpGetObjectInfo           OpCode = 0x1008 // GetObjectInfo(Handle)
	OpGetObject               OpCode = 0x1009 // GetObject(Handle)
	OpGetThumb                OpCode = 0x100A // GetThumb(Handle)
	OpDeleteObject            OpCode = 0x100B // DeleteObject (never sent: the card is read-only)
	OpSendObjectInfo          OpCode = 0x100C // SendObjectInfo
	OpSendObject              OpCode = 0x100D // SendObject
	OpInitiateCapture         OpCode = 0x100E // InitiateCapture
	OpFormatStore             OpCode = 0x100F // FormatStore
	OpResetDevice             OpCode = 0x1010 // ResetDevice
	OpSelfTest                OpCode = 0x1011 // SelfTest
	OpSetObjectProtection     OpCode = 0x1012 // SetObjectProtection
	OpPowerDown               OpCode = 0x1013 // PowerDown
	OpGetDevicePropDesc       OpCode = 0x1014 // GetDevicePropDesc
	OpGetDevicePropValue      OpCode = 0x1015 // GetDevicePropValue
	OpSetDevicePropValue      OpCode = 0x1016 // SetDevicePropValue
	OpResetDevicePropValue    OpCode = 0x1017 // ResetDevicePropValue
	OpTerminateOpenCapture    OpCode = 0x1018 // TerminateOpenCapture
	OpMoveObject              OpCode = 0x1019 // MoveObject
	OpCopyObject              OpCode = 0x101A // CopyObject
	OpGetPartialObject        OpCode = 0x101B // GetPartialObject(Handle, Offset u32, MaxBytes u32)
	OpInitiateOpenCapture     OpCode = 0x101C // InitiateOpenCapture
	OpGetObjectPropsSupported OpCode = 0x9801 // MTP GetObjectPropsSupported(Format)
	OpGetObjectPropDesc       OpCode = 0x9802 // MTP GetObjectPropDesc(Prop, Format)
	OpGetObjectPropValue      OpCode = 0x9803 // MTP GetObjectPropValue(Handle, Prop)
	OpSetObjectPropValue      OpCode = 0x9804 // MTP SetObjectPropValue
	OpGetObjectPropList       OpCode = 0x9805 // MTP GetObjectPropList(Handle, Format, Prop, Group, Depth)

	OpNikonGetLargeThumb         OpCode = 0x90C4 // Nikon GetLargeThumb(Handle)
	OpNikonGetEvent              OpCode = 0x90C7 // Nikon GetEvent: u16 count, count x (u16 code, u32 param)
	OpNikonGetObjectSize         OpCode = 0x9421 // Nikon GetObjectSize(Handle) -> u64 data
	OpNikonGetPartialObjectEx    OpCode = 0x9431 // Nikon GetPartialObjectEx(Handle, OffLo, OffHi, SizeLo, SizeHi)
	OpNikonGetTransferList       OpCode = 0x9408 // Nikon GetTransferList: the photos marked on the camera for upload (u32 array)
	OpCanonEOSGetObjectInfoEx    OpCode = 0x9109 // Canon EOS GetObjectInfoEx(StorageID, Parent, 0x100000): a folder's entries
	OpCanonEOSSetDevicePropValue OpCode = 0x9110 // Canon EOS SetDevicePropValue: data u32 size, u32 prop, value
	OpCanonEOSSetRemoteMode      OpCode = 0x9114 // Canon EOS SetRemoteMode(Mode)
	OpCanonEOSSetEventMode       OpCode = 0x9115 // Canon EOS SetEventMode(Mode)
	OpCanonEOSGetEvent           OpCode = 0x9116 // Canon EOS GetEvent: the camera's queued changes, polled
	OpCanonEOSGetObjectInfo64    OpCode = 0x9170 // Canon EOS GetObjectInfo64(Handle)
	// The three codes below follow libgphoto2's ptp.h (PTP_OC_CANON_EOS_*):
	// 0x9171 GetObject64, 0x9172 GetPartialObject64, 0x9173 GetObjectInfoEx64.
	OpCanonEOSGetObject64          OpCode = 0x9171 // Canon EOS GetObject64(Handle)
	OpCanonEOSGetPartialObject64   OpCode = 0x9172 // Canon EOS GetPartialObject64(Handle, Offset, MaxBytes) (unused here)
	OpCanonEOSGetObjectInfoEx64    OpCode = 0x9173 // Canon EOS GetObjectInfoEx64(StorageID, Handle?) (unused here)
	OpCanonEOSGetPartialObjectEx64 OpCode = 0x9174 // Canon EOS GetPartialObjectEx64(Handle, OffLo, OffHi, Size)
	OpAndroidGetPartialObject64    OpCode = 0x95C1 // Android GetPartialObject64(Handle, OffLo, OffHi, Size)
	OpSonySendCommand              OpCode = 0x9280 // Sony Send-to-Computer command (data out, param 4)
	OpSonyCommandReply             OpCode = 0x9281 // Sony Send-to-Computer reply (data in, param 4)
)

// Response codes (PTP 1.1 and MTP).
const (
	RespUndefined                ResponseCode = 0x2000
	RespOK                       ResponseCode = 0x2001
	RespGeneralError             ResponseCode = 0x2002
	RespSessionNotOpen           ResponseCode = 0x2003
	RespInvalidTransactionID     ResponseCode = 0x2004
	RespOperationNotSupported    ResponseCode = 0x2005
	RespParameterNotSupported    ResponseCode = 0x2006
	RespIncompleteTransfer       ResponseCode = 0x2007
	RespInvalidStorageID         ResponseCode = 0x2008
	RespInvalidObjectHandle      ResponseCode = 0x2009
	RespDevicePropNotSupported   ResponseCode = 0x200A
	RespInvalidObjectFormatCode  ResponseCode = 0x200B
	RespStoreFull                ResponseCode = 0x200C
	RespObjectWriteProtected     ResponseCode = 0x200D
	RespStoreReadOnly            ResponseCode = 0x200E
	RespAccessDenied             ResponseCode = 0x200F
	RespNoThumbnailPresent       ResponseCode = 0x2010
	RespSelfTestFailed           ResponseCode = 0x2011
	RespPartialDeletion          ResponseCode = 0x2012
	RespStoreNotAvailable        ResponseCode = 0x2013
	RespSpecByFormatUnsupported  ResponseCode = 0x2014 // SpecificationByFormatUnsupported
	RespNoValidObjectInfo        ResponseCode = 0x2015
	RespInvalidCodeFormat        ResponseCode = 0x2016
	RespUnknownVendorCode        ResponseCode = 0x2017
	RespCaptureAlreadyTerminated ResponseCode = 0x2018
	RespDeviceBusy               ResponseCode = 0x2019
	RespInvalidParentObject      ResponseCode = 0x201A
	RespInvalidDevicePropFormat  ResponseCode = 0x201B
	RespInvalidDevicePropValue   ResponseCode = 0x201C
	RespInvalidParameter         ResponseCode = 0x201D
	RespSessionAlreadyOpen       ResponseCode = 0x201E
	RespTransactionCancelled     ResponseCode = 0x201F
	RespSpecOfDestUnsupported    ResponseCode = 0x2020 // SpecificationOfDestinationUnsupported
	RespInvalidObjectPropCode    ResponseCode = 0xA801
	RespInvalidObjectPropFormat  ResponseCode = 0xA802
	RespInvalidObjectPropValue   ResponseCode = 0xA803
	RespInvalidObjectReference   ResponseCode = 0xA804
	RespInvalidDataset           ResponseCode = 0xA806
	RespSpecByGroupUnsupported   ResponseCode = 0xA807 // SpecificationByGroupUnsupported
	RespSpecByDepthUnsupported   ResponseCode = 0xA808 // SpecificationByDepthUnsupported
	RespObjectTooLarge           ResponseCode = 0xA809
	RespObjectPropNotSupported   ResponseCode = 0xA80A
	// Nikon's answers to GetTransferList (0x9408) when nothing is marked
	// (Airnef: MTP_RESP_NoTransferList), and a WU-1a adapter's.
	RespNikonNoTransferList     ResponseCode = 0xA205
	RespNikonWU1aNoTransferList ResponseCode = 0xA081
)

// Error makes a response code usable as an error: errors.Is(err,
// mtp.RespInvalidObjectHandle) tells that an object is gone.
func (c ResponseCode) Error() string { return "mtp: camera answered " + c.String() }

// Event codes (PTP 1.1, MTP).
const (
	EventUndefined             EventCode = 0x4000
	EventCancelTransaction     EventCode = 0x4001
	EventObjectAdded           EventCode = 0x4002
	EventObjectRemoved         EventCode = 0x4003
	EventStoreAdded            EventCode = 0x4004
	EventStoreRemoved          EventCode = 0x4005
	EventDevicePropChanged     EventCode = 0x4006
	EventObjectInfoChanged     EventCode = 0x4007
	EventDeviceInfoChanged     EventCode = 0x4008
	EventRequestObjectTransfer EventCode = 0x4009
	EventStoreFull             EventCode = 0x400A
	EventDeviceReset           EventCode = 0x400B
	EventStorageInfoChanged    EventCode = 0x400C
	EventCaptureComplete       EventCode = 0x400D
	EventUnreportedStatus      EventCode = 0x400E
)

// Object formats (PTP 1.1, MTP). An Association is a folder; MP4 is MTP's
// and the Canon ones Canon's RAW formats. Other RAW formats are reported by
// the cameras as Undefined or as a vendor code.
const (
	FormatUndefined    ObjectFormat = 0x3000
	FormatAssociation  ObjectFormat = 0x3001
	FormatScript       ObjectFormat = 0x3002
	FormatExecutable   ObjectFormat = 0x3003
	FormatText         ObjectFormat = 0x3004
	FormatHTML         ObjectFormat = 0x3005
	FormatDPOF         ObjectFormat = 0x3006
	FormatAIFF         ObjectFormat = 0x3007
	FormatWAV          ObjectFormat = 0x3008
	FormatMP3          ObjectFormat = 0x3009
	FormatAVI          ObjectFormat = 0x300A
	FormatMPEG         ObjectFormat = 0x300B
	FormatASF          ObjectFormat = 0x300C
	FormatQuickTime    ObjectFormat = 0x300D
	FormatUnknownImage ObjectFormat = 0x3800
	FormatEXIFJPEG     ObjectFormat = 0x3801 // EXIF/JPEG
	FormatTIFFEP       ObjectFormat = 0x3802 // TIFF/EP
	FormatFlashPix     ObjectFormat = 0x3803
	FormatBMP          ObjectFormat = 0x3804
	FormatCIFF         ObjectFormat = 0x3805
	FormatGIF          ObjectFormat = 0x3807
	FormatJFIF         ObjectFormat = 0x3808
	FormatPCD          ObjectFormat = 0x3809
	FormatPICT         ObjectFormat = 0x380A
	FormatPNG          ObjectFormat = 0x380B
	FormatTIFF         ObjectFormat = 0x380D
	FormatTIFFIT       ObjectFormat = 0x380E // TIFF/IT
	FormatJP2          ObjectFormat = 0x380F
	FormatJPX          ObjectFormat = 0x3810
	FormatDNG          ObjectFormat = 0x3811
	FormatHEIF         ObjectFormat = 0x3812
	FormatMP4          ObjectFormat = 0xB982
	FormatCanonCRW     ObjectFormat = 0xB101
	FormatCanonCR2     ObjectFormat = 0xB103
	FormatCanonCR3     ObjectFormat = 0xB108
)

// MTP object property codes. ObjectSize is a UINT64.
const (
	PropStorageID        PropCode = 0xDC01
	PropObjectFormat     PropCode = 0xDC02
	PropProtectionStatus PropCode = 0xDC03
	PropObjectSize       PropCode = 0xDC04
	PropObjectFileName   PropCode = 0xDC07
	PropDateCreated      PropCode = 0xDC08
	PropDateModified     PropCode = 0xDC09
	PropParentObject     PropCode = 0xDC0B
	PropPersistentUID    PropCode = 0xDC41 // PersistentUniqueObjectIdentifier
	PropName             PropCode = 0xDC44
	PropDateAdded        PropCode = 0xDC4E
)

// Device property codes the project uses (PTP 1.1 section 13, and Canon
// EOS's as Airnef sets it).
const (
	DevicePropDateTime DevicePropCode = 0x5011 // DateTime: a PTP string YYYYMMDDThhmmss
	// DevicePropCanonEOSUTCTime is a Canon EOS's clock, u32 seconds since
	// the epoch in UTC, set with OpCanonEOSSetDevicePropValue (Airnef).
	DevicePropCanonEOSUTCTime DevicePropCode = 0xD17C // CanonEOSUTCTime
)
