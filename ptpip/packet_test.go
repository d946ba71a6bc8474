package ptpip

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// readHex loads a hex fixture: '#' starts a comment, whitespace and '|' are
// ignored.
func readHex(t testing.TB, name string) []byte {
	t.Helper()
	text, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return mustHex(t, string(text))
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	var digits strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line, _, _ = strings.Cut(line, "#")
		for _, r := range line {
			if r != ' ' && r != '\t' && r != '|' && r != '\r' {
				digits.WriteRune(r)
			}
		}
	}
	b, err := hex.DecodeString(digits.String())
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return b
}

func TestGolden(t *testing.T) {
	tests := map[string]struct {
		file string
		want Packet
	}{
		"PlayMemories Init Command Request": {
			file: "playmemories_init_command_request.hex",
			want: &InitCommandRequest{
				GUID:    [16]byte{8: 0xff, 9: 0xff, 10: 0x08, 11: 0x00, 12: 0x27, 13: 0xf5, 14: 0x16, 15: 0x4f},
				Name:    "WIN7-VM",
				Version: Version,
			},
		},
		"Sony Init Fail": {
			file: "sony_init_fail.hex",
			want: &InitFail{Reason: FailRejectedInitiator},
		},
		"GetNumObjects with both optional params": {
			file: "get_num_objects.hex",
			want: &OperationRequest{DataPhase: DataPhaseNoneOrIn, Code: 0x1006, TransactionID: 5, Params: []uint32{0x00010001, 0, 0}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			wire := readHex(t, tc.file)
			got, err := Unmarshal(wire)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Unmarshal = %#v, want %#v", got, tc.want)
			}
			enc, err := tc.want.AppendBinary(nil)
			if err != nil {
				t.Fatalf("AppendBinary: %v", err)
			}
			if !bytes.Equal(enc, wire) {
				t.Errorf("AppendBinary =\n% x\nwant\n% x", enc, wire)
			}
			p, err := ReadPacket(bytes.NewReader(wire), DefaultMaxPacket)
			if err != nil || !reflect.DeepEqual(p, tc.want) {
				t.Errorf("ReadPacket = %#v, %v", p, err)
			}
		})
	}
}

// allPackets has one value of each packet type, with its encoding.
var allPackets = map[string]struct {
	p    Packet
	wire string
}{
	"InitCommandRequest": {
		&InitCommandRequest{GUID: [16]byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99}, Name: "é😀", Version: 1},
		"24000000 01000000 00112233445566778899000000000000 e900 3dd8 00de 0000 01000000",
	},
	"InitCommandRequest empty name": {
		&InitCommandRequest{Version: Version},
		"1e000000 01000000 00000000000000000000000000000000 0000 00000100",
	},
	"InitCommandAck": {
		&InitCommandAck{ConnectionNumber: 7, GUID: [16]byte{15: 1}, Name: "D7200", Version: Version},
		"2c000000 02000000 07000000 00000000000000000000000000000001 4400 3700 3200 3000 3000 0000 00000100",
	},
	"InitEventRequest": {&InitEventRequest{ConnectionNumber: 0x01020304}, "0c000000 03000000 04030201"},
	"InitEventAck":     {&InitEventAck{}, "08000000 04000000"},
	"InitFail":         {&InitFail{Reason: FailBusy}, "0c000000 05000000 02000000"},
	"OperationRequest no params": {
		&OperationRequest{DataPhase: DataPhaseNoneOrIn, Code: 0x1001, TransactionID: 1},
		"12000000 06000000 01000000 0110 01000000",
	},
	"OperationRequest 5 params": {
		&OperationRequest{DataPhase: DataPhaseOut, Code: 0x9280, TransactionID: 0xfffffffe, Params: []uint32{1, 2, 3, 4, 5}},
		"26000000 06000000 02000000 8092 feffffff 01000000 02000000 03000000 04000000 05000000",
	},
	"OperationResponse": {
		&OperationResponse{Code: 0x2001, TransactionID: 9, Params: []uint32{42}},
		"12000000 07000000 0120 09000000 2a000000",
	},
	"OperationResponse no params": {
		&OperationResponse{Code: 0x2019, TransactionID: 3},
		"0e000000 07000000 1920 03000000",
	},
	"Event": {
		&Event{Code: 0x4002, TransactionID: 0xffffffff, Params: []uint32{1, 2, 3}},
		"1a000000 08000000 0240 ffffffff 01000000 02000000 03000000",
	},
	"StartData": {
		&StartData{TransactionID: 4, TotalLength: 0x100000000},
		"14000000 09000000 04000000 0000000001000000",
	},
	"StartData unknown length": {
		&StartData{TransactionID: 4, TotalLength: UnknownLength},
		"14000000 09000000 04000000 ffffffffffffffff",
	},
	"Data":          {&Data{TransactionID: 4, Payload: []byte("abc")}, "0f000000 0a000000 04000000 616263"},
	"Data empty":    {&Data{TransactionID: 4, Payload: []byte{}}, "0c000000 0a000000 04000000"},
	"Cancel":        {&Cancel{TransactionID: 4}, "0c000000 0b000000 04000000"},
	"EndData":       {&EndData{TransactionID: 4, Payload: []byte{0}}, "0d000000 0c000000 04000000 00"},
	"EndData empty": {&EndData{TransactionID: 4, Payload: []byte{}}, "0c000000 0c000000 04000000"},
	"ProbeRequest":  {&ProbeRequest{}, "08000000 0d000000"},
	"ProbeResponse": {&ProbeResponse{}, "08000000 0e000000"},
	"AppendBinary keeps prefix": {
		&InitEventAck{}, "08000000 04000000",
	},
}

