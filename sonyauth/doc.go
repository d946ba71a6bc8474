// Package sonyauth holds what is peculiar to Sony cameras in "Send to
// Computer" mode: which host identity (GUID) the camera accepts, the order
// in which the mount tries identities when the camera refuses one, and the
// vendor commands (operations 0x9280/0x9281) that show "Sending..." on the
// camera and put it to sleep at the end.
//
// # Identity
//
// A Sony camera accepts the PTP/IP connection of the computer it was paired
// with by PlayMemories Home (Wireless Auto Import) or Imaging Edge on
// Windows or macOS. That computer's GUID is 8 zero bytes, FF FF, then one
// of its 6-byte MAC addresses (MACGUID). Airnef found that an unpaired
// camera also accepts any GUID whose last 6 bytes are zero (IsZeroTail),
// which is why this program's host GUID has a zero tail. A camera that
// refuses a GUID answers Init Fail reason 1; Candidates and TryGUIDs are
// the plan for that case, and PairedElsewhereError the message the user
// gets when every identity was refused.
//
// # Send to Computer
//
// Run sends one 0x9280 command and always the 0x9281 that must follow it.
// StartSending (after OpenSession), Cancelled and Sleep (at unmount) are
// the three commands whose effect is known; Command encodes any other.
//
// # What it is not for
//
// The host GUID every make sees (created once, kept in the state
// directory) lives in ptpip, as does the Init Fail error: sonyauth imports
// neither and takes plain [16]byte values and a caller's predicate for
// "the camera rejected this GUID". It speaks to the camera only through
// mtp.Transport, so the simulator and the tests can run it over a fake.
package sonyauth
