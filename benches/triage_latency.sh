#!/usr/bin/env bash
# Triage latency, read off a real terminal (tmux, the Problems tab at 200x60), kst's defaults
# (refresh 5s, triage every 1s):
#   1. direct mode, ROUNDS times each:
#      - an outage (agents-us-central unreachable: cluster-unreachable fires at once), and
#      - a KV surge on gpu-us-east's decode servers (kv-decode, listed as pending at once,
#        firing after its 5-minute for:; the time measured is to the first line on screen);
#   2. prometheus mode, an incident older than kst (skipped without a Prometheus binary): a KV
#      surge that a real Prometheus (scraping the simulator as the README's recipe says) has held
#      for SURGE_AGE seconds (default 600) before kst starts, RESTARTS times: from kst's start to
#      the kv-decode line FIRING on screen (its for: served by the query layer's history), and
#      kst's own "first complete frame".
# Writes benches/triage-latency.txt.
# Usage: bash benches/triage_latency.sh          (ROUNDS=10 SURGE_AGE=600 RESTARTS=3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-10}
SURGE_AGE=${SURGE_AGE:-600}
RESTARTS=${RESTARTS:-3}
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

screen() { tmux capture-pane -p -t "$S"; }
wait_for() { # description, grep -E pattern over one line; prints seconds waited
  local t0 now limit=${3:-120}
  t0=$(date +%s.%N)
  while ! screen | grep -qE "$2"; do
    now=$(date +%s.%N)
    if (($(echo "$now - $t0 > $limit" | bc))); then echo "timed out waiting for $1" >&2; screen >&2; exit 1; fi
    sleep 0.05
  done
  echo "$(date +%s.%N) - $t0" | bc
}
fault() { curl -fsS -X POST -H 'content-type: application/json' -d "$2" "$ADMIN/clusters/$1/faults" > /dev/null; }

# --- 1. direct mode
mkdir -p "$W/state"
tmux new-session -d -s "$S" -x 200 -y 60 "env -u KUBECONFIG KST_STATE_DIR=$W/state $BIN --kubeconfig $W/kc --log-file $W/kst.log; sleep 3600"
wait_for "the fleet" "3 clusters: 3 live" > /dev/null
tmux send-keys -t "$S" 2
wait_for "the Problems tab" "Problems \(" > /dev/null
# let the scenario's own problems settle (first scrapes, agent cards) before measuring
sleep 15

outage=()
surge=()
for i in $(seq "$ROUNDS"); do
  fault agents-us-central '{"unreachable":true}'
  # (the KIND column is left out when the PROBLEM texts need the room)
  outage+=("$(wait_for "the outage" "agents-us-central +(Cluster +)?agents-us-central +unreachable:.* firing ")")
  fault agents-us-central '{"unreachable":false}'
  wait_for "the outage to resolve" "agents-us-central +(Cluster +)?agents-us-central +unreachable:.*resolved, lasted" > /dev/null
  # it must no longer fire before the next round starts
  while screen | grep -qE "agents-us-central +(Cluster +)?agents-us-central +unreachable:.* firing "; do sleep 0.1; done

  fault gpu-us-east '{"incidents":["kv_surge"]}'
  surge+=("$(wait_for "the KV surge" "KV 96% > 95% on decode")")
  fault gpu-us-east '{"incidents":[]}'
  # pending, never fired: it leaves the list when the gauge falls
  while screen | grep -qE "KV 96% > 95% on decode"; do sleep 0.1; done
  echo "round $i: outage ${outage[-1]}s, KV surge ${surge[-1]}s"
done
tmux kill-session -t "$S"

# --- 2. prometheus mode: an incident older than kst
PROM=$(command -v prometheus || ls target/peers/prometheus/usr/bin/prometheus 2>/dev/null || true)
older=()
frames=()
if [ -z "$PROM" ]; then
  echo "prometheus mode: SKIPPED (no prometheus binary; apt-get install prometheus, or run cargo test once to provision it under target/peers)"
