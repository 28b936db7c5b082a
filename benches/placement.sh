#!/usr/bin/env bash
# Placement at scale: kst's TUI against 3 simulated WECs, then against the same plus
# KubeStellar's control planes (1 KubeFlex hosting cluster, 1 ITS, 1 WDS) with 50 more
# BindingPolicies binding 500 more objects to the 3 edge clusters (~3,000 ManifestWorks with
# the policy that binds all of them), then with 200 policies and 2,000 objects (#27's scale:
# ~12,000 ManifestWorks, one policy of 2,000 objects).
# Per run: kst's RSS and CPU after it settles, the watches it holds open (the simulator's
# count), and for the KubeStellar run how long until the Placement tab lists every policy.
# Writes benches/placement-results.txt.
# Usage: bash benches/placement.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/kst
OUT=benches/placement-results.txt
W=$(mktemp -d)
S=kstplace$$
# a session of its own keeps the tmux server up between the measured sessions: the server
# exits with its last session, and a new-session racing that exit fails ("server exited unexpectedly")
tmux new-session -d -s "$S-keep" "sleep 86400"
trap 'kill $(jobs -p) 2>/dev/null || true; tmux kill-session -t $S 2>/dev/null || true; tmux kill-session -t $S-keep 2>/dev/null || true; rm -rf "$W"' EXIT

screen() { tmux capture-pane -p -t "$S"; }
wait_for() { # description, pattern; prints seconds waited
  local t0 now
  t0=$(date +%s.%N)
  while ! screen | grep -qE "$2"; do
    now=$(date +%s.%N)
    if (($(echo "$now - $t0 > 600" | bc))); then echo "timed out waiting for $1" >&2; screen >&2; exit 1; fi
    sleep 0.1
  done
  echo "$(date +%s.%N) - $t0" | bc
}

run() { # label, extra sim flags, contexts expected
  local label=$1 flags=$2 n=$3
  "$BIN" sim --clusters 3 $flags --kubeconfig-out "$W/kc-$label" --log-file "$W/sim-$label.log" > "$W/sim-$label.out" 2>&1 &
  local simpid=$!
  for _ in $(seq 600); do grep -q "^admin" "$W/sim-$label.out" 2>/dev/null && break; sleep 0.1; done
  local admin
  admin=$(awk '/^admin/ {print $2}' "$W/sim-$label.out")
  local started
  started=$(date +%s.%N)
  tmux new-session -d -s "$S" -x 160 -y 50 "env -u KUBECONFIG $BIN --kubeconfig $W/kc-$label --log-file $W/kst-$label.log; sleep 3600"
  wait_for "$label: the fleet" "$n clusters( \+ [0-9]+ via hub)?: $n live" > /dev/null
  local listed="—"
  if [ "$label" != base ]; then
    # as many as the WDS holds (the scenario's own and the --policies added), as kubectl counts them
    local policies
    policies=$(kubectl --kubeconfig "$W/kc-$label" --context wds1 get bindingpolicies.control.kubestellar.io --no-headers | wc -l)
    tmux send-keys -t "$S" ":placement" Enter
    # (the pane also lists a deleted policy whose works remain: the scenario has one)
    wait_for "$label: every policy" "BindingPolicies \(($policies|$((policies + 1)))\)" > /dev/null
    listed=$(echo "$(date +%s.%N) - $started" | bc)
  fi
  sleep 20
  local pid
  pid=$(pgrep -f "^$BIN --kubeconfig $W/kc-$label" | head -1)
  local rss cpu0 cpu1 watches
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep 10
  cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  watches=$(curl -fsS "$admin/clusters" | python3 -c 'import json,sys; print(sum(c["open_watches"] for c in json.load(sys.stdin)))')
  printf "%s: RSS %.1f MB, CPU %.1f%% of a core (10 s), %s open watches, every policy listed %s s after start\n" \
    "$label" "$(echo "$rss / 1024" | bc -l)" "$(echo "($cpu1 - $cpu0) / 10" | bc -l)" "$watches" "$listed"
  tmux kill-session -t "$S"
  kill "$simpid"
  wait "$simpid" 2>/dev/null || true
}

{
  echo "kst TUI (release, refresh 5s), 160x50; the simulator on the same 2-core machine; commit $(git rev-parse --short HEAD)"
  run base "" 3
  run kubestellar "--kubestellar --policies 50 --objects 500" 6
  run scale "--kubestellar --policies 200 --objects 2000" 6
} | tee "$OUT"
