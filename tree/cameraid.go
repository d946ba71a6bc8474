package tree

import "strings"

// CameraID is the camera as the renaming language names it, and as the
// Lifetime store tells cameras apart.
type CameraID struct {
	Make   string // @cameramake@, e.g. "Nikon"
	Model  string // @cameramodel@, e.g. "D7200"
	Serial string // @cameraserial@, e.g. "35551323"
}

// NewCameraID makes a CameraID from DeviceInfo's Manufacturer, Model and
// SerialNumber as Airnef does: the make is the first word of the
// manufacturer ("Nikon Corporation" -> "Nikon"), the serial number loses
// its leading spaces and zeros ("000035551323" -> "35551323").
func NewCameraID(manufacturer, model, serial string) CameraID {
	var mk string
	if f := strings.Fields(manufacturer); len(f) > 0 {
		mk = f[0]
	}
	return CameraID{Make: mk, Model: strings.TrimSpace(model), Serial: strings.TrimLeft(strings.TrimSpace(serial), " 0")}
}

// FileName is the name of this camera's file of kind in a state or cache
// directory, e.g. "metadata-D7200-35551323.json".
func (c CameraID) FileName(kind string) string {
	return kind + "-" + fileWord(c.Model) + "-" + fileWord(c.Serial) + ".json"
}

// fileWord makes s usable in a file name: letters, digits, '.', '_' and
// '-' are kept, anything else becomes '_'.
func fileWord(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}
