package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/airnef-mount/airnef-mount/ptpip"
	"github.com/airnef-mount/airnef-mount/ssdp"
	"github.com/airnef-mount/airnef-mount/tree"
)

// The command line goes through cobra and pflag: GNU-style long and short
// flags, anywhere among the arguments; the words help, version and
// completion; generated shell completions. This file defines the commands
// and their flags; parsing and checking the mount's options is in
// options.go, the config file in config.go, mount(8)'s -o in mountopts.go.

// cli is the command tree of one run.
type cli struct {
	root   *cobra.Command
	o      *options
	helper helperArgs // how mount(8) called the program, when it did
	// mount is what the root command does with checked options: runMount,
	// or a test's stand-in.
	mount func(ctx context.Context, o *options) error
}

// newCLI builds the commands; stdout gets help and command output, stderr
// the logs of discover and status.
func newCLI(stdout, stderr io.Writer, mount func(context.Context, *options) error) *cli {
	c := &cli{o: newOptions(), mount: mount}
	root := &cobra.Command{
		Use:   "airnef-mount [flags] [SOURCE] MOUNTPOINT",
		Short: "Mount a WiFi camera as a read-only filesystem",
		// Arguments are checked with the options, for messages that say
		// what to do.
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: completeDirs,
		Version:           versionLine(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTypo(cmd, args); err != nil {
				return err
			}
			if err := c.o.finish(cmd.Flags(), args, c.helper); err != nil {
				return err
			}
			return c.mount(cmd.Context(), c.o)
		},
	}
	c.root = root
	root.SuggestionsMinimumDistance = 2
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	fl := root.Flags()
	fl.SortFlags = false
	c.o.define(fl)
	c.o.registerCompletions(root)
	defaultHelp := root.HelpFunc()
	root.SetHelpFunc(func(cmd *cobra.Command, args []string) {
		if cmd == root {
			printHelp(cmd.OutOrStdout(), root.Flags())
			return
		}
		defaultHelp(cmd, args)
	})
	root.AddCommand(discoverCommand(stdout, stderr), statusCommand(stdout), &cobra.Command{
		Use:   "version",
		Short: "Print the version and the commit it was built from",
		Args:  noArgs("version"),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), versionLine())
			return nil
		},
	})
	for _, cmd := range root.Commands() {
		normalizeNames(cmd.Flags())
	}
	return c
}

// execute runs the command line args (without the program's name).
func (c *cli) execute(ctx context.Context, args []string) error {
	cmd, _, err := c.root.Find(args)
	if err != nil {
		cmd = c.root
	}
	cmd.InitDefaultHelpFlag()
	if args == nil {
		args = []string{} // cobra reads os.Args for nil
	}
	c.root.SetArgs(longOnly(cmd.Flags(), args))
	return c.root.ExecuteContext(ctx)
}

// flagError makes a parse error misuse (exit status 2), naming the flag
// and the problem: "--timeout: 10 has no unit; did you mean 10s?".
func flagError(_ *cobra.Command, err error) error {
	var inv *pflag.InvalidValueError
	if errors.As(err, &inv) {
		return usageErr("--%s: %v", inv.GetFlag().Name, inv.Unwrap())
	}
	return usageErr("%v", err)
}

// normalizeNames lets flags be written with '_' for '-' (--cache_size),
// as mount(8)'s options are.
func normalizeNames(fl *pflag.FlagSet) {
	fl.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		return pflag.NormalizedName(strings.ReplaceAll(name, "_", "-"))
	})
}

