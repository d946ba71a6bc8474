// Package camera owns the life of a camera session: which identity (GUID) to
// offer and in what order, opening the PTP/IP and PTP sessions (with Sony's
// "Sending..."), ending them (Sony: sleep), and dialling again after a lost
// session, by backoff or when the camera announces itself.
//
// It knows nothing of the object tree or FUSE: the caller re-attaches its
// tree to the session Reconnect hands back.
package camera
