#!/usr/bin/env bash
# Captures every pane of `kst demo` as text (120x40 and 80x24) into this folder.
# Usage: bash screenshots/capture.sh   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=$PWD/target/release/kst
OUT=screenshots
H=$(mktemp -d)
trap 'tmux kill-session -t kstshots 2>/dev/null || true; rm -rf "$H"' EXIT

shot() { # name keys...
  local name=$1; shift
  tmux send-keys -t kstshots "$@"
  sleep 1.5
  tmux capture-pane -p -t kstshots > "$OUT/$name.txt"
}

for size in 120x40 80x24; do
  w=${size%x*}; h=${size#*x}
  tmux new-session -d -s kstshots -x "$w" -y "$h" "env -u KUBECONFIG HOME=$H $BIN demo --log-file $H/kst.log"
  sleep 8   # the demo's first scrape rounds, so rates exist
  shot "overview-$size" 1
  shot "serving-$size" 2
  shot "kv-cache-$size" 3
  shot "throughput-$size" 4
  shot "epp-$size" 5
  shot "benchmarks-$size" 6
  shot "ml-jobs-$size" 7
  shot "agents-$size" 8
  shot "builds-$size" 9
  shot "mcp-tools-$size" 0
  tmux send-keys -t kstshots ':' ; shot "discovery-$size" discovery Enter
  tmux send-keys -t kstshots ':' ; shot "topology-$size" topology Enter
  tmux send-keys -t kstshots ':' ; shot "security-$size" security Enter
  tmux send-keys -t kstshots ':' ; shot "status-$size" status Enter
  tmux send-keys -t kstshots ':' ; tmux send-keys -t kstshots serving Enter; sleep 1
  shot "pool-pods-$size" Enter
  tmux kill-session -t kstshots
done
echo "written to $OUT/"
