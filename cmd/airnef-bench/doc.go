// Command airnef-bench is the performance benchmark of airnef-mount against
// its peers (gphoto2, gphotofs) and the link itself, on the simulated camera
// (cmd/camsim) with a link model per profile: wifi (3 MB/s, 20 ms), lan
// (40 MB/s, 2 ms) and loopback (no limits). It writes docs/benchmarks.md
// (tables of medians with their spread, ratios measured in the same run,
// each target of issues 8 and 14 printed as met or not met, or as
// unmeetable by construction where it is) and docs/benchmarks.svg.
// The document's hand-written "## Notes" section, at its end, is kept from
// the file it replaces.
//
// It is run by `make bench` (`make bench BENCH=quick` for a few workloads in
// a couple of minutes, `BENCH=eos` for the Canon EOS listings alone,
// `BENCH=readpath` for the read path's workloads alone: real programs'
// header peeks, scattered reads, a video player and what a user waits on
// during a copy); it is not installed and not part of CI. It needs root
// (FUSE mounts, umount), the binaries of `make build` in -bin, and gphoto2,
// gphotofs, fio, rsync and python3 on the PATH.
//
//	airnef-bench [-mode quick|eos|readpath|full] [-bin bin] [-out docs/benchmarks.md] [-chart docs/benchmarks.svg]
//
// Every external command runs in its own process group with a bounded time;
// every mount is unmounted and every process it started is ended, by its
// id, before it returns, also after a failure or an interrupt. A workload
// that fails is reported as failed in the document, never with a number it
// did not measure.
//
// Files:
//
//	main.go      flags, the plan of each mode, the run
//	proc.go      processes with bounded time, process groups, /proc readings
//	sim.go       the simulated camera: cards, profiles, its operation log
//	mount.go     airnef-mount and gphotofs mounts
//	calib.go     the link model's calibration through our own PTP/IP client
//	workload.go  the workloads and the peers
//	readpath.go  the read path's workloads (issue 14): real programs
//	readpath_report.go  their tables and targets
//	stats.go     medians and spreads
//	report.go    docs/benchmarks.md and the targets
//	chart.go     docs/benchmarks.svg
package main
