package sonyauth

import (
	"bytes"
	"errors"
	"testing"
)

func TestCommandAppendBinary(t *testing.T) {
	tests := map[string]struct {
		cmd  Command
		want string
	}{
		// libgphoto2's ptp_sony_9280(params, 4, 2, 2, 0, 0, 0x01, 0x01),
		// as PlayMemories sends it.
		"sending": {sendingCommand(), "02 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 01 01"},
		// libgphoto2's exit command.
		"sleep":     {sleepCommand(), "00 00 00 00 05 00 00 00 00 00 00 00 00 00 00 00"},
		"cancelled": {cancelledCommand(), "00 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00"},
		"general": {Command{Sub: 0x01020304, Arg: [2]uint32{0x0a0b0c0d, 1}, Extra: []byte{9, 8, 7}},
			"03 00 00 00 04 03 02 01 0d 0c 0b 0a 01 00 00 00 09 08 07"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			prefix := []byte{0xEE}
			got, err := tc.cmd.AppendBinary(prefix)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte{0xEE}, unhex(t, tc.want)...)
			if !bytes.Equal(got, want) {
				t.Errorf("got  % x\nwant % x", got, want)
			}
		})
	}
}

func TestCommandUnmarshalBinary(t *testing.T) {
	tests := map[string]struct {
		in   string
		want Command
		err  error
	}{
		"sending": {in: "02 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 01 01",
			want: Command{Sub: SubSending, Extra: []byte{1, 1}}},
		// Airnef's 21-byte "Sending...": three bytes past the two counted.
		"airnef sending": {in: "02 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 01 00 02 00 00",
			want: Command{Sub: SubSending, Extra: []byte{1, 0}}},
		// Airnef's sleep: no counted extra bytes, three trailing ones.
		"airnef sleep": {in: "00 00 00 00 05 00 00 00 00 00 00 00 00 00 00 00 02 00 30",
			want: Command{Sub: SubSleep, Extra: []byte{}}},
		"args": {in: "00 00 00 00 03 00 00 00 01 00 00 00 02 00 00 00",
			want: Command{Sub: 3, Arg: [2]uint32{1, 2}, Extra: []byte{}}},
		"short header":     {in: "00 00 00 00 05 00 00 00 00 00 00 00 00 00 00", err: ErrMalformed},
		"empty":            {in: "", err: ErrMalformed},
		"extra too long":   {in: "03 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 01 01", err: ErrMalformed},
		"huge extra count": {in: "ff ff ff ff 02 00 00 00 00 00 00 00 00 00 00 00", err: ErrMalformed},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var c Command
			err := c.UnmarshalBinary(unhex(t, tc.in))
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if tc.err != nil {
				return
			}
			if c.Sub != tc.want.Sub || c.Arg != tc.want.Arg || !bytes.Equal(c.Extra, tc.want.Extra) {
				t.Errorf("got %+v, want %+v", c, tc.want)
			}
		})
	}
}

func TestSubCommandString(t *testing.T) {
	for s, want := range map[SubCommand]string{SubSending: "sending", SubCancelled: "cancelled", SubSleep: "sleep", 3: "SubCommand(3)"} {
		if got := s.String(); got != want {
			t.Errorf("%d: %q, want %q", uint32(s), got, want)
		}
	}
}

// FuzzCommand checks that decoding never panics and that whatever decodes
// re-encodes to the bytes it was decoded from, minus ignored trailing bytes.
func FuzzCommand(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var c Command
		if err := c.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		out, err := c.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b[:len(out)]) {
			t.Fatalf("re-encoded % x, input % x", out, b)
		}
	})
}
