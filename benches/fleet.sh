#!/usr/bin/env bash
# Process-level figures: simulator start time and memory, the TUI's time to its first
# complete frame, its idle CPU, memory and terminal bytes. Writes benches/results.txt.
# Usage: bash benches/fleet.sh   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/kst
OUT=benches/results.txt
W=$(mktemp -d)
# a session of its own keeps the tmux server up between the measured sessions: the server
# exits with its last session, and a new-session racing that exit fails ("server exited unexpectedly")
tmux new-session -d -s kstbench-keep "sleep 86400"
trap 'kill $(jobs -p) 2>/dev/null || true; tmux kill-session -t kstbench 2>/dev/null || true; tmux kill-session -t kstbench-keep 2>/dev/null || true; rm -rf "$W"' EXIT
HZ=$(getconf CLK_TCK)

rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }

{
echo "# kst figures, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), commit $(git rev-parse --short HEAD)"
echo

for shape in "3 60" "3 2000" "100 2000"; do
  set -- $shape
  "$BIN" sim --clusters "$1" --pods-per-cluster "$2" --kubeconfig-out "$W/kc-$1-$2" --churn 0 --log-file "$W/sim.log" > "$W/sim.out" 2>&1 &
  pid=$!
  for _ in $(seq 600); do grep -q "ready in" "$W/sim.out" 2>/dev/null && break; sleep 0.1; done
  ready=$(grep -o 'ready in [0-9]* ms' "$W/sim.out")
  sleep 5
  echo "sim --clusters $1 --pods-per-cluster $2: $ready, RSS $(rss_mb $pid) MB after 5 s"
  kill $pid; wait $pid 2>/dev/null || true
done
echo

# TUI against an external simulator, so the figures are the TUI's own
"$BIN" sim --clusters 3 --kubeconfig-out "$W/kc" --log-file "$W/sim.log" > "$W/sim.out" 2>&1 &
simpid=$!
for _ in $(seq 100); do grep -q "ready in" "$W/sim.out" 2>/dev/null && break; sleep 0.1; done

run_tui() { # name, extra args
  local name=$1; shift
  tmux new-session -d -s kstbench -x 120 -y 40 "env -u KUBECONFIG $BIN --kubeconfig $W/kc --log-file $W/tui-$name.log $* ; sleep 600"
  tmux pipe-pane -t kstbench -o "cat >> $W/bytes-$name"
  local pid=""
  for _ in $(seq 100); do pid=$(pgrep -f "^$BIN --kubeconfig $W/kc --log-file $W/tui-$name.log" | head -1) && [ -n "$pid" ] && break; sleep 0.1; done
  for _ in $(seq 300); do grep -q "first complete frame" "$W/tui-$name.log" 2>/dev/null && break; sleep 0.1; done
  local first; first=$(grep 'first complete frame' "$W/tui-$name.log" | grep -o 'ms=[0-9]*' | head -1)
  sleep 10   # let the first scrape rounds settle
  local b0; b0=$(stat -c %s "$W/bytes-$name" 2>/dev/null || echo 0)
  local t0; t0=$(cpu_ticks "$pid")
  sleep 60
  local t1; t1=$(cpu_ticks "$pid")
  local b1; b1=$(stat -c %s "$W/bytes-$name" 2>/dev/null || echo 0)
  echo "TUI $name: first complete frame $first; over the next minute: CPU $(awk -v d=$((t1-t0)) -v hz=$HZ 'BEGIN{printf "%.2f", 100*d/hz/60}')% of one core, RSS $(rss_mb "$pid") MB, $((b1-b0)) bytes to the terminal"
  tmux kill-session -t kstbench
}

run_tui all-3-clusters
run_tui agents-us-central-only --context agents-us-central
kill $simpid; wait $simpid 2>/dev/null || true
echo

echo "## hot paths (cargo bench --bench hotpaths)"
cargo bench --quiet --bench hotpaths 2>/dev/null
} | tee "$OUT"
