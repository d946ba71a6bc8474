package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profile is a link model of the simulator.
type profile struct {
	name    string
	rate    int64         // camera->host bytes per second; 0: unlimited
	latency time.Duration // per operation: one round trip
}

var (
	wifi     = profile{"wifi", 3_000_000, 20 * time.Millisecond}
	lan      = profile{"lan", 40_000_000, 2 * time.Millisecond}
	loopback = profile{"loopback", 0, 0}
)

func (p profile) String() string {
	if p.rate == 0 {
		return p.name + " (no limits)"
	}
	return fmt.Sprintf("%s (%g MB/s, %v)", p.name, float64(p.rate)/1e6, p.latency)
}

// card is what the simulator serves: a directory the benchmark writes
// (files), or a card camsim generates.
type card struct {
	label   string // for the document
	vendor  string // generic, nikon, canon: camsim --vendor (its default body)
	body    string // camsim --body, instead of vendor
	without string // camsim --without: operations the body is run without
	files   []hostFile
	photos  int
	folder  int // --folders
	size    int64
	video   int64
	seed    uint64
}

// hostFile is a file of a --dir card: random bytes, or a hole (sparse:
// zeros, no disk) when sparse.
type hostFile struct {
	path   string // relative to the card's root
	size   int64
	sparse bool
}

// sim is one running camsim.
type sim struct {
	addr    string // 127.0.0.1:PORT
	port    string
	cmd     *exec.Cmd
	logPath string // its standard error: the --debug operation log
	done    chan struct{}
	folder  string // the card's one folder, once a workload looked (onlyFolder)
}

// startSim starts camsim with card c over profile p, with --debug so that
// the operations of each run can be counted from its log, and warms it
// (see warm).
func (b *bench) startSim(ctx context.Context, p profile, c card) (*sim, error) {
	args := []string{"--listen", "127.0.0.1:0", "--debug"}
	if c.body != "" {
		args = append(args, "--body", c.body)
	} else {
		args = append(args, "--vendor", cmpOr(c.vendor, "generic"))
	}
	if c.without != "" {
		args = append(args, "--without", c.without)
	}
	if p.rate > 0 {
		args = append(args, "--rate", strconv.FormatInt(p.rate, 10))
	}
	if p.latency > 0 {
		args = append(args, "--latency", p.latency.String())
	}
	if len(c.files) > 0 {
		dir, err := b.hostCard(c)
		if err != nil {
			return nil, err
		}
		args = append(args, "--dir", dir)
	} else {
		if c.photos > 0 {
			args = append(args, "--photos", strconv.Itoa(c.photos), "--seed", strconv.FormatUint(max(c.seed, 1), 10))
		}
		if c.folder > 0 {
			args = append(args, "--folders", strconv.Itoa(c.folder))
		}
		if c.size > 0 {
			args = append(args, "--size", strconv.FormatInt(c.size, 10))
		}
		if c.video > 0 {
			args = append(args, "--video", strconv.FormatInt(c.video, 10))
		}
	}
	logf, err := os.CreateTemp(b.work, "camsim-*.log")
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := job{name: filepath.Join(b.bin, "camsim"), args: args}.command(context.WithoutCancel(ctx))
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("camsim: %w", err)
	}
	s := &sim{cmd: cmd, logPath: logf.Name(), done: make(chan struct{})}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if addr, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				line <- addr
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { cmd.Wait(); close(s.done) }()
	select {
	case s.addr = <-line:
	case <-s.done:
		return nil, fmt.Errorf("camsim %s exited: %s", strings.Join(args, " "), tail(readFile(s.logPath), 400))
	case <-time.After(30 * time.Second):
		s.stop()
		return nil, fmt.Errorf("camsim %s: not listening within 30s", strings.Join(args, " "))
	}
	s.port = s.addr[strings.LastIndexByte(s.addr, ':')+1:]
	b.logf("camsim %s on %s: %s", p.name, s.addr, strings.Join(args, " "))
	if err := b.warm(ctx, s); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// stop ends camsim: SIGTERM, then SIGKILL to its group after 5 s.
func (s *sim) stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		killGroup(s.cmd, syscall.SIGKILL)
		<-s.done
	}
}

// mark is the current end of the operation log: opsSince(mark) counts
// what came after it.
func (s *sim) mark() int64 {
	fi, err := os.Stat(s.logPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// ops counts the operations of a run, by name, with the bytes of their
// data phases.
type ops map[string]*opStat

type opStat struct {
	n     int
	bytes int64
}

var opLine = regexp.MustCompile(`msg="ptp op" .*?op=(\S+) .*?data=(\d+)`)

// opsSince reads the operations camsim logged after mark.
func (s *sim) opsSince(mark int64) ops {
	f, err := os.Open(s.logPath)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(mark, io.SeekStart); err != nil {
		return nil
	}
	out := ops{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		m := opLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		st := out[m[1]]
		if st == nil {
			st = &opStat{}
			out[m[1]] = st
		}
		st.n++
		n, _ := strconv.ParseInt(m[2], 10, 64)
		st.bytes += n
	}
	return out
}

// String lists the operations, most frequent first, with the average data
// phase of the reads: "GetObjectInfo 506, GetPartialObject 36 x 1.0 MiB".
func (o ops) String() string {
	names := make([]string, 0, len(o))
	for k := range o {
		names = append(names, k)
	}
	slices.SortFunc(names, func(a, b string) int {
		if o[a].n != o[b].n {
			return o[b].n - o[a].n
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, k := range names {
		st := o[k]
		if strings.Contains(k, "Partial") || k == "GetObject" || strings.Contains(k, "PropList") {
			parts = append(parts, fmt.Sprintf("%s %d x %s", k, st.n, mib(float64(st.bytes)/float64(st.n))))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, st.n))
	}
	return strings.Join(parts, ", ")
}

// total is the number of operations.
func (o ops) total() int {
	n := 0
	for _, st := range o {
		n += st.n
	}
	return n
}

// hostCard writes the files of a --dir card once and returns its root.
func (b *bench) hostCard(c card) (string, error) {
	dir := filepath.Join(b.work, "cards", sanitize(c.label))
	marker := dir + ".complete" // beside: camsim lists every entry of dir
	if _, err := os.Stat(marker); err == nil {
		return dir, nil
	}
	for _, f := range c.files {
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return "", err
		}
		if err := writeHostFile(p, f); err != nil {
			return "", err
		}
	}
	return dir, os.WriteFile(marker, nil, 0o644)
}

func writeHostFile(p string, f hostFile) error {
	out, err := os.Create(p)
	if err != nil {
		return err
	}
	if f.sparse {
		err = out.Truncate(f.size)
	} else {
		_, err = io.CopyN(out, newXorshift(uint64(len(p))*2654435761+uint64(f.size)), f.size)
	}
	return errors.Join(err, out.Close())
}

// xorshift is a fast deterministic byte source: file contents nothing can
// compress or deduplicate.
type xorshift struct{ s uint64 }

func newXorshift(seed uint64) *xorshift { return &xorshift{s: seed | 1} }

func (x *xorshift) Read(p []byte) (int, error) {
	for i := 0; i+8 <= len(p); i += 8 {
		x.s ^= x.s << 13
		x.s ^= x.s >> 7
		x.s ^= x.s << 17
		for k := range 8 {
			p[i+k] = byte(x.s >> (8 * k))
		}
	}
	for i := len(p) &^ 7; i < len(p); i++ {
		p[i] = byte(i)
	}
	return len(p), nil
}

// sanitize makes a label a file name.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, s)
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
