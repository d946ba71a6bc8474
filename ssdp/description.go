package ssdp

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ptpip"
)

// maxDescription bounds the device description read from a LOCATION.
const maxDescription = 64 << 10

// locationHost returns the host of a LOCATION URL, which must be http.
func locationHost(location string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(location))
	if err != nil {
		return "", fmt.Errorf("LOCATION: %w", err)
	}
	if !strings.EqualFold(u.Scheme, "http") {
		return "", fmt.Errorf("LOCATION %q: not an http URL", location)
	}
	h := u.Hostname()
	if h == "" {
		return "", fmt.Errorf("LOCATION %q: no host", location)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", fmt.Errorf("LOCATION %q: bad port", location)
		}
	}
	return h, nil
}

// cameraAddr returns the PTP/IP address of the camera whose description is
// at location: its host, port 15740.
func cameraAddr(location string) (string, error) {
	h, err := locationHost(location)
	if err != nil {
		return "", err
	}
	return net.JoinHostPort(h, strconv.Itoa(ptpip.Port)), nil
}

// Errors of description verification.
var (
	errDescriptionTooLarge = fmt.Errorf("device description larger than %d bytes", maxDescription)
	errNotSonyCamera       = errors.New("smartphone service of a device that is not a Sony camera")
)

// verify fetches the description at m.location and builds the camera.
func verify(ctx context.Context, cfg Config, m message) (Camera, error) {
	addr, err := cameraAddr(m.location)
	if err != nil {
		return Camera{}, err
	}
	host, _, _ := net.SplitHostPort(addr)
	d, err := fetchDescription(ctx, cfg.HTTPClient, m.location)
	if err != nil {
		return Camera{}, err
	}
	cam := Camera{
		Host:         host,
		Location:     m.location,
		Service:      m.st,
		USN:          m.usn,
		UDN:          d.Device.UDN,
		Manufacturer: d.Device.Manufacturer,
		Model:        d.Device.ModelName,
		Serial:       d.Device.SerialNumber,
		FriendlyName: d.Device.FriendlyName,
		Vendor:       mtp.DetectVendor(&mtp.DeviceInfo{Manufacturer: d.Device.Manufacturer}),
	}
	if m.smartphone {
		// Sony TVs and receivers announce ScalarWebAPI too: only a camera
		// gets the "choose Send to Computer" advice.
		if !d.sonyCamera() {
			return Camera{}, errNotSonyCamera
		}
		cam.Smartphone = true
		return cam, nil
	}
	cam.Addr = addr
	return cam, nil
}

// fetchDescription GETs and parses a device description.
func fetchDescription(ctx context.Context, client *http.Client, location string) (*description, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, location, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("device description: HTTP %s", resp.Status)
	}
	return parseDescription(resp.Body)
}

// description is the part of a UPnP device description (UPnP Device
// Architecture 1.0, 2.3) that names the device. Sony adds its Camera Remote
// API services (av:X_ScalarWebAPI_DeviceInfo) to the description of a
// camera in smartphone mode.
type description struct {
	XMLName xml.Name `xml:"root"`
	Device  struct {
		DeviceType   string   `xml:"deviceType"`
		FriendlyName string   `xml:"friendlyName"`
		Manufacturer string   `xml:"manufacturer"`
		ModelName    string   `xml:"modelName"`
		SerialNumber string   `xml:"serialNumber"`
		UDN          string   `xml:"UDN"`
		Services     []string `xml:"serviceList>service>serviceType"`
		ScalarWebAPI []string `xml:"X_ScalarWebAPI_DeviceInfo>X_ScalarWebAPI_ServiceList>X_ScalarWebAPI_Service>X_ScalarWebAPI_ServiceType"`
	} `xml:"device"`
}

// parseDescription reads at most maxDescription bytes of a device
// description and checks that it names a device: a <root> with a <device>
// that has a manufacturer and a model name.
func parseDescription(r io.Reader) (*description, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxDescription+1))
	if err != nil {
		return nil, fmt.Errorf("device description: %w", err)
	}
	if len(b) > maxDescription {
		return nil, errDescriptionTooLarge
	}
	var d description
	dec := xml.NewDecoder(bytes.NewReader(b))
	dec.CharsetReader = charsetReader
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("device description: %w", err)
	}
	dv := &d.Device
	for _, s := range []*string{&dv.DeviceType, &dv.FriendlyName, &dv.Manufacturer, &dv.ModelName, &dv.SerialNumber, &dv.UDN} {
		*s = strings.TrimSpace(*s)
	}
	if dv.Manufacturer == "" || dv.ModelName == "" {
		return nil, errors.New("device description: no manufacturer or model name")
	}
	return &d, nil
}

// sonyCamera reports whether a description is a Sony camera's in a
// smartphone mode: its model is "SonyImagingDevice" (the DLNA server of
// "Send to Smartphone"), its Camera Remote API offers the "camera" service,
// or it lists the XPushList service.
func (d *description) sonyCamera() bool {
	if !strings.Contains(strings.ToLower(d.Device.Manufacturer), "sony") {
		return false
	}
	if strings.EqualFold(d.Device.ModelName, "SonyImagingDevice") {
		return true
	}
	if slices.ContainsFunc(d.Device.ScalarWebAPI, func(s string) bool { return strings.EqualFold(strings.TrimSpace(s), "camera") }) {
		return true
	}
	return slices.ContainsFunc(d.Device.Services, func(s string) bool { return matchService([]string{ServiceSonyPush}, strings.TrimSpace(s)) })
}

// charsetReader decodes the encodings a camera's description may declare
// besides UTF-8: US-ASCII and ISO-8859-1.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		b, err := io.ReadAll(r)
		if err != nil {
			return nil, err
		}
		out := make([]byte, 0, len(b))
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return bytes.NewReader(out), nil
	}
	return nil, fmt.Errorf("unsupported charset %q", label)
}

// interfaces resolves the configured interface names, or lists the usable
