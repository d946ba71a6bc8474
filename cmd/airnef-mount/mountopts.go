package main

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// mount(8) and fstab. For type fuse.airnef-mount, mount(8) runs
// mount.fuse3 (package fuse3), which runs, through /bin/sh and PATH,
//
//	airnef-mount SOURCE MOUNTPOINT -o OPTIONS
//
// having dropped user, users, auto, noauto, nofail and _netdev and added
// dev and suid unless nodev or nosuid were given; mount(8) itself adds rw
// unless ro was (util-linux 2.38, fuse3 3.14, as seen on Debian 12). Where
// /sbin/mount.fuse.airnef-mount links to this program, mount(8) runs it
// directly instead, as
//
//	mount.fuse.airnef-mount SOURCE MOUNTPOINT [-s] [-f] [-n] [-v] -o OPTIONS
//
// with user or users left in OPTIONS. mount(8) waits for either to exit,
// so that form mounts in the background (options.background).

// fixEnv restores what mount(8) takes out of a user's mount helper's
// environment: it removes HOME and PATH (util-linux's sanitize_env), and
// mount.fuse3 then sets HOME=/root, which would send a normal user's
// config, state and cache there. HOME comes from the user database, PATH
// from the system's defaults (for fusermount3, --exec and --on-new).
func fixEnv() {
	if os.Getenv("PATH") == "" {
		os.Setenv("PATH", defaultPath)
	}
	if h := os.Getenv("HOME"); os.Getuid() == 0 || (h != "" && h != "/root") {
		return
	}
	if u, err := user.Current(); err == nil && u.HomeDir != "" {
		os.Setenv("HOME", u.HomeDir)
	}
}

// defaultPath is PATH where mount(8) left none.
const defaultPath = "/usr/local/bin:/usr/bin:/bin"

// helperArgs is how mount(8) ran the program directly.
type helperArgs struct {
	active bool // run as mount.fuse.airnef-mount or mount.airnef-mount
	sloppy bool // -s: ignore options we do not know
	fake   bool // -f: check, but do not mount
}

// helperNames are the names under which mount(8) finds a helper for
// -t fuse.airnef-mount and -t airnef-mount.
var helperNames = map[string]bool{"mount.fuse.airnef-mount": true, "mount.airnef-mount": true}

// parseHelper takes mount(8)'s own flags out of args when the program runs
// under one of helperNames.
func parseHelper(argv0 string, args []string) (helperArgs, []string, error) {
	if !helperNames[filepath.Base(argv0)] {
		return helperArgs{}, args, nil
	}
	h := helperArgs{active: true}
	var out []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-s":
			h.sloppy = true
		case "-f":
			h.fake = true
		case "-n", "-v": // no mtab to write; verbose is the default
		case "-t":
			i++ // the type: ours
		case "-N":
			return h, nil, usageErr("mount -N (another mount namespace) is not supported")
		default:
			out = append(out, args[i])
		}
	}
	return h, out, nil
}

// standardOptions are mount(8)'s and FUSE's options that a read-only
// camera filesystem accepts and has nothing to do for, as sshfs and
// rclone accept them: VFS flags, fstab's and systemd's words, FUSE options
// set internally. rw is here because mount(8) adds it to every mount that
// does not say ro: the mount is read-only whatever it says.
var standardOptions = map[string]bool{
	"ro": true, "rw": true, "defaults": true, "auto": true, "noauto": true,
	"user": true, "users": true, "nouser": true, "owner": true, "group": true,
	"_netdev": true, "nofail": true, "dev": true, "nodev": true, "suid": true,
	"nosuid": true, "exec": true, "noexec": true, "async": true, "sync": true,
	"dirsync": true, "atime": true, "noatime": true, "relatime": true,
	"norelatime": true, "strictatime": true, "nostrictatime": true,
	"lazytime": true, "nolazytime": true, "diratime": true, "nodiratime": true,
	"iversion": true, "noiversion": true, "mand": true, "nomand": true,
	"silent": true, "loud": true, "nonempty": true, "default_permissions": true,
	"auto_unmount": true, "kernel_cache": true, "auto_cache": true,
}

// standardPrefixes are options with a value that are accepted and ignored
// the same way (x-gvfs-show, x-systemd.automount, comment=...).
var standardPrefixes = []string{"x-", "comment=", "user=", "fsname=", "subtype=", "max_read=", "blksize="}

// optionFlags are standard options that set one of our flags.
var optionFlags = map[string]string{"allow_other": "allow-other", "uid": "uid", "gid": "gid", "umask": "umask"}

// noOptionFlags are flags an -o option cannot set.
var noOptionFlags = map[string]bool{"options": true, "help": true, "version": true}

// applyMountOptions sets the flags that the -o values name, except those
// in skip (given on the command line). Each option is a standard one
// (ignored, or mapped to a flag), or one of our flags with '_' or '-'
// (cache_size=512MiB; a bare name sets a boolean flag). An unknown option
// is misuse, or, with sloppy (mount -s), skipped.
func applyMountOptions(fl *pflag.FlagSet, values []string, skip map[string]bool, sloppy bool) error {
	for _, v := range values {
		opts, err := splitOptions(v)
		if err != nil {
			return usageErr("-o %s: %v", v, err)
		}
		for _, opt := range opts {
			if err := applyMountOption(fl, opt, skip); err != nil {
				if sloppy {
					continue
				}
				return usageErr("-o %s: %v", opt, err)
			}
		}
	}
	return nil
}

func applyMountOption(fl *pflag.FlagSet, opt string, skip map[string]bool) error {
	if standardOptions[opt] {
		return nil
	}
	for _, p := range standardPrefixes {
		if strings.HasPrefix(opt, p) {
			return nil
		}
	}
	key, value, hasValue := strings.Cut(opt, "=")
	if opt == "allow_root" {
		return fmt.Errorf("not supported: use allow_other (and user_allow_other in /etc/fuse.conf)")
	}
	name := strings.ReplaceAll(key, "_", "-")
	if mapped, ok := optionFlags[key]; ok {
		name = mapped
	}
	f := fl.Lookup(name)
	if f == nil || noOptionFlags[name] {
		return fmt.Errorf("unknown option (options are this program's flags, e.g. cache_size=512MiB or thumbnails, " +
			"or mount options such as ro, allow_other, uid=, gid=, umask=, noauto, user, _netdev)")
	}
	if skip[f.Name] {
		return nil
	}
	if !hasValue {
		if f.NoOptDefVal == "" {
			return fmt.Errorf("--%s needs a value (%s=VALUE)", f.Name, key)
		}
		value = f.NoOptDefVal
	}
	if err := fl.Set(f.Name, value); err != nil {
		var cause error = err
		if inv, ok := err.(*pflag.InvalidValueError); ok {
			cause = inv.Unwrap()
		}
		return fmt.Errorf("--%s: %v", f.Name, cause)
	}
	return nil
}

// splitOptions splits a -o value at its commas, except inside a value
// quoted with ' or " (debug="ptp,cache") or after a backslash (as FUSE's
// option parser reads "\,"). Quotes and backslashes are removed.
func splitOptions(s string) ([]string, error) {
	var opts []string
	var cur strings.Builder
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote = r
		case r == ',':
			if cur.Len() > 0 {
				opts = append(opts, cur.String())
			}
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if escaped {
		cur.WriteByte('\\')
	}
	if cur.Len() > 0 {
		opts = append(opts, cur.String())
	}
	return opts, nil
}