func TestRoundTrip(t *testing.T) {
	for name, tc := range allPackets {
		t.Run(name, func(t *testing.T) {
			wire := mustHex(t, tc.wire)
			prefix := []byte("prefix")
			enc, err := tc.p.AppendBinary(append([]byte(nil), prefix...))
			if err != nil {
				t.Fatalf("AppendBinary: %v", err)
			}
			if !bytes.HasPrefix(enc, prefix) || !bytes.Equal(enc[len(prefix):], wire) {
				t.Fatalf("AppendBinary =\n% x\nwant prefix +\n% x", enc, wire)
			}
			got, err := Unmarshal(wire)
			if err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if got.Type() != tc.p.Type() {
				t.Errorf("type %s, want %s", got.Type(), tc.p.Type())
			}
			if !reflect.DeepEqual(got, tc.p) {
				t.Errorf("Unmarshal = %#v, want %#v", got, tc.p)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	tests := map[string]struct{ in, why string }{
		"empty":                    {"", "0 bytes"},
		"shorter than header":      {"08000000 0d00", "6 bytes"},
		"unknown type":             {"08000000 0f000000", "unknown type"},
		"type 0":                   {"08000000 00000000", "unknown type"},
		"length field too long":    {"0d000000 05000000 01000000", "length field 13"},
		"length field too short":   {"0b000000 05000000 01000000", "length field 11"},
		"length field below 8":     {"04000000 05000000 01000000", "length field 4"},
		"trailing bytes":           {"10000000 05000000 01000000 00000000", "4 trailing"},
		"payload on Init Ack":      {"0a000000 04000000 0000", "2 trailing"},
		"payload on Probe":         {"0c000000 0d000000 00000000", "4 trailing"},
		"truncated reason":         {"0a000000 05000000 0100", "truncated reason"},
		"truncated GUID":           {"10000000 01000000 0011223344556677", "truncated GUID"},
		"odd name bytes":           {"1f000000 01000000 00000000000000000000000000000000 410000 00000100", "not whole UTF-16"},
		"name without NUL":         {"1e000000 01000000 00000000000000000000000000000000 4100 00000100", "not NUL-terminated"},
		"name missing entirely":    {"1c000000 01000000 00000000000000000000000000000000 00000100", "without its NUL"},
		"bytes after name NUL":     {"24000000 01000000 00000000000000000000000000000000 4100 0000 4200 0000 00000100", "after the NUL"},
		"lone surrogate in name":   {"20000000 01000000 00000000000000000000000000000000 00d8 0000 00000100", "not valid UTF-16"},
		"ack truncated name":       {"1c000000 02000000 07000000 00000000000000000000000000000000", "truncated name"},
		"six params":               {"2a000000 06000000 01000000 0110 01000000 01000000 02000000 03000000 04000000 05000000 06000000", "24 parameter bytes"},
		"six response params":      {"26000000 07000000 0120 01000000 01000000 02000000 03000000 04000000 05000000 06000000", "24 parameter bytes"},
		"four event params":        {"1e000000 08000000 0240 01000000 01000000 02000000 03000000 04000000", "16 parameter bytes"},
		"param not whole u32":      {"14000000 06000000 01000000 0110 01000000 0100", "2 parameter bytes"},
		"request without tid":      {"0e000000 06000000 01000000 0110", "truncated transaction ID"},
		"start data short length":  {"10000000 09000000 04000000 00000000", "truncated total length"},
		"start data trailing":      {"18000000 09000000 04000000 0000000000000000 00000000", "4 trailing"},
		"data without tid":         {"0a000000 0a000000 0400", "truncated transaction ID"},
		"end data without tid":     {"08000000 0c000000", "truncated transaction ID"},
		"cancel trailing bytes":    {"0d000000 0b000000 04000000 00", "1 trailing"},
		"response code only":       {"0a000000 07000000 0120", "truncated transaction ID"},
		"event transaction absent": {"0a000000 08000000 0240", "truncated transaction ID"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := Unmarshal(mustHex(t, tc.in))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Unmarshal = %#v, %v; want ErrMalformed", p, err)
			}
			if !strings.Contains(err.Error(), tc.why) {
				t.Errorf("error %q does not say %q", err, tc.why)
			}
		})
	}
}

// TestUnmarshalBinaryWrongType checks that each type refuses a packet of
// another type.
func TestUnmarshalBinaryWrongType(t *testing.T) {
	wire := mustHex(t, "0c000000 05000000 01000000") // Init Fail
	for _, p := range []Packet{new(InitCommandRequest), new(InitEventRequest), new(Cancel), new(Data), new(EndData)} {
		if err := p.UnmarshalBinary(wire); !errors.Is(err, ErrMalformed) {
			t.Errorf("%T.UnmarshalBinary(InitFail) = %v, want ErrMalformed", p, err)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	tests := map[string]Packet{
		"six params":          &OperationRequest{Params: make([]uint32, 6)},
		"six response":        &OperationResponse{Params: make([]uint32, 6)},
		"four event params":   &Event{Params: make([]uint32, 4)},
		"NUL in request name": &InitCommandRequest{Name: "a\x00b"},
		"NUL in ack name":     &InitCommandAck{Name: "\x00"},
	}
	for name, p := range tests {
		t.Run(name, func(t *testing.T) {
			b, err := p.AppendBinary([]byte("xy"))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("AppendBinary = % x, %v; want ErrMalformed", b, err)
			}
			if string(b) != "xy" {
				t.Errorf("AppendBinary left % x in the buffer, want the prefix only", b)
			}
		})
	}
}

func TestReadPacketStream(t *testing.T) {
	var stream []byte
	var want []Packet
	for _, name := range []string{"InitCommandAck", "Event", "Data", "EndData empty", "ProbeRequest", "OperationResponse"} {
		tc := allPackets[name]
		stream = append(stream, mustHex(t, tc.wire)...)
		want = append(want, tc.p)
	}
	r := bytes.NewReader(stream)
	for i, w := range want {
		p, err := ReadPacket(r, DefaultMaxPacket)
		if err != nil {
			t.Fatalf("packet %d: %v", i, err)
		}
		if !reflect.DeepEqual(p, w) {
			t.Errorf("packet %d = %#v, want %#v", i, p, w)
		}
	}
	if _, err := ReadPacket(r, DefaultMaxPacket); err != io.EOF {
		t.Errorf("at the end: %v, want io.EOF", err)
	}
}

func TestReadPacketErrors(t *testing.T) {
	tests := map[string]struct {
		in   string
		max  uint32
		want error
	}{
		"partial header":      {"0c000000 05", DefaultMaxPacket, io.ErrUnexpectedEOF},
		"truncated payload":   {"0c000000 05000000 0100", DefaultMaxPacket, io.ErrUnexpectedEOF},
		"header only":         {"0c000000 05000000", DefaultMaxPacket, io.ErrUnexpectedEOF},
		"length below header": {"07000000 05000000 01000000", DefaultMaxPacket, ErrMalformed},
		"over the maximum":    {"0c000000 05000000 01000000", 11, ErrTooLarge},
		"decode error":        {"10000000 05000000 01000000 00000000", DefaultMaxPacket, ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p, err := ReadPacket(bytes.NewReader(mustHex(t, tc.in)), tc.max)
			if !errors.Is(err, tc.want) {
				t.Fatalf("ReadPacket = %#v, %v; want %v", p, err, tc.want)
			}
		})
	}
}

// TestReadPacketLargeGrows reads a packet larger than allocStep to exercise
// the growing buffer.
func TestReadPacketLargeGrows(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 3*allocStep/16+5)
	want := &Data{TransactionID: 77, Payload: payload}
	wire, err := want.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadPacket(bytes.NewReader(wire), ^uint32(0))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("large Data packet did not round-trip")
	}
	// Truncated by one byte.
	if _, err := ReadPacket(bytes.NewReader(wire[:len(wire)-1]), ^uint32(0)); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated: %v, want io.ErrUnexpectedEOF", err)
	}
}

