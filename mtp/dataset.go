package mtp

// The three PTP datasets. Strings are kept as the camera sent them (decoded
// from UTF-16); dates stay strings here and are read with ParseDate, because
// cameras send every variant of the format.

// DeviceInfo is the GetDeviceInfo dataset (PTP 1.1 section 5.5.1).
type DeviceInfo struct {
	StandardVersion           uint16
	VendorExtensionID         uint32
	VendorExtensionVersion    uint16
	VendorExtensionDesc       string
	FunctionalMode            uint16
	OperationsSupported       []OpCode
	EventsSupported           []EventCode
	DevicePropertiesSupported []uint16
	CaptureFormats            []ObjectFormat
	ImageFormats              []ObjectFormat
	Manufacturer              string
	Model                     string
	DeviceVersion             string
	SerialNumber              string
}

// StorageInfo is the GetStorageInfo dataset (PTP 1.1 section 5.5.3).
type StorageInfo struct {
	StorageType        uint16
	FilesystemType     uint16
	AccessCapability   uint16
	MaxCapacity        uint64
	FreeSpaceInBytes   uint64
	FreeSpaceInImages  uint32
	StorageDescription string
	VolumeLabel        string
}

// ObjectInfo is the GetObjectInfo dataset (PTP 1.1 section 5.5.2).
// CompressedSize 0xFFFFFFFF means the object is 4 GiB or larger: the real
// size comes from a 64-bit query (see Device.ObjectSize).
type ObjectInfo struct {
	StorageID           uint32
	ObjectFormat        ObjectFormat
	ProtectionStatus    uint16
	CompressedSize      uint32
	ThumbFormat         ObjectFormat
	ThumbCompressedSize uint32
	ThumbPixWidth       uint32
	ThumbPixHeight      uint32
	ImagePixWidth       uint32
	ImagePixHeight      uint32
	ImageBitDepth       uint32
	ParentObject        uint32
	AssociationType     uint16
	AssociationDesc     uint32
	SequenceNumber      uint32
	Filename            string
	CaptureDate         string
	ModificationDate    string
	Keywords            string
}
