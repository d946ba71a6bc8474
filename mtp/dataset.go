package mtp

import "fmt"

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

// Decoding rules shared by the three datasets:
//   - fields are little-endian, strings and arrays as in strings.go and
//     DecodeUint32Array;
//   - a dataset shorter than its fixed layout is an error wrapping
//     ErrMalformed, and so is any count larger than the data;
//   - bytes after the last field are ignored: cameras append vendor data
//     (Nikon and Canon extend DeviceInfo, some firmware pads datasets), and
//     PTP 1.1 allows later versions to add fields at the end;
//   - UnmarshalBinary leaves the receiver unchanged when it fails.

// UnmarshalBinary decodes a GetDeviceInfo dataset:
//
//	u16 StandardVersion
//	u32 VendorExtensionID
//	u16 VendorExtensionVersion
//	str VendorExtensionDesc
//	u16 FunctionalMode
//	u16 array OperationsSupported       (u32 count, count × u16)
//	u16 array EventsSupported
//	u16 array DevicePropertiesSupported
//	u16 array CaptureFormats
//	u16 array ImageFormats
//	str Manufacturer
//	str Model
//	str DeviceVersion
//	str SerialNumber
func (d *DeviceInfo) UnmarshalBinary(b []byte) error {
	r := readBuf{b: b}
	var v DeviceInfo
	v.StandardVersion = r.u16("StandardVersion")
	v.VendorExtensionID = r.u32("VendorExtensionID")
	v.VendorExtensionVersion = r.u16("VendorExtensionVersion")
	v.VendorExtensionDesc = r.str("VendorExtensionDesc")
	v.FunctionalMode = r.u16("FunctionalMode")
	v.OperationsSupported = u16sAs[OpCode](r.u16Array("OperationsSupported"))
	v.EventsSupported = u16sAs[EventCode](r.u16Array("EventsSupported"))
	v.DevicePropertiesSupported = r.u16Array("DevicePropertiesSupported")
	v.CaptureFormats = u16sAs[ObjectFormat](r.u16Array("CaptureFormats"))
	v.ImageFormats = u16sAs[ObjectFormat](r.u16Array("ImageFormats"))
	v.Manufacturer = r.str("Manufacturer")
	v.Model = r.str("Model")
	v.DeviceVersion = r.str("DeviceVersion")
	v.SerialNumber = r.str("SerialNumber")
	if r.err != nil {
		return fmt.Errorf("device info: %w", r.err)
	}
	*d = v
	return nil
}

// AppendBinary appends d in the GetDeviceInfo layout (see UnmarshalBinary).
// It fails when a string is too long for a PTP string.
func (d *DeviceInfo) AppendBinary(b []byte) ([]byte, error) {
	var err error
	b = appendU16(b, d.StandardVersion)
	b = appendU32(b, d.VendorExtensionID)
	b = appendU16(b, d.VendorExtensionVersion)
	if b, err = appendStr(b, d.VendorExtensionDesc, "device info: VendorExtensionDesc"); err != nil {
		return b, err
	}
	b = appendU16(b, d.FunctionalMode)
	if b, err = appendU16Array(b, d.OperationsSupported, "device info: OperationsSupported"); err != nil {
		return b, err
	}
	if b, err = appendU16Array(b, d.EventsSupported, "device info: EventsSupported"); err != nil {
		return b, err
	}
	if b, err = appendU16Array(b, d.DevicePropertiesSupported, "device info: DevicePropertiesSupported"); err != nil {
		return b, err
	}
	if b, err = appendU16Array(b, d.CaptureFormats, "device info: CaptureFormats"); err != nil {
		return b, err
	}
	if b, err = appendU16Array(b, d.ImageFormats, "device info: ImageFormats"); err != nil {
		return b, err
	}
	for _, f := range []struct{ s, name string }{
		{d.Manufacturer, "Manufacturer"},
		{d.Model, "Model"},
		{d.DeviceVersion, "DeviceVersion"},
		{d.SerialNumber, "SerialNumber"},
	} {
		if b, err = appendStr(b, f.s, "device info: "+f.name); err != nil {
			return b, err
		}
	}
	return b, nil
}

// UnmarshalBinary decodes a GetStorageInfo dataset:
//
//	u16 StorageType
//	u16 FilesystemType
//	u16 AccessCapability
//	u64 MaxCapacity
//	u64 FreeSpaceInBytes
//	u32 FreeSpaceInImages
//	str StorageDescription
//	str VolumeLabel
func (s *StorageInfo) UnmarshalBinary(b []byte) error {
	r := readBuf{b: b}
	var v StorageInfo
	v.StorageType = r.u16("StorageType")
	v.FilesystemType = r.u16("FilesystemType")
	v.AccessCapability = r.u16("AccessCapability")
	v.MaxCapacity = r.u64("MaxCapacity")
	v.FreeSpaceInBytes = r.u64("FreeSpaceInBytes")
	v.FreeSpaceInImages = r.u32("FreeSpaceInImages")
	v.StorageDescription = r.str("StorageDescription")
	v.VolumeLabel = r.str("VolumeLabel")
	if r.err != nil {
		return fmt.Errorf("storage info: %w", r.err)
	}
	*s = v
	return nil
}

