#!/bin/sh
# demo.sh (make demo): a simulated camera with a card of real JPEGs, mounted
# at ./mnt/camera until Ctrl-C. `make demo` builds bin/camsim and
# bin/airnef-mount first.
#
# DEMO_SECONDS=N stops the demo by itself after N seconds (for scripted runs).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/bin
mnt=$root/mnt/camera
say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

for b in camsim airnef-mount; do
	[ -x "$bin/$b" ] || die "$bin/$b is missing: run 'make demo' (it builds it)"
done

# FUSE access: the kernel device, and for a normal user fusermount3 and
# permission on /dev/fuse.
if [ ! -e /dev/fuse ]; then
	die "/dev/fuse does not exist: install FUSE (sudo apt-get install fuse3) and load the module (sudo modprobe fuse)"
fi
if [ "$(id -u)" -ne 0 ]; then
	command -v fusermount3 >/dev/null 2>&1 ||
		die "fusermount3 is missing: install it with 'sudo apt-get install fuse3'"
	if [ ! -r /dev/fuse ] || [ ! -w /dev/fuse ]; then
		group=$(stat -c %G /dev/fuse)
		if [ "$group" != root ]; then
			die "you may not use /dev/fuse: join its group with 'sudo usermod -aG $group $(id -un)', then log in again"
		fi
		die "you may not use /dev/fuse: Debian makes it usable by everyone (mode 0666); restore that with 'sudo chmod 0666 /dev/fuse', or run the demo as root"
	fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/airnef-demo.XXXXXX")
card=$work/card
sim_pid=
mount_pid=
cleanup() {
	trap - EXIT INT TERM
	if [ -n "$mount_pid" ] && kill -0 "$mount_pid" 2>/dev/null; then
		say "unmounting $mnt ..."
		kill -INT "$mount_pid" 2>/dev/null || true
		wait "$mount_pid" 2>/dev/null || true
	fi
	if [ -n "$sim_pid" ]; then
		kill -TERM "$sim_pid" 2>/dev/null || true
		wait "$sim_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# A card of real JPEGs, written by a throwaway Go program (the standard
# library's image/jpeg): DCIM/100DEMO, DCIM/101DEMO, one photo per hour.
mkdir -p "$work/gen"
cat >"$work/gen/main.go" <<'EOF'
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"time"
)

func main() {
	card := os.Args[1]
	start := time.Date(2024, 6, 15, 9, 0, 0, 0, time.Local)
	for i := range 12 {
		dir := filepath.Join(card, "DCIM", fmt.Sprintf("%dDEMO", 100+i/8))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			panic(err)
		}
		w, h := 640, 427
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.Set(x, y, color.RGBA{uint8(x*255/w + i*20), uint8(y * 255 / h), uint8(255 - i*18), 255})
			}
		}
		p := filepath.Join(dir, fmt.Sprintf("IMG_%04d.JPG", i+1))
		f, err := os.Create(p)
		if err != nil {
			panic(err)
		}
		if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 90}); err != nil {
			panic(err)
		}
		if err := f.Close(); err != nil {
			panic(err)
		}
		t := start.Add(time.Duration(i) * time.Hour)
		if err := os.Chtimes(p, t, t); err != nil {
			panic(err)
		}
	}
}
EOF
(cd "$work/gen" && GO111MODULE=off go run main.go "$card") || die "could not generate the demo card"

# wait_line FILE PREFIX SECONDS PID: print the first line of FILE starting
# with PREFIX, waiting while process PID runs.
wait_line() {
	n=0
	while [ "$n" -lt $(($3 * 10)) ]; do
		line=$(grep -m1 "^$2" "$1" 2>/dev/null || true)
		if [ -n "$line" ]; then
			printf '%s\n' "$line"
			return 0
		fi
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

"$bin/camsim" --listen 127.0.0.1:0 --dir "$card" >"$work/camsim.out" 2>"$work/camsim.log" &
sim_pid=$!
line=$(wait_line "$work/camsim.out" "listening " 20 "$sim_pid") ||
	die "the simulator did not start: $(cat "$work/camsim.log")"
addr=${line#listening }
say "simulated camera listening on $addr, card $card"

mkdir -p "$mnt"
"$bin/airnef-mount" --camera "$addr" "$mnt" >"$work/mount.out" 2>"$work/mount.log" &
mount_pid=$!
if ! line=$(wait_line "$work/mount.out" "mounted " 60 "$mount_pid"); then
	cat "$work/mount.log" >&2
	die "airnef-mount did not mount $mnt"
fi
say "$line"
rel=${mnt#"$PWD"/}
cat <<EOT

Try, in another terminal:
  ls -lR $rel
  rsync -a $rel/ /tmp/photos/ && ls -l /tmp/photos/*/DCIM/100DEMO
  df -h $rel
  cat $rel/.airnef/stats
  touch $rel/x          # fails: read-only file system

airnef-mount's log is in $work/mount.log. Press Ctrl-C to unmount and stop.
EOT

if [ -n "${DEMO_SECONDS:-}" ]; then
	sleep "$DEMO_SECONDS" &
	sleep_pid=$!
	# Either the timer ends or airnef-mount does (an external unmount).
	while kill -0 "$sleep_pid" 2>/dev/null && kill -0 "$mount_pid" 2>/dev/null; do
		sleep 0.2
	done
	kill "$sleep_pid" 2>/dev/null || true
else
	wait "$mount_pid" || true
fi
