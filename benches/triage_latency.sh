#!/usr/bin/env bash
# Triage latency: from a fault switched on in the simulator to its problem on kst's screen
# (the Problems tab, read off a real terminal with tmux), ten times each for
#   - an outage (agents-us-central unreachable: cluster-unreachable fires at once), and
#   - a KV surge on gpu-us-east's decode servers (kv-decode, listed as pending at once, firing
#     after its 5-minute for:; the time measured is to the first line on screen).
# kst runs with its defaults (refresh 5s). Writes benches/triage-latency.txt.
# Usage: bash benches/triage_latency.sh          (ROUNDS=10)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-10}
cargo build --release --quiet
BIN=$PWD/target/release/kst
OUT=benches/triage-latency.txt
W=$(mktemp -d)
S=ksttriage$$
trap 'kill $(jobs -p) 2>/dev/null || true; tmux kill-session -t $S 2>/dev/null || true; rm -rf "$W"' EXIT

"$BIN" sim --clusters 3 --kubeconfig-out "$W/kc" --log-file "$W/sim.log" > "$W/sim.out" 2>&1 &
for _ in $(seq 300); do grep -q "^admin" "$W/sim.out" 2>/dev/null && break; sleep 0.1; done
ADMIN=$(awk '/^admin/ {print $2}' "$W/sim.out")
[ -n "$ADMIN" ] || { echo "the simulator did not start"; cat "$W/sim.out"; exit 1; }

tmux new-session -d -s "$S" -x 200 -y 60 "env -u KUBECONFIG $BIN --kubeconfig $W/kc --log-file $W/kst.log; sleep 3600"
screen() { tmux capture-pane -p -t "$S"; }
wait_for() { # description, grep -E pattern over one line; prints seconds waited
  local t0 now
  t0=$(date +%s.%N)
  while ! screen | grep -qE "$2"; do
    now=$(date +%s.%N)
    if (($(echo "$now - $t0 > 120" | bc))); then echo "timed out waiting for $1" >&2; screen >&2; exit 1; fi
    sleep 0.05
  done
  echo "$(date +%s.%N) - $t0" | bc
}
fault() { curl -fsS -X POST -H 'content-type: application/json' -d "$2" "$ADMIN/clusters/$1/faults" > /dev/null; }

wait_for "the fleet" "3 clusters: 3 live" > /dev/null
tmux send-keys -t "$S" 2
wait_for "the Problems tab" "Problems \(" > /dev/null
# let the scenario's own problems settle (first scrapes, agent cards) before measuring
sleep 15

outage=()
surge=()
for i in $(seq "$ROUNDS"); do
  fault agents-us-central '{"unreachable":true}'
  outage+=("$(wait_for "the outage" "agents-us-central +Cluster +agents-us-central +unreachable:.*firing")")
  fault agents-us-central '{"unreachable":false}'
  wait_for "the outage to resolve" "agents-us-central +Cluster .*resolved, lasted" > /dev/null
  # it must no longer fire before the next round starts
  while screen | grep -qE "agents-us-central +Cluster .*unreachable:.*firing"; do sleep 0.1; done

  fault gpu-us-east '{"incidents":["kv_surge"]}'
  surge+=("$(wait_for "the KV surge" "KV 96% > 95% on decode")")
  fault gpu-us-east '{"incidents":[]}'
  # pending, never fired: it leaves the list when the gauge falls
  while screen | grep -qE "KV 96% > 95% on decode"; do sleep 0.1; done
  echo "round $i: outage ${outage[-1]}s, KV surge ${surge[-1]}s"
done

python3 - "$ROUNDS" "${outage[*]}" "${surge[*]}" > "$OUT" <<'EOF'
import statistics, sys
n = sys.argv[1]
for name, xs in (("outage (cluster-unreachable, fires at once)", sys.argv[2]), ("KV surge (kv-decode, first listed as pending)", sys.argv[3])):
    v = sorted(float(x) for x in xs.split())
    print(f"{name}: median {statistics.median(v):.2f} s, min {v[0]:.2f} s, max {v[-1]:.2f} s over {n} rounds")
print("fault switched on in the simulator -> its line on kst's Problems tab (tmux capture, 200x60), kst defaults (refresh 5s, triage every 1s)")
EOF
cat "$OUT"