// TestHugeHeaderNoAllocation checks that a header claiming almost 4 GiB
// costs no large allocation: refused by the maximum, or (when the maximum
// allows it) read only as far as bytes arrive.
func TestHugeHeaderNoAllocation(t *testing.T) {
	wire := mustHex(t, "fcffffff 0a000000 05000000 0102030405060708")
	allocated := func(f func()) uint64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		return after.TotalAlloc - before.TotalAlloc
	}
	var err error
	n := allocated(func() { _, err = ReadPacket(bytes.NewReader(wire), DefaultMaxPacket) })
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("with the default maximum: %v, want ErrTooLarge", err)
	}
	if n >= 1<<20 {
		t.Errorf("refusing the packet allocated %d bytes", n)
	}
	n = allocated(func() { _, err = ReadPacket(bytes.NewReader(wire), ^uint32(0)) })
	if err != io.ErrUnexpectedEOF {
		t.Errorf("with no maximum: %v, want io.ErrUnexpectedEOF", err)
	}
	if n >= 1<<20 {
		t.Errorf("reading a truncated 4 GiB packet allocated %d bytes", n)
	}
	if _, err := ReadHeader(bytes.NewReader(wire), DefaultMaxPacket); !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadHeader: %v, want ErrTooLarge", err)
	}
}

