#!/usr/bin/env bash
# Captures every pane of `kst demo` as text (120x40 and 80x24) into this folder, and renders the
# main panes as PNG pictures (120x40, plus overview and serving at 200x60, a wall screen):
#   tmux capture-pane -e -p (keeps the colours) -> aha (ANSI to HTML) -> headless Chromium -> PNG.
# All three are Debian packages (apt-get install -y tmux aha chromium); without aha or chromium
# only the text captures are written. The pictures come from the real release binary.
# Usage: bash screenshots/capture.sh   (builds the release binary first)
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
cargo build --release --quiet
BIN=$PWD/target/release/kst
OUT=screenshots
H=$(mktemp -d)
SESSION=kstshots
trap 'tmux kill-session -t "$SESSION" 2>/dev/null || true; rm -rf "$H"' EXIT

CHROMIUM=${CHROMIUM:-chromium}
PNG=1
for tool in aha "$CHROMIUM"; do
  if ! command -v "$tool" >/dev/null; then
    echo "capture.sh: '$tool' not found (apt-get install -y aha chromium): writing the text captures only, no PNGs" >&2
    PNG=0
  fi
done

# Panes rendered as PNG, per terminal size.
declare -A PNG_PANES=(
  [120x40]="overview problems models serving kv-cache throughput epp benchmarks agents topology security placement gpus"
  [200x60]="overview problems serving"
)
# Text captures are written at these sizes only.
TEXT_SIZES=" 120x40 80x24 "

# One terminal cell in the pictures: DejaVu Sans Mono at FONT_PX advances 1233/2048 em per glyph,
# so a letter-spacing makes every column exactly CELL_W pixels wide; non-ASCII glyphs (box drawing,
# blocks, braille, which falls back to another font) are boxed to CELL_W as well, so columns line
# up. CELL_H is the line height; PAD the black margin around the grid.
CELL_W=9 CELL_H=18 FONT_PX=15 PAD=6
SPACING=$(awk -v w=$CELL_W -v f=$FONT_PX 'BEGIN { printf "%.4f", w - f * 1233 / 2048 }')
# The 16 terminal colours of the pictures (dark background; kst's dark theme uses these indexes).
PALETTE="000000 cd3131 0dbc79 e5e510 2472c8 bc3fbc 11a8cd e5e5e5 767676 f14c4c 23d18b f5f543 3b8eea d670d6 29b8db ffffff"
FG=e5e5e5 BG=000000