// AppendBinary appends s in the GetStorageInfo layout (see UnmarshalBinary).
func (s *StorageInfo) AppendBinary(b []byte) ([]byte, error) {
	var err error
	b = appendU16(b, s.StorageType)
	b = appendU16(b, s.FilesystemType)
	b = appendU16(b, s.AccessCapability)
	b = appendU64(b, s.MaxCapacity)
	b = appendU64(b, s.FreeSpaceInBytes)
	b = appendU32(b, s.FreeSpaceInImages)
	if b, err = appendStr(b, s.StorageDescription, "storage info: StorageDescription"); err != nil {
		return b, err
	}
	return appendStr(b, s.VolumeLabel, "storage info: VolumeLabel")
}

// UnmarshalBinary decodes a GetObjectInfo dataset:
//
//	u32 StorageID
//	u16 ObjectFormat
//	u16 ProtectionStatus
//	u32 CompressedSize          0xFFFFFFFF: 4 GiB or more
//	u16 ThumbFormat
//	u32 ThumbCompressedSize
//	u32 ThumbPixWidth
//	u32 ThumbPixHeight
//	u32 ImagePixWidth
//	u32 ImagePixHeight
//	u32 ImageBitDepth
//	u32 ParentObject            0 or 0xFFFFFFFF: root
//	u16 AssociationType
//	u32 AssociationDesc
//	u32 SequenceNumber
//	str Filename
//	str CaptureDate             "YYYYMMDDThhmmss" and variants: see ParseDate
//	str ModificationDate
//	str Keywords
func (o *ObjectInfo) UnmarshalBinary(b []byte) error {
	r := readBuf{b: b}
	var v ObjectInfo
	v.StorageID = r.u32("StorageID")
	v.ObjectFormat = ObjectFormat(r.u16("ObjectFormat"))
	v.ProtectionStatus = r.u16("ProtectionStatus")
	v.CompressedSize = r.u32("CompressedSize")
	v.ThumbFormat = ObjectFormat(r.u16("ThumbFormat"))
	v.ThumbCompressedSize = r.u32("ThumbCompressedSize")
	v.ThumbPixWidth = r.u32("ThumbPixWidth")
	v.ThumbPixHeight = r.u32("ThumbPixHeight")
	v.ImagePixWidth = r.u32("ImagePixWidth")
	v.ImagePixHeight = r.u32("ImagePixHeight")
	v.ImageBitDepth = r.u32("ImageBitDepth")
	v.ParentObject = r.u32("ParentObject")
	v.AssociationType = r.u16("AssociationType")
	v.AssociationDesc = r.u32("AssociationDesc")
	v.SequenceNumber = r.u32("SequenceNumber")
	v.Filename = r.str("Filename")
	v.CaptureDate = r.str("CaptureDate")
	v.ModificationDate = r.str("ModificationDate")
	v.Keywords = r.str("Keywords")
	if r.err != nil {
		return fmt.Errorf("object info: %w", r.err)
	}
	*o = v
	return nil
}

// AppendBinary appends o in the GetObjectInfo layout (see UnmarshalBinary).
func (o *ObjectInfo) AppendBinary(b []byte) ([]byte, error) {
	var err error
	b = appendU32(b, o.StorageID)
	b = appendU16(b, uint16(o.ObjectFormat))
	b = appendU16(b, o.ProtectionStatus)
	b = appendU32(b, o.CompressedSize)
	b = appendU16(b, uint16(o.ThumbFormat))
	b = appendU32(b, o.ThumbCompressedSize)
	b = appendU32(b, o.ThumbPixWidth)
	b = appendU32(b, o.ThumbPixHeight)
	b = appendU32(b, o.ImagePixWidth)
	b = appendU32(b, o.ImagePixHeight)
	b = appendU32(b, o.ImageBitDepth)
	b = appendU32(b, o.ParentObject)
	b = appendU16(b, o.AssociationType)
	b = appendU32(b, o.AssociationDesc)
	b = appendU32(b, o.SequenceNumber)
	for _, f := range []struct{ s, name string }{
		{o.Filename, "Filename"},
		{o.CaptureDate, "CaptureDate"},
		{o.ModificationDate, "ModificationDate"},
		{o.Keywords, "Keywords"},
	} {
		if b, err = appendStr(b, f.s, "object info: "+f.name); err != nil {
			return b, err
		}
	}
	return b, nil
}
