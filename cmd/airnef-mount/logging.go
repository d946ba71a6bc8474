package main

import (
	"io"
	"log/slog"
	"os"

	"github.com/airnef-mount/airnef-mount/internal/logs"
)

// logSetup is where the log goes and how it is written: --log-file, else
// stderr, in the format its reader wants (a person, the journal, a file).
type logSetup struct {
	w      io.Writer
	format logs.Format
	level  slog.Level
	debug  debugFlags
	file   *os.File // --log-file
	// detached is what stdout and stderr become once mounted in the
	// background: the log file, /dev/null, or nil to keep the journal.
	detached *os.File
}

// openLog opens the log that o asks for.
func openLog(o *options, stderr io.Writer) (*logSetup, error) {
	l := newLogSetup(stderr, o.logLevel.Level, o.debug)
	if o.quiet {
		l.level = max(l.level, slog.LevelWarn)
	}
	if o.logFile != "" {
		f, err := os.OpenFile(o.logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, usageErr("--log-file: %v", err)
		}
		l.w, l.format, l.file, l.detached = f, logs.Text, f, f
		return l, nil
	}
	if f, ok := stderr.(*os.File); ok && logs.IsJournal(f) {
		return l, nil
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, failErr("%v", err)
	}
	l.detached = devnull
	return l, nil
}

// newLogSetup logs to stderr at level, and at debug for the subsystems in
// debug.
func newLogSetup(stderr io.Writer, level slog.Level, debug debugFlags) *logSetup {
	l := &logSetup{w: stderr, format: logs.Text, level: level, debug: debug}
	if f, ok := stderr.(*os.File); ok {
		l.format = logs.FormatFor(f)
	}
	return l
}

func (l *logSetup) close() {
	if l.detached != nil && l.detached != l.file {
		l.detached.Close()
	}
	if l.file != nil {
		l.file.Close()
	}
}

// loggers builds the logger of each subsystem: the base one at the log
// level, ptp, fuse and cache at debug when --debug names them.
func (l *logSetup) loggers() (base, ptp, fuse, cch *slog.Logger) {
	handler := func(lvl slog.Level) slog.Handler {
		// A GUID means something to a camera, not to a person.
		return logs.New(l.w, l.format, logs.Options{Level: lvl, Omit: []string{"guid"}})
	}
	sub := func(sys string) *slog.Logger {
		lvl := l.level
		if l.debug[sys] {
			lvl = slog.LevelDebug
		}
		return slog.New(handler(lvl)).With("sys", sys)
	}
	return slog.New(handler(l.level)), sub("ptp"), sub("fuse"), sub("cache")
}
