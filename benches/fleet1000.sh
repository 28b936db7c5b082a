#!/usr/bin/env bash
# A thousand clusters through a hub and a query layer: the simulator's ITS holds 1,000
# ManagedClusters with no API server behind them (plus the usual 3 WECs as contexts), and a
# real VictoriaMetrics holds the series of 1,000 clusters x S model servers (S = 2, 4, 8): the
# gauges and counters kst's roll-ups read, a point every 30 s from 5 minutes ago to 10 minutes
# ahead, so the answers stay fresh for the run without a scraper eating the machine.
# Per S: the time from kst's start to a first complete frame (every hub cluster a row with its
# numbers: the healthy ones folded into one line), kst's RSS and CPU over 60 s at a 15 s refresh,
# and the bytes one refresh receives (kst's count after gzip decoding, and curl's gzip bytes).
# Three runs per S; medians. Writes benches/fleet1000-results.txt.
# Usage: bash benches/fleet1000.sh            (needs victoria-metrics on the PATH)
#        SIZES="2" RUNS=1 bash benches/fleet1000.sh   (a quick look)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/kst
OUT=benches/fleet1000-results.txt
W=$(mktemp -d)
S=kst1000$$
VM=$(command -v victoria-metrics)
trap 'kill $(jobs -p) 2>/dev/null || true; tmux kill-session -t $S 2>/dev/null || true; rm -rf "$W"' EXIT

screen() { tmux capture-pane -p -t "$S"; }
wait_for() { # description, pattern; prints seconds since $T0
  while ! screen | grep -qE "$2"; do
    if (($(echo "$(date +%s.%N) - $T0 > 120" | bc))); then echo "timed out waiting for $1" >&2; screen >&2; exit 1; fi
    sleep 0.05
  done
  echo "$(date +%s.%N) - $T0" | bc
}
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

"$BIN" sim --clusters 3 --managed-clusters 1000 --kubeconfig-out "$W/kc" --log-file "$W/sim.log" > "$W/sim.out" 2>&1 &
for _ in $(seq 600); do grep -q "^admin" "$W/sim.out" 2>/dev/null && break; sleep 0.1; done

load() { # servers per cluster -> a fresh VictoriaMetrics on $PORT with the series
  local n=$1
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$W/vm"
  "$VM" -storageDataPath="$W/vm" -httpListenAddr="127.0.0.1:$PORT" -search.latencyOffset=0s \
    -search.disableCache -loggerLevel=ERROR > "$W/vm.log" 2>&1 &
  VMPID=$!
  for _ in $(seq 300); do curl -fsS "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && break; sleep 0.1; done
  python3 - "$n" "$PORT" << 'EOF'
import sys, time, random, urllib.request
n, port = int(sys.argv[1]), sys.argv[2]
now = int(time.time())
points = range(now - 300, now + 601, 30)
random.seed(7)
def push(lines):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/import/prometheus", data="".join(lines).encode())
    urllib.request.urlopen(req).read()
batch = []
for c in range(1000):
    cluster = f"edge-{c:04d}"
    for p in range(n):
        pod = f"vllm-decode-{p}"
        lab = f'cluster="{cluster}",namespace="llm-d",pod="{pod}",model_name="meta-llama/Llama-3.1-8B-Instruct"'
        kv = 0.3 + 0.6 * random.random()
        gen_rate, prompt_rate = 600 + 400 * random.random(), 3000 + 2000 * random.random()
        for i, t in enumerate(points):
            ms = t * 1000
            batch.append(f"vllm:kv_cache_usage_perc{{{lab}}} {kv:.4f} {ms}\n")
            batch.append(f"vllm:num_requests_running{{{lab}}} {int(8 * kv)} {ms}\n")
            batch.append(f"vllm:num_requests_waiting{{{lab}}} {int(4 * kv)} {ms}\n")
            batch.append(f"vllm:generation_tokens_total{{{lab}}} {int(gen_rate * 30 * i)} {ms}\n")
            batch.append(f"vllm:prompt_tokens_total{{{lab}}} {int(prompt_rate * 30 * i)} {ms}\n")
    if len(batch) > 200000:
        push(batch); batch = []
push(batch)
EOF
  curl -fsS "http://127.0.0.1:$PORT/internal/force_flush" > /dev/null || true
  cat > "$W/config.toml" << EOF
[metrics]
rate_window = "2m"
[[metrics.prometheus]]
url = "http://127.0.0.1:$PORT"
EOF
}

