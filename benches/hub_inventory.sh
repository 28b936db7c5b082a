#!/usr/bin/env bash
# The hub's inventory alone, as it grows: kst's TUI (200x60, the Overview, default refresh)
# against `kst sim --hub --managed-clusters N` (an ITS of N ManagedClusters without API
# servers, no query layer), N = 1,000, 2,500, 5,000 and 10,000 (SIZES). Per run: the first complete frame (from
# kst's log), then kst's CPU and RSS over 60 s once it settled. RUNS runs per N; medians.
# The question it answers (#28): does ten times the clusters cost about ten times, or more?
# Writes benches/hub-inventory-results.txt.
# Usage: bash benches/hub_inventory.sh        (RUNS=1 SIZES=1000 for a quick look)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/kst
OUT=benches/hub-inventory-results.txt
RUNS=${RUNS:-3}
W=$(mktemp -d)
S=ksthub$$
HZ=$(getconf CLK_TCK)
# a session of its own keeps the tmux server up between the measured sessions
tmux new-session -d -s "$S-keep" "sleep 86400"
trap 'kill $(jobs -p) 2>/dev/null || true; tmux kill-session -t $S 2>/dev/null || true; tmux kill-session -t $S-keep 2>/dev/null || true; rm -rf "$W"' EXIT

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

one_run() { # N, run -> "first_ms cpu_pct rss_mb"
  local n=$1 r=$2
  "$BIN" sim --hub --managed-clusters "$n" --kubeconfig-out "$W/kc-$n-$r" --log-file "$W/sim-$n-$r.log" > "$W/sim-$n-$r.out" 2>&1 &
  local sim=$!
  for _ in $(seq 600); do grep -q "ready in" "$W/sim-$n-$r.out" 2>/dev/null && break; sleep 0.1; done
  local log=$W/kst-$n-$r.log
  tmux new-session -d -s "$S" -x 200 -y 60 "env -u KUBECONFIG $BIN --kubeconfig $W/kc-$n-$r --log-file $log; sleep 3600"
  local pid=""
  for _ in $(seq 100); do pid=$(pgrep -f "^$BIN --kubeconfig $W/kc-$n-$r --log-file $log" | head -1) && [ -n "$pid" ] && break; sleep 0.1; done
  for _ in $(seq 600); do grep -q "first complete frame" "$log" 2>/dev/null && break; sleep 0.1; done
  local first; first=$(grep 'first complete frame' "$log" | grep -o 'ms=[0-9]*' | head -1 | cut -d= -f2)
  sleep 20
  local t0; t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  sleep 60
  local t1; t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  local rss; rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
  tmux kill-session -t "$S"
  kill $sim; wait $sim 2>/dev/null || true
  echo "$first $(awk -v d=$((t1-t0)) -v hz=$HZ 'BEGIN{printf "%.2f", 100*d/hz/60}') $rss"
}

{
echo "kst TUI (release, default refresh), 200x60 Overview, against kst sim --hub --managed-clusters N"
echo "(inventory only: no query layer); 2 cores, the simulator on the same machine; medians of $RUNS"
for n in ${SIZES:-1000 2500 5000 10000}; do
  : > "$W/runs-$n"
  for r in $(seq "$RUNS"); do one_run "$n" "$r" >> "$W/runs-$n"; done
  echo "N = $n: first complete frame $(awk '{print $1}' "$W/runs-$n" | median) ms, CPU $(awk '{print $2}' "$W/runs-$n" | median)% of a core, RSS $(awk '{print $3}' "$W/runs-$n" | median) MB"
done
echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
} | tee "$OUT"
