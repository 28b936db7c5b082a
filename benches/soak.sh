#!/usr/bin/env bash
# Soak: the TUI against the simulator for an hour (SOAK_MINUTES) while faults rotate every
# 30 s over the clusters (unreachable, slow, expired token, forbidden pods/nodes/
# inferencepools/deployments, 410 storm with dropped watches, garbage metrics, malformed
# objects), with gpu-eu-west down for the whole second half. Every minute: the TUI's RSS, open
# fds, its log's size (all rotated files), and the requests the simulator served it by verb
# (LIST, WATCH, GET, proxy = scrapes). Writes benches/soak-results.csv and a summary to
# benches/soak-results.txt.
# A query layer that holds nothing hangs for five minutes from the first third (the direct
# scrapes must go on). The summary names the commit measured.
# Usage: bash benches/soak.sh            (SOAK_MINUTES=10 for a shorter run)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${SOAK_MINUTES:-60}
REFRESH=${SOAK_REFRESH:-5s}
cargo build --release --quiet
BIN=$PWD/target/release/kst
COMMIT=$(git rev-parse --short HEAD)
CSV=benches/soak-results.csv
SUM=benches/soak-results.txt
W=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; tmux kill-session -t kstsoak 2>/dev/null || true; rm -rf "$W"' EXIT

"$BIN" sim --clusters 3 --kubeconfig-out "$W/kc" --log-file "$W/sim.log" > "$W/sim.out" 2>&1 &
for _ in $(seq 300); do grep -q "^admin" "$W/sim.out" 2>/dev/null && break; sleep 0.1; done
ADMIN=$(awk '/^admin/ {print $2}' "$W/sim.out")
[ -n "$ADMIN" ] || { echo "the simulator did not start"; cat "$W/sim.out"; exit 1; }

# a query layer that holds no series, and that hangs (accepts, never answers) for five minutes
# from the first third: the direct scrapes and the GPU readings must not wait on it
LAYER_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$LAYER_PORT" "$W/layer-hangs" <<'PY' &
import http.server, os, sys, time
port, flag = int(sys.argv[1]), sys.argv[2]
class Layer(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.answer()
    def do_GET(self):
        self.answer()
    def answer(self):
        while os.path.exists(flag):
            time.sleep(1)
        body = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), Layer).serve_forever()
PY
cat > "$W/kst.toml" <<EOT
[[metrics.prometheus]]
url = "http://127.0.0.1:$LAYER_PORT"
timeout = "3s"
EOT
HANG_FROM=$((MINUTES / 3 + 1)); HANG_TO=$((MINUTES / 3 + 5))

tmux new-session -d -s kstsoak -x 160 -y 50 \
  "env -u KUBECONFIG $BIN --kubeconfig $W/kc --config $W/kst.toml --log-file $W/kst.log --refresh $REFRESH; sleep 3600"
PID=""
for _ in $(seq 100); do PID=$(pgrep -f "^$BIN --kubeconfig $W/kc --config $W/kst.toml --log-file $W/kst.log" | head -1) && [ -n "$PID" ] && break; sleep 0.1; done
[ -n "$PID" ] || { echo "kst did not start"; exit 1; }

fault() { # cluster, JSON patch
  curl -fsS -X POST -H 'content-type: application/json' -d "$2" "$ADMIN/clusters/$1/faults" > /dev/null
}
clear_all() {
  for c in gpu-us-east gpu-eu-west agents-us-central; do
    fault "$c" '{"unreachable":false,"latency_ms":0,"token_expired":false,"forbidden":[],"gone_storm":false,"garbage_metrics":false}'
  done
}
# the faults in turn, each on one cluster for 30 s
FAULTS=(
  'gpu-us-east {"unreachable":true}'
  'gpu-us-east {"latency_ms":3000}'
  'agents-us-central {"token_expired":true}'
  'gpu-us-east {"forbidden":["pods"]}'
  'gpu-eu-west {"forbidden":["inferencepools","nodes"]}'
  'agents-us-central {"forbidden":["deployments"]}'
  'gpu-us-east {"gone_storm":true}'
  'gpu-eu-west {"garbage_metrics":true}'
  'agents-us-central {"malformed_objects":true}'
  'gpu-us-east {"reset_connections":true}'
)