else
  # the scrape config from what kst itself reads (kst snapshot: each server's metrics port, each
  # pool's picker), with the labels the README's recipe adds: cluster, namespace, pod, pool, role
  "$BIN" snapshot -o json --kubeconfig "$W/kc" --log-file "$W/snap.log" --timeout 30s > "$W/snap.json" || true
  kubectl --kubeconfig "$W/kc" config view --raw -o json > "$W/kc.json"
  jq -r '.clusters[0].cluster["certificate-authority-data"]' "$W/kc.json" | base64 -d > "$W/ca.pem"
  PORT=$((20000 + RANDOM % 20000))
  jq --arg dir "$W" --slurpfile kc "$W/kc.json" '
    def server(ctx): ($kc[0].contexts[] | select(.name == ctx) | .context.cluster) as $c
      | ($kc[0].clusters[] | select(.name == $c) | .cluster.server | sub("^https://"; ""));
    def token(ctx): ($kc[0].contexts[] | select(.name == ctx) | .context.user) as $u
      | ($kc[0].users[] | select(.name == $u) | .user.token);
    { global: { scrape_interval: "5s", scrape_timeout: "4s", evaluation_interval: "5s" },
      scrape_configs: [ .clusters[] | select(.llmd.servers | length > 0) | .context as $ctx | {
        job_name: $ctx, scheme: "https",
        tls_config: { ca_file: ($dir + "/ca.pem") },
        authorization: { credentials: token($ctx) },
        static_configs: (
          [ .llmd.servers[] | { targets: [server($ctx)], labels: ({
              __metrics_path__: "/api/v1/namespaces/\(.namespace)/pods/\(.name):\(.metrics_port)/proxy/metrics",
              cluster: $ctx, namespace: .namespace, pod: .name } + (if .pool then {pool: .pool} else {} end)
              + (if (.role | test("^(prefill|decode|prefill-decode)$")) then {role: .role} else {} end)) } ]
          + [ .llmd.pools[] | select(.epp_service) | { targets: [server($ctx)], labels: {
              __metrics_path__: "/api/v1/namespaces/\(.namespace)/services/\(.epp_service):9090/proxy/metrics",
              cluster: $ctx, namespace: .namespace, pool: .name, service: .epp_service } } ]) } ] }
  ' "$W/snap.json" > "$W/prometheus.yml"
  "$PROM" --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/tsdb" --web.listen-address=127.0.0.1:$PORT \
    > "$W/prom.log" 2>&1 &
  for _ in $(seq 600); do curl -fsS "http://127.0.0.1:$PORT/-/ready" > /dev/null 2>&1 && break; sleep 0.1; done
  fault gpu-us-east '{"incidents":["kv_surge"]}'
  echo "prometheus mode: the KV surge is on; waiting ${SURGE_AGE}s before starting kst"
  sleep "$SURGE_AGE"
  cat > "$W/kst.toml" <<EOT
[[metrics.prometheus]]
url = "http://127.0.0.1:$PORT"
EOT
  for r in $(seq "$RESTARTS"); do
    # each start with no kept state: the age comes from the query layer, not from a last run
    rm -rf "$W/state$r"
    : > "$W/kstp$r.log"
    tmux new-session -d -s "$S" -x 200 -y 60 \
      "env -u KUBECONFIG KST_STATE_DIR=$W/state$r $BIN --kubeconfig $W/kc --config $W/kst.toml --metrics prometheus --log-file $W/kstp$r.log; sleep 3600"
    tmux send-keys -t "$S" 2
    older+=("$(wait_for "the older surge firing" "KV 96% > 95% on decode +firing" 120)")
    frame=$(grep -o 'first complete frame ms=[0-9]*' "$W/kstp$r.log" | head -1 | grep -o '[0-9]*$' || echo "")
    frames+=("${frame:-nan}")
    echo "restart $r: the surge firing on screen ${older[-1]}s after kst started (first complete frame ${frame:-?} ms)"
    tmux kill-session -t "$S"
  done
  fault gpu-us-east '{"incidents":[]}'
fi

python3 - "$ROUNDS" "${outage[*]}" "${surge[*]}" "${older[*]:-}" "${frames[*]:-}" "$SURGE_AGE" > "$OUT" <<'EOF'
import math, statistics, sys
n = sys.argv[1]
for name, xs in (("outage (cluster-unreachable, fires at once)", sys.argv[2]), ("KV surge (kv-decode, first listed as pending)", sys.argv[3])):
    v = sorted(float(x) for x in xs.split())
    print(f"{name}: median {statistics.median(v):.2f} s, min {v[0]:.2f} s, max {v[-1]:.2f} s over {n} rounds")
print("fault switched on in the simulator -> its line on kst's Problems tab (tmux capture, 200x60), kst defaults (refresh 5s, triage every 1s)")
older = [float(x) for x in sys.argv[4].split()]
frames = [float(x) for x in sys.argv[5].split() if not math.isnan(float(x))]
if older:
    print(f"prometheus mode, a KV surge begun {sys.argv[6]} s before kst: kv-decode FIRING on screen {statistics.median(older):.2f} s after kst started "
          f"(median of {len(older)} starts, max {max(older):.2f} s); first complete frame median {statistics.median(frames) if frames else float('nan'):.0f} ms")
else:
    print("prometheus mode: not measured (no prometheus binary)")
EOF
echo "commit $(git rev-parse --short HEAD)" >> "$OUT"
cat "$OUT"
