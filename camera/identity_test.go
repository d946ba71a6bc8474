package camera

import (
	"testing"

	"github.com/airnef-mount/airnef-mount/sonyauth"
)

func TestIdentitiesPlan(t *testing.T) {
	host := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	mac := sonyauth.Candidate{Iface: "eth9", MAC: []byte{2, 0, 0, 0, 0, 9}}
	mac.GUID, _ = sonyauth.MACGUID(mac.MAC)

	ids := &Identities{first: host, persisted: host, locals: []sonyauth.Candidate{mac}, retry: true}
	plan, err := ids.plan()
	if err != nil {
		t.Fatal(err)
	}
	if len(plan) != 3 || plan[0] != host || plan[1] != sonyauth.ZeroTail(host) || plan[2] != mac.GUID {
		t.Errorf("plan %x, want host, zero tail, MAC GUID", plan)
	}
	// Once a GUID worked, reconnections offer it first.
	ids.accepted(mac.GUID)
	if plan, _ = ids.plan(); len(plan) != 2 || plan[0] != mac.GUID || plan[1] != sonyauth.ZeroTail(host) {
		t.Errorf("plan after acceptance %x", plan)
	}
	// An explicit --guid HEX is offered alone.
	if plan, _ = FixedIdentity(host).plan(); len(plan) != 1 || plan[0] != host {
		t.Errorf("plan of --guid HEX %x", plan)
	}
	// --guid=mac: the MAC-derived GUIDs first, then the zero tail.
	byMAC, err := MACIdentities([]sonyauth.Candidate{mac}, host)
	if err != nil {
		t.Fatal(err)
	}
	if plan, _ = byMAC.plan(); len(plan) != 2 || plan[0] != mac.GUID || plan[1] != sonyauth.ZeroTail(host) {
		t.Errorf("plan of --guid=mac %x", plan)
	}
	if _, err := MACIdentities(nil, host); err == nil {
		t.Error("MACIdentities without a MAC: no error")
	}
}
