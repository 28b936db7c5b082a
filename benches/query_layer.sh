#!/usr/bin/env bash
# The query layer as a large fleet meets it (#28): `kst sim --hub --managed-clusters N` (an ITS
# of N ManagedClusters without API servers, plus the demo's contexts), and a real
# VictoriaMetrics holding every family kst's roll-ups read for N clusters x 8 vLLM servers
# (gauges, counters, TTFT histogram buckets, DCGM per GPU, the endpoint picker's counters:
# benches/query_layer_series.py), a point every 30 s as a scraper at that interval writes them.
# N = 1,000, 2,500, 5,000, 10,000 (SIZES). kst's TUI at 200x60 on the Overview, its default
# refresh (5 s) and rate window.
# Per run:
# - first numbers: from kst's start until the Overview shows the query layer's numbers on hub
#   rows (their engine counts: the first round sends rows as each roll-up answers);
# - kst's CPU (the kernel's clock, CLK_TCK) and RSS over 60 s once it settled (20 s);
# - every query kst sent in that minute: its median time and the bytes kst received (decoded
#   from gzip), and the ones that failed, from kst's debug log; the gzip bytes of the
#   roll-ups as curl receives them;
# - a round of roll-ups: the median time from asking the first (scrape times) to the answer of
#   the last (TTFT p99), and how many rounds the minute held (kst asks every 5 s, or when a
#   round takes longer than 2.5 s, twice its time after it began: the layer half the time idle).
# RUNS runs per N (3); medians. Writes benches/query-layer-results.txt.
# Usage: bash benches/query_layer.sh                  (needs victoria-metrics on the PATH)
#        SIZES=1000 RUNS=1 bash benches/query_layer.sh (a quick look)
#        ROLLUPS=recorded bash benches/query_layer.sh  (kst reads recorded roll-ups; needs vmalert;
#                                                      writes benches/query-layer-recorded-results.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/kst
OUT=benches/query-layer-results.txt
[ "${ROLLUPS:-raw}" = raw ] || OUT=benches/query-layer-${ROLLUPS}-results.txt
RUNS=${RUNS:-3}
W=$(mktemp -d)
S=kstql$$
HZ=$(getconf CLK_TCK)
VM=$(command -v victoria-metrics)
# raw: kst computes the roll-ups each round; recorded: it reads the series `kst rules`' kst-rollups
# group records (evaluated here once over the whole range by vmalert's replay, timed apart)
ROLLUPS=${ROLLUPS:-raw}
VMALERT=$(command -v vmalert || true)
[ "$ROLLUPS" = raw ] || [ -n "$VMALERT" ] || { echo "ROLLUPS=$ROLLUPS needs vmalert (the victoria-metrics package)" >&2; exit 1; }
tmux new-session -d -s "$S-keep" "sleep 86400"
trap 'kill $(jobs -p) 2>/dev/null || true; tmux kill-session -t $S 2>/dev/null || true; tmux kill-session -t $S-keep 2>/dev/null || true; rm -rf "$W"' EXIT

