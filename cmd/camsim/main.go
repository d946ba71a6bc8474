// Command camsim runs a simulated PTP/IP camera that serves a directory as
// its memory card: the camera of the project's tests and demo.
//
//	camsim --listen 127.0.0.1:15740 --dir DIR [--model M] [--serial S] [--manufacturer X] [--debug]
//
// Once listening it prints one line, "listening ADDR:PORT", on standard
// output; logs go to standard error. SIGINT or SIGTERM stop it with status 0.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/airnef-mount/airnef-mount/test/camsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "camsim:", err)
		os.Exit(1)
	}
}

// errUsage is a command line that could not be used; usage was printed.
var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("camsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:15740", "TCP `address` to listen on, for both PTP/IP connections (port 0 picks a free port)")
	dir := fs.String("dir", "", "`directory` served as the memory card in slot 1 (required); its entries are the card's root, e.g. DCIM/")
	model := fs.String("model", "", "camera `model` in DeviceInfo and the Init Command Ack (default \"CamSim\")")
	serial := fs.String("serial", "", "serial `number` in DeviceInfo (default \"000000000001\")")
	manufacturer := fs.String("manufacturer", "", "`manufacturer` in DeviceInfo (default \"airnef-mount\")")
	debug := fs.Bool("debug", false, "log every PTP operation")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: camsim --dir DIR [flags]\n\n"+
			"camsim is a simulated PTP/IP camera (generic MTP personality) serving DIR\n"+
			"read-only. It prints \"listening ADDR:PORT\" on stdout once it accepts\n"+
			"connections, and stops on SIGINT or SIGTERM.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() != 0 || *dir == "" {
		if fs.NArg() != 0 {
			fmt.Fprintf(stderr, "camsim: unexpected argument %q\n", fs.Arg(0))
		} else {
			fmt.Fprintln(stderr, "camsim: --dir is required")
		}
		fs.Usage()
		return errUsage
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cam, err := camsim.New(camsim.Config{
		Dir: *dir, Model: *model, Serial: *serial, Manufacturer: *manufacturer, Logger: log,
	})
	if err != nil {
		return err
	}
	addr, err := cam.Start(*listen)
	if err != nil {
		cam.Close()
		return err
	}
	fmt.Fprintf(stdout, "listening %s\n", addr)
	<-ctx.Done()
	log.Info("stopping", "cause", context.Cause(ctx))
	return cam.Close()
}
