package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// job is one external command: its own process group, so that a timeout
// ends it and everything it started, by its id.
type job struct {
	name string
	args []string
	dir  string   // working directory ("" = ours)
	env  []string // added to our environment
}

// run runs j to its end within timeout and returns its combined output
// and its wall time (from start to exit).
func (j job) run(ctx context.Context, timeout time.Duration) (out string, wall time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := j.command(ctx)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	err = cmd.Run()
	wall = time.Since(start)
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%s: no end within %v", j.name, timeout)
	} else if err != nil {
		err = fmt.Errorf("%s %s: %w: %s", j.name, strings.Join(j.args, " "), err, tail(buf.String(), 400))
	}
	return buf.String(), wall, err
}

// command builds the exec.Cmd of j, ended with its process group when ctx
// is done.
func (j job) command(ctx context.Context) *exec.Cmd {
	cmd := exec.CommandContext(ctx, j.name, j.args...)
	cmd.Dir = j.dir
	cmd.Env = append(os.Environ(), "LANG=C", "LC_ALL=C")
	cmd.Env = append(cmd.Env, j.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return killGroup(cmd, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// killGroup sends sig to the process group cmd leads.
func killGroup(cmd *exec.Cmd, sig syscall.Signal) error {
	if cmd.Process == nil {
		return nil
	}
	err := syscall.Kill(-cmd.Process.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil
	}
	return err
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// clockTick is USER_HZ, the unit of the CPU times in /proc/PID/stat: 100 on
// every Linux architecture Go supports.
const clockTick = 100

// cpuSeconds is the user plus system CPU time of process pid so far.
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// After ')': state is field 3, utime field 14, stime field 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return float64(ut+st) / clockTick, nil
}

// statusBytes reads a "kB" field of /proc/PID/status (VmHWM, VmRSS) in
// bytes.
func statusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				n, err := strconv.ParseInt(f[0], 10, 64)
				return n << 10, err
			}
		}
	}
	return 0, fmt.Errorf("/proc/%d/status: no %s", pid, field)
}

// loadAverage is the first line of /proc/loadavg: the 1, 5 and 15 minute
// load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// mounted reports whether dir is a mount point now.
func mounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && unescapeMount(f[4]) == dir {
			return true
		}
	}
	return false
}

// unescapeMount undoes the octal escapes of mountinfo (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// unmount unmounts dir, lazily if it stays busy; a no-op when nothing is
// mounted there.
func unmount(dir string) error {
	if !mounted(dir) {
		return nil
	}
	ctx := context.Background()
	if _, _, err := (job{name: "umount", args: []string{dir}}).run(ctx, 20*time.Second); err == nil {
		return nil
	}
	_, _, err := (job{name: "umount", args: []string{"-l", dir}}).run(ctx, 20*time.Second)
	return err
}
