package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/godbus/dbus/v5"
)

// importSummary is what one import (a camera mounted, copied from,
// unmounted) did.
type importSummary struct {
	Camera     string // e.g. "Sony ILCE-7M3"
	Mountpoint string
	Files      int   // distinct files read
	Bytes      int64 // bytes read by the programs that copied
	Duration   time.Duration
	// Exec is the --exec command's outcome ("exit status 0", "exit
	// status 23", "killed: ..."); "" when there was no --exec.
	Exec string
}

// notifyTimeout bounds talking to the desktop: a notification daemon that
// does not answer must not hold up the next import.
const notifyTimeout = 5 * time.Second

// reportImport ends an import: always an info line in the log (the
// journal, under the user service), and a desktop notification when a
// session bus is there.
func reportImport(ctx context.Context, log *slog.Logger, s importSummary) {
	attrs := []any{"camera", s.Camera, "mountpoint", s.Mountpoint, "files", s.Files, "bytes", s.Bytes,
		"duration", s.Duration.Round(time.Millisecond)}
	if s.Exec != "" {
		attrs = append(attrs, "exec", s.Exec)
	}
	log.Info("import finished", attrs...)
	addr := sessionBusAddress()
	if addr == "" {
		log.Debug("no session bus: no desktop notification")
		return
	}
	ctx, cancel := context.WithTimeout(ctx, notifyTimeout)
	defer cancel()
	summary, body := s.notification()
	if err := notify(ctx, addr, summary, body); err != nil {
		log.Info("desktop notification failed", "err", err)
	}
}

// notification is the summary line and body of s's notification.
func (s importSummary) notification() (summary, body string) {
	summary = "Camera import finished"
	if s.Camera != "" {
		summary = s.Camera + ": import finished"
	}
	body = fmt.Sprintf("%d files, %s in %s", s.Files, humanBytes(s.Bytes), s.Duration.Round(time.Second))
	if s.Exec != "" {
		body += "\n--exec: " + s.Exec
	}
	return summary, body
}

// sessionBusAddress is the D-Bus session bus to notify on:
// DBUS_SESSION_BUS_ADDRESS, else the systemd user bus socket
// $XDG_RUNTIME_DIR/bus; "" when there is none. Unlike the D-Bus library's
// default, it never launches a bus.
func sessionBusAddress() string {
	if a := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); a != "" {
		return a
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		p := filepath.Join(d, "bus")
		if fi, err := os.Stat(p); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return "unix:path=" + p
		}
	}
	return ""
}

// Notifications service (Desktop Notifications Specification).
const (
	notifyService = "org.freedesktop.Notifications"
	notifyPath    = "/org/freedesktop/Notifications"
	notifyMethod  = notifyService + ".Notify"
)

// notify shows a desktop notification through the bus at addr.
func notify(ctx context.Context, addr, summary, body string) error {
	conn, err := dbus.Connect(addr, dbus.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("session bus %s: %w", addr, err)
	}
	defer conn.Close()
	hints := map[string]dbus.Variant{
		"category":      dbus.MakeVariant("transfer.complete"),
		"desktop-entry": dbus.MakeVariant("airnef-mount"),
	}
	// Notify(app_name, replaces_id, app_icon, summary, body, actions,
	// hints, expire_timeout) -> id
	call := conn.Object(notifyService, notifyPath).CallWithContext(ctx, notifyMethod, 0,
		"airnef-mount", uint32(0), "camera-photo", summary, body, []string{}, hints, int32(-1))
	if call.Err != nil {
		return fmt.Errorf("notify: %w", call.Err)
	}
	return nil
}

// humanBytes writes n with a binary unit and one decimal: "1.5 GiB".
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