// longOnly rewrites "-name" as "--name" where name is a long flag of fl,
// or where its first letter is no short flag, as getopt_long_only(3)
// does: the Go-style single-dash flags of earlier versions keep working,
// and "-dq" is still -d -q. Flag values and what follows "--" are left
// as they are.
func longOnly(fl *pflag.FlagSet, args []string) []string {
	takesValue := func(f *pflag.Flag) bool { return f != nil && f.NoOptDefVal == "" }
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		a := args[i]
		out = append(out, a)
		switch {
		case a == "--":
			return append(out, args[i+1:]...)
		case !strings.HasPrefix(a, "-") || a == "-":
			continue
		case strings.HasPrefix(a, "--"):
			name, _, hasValue := strings.Cut(a[2:], "=")
			if !hasValue && takesValue(fl.Lookup(name)) && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		}
		body := a[1:]
		name, _, hasValue := strings.Cut(body, "=")
		if f := fl.Lookup(name); len(name) > 1 && (f != nil || fl.ShorthandLookup(name[:1]) == nil) {
			out[len(out)-1] = "-" + a
			if !hasValue && takesValue(f) && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			continue
		}
		// Short flags: the first that takes a value takes the rest of
		// the word, or the next argument.
		for j := range len(body) {
			if f := fl.ShorthandLookup(body[j : j+1]); takesValue(f) {
				if j == len(body)-1 && i+1 < len(args) {
					i++
					out = append(out, args[i])
				}
				break
			}
		}
	}
	return out
}

// checkTypo refuses a lone argument that is no directory but looks like a
// mistyped command ("dicover").
func checkTypo(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return nil
	}
	if _, err := os.Stat(args[0]); err == nil {
		return nil
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		return usageErr("%q is neither a mount point nor a command; did you mean %s?", args[0], strings.Join(s, " or "))
	}
	return nil
}

// noArgs refuses arguments to a command that takes none.
func noArgs(name string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 0 {
			return usageErr("%s takes no arguments, got %q", name, args)
		}
		return nil
	}
}

// define defines the mount's flags on fl, in the order --help lists them.
func (o *options) define(fl *pflag.FlagSet) {
	fl.StringVarP(&o.camera, "camera", "c", "", "camera address `HOST[:PORT]` (port 15740 when omitted)")
	o.connectFlags(fl)
	fl.BoolVarP(&o.daemon, "daemon", "d", false, "run in the background once mounted (the exit status says whether it mounted)")
	fl.BoolVar(&o.foreground, "foreground", false, "stay in the foreground when started as mount(8) starts it (SOURCE MOUNTPOINT)")
	fl.StringArrayVarP(&o.mountOpts, "options", "o", nil, "comma-separated mount `options`, as in fstab: flags of this program (cache_size=512MiB) and standard ones (ro, allow_other, uid, gid, umask, noauto, user...)")
	fl.Var(&o.cacheSize, "cache-size", "memory for cached blocks, e.g. 256MiB, 1G or bytes")
	fl.Var(&o.blockSize, "block-size", "cache block `size`, a multiple of 128KiB")
	fl.IntVar(&o.maxObjects, "max-objects", tree.DefaultMaxObjects, "most camera `objects` the mount holds; a folder beyond it answers EIO (a broken or hostile camera)")
	fl.BoolVar(&o.metadataCache, "metadata-cache", true, "remember each camera's folder listings in ~/.cache/airnef-mount, so that a remount lists a folder with one camera operation instead of one per file")
	durationVar(fl, &o.timeout, "timeout", ptpip.DefaultTimeout, "longest time a camera operation may go without progress (data at 32 KiB/s or more) before EIO")
	durationVar(fl, &o.connectTimeout, "connect-timeout", ptpip.DefaultConnectTimeout, "longest time to connect (a Canon waits for you to accept this computer)")
	fl.StringVar(&o.guid, "guid", "", "host `GUID` sent to the camera, 32 hex digits (default: this host's, kept in "+stateDirHint()+")")
	fl.StringVar(&o.name, "name", "", "friendly `name` sent to the camera (default: the host name)")
	fl.StringVar(&o.cameraTZ, "camera-tz", "", "the camera clock's time `zone` (e.g. Europe/Paris; default: this computer's)")
	fl.BoolVar(&o.syncClock, "sync-clock", false, "set the camera's clock to this computer's once per session, when it is more than 5 s off (the only change made to the camera)")
	fl.BoolVar(&o.allowOther, "allow-other", false, "let other users read the mount (needs user_allow_other in /etc/fuse.conf for a normal user)")
	fl.Var(idFlag{id: &o.uid, set: &o.uidSet}, "uid", "the `user` (name or number) every file belongs to (default: the user who mounts)")
	fl.Var(idFlag{id: &o.gid, set: &o.gidSet, group: true}, "gid", "the `group` (name or number) every file belongs to (default: the user's group)")
	fl.Var(&o.umask, "umask", "permission bits taken from every file (0644) and folder (0755), in octal")
	o.renameFlags(fl)
	o.desktopFlags(fl)
	o.onNewFlags(fl)
	fl.Var(&o.logLevel, "log-level", "the least `level` logged: debug, info, warning or error")
	fl.BoolVarP(&o.quiet, "quiet", "q", false, "log only warnings and errors, and print no \"mounted\" line")
	fl.StringVar(&o.logFile, "log-file", "", "append the log to this `file` instead of standard error")
	fl.Var(o.debug, "debug", "debug logs for a comma-separated `list` of ptp,fuse,cache (or all)")
	fl.BoolVarP(&o.version, "version", "V", false, "print the version and exit")
}