requests() { # sum of the simulator's requests by verb, all clusters
  curl -fsS "$ADMIN/clusters" | python3 -c '
import json, sys
tot = {}
for c in json.load(sys.stdin):
    for k, v in c["requests"].items():
        verb = k.split(" ")[0]
        tot[verb] = tot.get(verb, 0) + v
print(" ".join(str(tot.get(v, 0)) for v in ["list", "watch", "get", "proxy"]))'
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$PID/status"; }
fds() { ls "/proc/$PID/fd" | wc -l; }
log_bytes() { cat "$W"/kst.log* 2>/dev/null | wc -c; }

echo "minute,rss_kb,fds,log_bytes,lists,watches,gets,proxied" > "$CSV"
read -r l0 w0 g0 p0 < <(requests)
half=$((MINUTES / 2))
step=0
for m in $(seq 1 "$MINUTES"); do
  if [ "$m" -ge "$HANG_FROM" ] && [ "$m" -le "$HANG_TO" ]; then touch "$W/layer-hangs"; else rm -f "$W/layer-hangs"; fi
  for _ in 1 2; do
    clear_all
    if [ "$m" -gt "$half" ]; then fault gpu-eu-west '{"unreachable":true}'; fi
    spec=${FAULTS[$((step % ${#FAULTS[@]}))]}
    step=$((step + 1))
    fault "${spec%% *}" "${spec#* }"
    sleep 30
    kill -0 "$PID" 2>/dev/null || { echo "kst exited during the soak"; exit 1; }
  done
  read -r l w g p < <(requests)
  echo "$m,$(rss_kb),$(fds),$(log_bytes),$((l - l0)),$((w - w0)),$((g - g0)),$((p - p0))" >> "$CSV"
  l0=$l; w0=$w; g0=$g; p0=$p
  echo "minute $m: $(tail -1 "$CSV")"
done

rm -f "$W/layer-hangs"
python3 - "$CSV" "$MINUTES" "$REFRESH" "$HANG_FROM" "$HANG_TO" "$COMMIT" > "$SUM" <<'EOF'
import csv, sys, statistics
rows = list(csv.DictReader(open(sys.argv[1])))
mins, refresh = int(sys.argv[2]), sys.argv[3]
hang_from, hang_to, commit = int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
x = [int(r["minute"]) for r in rows]
rss = [int(r["rss_kb"]) / 1024 for r in rows]
n = len(x)
mx, my = sum(x) / n, sum(rss) / n
slope = sum((a - mx) * (b - my) for a, b in zip(x, rss)) / max(1e-9, sum((a - mx) ** 2 for a in x))
def med(k, part):
    return statistics.median(int(r[k]) for r in part)
first, second = rows[: n // 2], rows[n // 2 :]
print(f"soak at commit {commit}: {mins} min, refresh {refresh}, 3 simulated clusters, faults rotating every 30 s (forbidden resources among them: access taken away and given back every 4.5 min), gpu-eu-west down for the second half, a query layer (empty) hanging in minutes {hang_from}-{hang_to}")
print(f"RSS: {rss[0]:.1f} MB after a minute, {rss[-1]:.1f} MB at the end, max {max(rss):.1f} MB; slope {slope * 60:.2f} MB/hour")
print(f"fds: {min(int(r['fds']) for r in rows)}..{max(int(r['fds']) for r in rows)}")
print(f"log: {int(rows[-1]['log_bytes']) / 1024:.0f} KB after {mins} min (all rotated files)")
for k in ["lists", "watches", "gets", "proxied"]:
    print(f"{k} per minute: median {med(k, first):.0f} (first half), {med(k, second):.0f} (second half, one cluster down), max {max(int(r[k]) for r in rows)}")
hung = [r for r in rows if hang_from <= int(r["minute"]) <= hang_to]
if hung:
    around = [r for r in first if not hang_from <= int(r["minute"]) <= hang_to]
    print(f"direct scrapes (proxied) per minute while the query layer hung: median {med('proxied', hung):.0f}, {med('proxied', around):.0f} in the other first-half minutes")
EOF
cat "$SUM"
