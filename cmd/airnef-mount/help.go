package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

// flagExamples gives each flag of the command line an example of use, shown
// by --help under the flag (the man page, docs/airnef-mount.1, has the
// same). A flag without one fails the package's tests.
var flagExamples = map[string]string{
	"camera":          "--camera 192.168.1.1 (or 192.168.1.1:15740, or [fe80::1%wlan0])",
	"daemon":          "--daemon (or -d): airnef-mount -d -c 192.168.1.1 ~/camera && rsync -a ~/camera/ ~/Pictures/",
	"foreground":      "--foreground (mount -t fuse.airnef-mount ... -o foreground stays in the foreground)",
	"options":         "-o cache_size=512MiB,thumbnails,allow_other,uid=1000",
	"uid":             "--uid 1000 (or --uid alice)",
	"gid":             "--gid photos",
	"umask":           "--umask 027 (files 0640, folders 0750)",
	"log-level":       "--log-level warning",
	"quiet":           "--quiet (or -q)",
	"log-file":        "--log-file ~/.local/state/airnef-mount/log",
	"cache-size":      "--cache-size 512MiB",
	"block-size":      "--block-size 256KiB",
	"timeout":         "--timeout 30s",
	"connect-timeout": "--connect-timeout 2m",
	"guid":            "--guid 00000000-0000-0000-ffff-001122334455, --guid=mac or --guid=mac:wlan0",
	"name":            "--name my-laptop",
	"allow-other":     "--allow-other",
	"camera-tz":       "--camera-tz Europe/Paris",
	"sync-clock":      "--sync-clock",
	"debug":           "--debug ptp,cache",
	"version":         "--version",
	"dirnamespec":     "--dirnamespec '@capturedate_y@/@capturedate@'",
	"filenamespec":    "--filenamespec '@cameramodel@_@filename@'",
	"thumbnails":      "--thumbnails",
	"config":          "--config ~/.config/airnef-mount/sony.conf",
	"wait":            "--wait ~/Cameras",
	"exec":            "--exec 'cp -a -n -t ~/Pictures' (copies the card to ~/Pictures/MODEL-SERIAL; the mount path is the last argument, and $AIRNEF_MOUNT)",
	"camera-sleep":    "--camera-sleep=false",
	"listen-time":     "--listen-time 5s",
	"quiet-period":    "--quiet-period 1m",
	"ssdp-interface":  "--ssdp-interface wlan0",
	"max-objects":     "--max-objects 500000",
	"metadata-cache":  "--metadata-cache=false (lists every file from the camera on every mount)",
	"on-new":          "--on-new 'cp -n -t ~/Pictures/tethered' (copies each new shot as it is taken; the file's path in the mount is the last argument, and $AIRNEF_FILE)",
}

// helpText is --help after the usage line; %s is the flag list.
const helpText = `Mounts a WiFi camera as a read-only filesystem over PTP/IP and stays in the
foreground until it is unmounted (with --daemon, returns once mounted).

  airnef-mount --camera 192.168.1.1 ~/camera   mount the camera at that address
  airnef-mount ~/camera                        mount the one camera that announces itself
  airnef-mount -d -c 192.168.1.1 ~/camera      the same, returning once mounted
  airnef-mount --wait ~/Cameras                mount each camera under ~/Cameras/MODEL-SERIAL
                                               as it announces itself ("Send to Computer")
  airnef-mount discover                        list the cameras that announce themselves
  airnef-mount status [~/camera]               what a running mount (or every one) is doing
  airnef-mount help | version | completion bash|zsh|fish

mount(8) and /etc/fstab (type fuse.airnef-mount; SOURCE is the camera's address,
or auto for the one that announces itself; -o takes the flags below with _ or -,
and the usual mount options):

  mount -t fuse.airnef-mount 192.168.1.1 ~/camera -o cache_size=512MiB
  192.168.1.1  /home/u/camera  fuse.airnef-mount  noauto,user,cache_size=512MiB  0 0

In that form (SOURCE MOUNTPOINT) it returns once mounted, as mount does.

Flags may come before or after the mount point, long ones as --flag or -flag.
They may also be written in %s,
one per line, e.g. "cache-size 512MiB"; the command line wins:

%s
Sony cameras ("Send to Computer"):
  1. Put the camera and this computer on the same WiFi network (camera menu:
     Network, Wi-Fi Settings, Access Point Set. or WPS Push).
  2. A camera never paired with a computer accepts this one as it is. If it was
     paired with PlayMemories Home or Imaging Edge on Windows or macOS, either
     reset its network settings, or offer that computer's identity with --guid
     (--guid=mac when it was this machine under another system).
  3. Start airnef-mount --wait ~/Cameras (or the airnef-mount user service), then
     choose "Send to Computer" on the camera. It shows "Sending..." while mounted.
  4. Unmount when done: the camera is put to sleep (--camera-sleep).

Unmounting: press Ctrl-C (or send SIGTERM), or run "fusermount3 -u MOUNTPOINT"
(or umount). The first Ctrl-C unmounts as soon as the reads in progress end,
whatever is still open; the second fails them with EIO. Either way the camera
is then told the session is over (a Sony is put to sleep).

Deleting: the camera is mounted read-only, always. airnef-mount never writes to
or deletes from the card: a copy that went wrong can be made again, and a
photo is never lost to a mistyped command. Delete on the camera itself.

Exit status: 0 unmounted cleanly, 1 camera or mount failure (or a camera busy
with another client), 2 misuse (a bad flag, argument or config line, a mount
point already mounted), 3 the camera refused this computer, 130 interrupted
while connecting or reads aborted by a second Ctrl-C.
See airnef-mount(1) for more.
`

// printHelp writes --help: the usage line, what the command does, every
// flag of fl with its description, default and an example, then how to
// pair a Sony, unmount, and why nothing is deleted.
func printHelp(w io.Writer, fl *pflag.FlagSet) {
	var flags strings.Builder
	fl.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		arg, usage := pflag.UnquoteUsage(f)
		if f.NoOptDefVal != "" {
			arg = "" // a boolean: --flag, or --flag=false
		}
		flags.WriteString("  ")
		if f.Shorthand != "" {
			fmt.Fprintf(&flags, "-%s, ", f.Shorthand)
		}
		fmt.Fprintf(&flags, "--%s", f.Name)
		if arg != "" {
			fmt.Fprintf(&flags, " %s", arg)
		}
		fmt.Fprintf(&flags, "\n      %s", usage)
		if d := f.DefValue; d != "" && d != "false" && d != "0" && d != "[]" && d != "000" {
			fmt.Fprintf(&flags, " (default %s)", d)
		}
		if ex := flagExamples[f.Name]; ex != "" {
			fmt.Fprintf(&flags, "\n      example: %s", ex)
		}
		flags.WriteString("\n")
	})
	cfg := defaultConfigPath()
	if cfg == "" {
		cfg = "~/.config/" + configName
	}
	fmt.Fprintln(w, usageLine)
	fmt.Fprintf(w, helpText, cfg, flags.String())
}
