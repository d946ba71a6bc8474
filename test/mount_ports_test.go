package test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestMountListensOnNoTCPPort checks that a running mount has no listening
// TCP socket: airnef-mount only connects to the camera, and a program on a
// WiFi network that accepted connections would be one more way in.
func TestMountListensOnNoTCPPort(t *testing.T) {
	mountRequireFUSE(t)
	dir, _ := mountCard(t, mountCardSpec{jpegs: 2})
	sim := mountStartSim(t, dir)
	mnt := mountDir(t)
	r := mountStart(t, sim.addr, mnt)
	pid := r.cmd.Process.Pid

	sockets := portsSocketInodes(t, pid)
	if len(sockets) == 0 {
		t.Fatalf("airnef-mount (pid %d) holds no socket: the check below would prove nothing", pid)
	}
	for _, table := range []string{"tcp", "tcp6"} {
		for inode, local := range portsListening(t, pid, table) {
			if sockets[inode] {
				t.Errorf("airnef-mount listens on %s %s", table, local)
			}
		}
	}
	// It does hold the two connections to the camera.
	var established int
	for _, table := range []string{"tcp", "tcp6"} {
		for inode := range portsEstablished(t, pid, table) {
			if sockets[inode] {
				established++
			}
		}
	}
	if established < 2 {
		t.Errorf("airnef-mount holds %d established TCP connections, want the camera's two", established)
	}
}

// portsSocketInodes returns the inodes of the sockets process pid has open.
func portsSocketInodes(t *testing.T, pid int) map[string]bool {
	t.Helper()
	fds, err := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if ino, ok := strings.CutPrefix(l, "socket:["); ok {
			out[strings.TrimSuffix(ino, "]")] = true
		}
	}
	return out
}

// portsListening and portsEstablished read the process's network namespace's
// TCP table: inode -> local address, for sockets in state LISTEN (0A) or
// ESTABLISHED (01).
func portsListening(t *testing.T, pid int, table string) map[string]string {
	return portsInState(t, pid, table, "0A")
}

func portsEstablished(t *testing.T, pid int, table string) map[string]string {
	return portsInState(t, pid, table, "01")
}

func portsInState(t *testing.T, pid int, table, state string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("/proc", strconv.Itoa(pid), "net", table))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) >= 10 && fields[3] == state {
			out[fields[9]] = fields[1]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
