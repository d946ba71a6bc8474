package sonyauth

import (
	"encoding/hex"
	"net"
	"strings"
	"testing"
)

func mustMAC(t *testing.T, s string) net.HardwareAddr {
	t.Helper()
	m, err := net.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func guidHex(t *testing.T, s string) [16]byte {
	t.Helper()
	var g [16]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 16 {
		t.Fatalf("bad GUID %q", s)
	}
	copy(g[:], b)
	return g
}

// The GUID of the PlayMemories capture in the notes ("WIN7-VM").
func TestMACGUIDGolden(t *testing.T) {
	g, err := MACGUID(mustMAC(t, "08:00:27:f5:16:4f"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := formatGUID(g), "0000000000000000ffff080027f5164f"; got != want {
		t.Errorf("MACGUID = %s, want %s", got, want)
	}
	if IsZeroTail(g) {
		t.Error("a MAC GUID reported as zero-tail")
	}
	if !isMACGUID(g) {
		t.Error("isMACGUID false for a MACGUID")
	}
}

func TestMACGUIDRejectsOtherLengths(t *testing.T) {
	for _, mac := range []net.HardwareAddr{{1, 2, 3, 4, 5, 6, 7, 8}, {1, 2, 3}, nil} {
		if _, err := MACGUID(mac); err == nil {
			t.Errorf("MACGUID(%v): no error", mac)
		}
	}
}

func TestZeroTail(t *testing.T) {
	tests := map[string]struct {
		in   string
		want bool
	}{
		"airnef default":      {"00112233445566778899000000000000", true},
		"all zero":            {"00000000000000000000000000000000", true},
		"mac guid":            {"0000000000000000ffff080027f5164f", false},
		"last byte set":       {"00112233445566778899000000000001", false},
		"first tail byte set": {"00112233445566778899010000000000", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			g := guidHex(t, tc.in)
			if got := IsZeroTail(g); got != tc.want {
				t.Errorf("IsZeroTail = %v, want %v", got, tc.want)
			}
			z := ZeroTail(g)
			if !IsZeroTail(z) || [10]byte(z[:10]) != [10]byte(g[:10]) {
				t.Errorf("ZeroTail(%x) = %x", g, z)
			}
		})
	}
	if isMACGUID(guidHex(t, "00112233445566778899000000000000")) {
		t.Error("isMACGUID true for Airnef's GUID")
	}
}

func TestParseMACSpec(t *testing.T) {
	tests := map[string]struct {
		iface string
		ok    bool
	}{
		"mac":                              {"", true},
		"MAC":                              {"", true},
		"mac:wlan0":                        {"wlan0", true},
		"Mac:enp0s31f6":                    {"enp0s31f6", true},
		"mac:":                             {"", false},
		"macx":                             {"", false},
		"ma":                               {"", false},
		"":                                 {"", false},
		"0000000000000000ffff080027f5164f": {"", false},
		"00:11:22:33:44:55:66:77:88:99:00:00:00:00:00:00": {"", false},
	}
	for in, tc := range tests {
		iface, ok := ParseMACSpec(in)
		if iface != tc.iface || ok != tc.ok {
			t.Errorf("ParseMACSpec(%q) = %q, %v; want %q, %v", in, iface, ok, tc.iface, tc.ok)
		}
	}
}

func testInterfaces(t *testing.T) []net.Interface {
	return []net.Interface{
		{Index: 1, Name: "lo", Flags: net.FlagLoopback | net.FlagUp, HardwareAddr: nil},
		{Index: 7, Name: "docker0", HardwareAddr: mustMAC(t, "02:42:ac:11:00:01")}, // locally administered
		{Index: 3, Name: "wlan0", HardwareAddr: mustMAC(t, "a4:c3:f0:85:ac:2d")},
		{Index: 2, Name: "eth0", Flags: net.FlagUp, HardwareAddr: mustMAC(t, "08:00:27:f5:16:4f")},
		{Index: 4, Name: "tun0", HardwareAddr: nil},
		{Index: 5, Name: "dummy0", HardwareAddr: mustMAC(t, "00:00:00:00:00:00")},
		{Index: 6, Name: "ib0", HardwareAddr: make(net.HardwareAddr, 20)},
		{Index: 8, Name: "lo2", Flags: net.FlagLoopback, HardwareAddr: mustMAC(t, "00:11:22:33:44:55")},
	}
}

func TestInterfaceGUIDsAll(t *testing.T) {
	got, err := interfaceGUIDs(testInterfaces(t), "")
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ iface, guid string }{
		{"eth0", "0000000000000000ffff080027f5164f"},
		{"wlan0", "0000000000000000ffffa4c3f085ac2d"},
		{"docker0", "0000000000000000ffff0242ac110001"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d candidates %+v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if got[i].Iface != w.iface || formatGUID(got[i].GUID) != w.guid || got[i].GUID != mustMACGUID(t, got[i].MAC) {
			t.Errorf("candidate %d = %s %s %x, want %s %s", i, got[i].Iface, got[i].MAC, got[i].GUID, w.iface, w.guid)
		}
	}
}

func TestInterfaceGUIDsOne(t *testing.T) {
	ifs := testInterfaces(t)
	got, err := interfaceGUIDs(ifs, "wlan0")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Iface != "wlan0" || formatGUID(got[0].GUID) != "0000000000000000ffffa4c3f085ac2d" {
		t.Errorf("got %+v", got)
	}
	// The candidate owns its MAC: changing the interface list later
	// must not change it.
	ifs[2].HardwareAddr[5] = 0
	if got[0].MAC[5] != 0x2d {
		t.Error("candidate MAC aliases the interface's")
	}

	for _, name := range []string{"nosuch0", "lo", "tun0", "dummy0", "ib0", "lo2"} {
		_, err := interfaceGUIDs(testInterfaces(t), name)
		if err == nil || !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("%s: error %v, want one naming the interface", name, err)
		}
	}
	_, err = interfaceGUIDs(testInterfaces(t), "nosuch0")
	if err == nil || !strings.Contains(err.Error(), "eth0") {
		t.Errorf("error %v does not list the interfaces there are", err)
	}
}

func TestInterfaceGUIDsNone(t *testing.T) {
	got, err := interfaceGUIDs([]net.Interface{{Index: 1, Name: "lo", Flags: net.FlagLoopback}}, "")
	if err != nil || len(got) != 0 {
		t.Errorf("got %+v, %v; want none, nil", got, err)
	}
}

// The real host: whatever it has, every candidate must follow the rules,
// and an absent interface is an error naming it.
func TestInterfaceGUIDsHost(t *testing.T) {
	all, err := InterfaceGUIDs("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if len(c.MAC) != 6 || c.GUID != mustMACGUID(t, c.MAC) {
			t.Errorf("bad candidate %+v", c)
		}
		one, err := InterfaceGUIDs(c.Iface)
		if err != nil || len(one) != 1 || one[0].GUID != c.GUID {
			t.Errorf("InterfaceGUIDs(%q) = %+v, %v", c.Iface, one, err)
		}
	}
	const absent = "airnef-nosuch9"
	if _, err := InterfaceGUIDs(absent); err == nil || !strings.Contains(err.Error(), absent) {
		t.Errorf("error %v, want one naming %s", err, absent)
	}
}

func mustMACGUID(t *testing.T, mac net.HardwareAddr) [16]byte {
	t.Helper()
	g, err := MACGUID(mac)
	if err != nil {
		t.Fatal(err)
	}
	return g
}
