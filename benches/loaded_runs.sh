#!/usr/bin/env bash
# Five full `cargo test --no-fail-fast` runs in a row on a fresh clone of HEAD, with a busy loop
# holding one core the whole time (#31 point 7: a flaky test is a failing test). Each run's log
# and a one-line summary per run go to $OUT (default /tmp/kst-loaded); copy the summary into
# benches/loaded-runs.txt. Usage: bash benches/loaded_runs.sh
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/kst-loaded}
mkdir -p "$OUT"
rm -rf "$OUT/clone" "$OUT/summary" && git clone -q "$ROOT" "$OUT/clone"
cd "$OUT/clone"
git log --oneline | head -1 > "$OUT/commit"
export KST_REQUIRE_PEERS=1
cargo build --tests -q 2>&1 | tail -3
sh -c 'while :; do :; done' & hog=$!
for i in 1 2 3 4 5; do
  start=$(date +%s)
  cargo test --no-fail-fast > "$OUT/run-$i.log" 2>&1
  rc=$?
  echo "run $i: exit $rc in $(( $(date +%s) - start )) s; $(grep -c '^test result: ok' "$OUT/run-$i.log") binaries ok, $(grep -c 'FAILED' "$OUT/run-$i.log") FAILED lines" >> "$OUT/summary"
done
kill $hog
cat "$OUT/summary"
