// Package logs formats the program's log records for whoever reads them: a
// person at a terminal (a short line, no date), systemd's journal (the
// structured line with its syslog priority, sd-daemon.h's "<N>" prefix),
// or a file or pipe (the structured slog text line, dated).
//
// It chooses and formats only; which records are logged, and at which
// level, is the caller's business.
package logs

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/term"
)

// Format is how records are written.
type Format int

const (
	// Text is slog's text line: time=... level=... msg=... key=value.
	Text Format = iota
	// Console is a short line for a person: the message and its
	// attributes, "warning: " or "error: " before it, no time.
	Console
	// Journal is Text without the time (the journal stamps each line),
	// each line prefixed with its syslog priority, "<4>" for a warning.
	Journal
)

// FormatFor is the format for records written to f: Journal when f is the
// stream systemd connected to the journal (JOURNAL_STREAM names its device
// and inode), Console on a terminal, else Text.
func FormatFor(f *os.File) Format {
	switch {
	case IsJournal(f):
		return Journal
	case term.IsTerminal(int(f.Fd())):
		return Console
	}
	return Text
}

// IsJournal reports whether f is the journal stream of JOURNAL_STREAM
// ("DEVICE:INODE", set by systemd for a service's stdout and stderr). A
// process whose stderr was redirected elsewhere inherits the variable but
// not the stream, hence the comparison (systemd.exec(5), $JOURNAL_STREAM).
func IsJournal(f *os.File) bool {
	dev, ino, ok := strings.Cut(os.Getenv("JOURNAL_STREAM"), ":")
	if !ok {
		return false
	}
	d, err1 := strconv.ParseUint(dev, 10, 64)
	i, err2 := strconv.ParseUint(ino, 10, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return uint64(st.Dev) == d && st.Ino == i
}

// Options configures a handler.
type Options struct {
	// Level is the least level written (slog.LevelInfo when nil).
	Level slog.Leveler
	// Omit names attributes the Console format leaves out (e.g. "guid":
	// true to a program, noise to a person).
	Omit []string
}

// New returns a handler writing records to w in format f.
func New(w io.Writer, f Format, o Options) slog.Handler {
	switch f {
	case Console:
		omit := map[string]bool{}
		for _, k := range o.Omit {
			omit[k] = true
		}
		return &consoleHandler{out: &lockedWriter{w: w}, level: o.Level, omit: omit}
	case Journal:
		return slog.NewTextHandler(&priorityWriter{w: w}, &slog.HandlerOptions{Level: o.Level, ReplaceAttr: dropTime})
	}
	return slog.NewTextHandler(w, &slog.HandlerOptions{Level: o.Level})
}

// dropTime removes the record's time (the journal has its own).
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// Priority is the syslog priority of a level: debug 7, info 6, warning 4,
// error 3 (sd-daemon.h's SD_DEBUG .. SD_ERR).
func Priority(l slog.Level) int {
	switch {
	case l >= slog.LevelError:
		return 3
	case l >= slog.LevelWarn:
		return 4
	case l >= slog.LevelInfo:
		return 6
	}
	return 7
}

// priorityWriter prefixes each line slog's text handler writes (one per
// record, newlines inside values are quoted) with the priority of its
// level= attribute.
type priorityWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (p *priorityWriter) Write(b []byte) (int, error) {
	lvl := slog.LevelInfo
	if _, rest, ok := strings.Cut(string(b), "level="); ok {
		name, _, _ := strings.Cut(rest, " ")
		lvl.UnmarshalText([]byte(name)) // an unknown name stays info
	}
	line := make([]byte, 0, len(b)+3)
	line = append(line, '<', byte('0'+Priority(lvl)), '>')
	line = append(line, b...)
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.w.Write(line); err != nil {
		return 0, err
	}
	return len(b), nil
}

// lockedWriter serialises the lines of handlers that share it.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// consoleHandler writes "[warning: ]message key=value ..." lines.
type consoleHandler struct {
	out    *lockedWriter
	level  slog.Leveler
	omit   map[string]bool
	prefix string      // the groups opened by WithGroup, "a.b."
	attrs  []slog.Attr // from WithAttrs, keys already prefixed
}

func (h *consoleHandler) Enabled(_ context.Context, l slog.Level) bool {
	min := slog.LevelInfo
	if h.level != nil {
		min = h.level.Level()
	}
	return l >= min
}

func (h *consoleHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	switch {
	case r.Level >= slog.LevelError:
		b.WriteString("error: ")
	case r.Level >= slog.LevelWarn:
		b.WriteString("warning: ")
	case r.Level < slog.LevelInfo:
		b.WriteString("debug: ")
	}
	b.WriteString(r.Message)
	for _, a := range h.attrs {
		h.writeAttr(&b, "", a)
	}
	r.Attrs(func(a slog.Attr) bool {
		h.writeAttr(&b, h.prefix, a)
		return true
	})
	b.WriteByte('\n')
	_, err := io.WriteString(h.out, b.String())
	return err
}

func (h *consoleHandler) writeAttr(b *strings.Builder, prefix string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) || h.omit[a.Key] {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		p := prefix
		if a.Key != "" {
			p += a.Key + "."
		}
		for _, g := range a.Value.Group() {
			h.writeAttr(b, p, g)
		}
		return
	}
	fmt.Fprintf(b, " %s%s=%s", prefix, a.Key, quote(a.Value.String()))
}

// quote quotes s when a reader could not tell where it ends.
func quote(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"=") || !strconv.CanBackquote(s) {
		return strconv.Quote(s)
	}
	return s
}

func (h *consoleHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		a.Key = h.prefix + a.Key
		c.attrs = append(c.attrs, a)
	}
	return &c
}

func (h *consoleHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix += name + "."
	return &c
}