func TestPacketTypeString(t *testing.T) {
	tests := map[PacketType]string{
		PacketInitCommandRequest: "InitCommandRequest",
		PacketProbeResponse:      "ProbeResponse",
		0:                        "PacketType(0x0000)",
		0x0f:                     "PacketType(0x000F)",
		0xffffffff:               "PacketType(0xFFFFFFFF)",
	}
	for typ, want := range tests {
		if got := typ.String(); got != want {
			t.Errorf("%#x.String() = %q, want %q", uint32(typ), got, want)
		}
	}
}

// FuzzUnmarshal: decoding never panics, and a packet that decodes
// re-encodes to the same bytes.
func FuzzUnmarshal(f *testing.F) {
	for _, tc := range allPackets {
		f.Add(mustHex(f, tc.wire))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Unmarshal(b)
		if err != nil {
			if p != nil {
				t.Fatalf("Unmarshal returned %#v with error %v", p, err)
			}
			return
		}
		enc, err := p.AppendBinary(nil)
		if err != nil {
			t.Fatalf("re-encoding %#v: %v", p, err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding %#v:\n% x\nwant\n% x", p, enc, b)
		}
	})
}

// FuzzReadPacket reads a stream of packets: never panics, never reads past
// the packet, and each packet read re-encodes to the bytes it consumed.
func FuzzReadPacket(f *testing.F) {
	var all []byte
	for _, tc := range allPackets {
		b := mustHex(f, tc.wire)
		f.Add(b)
		all = append(all, b...)
	}
	f.Add(all)
	f.Fuzz(func(t *testing.T, stream []byte) {
		r := bytes.NewReader(stream)
		for {
			start := len(stream) - r.Len()
			p, err := ReadPacket(r, 1<<16)
			if err != nil {
				return
			}
			consumed := stream[start : len(stream)-r.Len()]
			enc, err := p.AppendBinary(nil)
			if err != nil {
				t.Fatalf("re-encoding %#v: %v", p, err)
			}
			if !bytes.Equal(enc, consumed) {
				t.Fatalf("re-encoding %#v:\n% x\nwant\n% x", p, enc, consumed)
			}
		}
	})
}
