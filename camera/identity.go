package camera

import (
	"errors"
	"sync"

	"github.com/airnef-mount/airnef-mount/sonyauth"
)

// Identities is what a connection offers the camera as this computer's GUID.
// After an Init Fail "rejected initiator" (a Sony paired with another
// computer) the others are tried once each, in sonyauth.Candidates' order;
// a GUID the camera accepted is offered first the next time.
type Identities struct {
	first     [16]byte
	persisted [16]byte
	locals    []sonyauth.Candidate
	retry     bool

	mu   sync.Mutex
	good *[16]byte // the GUID the camera accepted, offered first next time
}

// HostIdentities offers this host's persisted GUID, then on a refusal its
// zero tail (a Sony paired with no computer) and each local MAC-derived
// GUID (a Sony paired with this machine under Windows or macOS).
func HostIdentities(host [16]byte) *Identities {
	return &Identities{first: host, persisted: host, retry: true}
}

// MACIdentities offers the MAC-derived GUIDs cands first, then the zero tail
// of persisted.
func MACIdentities(cands []sonyauth.Candidate, persisted [16]byte) (*Identities, error) {
	if len(cands) == 0 {
		return nil, errors.New("this computer has no network interface with a MAC address")
	}
	return &Identities{first: cands[0].GUID, locals: cands, persisted: persisted, retry: true}, nil
}

// FixedIdentity offers g only.
func FixedIdentity(g [16]byte) *Identities { return &Identities{first: g} }

// plan is the GUIDs to offer, in order.
func (ids *Identities) plan() ([][16]byte, error) {
	ids.mu.Lock()
	good := ids.good
	ids.mu.Unlock()
	if !ids.retry {
		return [][16]byte{ids.first}, nil
	}
	locals := ids.locals
	if locals == nil {
		var err error
		if locals, err = sonyauth.InterfaceGUIDs(""); err != nil {
			return nil, err
		}
	}
	first := ids.first
	if good != nil {
		first = *good
	}
	return sonyauth.Candidates(first, ids.persisted, locals), nil
}

func (ids *Identities) accepted(g [16]byte) {
	ids.mu.Lock()
	ids.good = &g
	ids.mu.Unlock()
}
