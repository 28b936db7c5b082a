#!/usr/bin/env bash
# Direct mode at the edge of its reach: kst's TUI dials 100 simulated API servers with 2,000
# pods each (the simulator's LLM-d, Kagenti and GPU workloads on every cluster, the rest plain
# pods, a filler pod restarting every 2 s a cluster: the API server filters those events out of
# kst's label-selected watches, so churn costs the simulator's side more than kst's) and scrapes
# every model server through its API server each refresh. Per run: the time to the first
# complete frame (from kst's log), then kst's CPU and RSS over 60 s at the default 5 s
# refresh once the first scrape rounds settled. Three runs; medians.
# The simulator runs on the same 2 cores; its CPU is not kst's (measured per process).
# Writes benches/direct100-results.txt.
# Usage: bash benches/direct100.sh     RUNS=1 bash benches/direct100.sh (a quick look)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/kst
OUT=benches/direct100-results.txt
W=$(mktemp -d)
S=kstd100$$
RUNS=${RUNS:-3}
CLUSTERS=${CLUSTERS:-100}
PODS=${PODS:-2000}
# filler pods restarting per second per cluster (the simulator's default): watches see churn
CHURN=${CHURN:-0.5}
KST_ENV=${KST_ENV:-}
trap 'kill $(jobs -p) 2>/dev/null || true; for r in $(seq "$RUNS"); do tmux kill-session -t "$S-$r" 2>/dev/null || true; done; rm -rf "$W"' EXIT
HZ=$(getconf CLK_TCK)
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

"$BIN" sim --clusters "$CLUSTERS" --pods-per-cluster "$PODS" --churn "$CHURN" --kubeconfig-out "$W/kc" --log-file "$W/sim.log" > "$W/sim.out" 2>&1 &
SIM=$!
for _ in $(seq 1200); do grep -q "ready in" "$W/sim.out" 2>/dev/null && break; sleep 0.1; done
grep -q "ready in" "$W/sim.out" || { echo "the simulator did not start" >&2; cat "$W/sim.out" >&2; exit 1; }

firsts=(); cpus=(); rsss=(); kst_starts=(); sim_starts=()
for run in $(seq "$RUNS"); do
  log=$W/tui-$run.log
  sim0=$(cpu_ticks "$SIM")
  tmux new-session -d -s "$S-$run" -x 200 -y 60 "env -u KUBECONFIG $KST_ENV $BIN --kubeconfig $W/kc --log-file $log; sleep 600"
  pid=""
  for _ in $(seq 100); do pid=$(pgrep -f "^$BIN --kubeconfig $W/kc --log-file $log" | head -1) && [ -n "$pid" ] && break; sleep 0.1; done
  for _ in $(seq 1200); do grep -q "first complete frame" "$log" 2>/dev/null && break; sleep 0.1; done
  first=$(grep 'first complete frame' "$log" | grep -o 'ms=[0-9]*' | head -1 | cut -d= -f2)
  # the CPU each side spent until then (2 cores shared): kst's start against the simulator's answers
  kst_start=$(awk -v t="$(cpu_ticks "$pid")" -v hz="$HZ" 'BEGIN{printf "%.2f", t/hz}')
  sim_start=$(awk -v t=$(($(cpu_ticks "$SIM") - sim0)) -v hz="$HZ" 'BEGIN{printf "%.2f", t/hz}')
  sleep 30 # every watch listed, the first scrape rounds done
  t0=$(cpu_ticks "$pid")
  sleep 60
  t1=$(cpu_ticks "$pid")
  cpu=$(awk -v d=$((t1 - t0)) -v hz="$HZ" 'BEGIN{printf "%.1f", 100*d/hz/60}')
  rss=$(rss_mb "$pid")
  echo "run $run: first complete frame ${first} ms (CPU until then: kst ${kst_start} s, the simulator ${sim_start} s), CPU ${cpu}% of a core, RSS ${rss} MB" >&2
  firsts+=("$first"); cpus+=("$cpu"); rsss+=("$rss"); kst_starts+=("$kst_start"); sim_starts+=("$sim_start")
  tmux kill-session -t "$S-$run"
done

{
  echo "# kst direct mode, $CLUSTERS clusters x $PODS pods, churn $CHURN/s a cluster, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, commit $(git rev-parse --short HEAD)"
  echo "runs: $RUNS; per run: first frame ms / CPU % of a core over 60 s at a 5 s refresh / RSS MB"
  for i in "${!firsts[@]}"; do echo "run $((i + 1)): ${firsts[$i]} / ${cpus[$i]} / ${rsss[$i]}"; done
  echo "median: first frame $(printf '%s\n' "${firsts[@]}" | median) ms, CPU $(printf '%s\n' "${cpus[@]}" | median)% of a core, RSS $(printf '%s\n' "${rsss[@]}" | median) MB"
  echo "CPU seconds spent until the first frame (median): kst $(printf '%s\n' "${kst_starts[@]}" | median) s, the simulator answering it $(printf '%s\n' "${sim_starts[@]}" | median) s"
} | tee "$OUT"