// completeDirs completes the mount point: directories only. The first
// word may also be a command: the shell shows the commands that match,
// else files.
func completeDirs(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 && cmd.HasAvailableSubCommands() {
		return nil, cobra.ShellCompDirectiveDefault
	}
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// registerCompletions tells the shells what each flag's values can be.
func (o *options) registerCompletions(cmd *cobra.Command) {
	words := func(ws ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(ws, cobra.ShellCompDirectiveNoFileComp)
	}
	for name, fn := range map[string]cobra.CompletionFunc{
		"camera":         cobra.NoFileCompletions,
		"debug":          words(append(debugSubsystems, "all")...),
		"log-level":      words("debug", "info", "warning", "error"),
		"guid":           words("mac"),
		"ssdp-interface": completeInterfaces,
		"cache-size":     words("128MiB", "256MiB", "512MiB", "1GiB"),
		"block-size":     words("128KiB", "256KiB", "1MiB", "2MiB"),
		"options":        cobra.NoFileCompletions,
	} {
		cmd.RegisterFlagCompletionFunc(name, fn)
	}
}

// completeInterfaces completes network interfaces that are up.
func completeInterfaces(_ *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	ifs, _ := net.Interfaces()
	var names []cobra.Completion
	for _, i := range ifs {
		if i.Flags&net.FlagUp != 0 {
			names = append(names, i.Name)
		}
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// discoverCommand is `airnef-mount discover`.
func discoverCommand(stdout, stderr io.Writer) *cobra.Command {
	o := &connectOptions{}
	debug := debugFlags{}
	cmd := &cobra.Command{
		Use:   "discover",
		Short: "List the cameras that announce themselves on the network (SSDP): ADDRESS MANUFACTURER MODEL SERVICE",
		Args:  noArgs("discover"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiscover(cmd.Context(), o, debug, stdout, stderr)
		},
	}
	fl := cmd.Flags()
	durationVar(fl, &o.listenTime, "listen-time", ssdp.DefaultListenTime, "how long to listen for cameras")
	fl.StringVar(&o.interfaces, "ssdp-interface", "", "comma-separated network `interfaces` to search (default: every one that is up)")
	fl.Var(debug, "debug", "debug logs for a comma-separated `list` of ptp (or all)")
	cmd.RegisterFlagCompletionFunc("ssdp-interface", completeInterfaces)
	cmd.RegisterFlagCompletionFunc("debug", cobra.FixedCompletions([]cobra.Completion{"ptp", "all"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// statusCommand is `airnef-mount status [MOUNTPOINT | DIR]`.
func statusCommand(stdout io.Writer) *cobra.Command {
	interval := durationFlag(time.Second)
	watch := false
	cmd := &cobra.Command{
		Use:               "status [MOUNTPOINT | DIR]",
		Short:             "Print what airnef-mount is doing: at MOUNTPOINT, below DIR (a --wait directory), or at every mount",
		ValidArgsFunction: completeDirs,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageErr("status: one mount point or directory at most (%s)", statusUsage)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if len(args) == 1 {
				dir = args[0]
			}
			return runStatus(cmd.Context(), dir, time.Duration(interval), watch, stdout)
		},
	}
	cmd.Flags().Var(&interval, "interval", "measure the transfer rate over this `duration`, and with --watch refresh this often (0: average only)")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "show the status again every --interval until Ctrl-C")
	return cmd
}
