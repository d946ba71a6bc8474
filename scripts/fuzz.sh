#!/bin/sh
# Runs every Fuzz* target in the module for the given time each (default
# 30s), all of them even when one fails, and reports at the end:
#   FAIL   the target failed; a crasher it found is kept where go test wrote
#          it, testdata/fuzz/TARGET/HASH next to the package, and from then
#          on runs as a seed with every `go test` (commit it with the fix);
#   FLAKE  the target ended with "context deadline exceeded" and wrote no
#          crasher: Go's fuzzing coordinator races its own -fuzztime
#          deadline (golang/go#75804, fixed in Go 1.27), not a finding.
# The exit status is 1 when a target failed, 0 otherwise (flakes included).
set -u
t=${1:-30s}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/log
passed=0 nfailed=0 nflaked=0
failed=""
flaked=""
for pkg in $(go list ./...); do
	dir=$(go list -f '{{.Dir}}' "$pkg")
	for f in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
		echo "== $pkg $f"
		corpus="$dir/testdata/fuzz/$f"
		ls "$corpus" 2>/dev/null | sort >"$tmp/before"
		{
			go test -run '^$' -fuzz "^$f\$" -fuzztime "$t" "$pkg" 2>&1
			echo $? >"$tmp/rc"
		} | tee "$log"
		rc=$(cat "$tmp/rc")
		ls "$corpus" 2>/dev/null | sort >"$tmp/after"
		new=$(comm -13 "$tmp/before" "$tmp/after")
		if [ $rc -eq 0 ]; then
			passed=$((passed + 1))
		elif [ -z "$new" ] && grep -q 'context deadline exceeded' "$log" &&
			! grep -q -e 'Failing input written to' -e '^panic:' -e 'fuzz: minimizing' "$log"; then
			nflaked=$((nflaked + 1))
			flaked="$flaked
  FLAKE $pkg $f: context deadline exceeded at the end of -fuzztime, no crasher (golang/go#75804)"
		else
			kept=""
			for c in $new; do
				kept="$kept
        crasher kept as a seed: $corpus/$c"
			done
			nfailed=$((nfailed + 1))
			failed="$failed
  FAIL  $pkg $f (exit $rc)$kept"
		fi
	done
done
echo
echo "fuzz: $passed passed, $nfailed failed, $nflaked flaked (-fuzztime $t each)"
[ -n "$failed" ] && printf '%s\n' "$failed"
[ -n "$flaked" ] && printf '%s\n' "$flaked"
[ -z "$failed" ]