shot() { # name keys...
  local name=$1 size=${1##*-}; shift
  tmux send-keys -t "$SESSION" "$@"
  sleep 1.5
  if [[ $TEXT_SIZES == *" $size "* ]]; then
    tmux capture-pane -p -t "$SESSION" > "$OUT/$name.txt"
  fi
  if ((PNG)) && [[ " ${PNG_PANES[$size]:-} " == *" ${name%-*} "* ]]; then
    tmux capture-pane -e -p -t "$SESSION" > "$H/$name.ansi"
  fi
}

# ANSI capture -> HTML page -> PNG of exactly cols x rows cells (plus the margin).
render() { # name cols rows
  local name=$1 cols=$2 rows=$3 html=$H/$1.html profile
  {
    printf '<!DOCTYPE html><html><head><meta charset="utf-8"><title>kst %s</title><style>\n' "$name"
    printf 'html,body{margin:0;background:#%s}body{padding:%spx}\n' "$BG" "$PAD"
    printf "pre{margin:0;font-family:'DejaVu Sans Mono',monospace;font-size:%spx;line-height:%spx;letter-spacing:%spx;color:#%s}\n" \
      "$FONT_PX" "$CELL_H" "$SPACING" "$FG"
    printf 'i{display:inline-block;width:%spx;font-style:normal}\n' "$CELL_W"
    printf '</style></head><body><pre>'
    # aha's own palette drops the bright flag when the background changes and shows black as grey,
    # so the 16 indexed colours are turned into the RGB values above before aha sees them.
    PAL=$PALETTE perl -pe '
      BEGIN { @p = map { join ";", map hex, unpack "(A2)3" } split / /, $ENV{PAL} }
      sub sgr {
        my @a = split /;/, shift; my @o;
        while (@a) {
          my $c = shift @a;
          if (($c eq "38" || $c eq "48") && @a >= 2 && $a[0] eq "5") {
            shift @a; my $n = shift @a;
            push @o, $n < 16 ? "$c;2;$p[$n]" : "$c;5;$n";
          } elsif (($c eq "38" || $c eq "48") && @a >= 4 && $a[0] eq "2") {
            push @o, join ";", $c, splice @a, 0, 4;
          } elsif ($c =~ /^(3|4|9|10)([0-7])$/) {
            push @o, ($1 eq "3" || $1 eq "9" ? "38" : "48") . ";2;" . $p[$2 + ($1 eq "9" || $1 eq "10" ? 8 : 0)];
          } else { push @o, $c }
        }
        "\e[" . join(";", @o) . "m";
      }
      s/\e\[([0-9;]*)m/sgr($1)/ge;
    ' "$H/$name.ansi" | aha --black --no-header | perl -CSD -pe 's/([^\x00-\x7f])/<i>$1<\/i>/g'
    printf '</pre></body></html>\n'
  } > "$html"
  profile=$(mktemp -d "$H/chromium.XXXXXX")
  if ! HOME=$profile timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
      --user-data-dir="$profile" --screenshot="$PWD/$OUT/$name.png" \
      --window-size=$((cols * CELL_W + 2 * PAD)),$((rows * CELL_H + 2 * PAD)) "file://$html" \
      > "$H/chromium.log" 2>&1; then
    echo "capture.sh: chromium failed on $name:" >&2
    tail -n 20 "$H/chromium.log" >&2
    exit 1
  fi
  rm -rf "$profile"
}

for size in 120x40 80x24 200x60; do
  w=${size%x*}; h=${size#*x}
  if [[ $TEXT_SIZES != *" $size "* ]] && ! ((PNG)); then continue; fi
  tmux new-session -d -s "$SESSION" -x "$w" -y "$h" "env -u KUBECONFIG HOME=$H $BIN demo --log-file $H/kst.log"
  sleep 8   # the demo's first scrape rounds, so rates exist
  shot "overview-$size" 1
  shot "problems-$size" 2
  shot "models-$size" 3
  shot "serving-$size" 4
  if [[ $size == 200x60 ]]; then   # the wall screen size: pictures of the first panes only
    tmux kill-session -t "$SESSION"
    continue
  fi
  shot "kv-cache-$size" 5
  shot "throughput-$size" 6
  shot "epp-$size" 7
  shot "benchmarks-$size" 8
  shot "ml-jobs-$size" 9
  shot "agents-$size" 0
  tmux send-keys -t "$SESSION" ':' ; shot "builds-$size" builds Enter
  tmux send-keys -t "$SESSION" ':' ; shot "mcp-tools-$size" tools Enter
  tmux send-keys -t "$SESSION" ':' ; shot "discovery-$size" discovery Enter
  tmux send-keys -t "$SESSION" ':' ; shot "topology-$size" topology Enter
  tmux send-keys -t "$SESSION" ':' ; shot "security-$size" security Enter
  tmux send-keys -t "$SESSION" ':' ; shot "status-$size" status Enter
  tmux send-keys -t "$SESSION" ':' ; shot "placement-$size" placement Enter
  tmux send-keys -t "$SESSION" ':' ; shot "gpus-$size" gpus Enter
  tmux send-keys -t "$SESSION" ':' ; tmux send-keys -t "$SESSION" serving Enter; sleep 1
  shot "pool-pods-$size" Enter
  tmux kill-session -t "$SESSION"
done

if ((PNG)); then
  for f in "$H"/*.ansi; do
    name=$(basename "$f" .ansi); size=${name##*-}
    render "$name" "${size%x*}" "${size#*x}"
  done
fi
echo "written to $OUT/ in $((SECONDS - start))s"
