package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/airnef-mount/airnef-mount/camera"
	"github.com/airnef-mount/airnef-mount/fusefs"
	"github.com/airnef-mount/airnef-mount/ssdp"
)

// waitLoop is --wait: until ctx ends, it mounts each camera that announces
// itself (camera.Arrivals says which) at MOUNTPOINT/<model>-<serial>. With
// --exec the camera is unmounted (a Sony put to sleep) when the command
// ends; without, when the camera leaves (byebye, or its session ends).
func (m *mounter) waitLoop(ctx context.Context) error {
	type event struct {
		a    ssdp.Announcement
		done *waitJob // a mount that ended
	}
	events := make(chan event, 64)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watchErr := make(chan error, 1)
	go func() {
		watchErr <- ssdp.Watch(wctx, ssdp.Config{Interfaces: m.o.ssdpInterfaces(), Logger: m.ptpLog}, func(a ssdp.Announcement) {
			select {
			case events <- event{a: a}:
			case <-wctx.Done():
			}
		})
	}()
	m.log.Info("waiting for cameras to announce themselves", "dir", m.o.mountpoint)
	m.announce(fmt.Sprintf("waiting for cameras at %s", m.o.mountpoint))

	active := map[string]*waitJob{} // by host
	// advised: hosts told they are in Send to Smartphone, once until they
	// announce PTP/IP (each NOTIFY would repeat it every few seconds).
	advised := map[string]bool{}
	arrivals := camera.NewArrivals(m.o.quietPeriod, m.log)
	var jobs sync.WaitGroup
	defer func() {
		cancel() // unmounts every camera (and puts a Sony to sleep)
		jobs.Wait()
	}()
	for {
		var e event
		select {
		case <-ctx.Done():
			return nil
		case err := <-watchErr:
			if ctx.Err() != nil {
				return nil
			}
			return failErr("watching for cameras failed: %v; check that UDP port 1900 is free or shared", err)
		case e = <-events:
		}
		if j := e.done; j != nil {
			delete(active, j.host)
			arrivals.Ended(j.host, time.Now())
			continue
		}
		a := e.a
		cam := a.Camera
		if a.Kind == ssdp.AnnounceByeBye {
			for _, host := range arrivals.ByeBye(a) {
				if j := active[host]; j != nil {
					m.log.Info("the camera said byebye", "host", host)
					j.leave()
				}
			}
			continue
		}
		if cam.Smartphone {
			if !advised[cam.Host] {
				advised[cam.Host] = true
				m.log.Warn(smartphoneAdvice(cam))
			}
			continue
		}
		delete(advised, cam.Host)
		if !arrivals.Alive(a) {
			continue
		}
		j := &waitJob{host: cam.Host, left: make(chan struct{})}
		active[cam.Host] = j
		jobs.Add(1)
		go func() {
			defer jobs.Done()
			m.mountAnnounced(wctx, cam, j)
			select {
			case events <- event{done: j}:
			case <-wctx.Done():
			}
		}()
	}
}

// waitJob is one camera mounted by --wait.
type waitJob struct {
	host string
	once sync.Once
	left chan struct{}
}

func (j *waitJob) leave() { j.once.Do(func() { close(j.left) }) }

// mountAnnounced connects to an announced camera, mounts it under the
// --wait directory, runs --exec and unmounts.
func (m *mounter) mountAnnounced(ctx context.Context, cam ssdp.Camera, j *waitJob) {
	log := m.log.With("host", cam.Host)
	cs, err := m.conn.Connect(ctx, cam.Addr, cam.Vendor)
	if err != nil {
		if ctx.Err() != nil {
			return // stopping
		}
		log.Warn("cannot open a session with the camera that announced itself", "err", err)
		return
	}
	name := mountName(cs.Info.Model, cs.Info.SerialNumber, cam.Host)
	dir := filepath.Join(m.o.mountpoint, name)
	created := false
	if err := os.Mkdir(dir, 0o755); err == nil {
		created = true
	} else if !errors.Is(err, os.ErrExist) {
		log.Error("cannot make the mount point", "dir", dir, "err", err)
		cs.Close(false)
		return
	}
	if _, err := fusefs.CleanStale(dir); err != nil {
		log.Warn("stale mount", "dir", dir, "err", err)
	}
	if err := checkNotMounted(dir); err != nil {
		log.Error("cannot mount the camera", "err", err)
		cs.Close(m.o.cameraSleep)
		return
	}
	mode := serveMode{leave: j.left}
	if m.o.exec != "" {
		var status atomic.Pointer[string]
		mode.ready = func(mnt string) {
			go func() {
				st := m.runExec(ctx, mnt, cs, log)
				status.Store(&st)
				j.leave()
			}()
		}
		mode.execStatus = func() string {
			if st := status.Load(); st != nil {
				return *st
			}
			return "did not finish"
		}
	}
	if err := m.serve(ctx, cs, dir, mode); err != nil && ctx.Err() == nil {
		log.Error("mount failed", "dir", dir, "err", err)
	}
	if created {
		if err := os.Remove(dir); err != nil {
			log.Warn("cannot remove the mount point", "dir", dir, "err", err)
		}
	}
	fmt.Fprintf(m.stdout, "unmounted %s\n", dir)
}

// runExec runs --exec as `sh -c 'CMD "$@"' airnef-mount MOUNT`: the mount
// path is the command's last argument (and $AIRNEF_MOUNT), and logs its
// exit status. It returns the outcome for the import summary.
func (m *mounter) runExec(ctx context.Context, mnt string, cs *camera.Session, log *slog.Logger) string {
	cmd := exec.CommandContext(ctx, "sh", "-c", m.o.exec+` "$@"`, "airnef-mount", mnt)
	cmd.Env = append(os.Environ(), "AIRNEF_MOUNT="+mnt, "AIRNEF_MODEL="+cs.Info.Model, "AIRNEF_SERIAL="+cs.Info.SerialNumber)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if err != nil && cmd.ProcessState == nil {
		log.Warn("--exec could not run", "cmd", m.o.exec, "err", err)
		return "could not run: " + err.Error()
	}
	if code == 0 {
		log.Info("--exec finished", "cmd", m.o.exec, "mount", mnt, "status", code, "dur", time.Since(start).Round(time.Millisecond))
	} else {
		log.Warn("--exec failed", "cmd", m.o.exec, "mount", mnt, "status", code, "err", err, "dur", time.Since(start).Round(time.Millisecond))
	}
	fmt.Fprintf(m.stdout, "exec %s status %d\n", mnt, code)
	return cmd.ProcessState.String() // "exit status 23", "signal: terminated"
}

// mountName is the directory a camera is mounted in under --wait:
// MODEL-SERIAL, or MODEL-HOST when the camera has no serial number, with
// every character but letters, digits, '.', '_' and '-' replaced by '_'.
func mountName(model, serial, host string) string {
	id := serial
	if strings.TrimSpace(id) == "" {
		id = host
	}
	name := sanitize(model) + "-" + sanitize(id)
	return strings.Trim(name, "-")
}

func sanitize(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := strings.TrimLeft(b.String(), ".")
	if out == "" {
		return "camera"
	}
	return out
}
