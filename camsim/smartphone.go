package camsim

import (
	"bytes"
	"fmt"
	"html"
)

// Sony's WiFi modes (Config.SonyMode). In "Send to Computer" a Sony
// announces urn:microsoft-com:service:MtpNullService:1 and offers PTP/IP;
// "Send to Smartphone" uses "an SSDP/XML mechanism" instead of PTP/IP
// (Airnef's notes): the camera is a UPnP media server for the phone app,
// announcing a MediaServer device with a ContentDirectory and Sony's
// XPushList service, its description's model "SonyImagingDevice"
// (ssdp/testdata/sony-smartphone-dms.xml, modelled on a real camera's
// DmsDescPush.xml), and refuses PTP/IP connections.
const (
	SonyModeComputer   = "computer"
	SonyModeSmartphone = "smartphone"
)

// smartphoneTypes are the NTs a Sony announces in Send to Smartphone.
var smartphoneTypes = []string{
	"upnp:rootdevice",
	"urn:schemas-upnp-org:device:MediaServer:1",
	"urn:schemas-upnp-org:service:ContentDirectory:1",
	"urn:schemas-sony-com:service:XPushList:1",
}

// smartphone reports whether the camera is a Sony in Send to Smartphone.
func (c *Camera) smartphone() bool { return c.s.SonyMode == SonyModeSmartphone }

// smartphoneDescription is the device description of a Sony in Send to
// Smartphone: the phone app's media server.
func (a *announcer) smartphoneDescription() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<root xmlns="urn:schemas-upnp-org:device-1-0" xmlns:dlna="urn:schemas-dlna-org:device-1-0">
  <specVersion><major>1</major><minor>0</minor></specVersion>
  <device>
    <dlna:X_DLNADOC>DMS-1.50</dlna:X_DLNADOC>
    <deviceType>urn:schemas-upnp-org:device:MediaServer:1</deviceType>
    <friendlyName>%s</friendlyName>
    <manufacturer>Sony Corporation</manufacturer>
    <modelDescription>SonyDigitalMediaServer</modelDescription>
    <modelName>SonyImagingDevice</modelName>
    <UDN>%s</UDN>
    <serviceList>
      <service>
        <serviceType>urn:schemas-upnp-org:service:ContentDirectory:1</serviceType>
        <serviceId>urn:upnp-org:serviceId:ContentDirectory</serviceId>
        <SCPDURL>/CdsDesc.xml</SCPDURL>
        <controlURL>/upnp/control/ContentDirectory</controlURL>
        <eventSubURL>/upnp/event/ContentDirectory</eventSubURL>
      </service>
      <service>
        <serviceType>urn:schemas-sony-com:service:XPushList:1</serviceType>
        <serviceId>urn:schemas-sony-com:serviceId:XPushList</serviceId>
        <SCPDURL>/XPushListDesc.xml</SCPDURL>
        <controlURL>/upnp/control/XPushList</controlURL>
        <eventSubURL>/upnp/event/XPushList</eventSubURL>
      </service>
    </serviceList>
  </device>
</root>
`, html.EscapeString(a.c.s.Model), a.uuid)
	return b.Bytes()
}
