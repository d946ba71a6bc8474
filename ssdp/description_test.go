package ssdp

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

func TestCameraAddr(t *testing.T) {
	tests := map[string]struct {
		location string
		want     string // "" = error
	}{
		"sony":          {"http://192.168.1.209:1900/DeviceDescription.xml", "192.168.1.209:15740"},
		"canon":         {"http://192.168.1.10:49152/upnp/CameraDevDesc.xml", "192.168.1.10:15740"},
		"no port":       {"http://10.0.0.1/dd.xml", "10.0.0.1:15740"},
		"upper scheme":  {"HTTP://10.0.0.1/dd.xml", "10.0.0.1:15740"},
		"spaces":        {" http://10.0.0.1:80/dd.xml ", "10.0.0.1:15740"},
		"ipv6":          {"http://[fe80::1%25wlan0]:8080/d.xml", "[fe80::1%wlan0]:15740"},
		"host name":     {"http://camera.local:80/d.xml", "camera.local:15740"},
		"https":         {"https://10.0.0.1/dd.xml", ""},
		"file":          {"file:///etc/passwd", ""},
		"no host":       {"http:///dd.xml", ""},
		"relative":      {"/DeviceDescription.xml", ""},
		"empty":         {"", ""},
		"bad port":      {"http://10.0.0.1:99999/dd.xml", ""},
		"garbage":       {"http://[::1", ""},
		"port, no host": {"http://:80/dd.xml", ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := cameraAddr(tc.location)
			if tc.want == "" {
				if err == nil {
					t.Fatalf("cameraAddr(%q) = %q, want an error", tc.location, got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("cameraAddr(%q) = %q, %v; want %q", tc.location, got, err, tc.want)
			}
		})
	}
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseDescription(t *testing.T) {
	type want struct {
		manufacturer, model, serial, friendly, udn string
		sonyCamera                                 bool
	}
	tests := map[string]struct {
		file string
		want *want // nil = rejected
	}{
		"sony a7s": {"sony-a7s.xml", &want{"Sony Corporation", "ILCE-7S", "", "ILCE-7S",
			"uuid:00000000-0001-0010-8000-98f17039c6fc", false}},
		"canon 6d": {"canon-6d.xml", &want{"Canon Inc.", "Canon EOS 6D", "012345678901", "Canon EOS 6D",
			"uuid:00000000-0000-0000-0001-60128b7c1e2a", false}},
		"sony smartphone dms": {"sony-smartphone-dms.xml", &want{"Sony Corporation", "SonyImagingDevice", "",
			"SonyDigitalMediaServer", "uuid:00000000-0000-0000-0000-000000000000", true}},
		"sony remote api": {"sony-remote-dd.xml", &want{"Sony Corporation", "SonyImagingDevice", "", "ILCE-7S",
			"uuid:000000001000-1010-8000-98f17039c6fc", true}},
		"sony tv":  {"sony-tv.xml", &want{"Sony Corporation", "KDL-50W800B", "", "BRAVIA KDL-50W800B", "uuid:11111111-2222-3333-4444-555555555555", false}},
		"latin1":   {"latin1.xml", &want{"Canon Inc.", "Canon EOS M50", "", "Caméra", "uuid:latin1", false}},
		"html":     {"not-a-description.html", nil},
		"scpd":     {"wrong-root.xml", nil},
		"no model": {"no-model.xml", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			d, err := parseDescription(bytes.NewReader(readFixture(t, tc.file)))
			if tc.want == nil {
				if err == nil {
					t.Fatalf("accepted: %+v", d.Device)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := want{d.Device.Manufacturer, d.Device.ModelName, d.Device.SerialNumber, d.Device.FriendlyName,
				d.Device.UDN, d.sonyCamera()}
			if got != *tc.want {
				t.Errorf("got %+v\nwant %+v", got, *tc.want)
			}
		})
	}

	for name, in := range map[string]string{
		"empty":     "",
		"truncated": string(readFixture(t, "sony-a7s.xml")[:300]),
		"charset":   `<?xml version="1.0" encoding="Shift_JIS"?><root><device><manufacturer>a</manufacturer><modelName>b</modelName></device></root>`,
		"blank":     `<root><device><manufacturer> </manufacturer><modelName>b</modelName></device></root>`,
	} {
		if _, err := parseDescription(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// endless is a reader of an infinite description: a valid start, then
// comment text forever.
type endless struct{ start []byte }

func (e *endless) Read(p []byte) (int, error) {
	if len(e.start) > 0 {
		n := copy(p, e.start)
		e.start = e.start[n:]
		return n, nil
	}
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

func TestDescriptionBound(t *testing.T) {
	valid := readFixture(t, "canon-6d.xml")
	// Padding after the root element up to the limit is read and accepted.
	padded := append(bytes.Clone(valid), bytes.Repeat([]byte(" "), maxDescription-len(valid))...)
	if _, err := parseDescription(bytes.NewReader(padded)); err != nil {
		t.Fatalf("description of exactly %d bytes: %v", len(padded), err)
	}
	// One byte more is refused without parsing.
	if _, err := parseDescription(bytes.NewReader(append(padded, ' '))); !errors.Is(err, errDescriptionTooLarge) {
		t.Fatalf("description of %d bytes: err = %v, want errDescriptionTooLarge", len(padded)+1, err)
	}
	// An endless body stops at the limit.
	start := []byte(`<?xml version="1.0"?><root><device><manufacturer>Sony Corporation</manufacturer><!--`)
	if _, err := parseDescription(&endless{start: start}); !errors.Is(err, errDescriptionTooLarge) {
		t.Fatalf("endless description: err = %v, want errDescriptionTooLarge", err)
	}
}

// describe serves fixture files by path; "/slow" never answers before the
// client gives up, "/endless" streams forever, anything else is 404.
func describe(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for _, f := range []string{"sony-a7s.xml", "canon-6d.xml", "sony-smartphone-dms.xml", "sony-remote-dd.xml",
		"sony-tv.xml", "not-a-description.html", "wrong-root.xml", "no-model.xml"} {
		b := readFixture(t, f)
		mux.HandleFunc("/"+f, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", `text/xml; charset="utf-8"`)
			w.Write(b)
		})
	}
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, &endless{start: []byte(`<root><device><!--`)})
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/sony-a7s.xml", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestVerify(t *testing.T) {
	srv := describe(t)
	cfg := Config{HTTPClient: nil}.withDefaults()
	cfg.HTTPClient.Timeout = 500 * time.Millisecond
	host := strings.Split(strings.TrimPrefix(srv.URL, "http://"), ":")[0]
	tests := map[string]struct {
		path, st string
		want     *Camera // nil = dropped
	}{
		"sony": {"/sony-a7s.xml", ServiceSony, &Camera{Addr: host + ":15740", Host: host, Manufacturer: "Sony Corporation",
			Model: "ILCE-7S", FriendlyName: "ILCE-7S", UDN: "uuid:00000000-0001-0010-8000-98f17039c6fc", Vendor: mtp.VendorSony}},
		"canon": {"/canon-6d.xml", ServiceCanon, &Camera{Addr: host + ":15740", Host: host, Manufacturer: "Canon Inc.",
			Model: "Canon EOS 6D", Serial: "012345678901", FriendlyName: "Canon EOS 6D",
			UDN: "uuid:00000000-0000-0000-0001-60128b7c1e2a", Vendor: mtp.VendorCanon}},
		"sony smartphone": {"/sony-smartphone-dms.xml", ServiceSonyPush, &Camera{Host: host, Manufacturer: "Sony Corporation",
			Model: "SonyImagingDevice", FriendlyName: "SonyDigitalMediaServer",
			UDN: "uuid:00000000-0000-0000-0000-000000000000", Vendor: mtp.VendorSony, Smartphone: true}},
		"sony remote": {"/sony-remote-dd.xml", ServiceSonyRemote, &Camera{Host: host, Manufacturer: "Sony Corporation",
			Model: "SonyImagingDevice", FriendlyName: "ILCE-7S", UDN: "uuid:000000001000-1010-8000-98f17039c6fc",
			Vendor: mtp.VendorSony, Smartphone: true}},
		"sony tv":   {"/sony-tv.xml", ServiceSonyRemote, nil},
		"404":       {"/missing.xml", ServiceSony, nil},
		"html":      {"/not-a-description.html", ServiceSony, nil},
		"scpd":      {"/wrong-root.xml", ServiceSony, nil},
		"no model":  {"/no-model.xml", ServiceSony, nil},
		"slow":      {"/slow", ServiceSony, nil},
		"endless":   {"/endless", ServiceSony, nil},
		"redirect":  {"/redirect", ServiceSony, nil},
		"no server": {"", ServiceSony, nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			loc := srv.URL + tc.path
			if tc.path == "" {
				loc = "http://127.0.0.1:1/d.xml"
			}
			m, ok := classify(cfg, tc.st)
			if !ok {
				t.Fatalf("%q not classified", tc.st)
			}
			m.usn, m.location = "uuid:x::"+tc.st, loc
			start := time.Now()
			cam, err := verify(t.Context(), cfg, m)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("verify took %v", d)
			}
			if tc.want == nil {
				if err == nil {
					t.Fatalf("accepted: %+v", cam)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			w := *tc.want
			w.Location, w.Service, w.USN = loc, tc.st, m.usn
			if cam != w {
				t.Errorf("got  %+v\nwant %+v", cam, w)
			}
		})
	}
}

// FuzzParseDescription: any body is refused or accepted without a panic; an
// accepted one fits the bound and names a manufacturer and a model.
func FuzzParseDescription(f *testing.F) {
	for _, name := range []string{"sony-a7s.xml", "canon-6d.xml", "sony-remote-dd.xml", "latin1.xml", "no-model.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := parseDescription(bytes.NewReader(b))
		if err != nil {
			return
		}
		dv := d.Device
		if len(b) > maxDescription || dv.Manufacturer == "" || dv.ModelName == "" ||
			dv.Manufacturer != strings.TrimSpace(dv.Manufacturer) || dv.ModelName != strings.TrimSpace(dv.ModelName) {
			t.Errorf("accepted %d bytes: %+v", len(b), dv)
		}
		d.sonyCamera()
	})
}