gzip_bytes() { # the gzip bytes of one refresh's roll-up queries, as curl receives them
  local total=0 q
  for q in 'count by (cluster) (vllm:num_requests_running)' \
           'avg by (cluster) ((vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc))' \
           'max by (cluster) ((vllm:kv_cache_usage_perc or vllm:gpu_cache_usage_perc))' \
           'sum by (cluster) (vllm:num_requests_waiting)' \
           'sum by (cluster) (rate(vllm:prompt_tokens_total[120s]))' \
           'sum by (cluster) (rate(vllm:generation_tokens_total[120s]))' \
           'max by (cluster) (timestamp(vllm:num_requests_running))'; do
    total=$((total + $(curl -s --compressed -o /dev/null -w '%{size_download}' \
      --data-urlencode "query=$q" "http://127.0.0.1:$PORT/api/v1/query")))
  done
  echo "$total"
}

run() { # servers per cluster, run number -> "first_frame rss_mb cpu_pct bytes"
  tmux kill-session -t "$S" 2>/dev/null || true
  T0=$(date +%s.%N)
  tmux new-session -d -s "$S" -x 200 -y 50 \
    "env -u KUBECONFIG $BIN --kubeconfig $W/kc --config $W/config.toml --refresh 15s --log-file $W/kst.log; sleep 3600"
  local first
  # the query layer has answered (the roll-ups land before its state), then every hub cluster
  # is healthy with fresh numbers: folded into one line
  wait_for "the query layer's answer" "metrics via http" > /dev/null
  first=$(wait_for "every hub cluster with its numbers" "99[0-9] clusters healthy|100[0-9] clusters healthy")
  local pid
  pid=$(pgrep -f "^$BIN --kubeconfig $W/kc" | head -1)
  local cpu0 cpu1
  cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  sleep 60
  cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat")
  local rss
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  local bytes
  bytes=$(env -u KUBECONFIG "$BIN" snapshot -o json --kubeconfig "$W/kc" --config "$W/config.toml" --context its1 \
    --log-file "$W/snap.log" 2> /dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["metrics_source"]["bytes"])' || echo "?")
  tmux kill-session -t "$S"
  echo "$first $(echo "$rss / 1024" | bc -l) $(echo "($cpu1 - $cpu0) / 60" | bc -l) $bytes"
}

{
  echo "kst TUI (release, refresh 15s) with 3 contexts + the hub its1 (1,000 ManagedClusters without API servers),"
  echo "model-server roll-ups from VictoriaMetrics ($(dpkg-query -W -f='${Version}' victoria-metrics 2>/dev/null || echo '?')); 2 cores, everything on this machine; medians of ${RUNS:-3}"
  for n in ${SIZES:-2 4 8}; do
    load "$n"
    : > "$W/runs"
    for r in $(seq "${RUNS:-3}"); do run "$n" "$r" >> "$W/runs"; done
    gz=$(gzip_bytes)
    printf "1,000 clusters x %d servers: first complete frame %.2f s, RSS %.1f MB, CPU %.2f%% of a core, %s bytes per refresh (kst, decoded), %s gzip bytes for the roll-ups (curl)\n" \
      "$n" "$(cut -d' ' -f1 "$W/runs" | median)" "$(cut -d' ' -f2 "$W/runs" | median)" \
      "$(cut -d' ' -f3 "$W/runs" | median)" "$(cut -d' ' -f4 "$W/runs" | median)" "$gz"
    kill "$VMPID"; wait "$VMPID" 2> /dev/null || true
  done
  echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
} | tee "$OUT"