screen() { tmux capture-pane -p -t "$S"; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

load() { # N -> a fresh VictoriaMetrics on $PORT holding N clusters' series
  local n=$1
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  rm -rf "$W/vm"
  # a query over every TTFT bucket of 10,000 clusters matches 1.84 M series: above the
  # default limit of series one query may touch (300,000 in this version)
  "$VM" -storageDataPath="$W/vm" -httpListenAddr="127.0.0.1:$PORT" -search.latencyOffset=0s \
    -search.disableCache -search.maxUniqueTimeseries=50000000 -loggerLevel=ERROR > "$W/vm.log" 2>&1 &
  VMPID=$!
  for _ in $(seq 300); do curl -fsS "http://127.0.0.1:$PORT/health" > /dev/null 2>&1 && break; sleep 0.1; done
  local t0; t0=$(now)
  SERIES=$(python3 benches/query_layer_series.py "$n" 8 "$PORT" 300 $((RUNS * 110 + 240)) 30)
  curl -fsS "http://127.0.0.1:$PORT/internal/force_flush" > /dev/null || true
  LOADED=$(echo "$(now) - $t0" | bc)
  printf '[[metrics.prometheus]]\nurl = "http://127.0.0.1:%s"\nrollups = "%s"\n' "$PORT" "$ROLLUPS" > "$W/config.toml"
  RECORDED=""
  if [ "$ROLLUPS" = recorded ]; then
    # the ruler: `kst rules`' kst-rollups group, evaluated every 30 s (the scrape step) over the
    # loaded range by vmalert's replay and written back into the layer, as a ruler would have
    local from to r0
    "$BIN" --config "$W/config.toml" rules | sed -n '/^- name: kst-rollups/,$p' | { echo groups:; cat; } > "$W/rollups.yml"
    from=$(date -u -d "@$(($(date +%s) - 240))" +%Y-%m-%dT%H:%M:%SZ)
    to=$(date -u -d "@$(($(date +%s) + RUNS * 110 + 240))" +%Y-%m-%dT%H:%M:%SZ)
    r0=$(now)
    "$VMALERT" -rule="$W/rollups.yml" -datasource.url="http://127.0.0.1:$PORT" -remoteWrite.url="http://127.0.0.1:$PORT" \
      -evaluationInterval=30s -replay.timeFrom="$from" -replay.timeTo="$to" -replay.disableProgressBar \
      -replay.rulesDelay=0s -loggerLevel=ERROR > "$W/vmalert.log" 2>&1 || { echo "vmalert's replay failed" >&2; cat "$W/vmalert.log" >&2; exit 1; }
    curl -fsS "http://127.0.0.1:$PORT/internal/force_flush" > /dev/null || true
    RECORDED=$(echo "$(now) - $r0" | bc)
  fi
}

one_run() { # N, run -> "first_s cpu_pct rss_mb round_s rounds_a_minute" (the run's log in $W/kst-N-r.log)
  local n=$1 r=$2 log=$W/kst-$1-$2.log
  local t0; t0=$(now)
  tmux new-session -d -s "$S" -x 200 -y 60 \
    "env -u KUBECONFIG KST_LOG=info,kube=warn,hyper=warn,rustls=warn,rmcp=warn,kst::sources::prom=debug $BIN --kubeconfig $W/kc --config $W/config.toml --log-file $log; sleep 3600"
  local first=""
  while :; do
    if screen | grep -q "8 engines"; then first=$(echo "$(now) - $t0" | bc); break; fi
    if (($(echo "$(now) - $t0 > 180" | bc))); then echo "run $n/$r: no numbers after 180 s" >&2; screen >&2; exit 1; fi
    sleep 0.05
  done
  local pid; pid=$(pgrep -f "^$BIN --kubeconfig $W/kc --config" | head -1)
  sleep 20
  local c0; c0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  local from; from=$(date -u +%Y-%m-%dT%H:%M:%S)
  sleep 60
  local c1; c1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  local rss; rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
  tmux kill-session -t "$S"
  # the measured minute's queries: "name bytes ms" per answer, "name failed ms" per failure
  awk -v from="$from" '$1 >= from && /query (answered|failed)/' "$log" \
    | sed -E -e 's/.*query="([a-z_0-9]+)" bytes=([0-9]+) series=[0-9]+ ms=([0-9]+).*/\1 \2 \3/' \
      -e 's/.*query="([a-z_0-9]+)" ms=([0-9]+) error.*/\1 failed \2/' > "$W/q-$n-$r"
  # a round: the roll-ups from `scraped_at` to `ttft_p99`, the last one asked
  local refresh
  refresh=$(awk -v from="$from" '$1 >= from && /query (answered|failed)/' "$log" | python3 -c '
import sys, re, datetime, statistics
start, spans = None, []
for line in sys.stdin:
    t = datetime.datetime.fromisoformat(line.split()[0].replace("Z", "+00:00")).timestamp()
    name = re.search(r"query=\"(\w+)\"", line).group(1)
    ms = int(re.search(r"ms=(\d+)", line).group(1))
    if name == "scraped_at": start = t - ms / 1000
    if name == "ttft_p99" and start is not None: spans.append(t - start); start = None
print(f"{statistics.median(spans):.2f}" if spans else "nan")')
  local rounds; rounds=$(grep -c '^scraped_at ' "$W/q-$n-$r" || true)
  echo "$first $(awk -v d=$((c1 - c0)) -v hz="$HZ" 'BEGIN{printf "%.2f", 100*d/hz/60}') $rss $refresh $rounds"
}

gzip_bytes() { # the roll-ups' PromQL from kst's log -> their gzip bytes as curl receives them
  grep 'roll-up query=' "$1" | sed -E 's/.*query="([a-z_0-9]+)" promql=/\1\t/' | sort -u | while IFS=$'\t' read -r name q; do
    echo "$name $(curl -s --compressed -o /dev/null -w '%{size_download}' --data-urlencode "query=$q" "http://127.0.0.1:$PORT/api/v1/query")"
  done
}

{
echo "kst TUI (release, default refresh 5 s and rate window 60 s), 200x60 Overview, against kst sim --hub --managed-clusters N"
echo "and VictoriaMetrics $(dpkg-query -W -f='${Version}' victoria-metrics 2>/dev/null || echo '?') (its response cache off) holding N clusters x 8 vLLM servers: every family"
echo "kst's roll-ups read (TTFT buckets, DCGM, the endpoint picker's); 2 cores, everything on this machine; medians of $RUNS"
echo "roll-ups: $ROLLUPS$([ "$ROLLUPS" = recorded ] && echo " (kst rules' kst-rollups group, replayed by vmalert every 30 s over the loaded range before kst starts)")"
for n in ${SIZES:-1000 2500 5000 10000}; do
  "$BIN" sim --hub --managed-clusters "$n" --kubeconfig-out "$W/kc" --log-file "$W/sim.log" > "$W/sim.out" 2>&1 &
  SIM=$!
  for _ in $(seq 600); do grep -q "ready in" "$W/sim.out" 2>/dev/null && break; sleep 0.1; done
  load "$n"
  : > "$W/runs-$n"
  for r in $(seq "$RUNS"); do one_run "$n" "$r" >> "$W/runs-$n"; done
  col() { awk "{print \$$1}" "$W/runs-$n" | median; }
  echo
  [ -z "$RECORDED" ] || echo "N = $n: the ruler's replay of the 14 roll-ups, $(((RUNS * 110 + 480) / 30)) evaluations each over the range, took $(printf %.0f "$RECORDED") s"
  echo "N = $n ($SERIES series, loaded in $(printf %.0f "$LOADED") s): first numbers $(printf %.2f "$(col 1)") s, CPU $(col 2)% of a core, RSS $(col 3) MB;"
  echo "  a round of roll-ups took the layer $(col 4) s; $(col 5) rounds in the measured minute"
  cat "$W"/q-"$n"-* | python3 -c '
import sys, statistics, collections
by, failed = collections.defaultdict(list), collections.Counter()
for line in sys.stdin:
    name, b, ms = line.split()
    if b == "failed": failed[name] += 1; continue
    by[name].append((int(b), int(ms)))
total = sum(statistics.median(b for b, _ in v) for v in by.values())
print("  per query (median ms, bytes kst decoded): " + ", ".join(
    f"{k} {statistics.median(m for _, m in v):.0f} ms {statistics.median(b for b, _ in v):.0f} B" for k, v in by.items()))
if failed: print("  failed (over every run): " + ", ".join(f"{k} {n} times" for k, n in failed.items()))
print(f"  bytes per round (kst, decoded): {total:.0f}")'
  echo "  gzip bytes per roll-up (curl): $(gzip_bytes "$W/kst-$n-1.log" | tr '\n' ' ' | sed 's/ $//')"
  kill "$VMPID"; wait "$VMPID" 2> /dev/null || true
  kill "$SIM"; wait "$SIM" 2> /dev/null || true
done
echo
echo "$(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD)"
} | tee "$OUT"
