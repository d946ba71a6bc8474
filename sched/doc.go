// Package sched decides which camera request goes next on the one PTP
// session: PTP runs one transaction at a time, so what the user waits on
// must not queue behind what nobody asked for yet.
//
// Requests come in classes served in order (User, Demand, Background,
// ReadAhead, Prefetch), first come first served within a class, each for an
// Owner: the process a FUSE request came from, or the mount itself. Two
// rules keep a speculative request from holding up a user:
//   - after a User or Demand request ends, the session waits Anticipate for
//     that owner's next one before it serves another owner's less urgent
//     request, as the kernel's anticipatory I/O schedulers did;
//   - Contended tells the cache to cap a speculative request while another
//     owner's User or Demand request waits, or did within Memory.
//
// A context carries a request's class and owner (With), and a turn already
// held (Holding). Run is the one place a request meets the session: an
// ended context ends the wait for a turn, never a transaction.
//
// It knows nothing of PTP: mtp.Device runs every operation through Run,
// and the cache takes turns for its fetches itself.
package sched
