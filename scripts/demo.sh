#!/bin/sh
# demo.sh (make demo): a simulated camera with a generated card, mounted
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

# The camera: a Nikon-like simulator with a generated card (decodable JPEGs
# and RAW files of realistic sizes over two folders, made on the fly, never
# stored), on a link as fast as loopback. DEMO_CAMSIM adds camsim flags,
# e.g. DEMO_CAMSIM="--rate 3000000 --latency 20ms" for a camera on WiFi.
# shellcheck disable=SC2086
"$bin/camsim" --listen 127.0.0.1:0 --vendor "${DEMO_VENDOR:-nikon}" --photos 24 --seed 1 --folders 2 \
	${DEMO_CAMSIM:-} >"$work/camsim.out" 2>"$work/camsim.log" &
sim_pid=$!
line=$(wait_line "$work/camsim.out" "listening " 20 "$sim_pid") ||
	die "the simulator did not start: $(cat "$work/camsim.log")"
addr=${line#listening }
say "simulated ${DEMO_VENDOR:-nikon} camera listening on $addr"

mkdir -p "$mnt"
"$bin/airnef-mount" --camera "$addr" "$mnt" >"$work/mount.out" 2>"$work/mount.log" &
mount_pid=$!
if ! line=$(wait_line "$work/mount.out" "mounted " 60 "$mount_pid"); then
	cat "$work/mount.log" >&2
	die "airnef-mount did not mount $mnt"
fi
say "$line"
rel=${mnt#"$PWD"/}
say ""
say "\$ ls -l $rel/*/DCIM/*"
ls -l "$mnt"/*/DCIM/* || true
cat <<EOT

Try, in another terminal:
  ls -lR $rel
  rsync -a $rel/ /tmp/photos/ && ls -lR /tmp/photos
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
