package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Tools, as the document names them.
const (
	toolAirnef   = "airnef-mount"
	toolGphotofs = "gphotofs"
	toolGphoto2  = "gphoto2"
)

// mount is a running FUSE server mounted on dir.
type mount struct {
	tool    string
	dir     string
	storage string        // the card's directory under dir
	ready   time.Duration // from exec to mounted
	cmd     *exec.Cmd
	log     *lockedBuffer
	done    chan struct{}
}

// lockedBuffer collects a process's output from its copying goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 {
		return len(p), nil // enough to explain a failure
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// mountTimeout bounds a mount: connecting, opening the session, listing
// the storages.
const mountTimeout = 60 * time.Second

// mountAirnef mounts airnef-mount on camera s with home as its HOME (and
// XDG directories: the metadata cache lives in home/.cache), extra flags
// before the mount point.
func (b *bench) mountAirnef(ctx context.Context, s *sim, home string, extra ...string) (*mount, error) {
	dir, err := b.mountpoint()
	if err != nil {
		return nil, err
	}
	args := append(append([]string{"--camera", s.addr}, extra...), dir)
	j := job{name: filepath.Join(b.bin, "airnef-mount"), args: args, env: xdgEnv(home)}
	m := &mount{tool: toolAirnef, dir: dir, storage: "Card 1", log: &lockedBuffer{}, done: make(chan struct{})}
	m.cmd = j.command(context.WithoutCancel(ctx))
	m.cmd.Stderr = m.log
	stdout, err := m.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	up := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			fmt.Fprintln(m.log, sc.Text())
			if strings.HasPrefix(sc.Text(), "mounted ") {
				close(up)
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { m.cmd.Wait(); close(m.done) }()
	select {
	case <-up:
		m.ready = time.Since(start)
		return m, nil
	case <-m.done:
		m.unmount()
		return nil, fmt.Errorf("airnef-mount exited before mounting: %s", tail(m.log.String(), 600))
	case <-time.After(mountTimeout):
		m.unmount()
		return nil, fmt.Errorf("airnef-mount: not mounted within %v: %s", mountTimeout, tail(m.log.String(), 600))
	case <-ctx.Done():
		m.unmount()
		return nil, ctx.Err()
	}
}

// mountGphotofs mounts gphotofs (in the foreground, -f) on camera s. It
// opens its session lazily, on the first access.
func (b *bench) mountGphotofs(ctx context.Context, s *sim, home string) (*mount, error) {
	dir, err := b.mountpoint()
	if err != nil {
		return nil, err
	}
	port := fmt.Sprintf("ptpip:127.0.0.1:%s:%s", s.port, s.port)
	j := job{name: "gphotofs", args: []string{"--port=" + port, "--camera=PTP/IP Camera", dir, "-f"}, env: []string{"HOME=" + home}}
	m := &mount{tool: toolGphotofs, dir: dir, storage: "store_00010001", log: &lockedBuffer{}, done: make(chan struct{})}
	m.cmd = j.command(context.WithoutCancel(ctx))
	m.cmd.Stdout, m.cmd.Stderr = m.log, m.log
	start := time.Now()
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { m.cmd.Wait(); close(m.done) }()
	deadline := time.Now().Add(mountTimeout)
	for !mounted(dir) {
		select {
		case <-m.done:
			m.unmount()
			return nil, fmt.Errorf("gphotofs exited before mounting: %s", tail(m.log.String(), 600))
		case <-ctx.Done():
			m.unmount()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.unmount()
			return nil, fmt.Errorf("gphotofs: not mounted within %v", mountTimeout)
		}
	}
	m.ready = time.Since(start)
	return m, nil
}

// mountTool mounts tool (airnef-mount or gphotofs) on s.
func (b *bench) mountTool(ctx context.Context, tool string, s *sim, home string, extra ...string) (*mount, error) {
	if tool == toolGphotofs {
		return b.mountGphotofs(ctx, s, home)
	}
	return b.mountAirnef(ctx, s, home, extra...)
}

// mountpoint makes a fresh empty directory to mount on.
func (b *bench) mountpoint() (string, error) {
	return os.MkdirTemp(b.work, "mnt-")
}

// root is the card's directory in the mount.
func (m *mount) root() string { return filepath.Join(m.dir, m.storage) }

// pid is the FUSE server's process id.
func (m *mount) pid() int { return m.cmd.Process.Pid }

// cpu is the server's CPU seconds so far (-1 when unreadable).
func (m *mount) cpu() float64 {
	s, err := cpuSeconds(m.pid())
	if err != nil {
		return -1
	}
	return s
}

// peakRSS is the server's VmHWM in bytes (-1 when unreadable).
func (m *mount) peakRSS() int64 {
	n, err := statusBytes(m.pid(), "VmHWM")
	if err != nil {
		return -1
	}
	return n
}

// stats reads airnef-mount's /.airnef/stats counters.
func (m *mount) stats() map[string]string {
	b, err := os.ReadFile(filepath.Join(m.dir, ".airnef", "stats"))
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			out[k] = v
		}
	}
	return out
}

// unmount unmounts and waits for the server to end, killing its process
// group after 15 s; the mount point is removed.
func (m *mount) unmount() error {
	if m == nil {
		return nil
	}
	err := unmount(m.dir)
	select {
	case <-m.done:
	case <-time.After(15 * time.Second):
		killGroup(m.cmd, syscall.SIGKILL)
		<-m.done
		unmount(m.dir)
	}
	os.Remove(m.dir)
	return err
}

// xdgEnv points HOME and the XDG state and cache directories at home.
func xdgEnv(home string) []string {
	return []string{
		"HOME=" + home,
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
		"XDG_STATE_HOME=" + filepath.Join(home, ".local", "state"),
	}
}

// gphoto2Job is gphoto2 on camera s with its own HOME (a fixed GUID) in
// cwd.
func gphoto2Job(s *sim, home, cwd string, args ...string) (job, error) {
	if err := gphotoSettings(home); err != nil {
		return job{}, err
	}
	port := fmt.Sprintf("ptpip:127.0.0.1:%s:%s", s.port, s.port)
	args = append([]string{"--port", port, "--camera", "PTP/IP Camera"}, args...)
	return job{name: "gphoto2", args: args, dir: cwd, env: []string{"HOME=" + home}}, nil
}

// gphotoSettings writes gphoto2's settings in home: a fixed GUID.
func gphotoSettings(home string) error {
	if err := os.MkdirAll(filepath.Join(home, ".gphoto"), 0o755); err != nil {
		return err
	}
	settings := "ptp2_ip=guid=6a:d1:2b:77:0e:5c:41:a8:9f:33:20:c4:b1:5e:d7:08\n"
	return os.WriteFile(filepath.Join(home, ".gphoto", "settings"), []byte(settings), 0o644)
}
