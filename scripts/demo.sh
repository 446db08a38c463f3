#!/usr/bin/env bash
# The demo, the README's first command. Builds obs-velora, its Qt docks, the
# Velora sandbox and the demo driver (incrementally: a second run rebuilds
# nothing that did not change), installs the plugin into the demo's own OBS
# configuration under target/demo/ (your own OBS settings are never touched),
# then runs the driver (demo/, target/release/velora-demo). It starts the
# sandbox with its nginx-rtmp ingest and OBS 29 with the plugin, and walks
# through the whole flow: log in through the browser, Use Velora, title,
# category and tags, go live, LIVE with viewers in the dock, stop, quit.
#
#   bash scripts/demo.sh                          # OBS on your desktop: it says what to click
#                                                 # and ticks each step off as you do it
#   VELORA_DEMO_HEADLESS=1 bash scripts/demo.sh   # unattended under a private Xvfb, a screenshot
#                                                 # per step in target/artifacts/demo/
#
# Without a desktop (no DISPLAY) it runs headless. Ctrl-C stops OBS, the
# sandbox and nginx. The sandbox keeps its state (account, stream key, stream
# info, tokens as hashes) in target/demo/sandbox-state.json between runs.
# Environment: VELORA_SANDBOX_PORT (default 8787) and VELORA_RTMP_PORT (1935);
# 0 picks a free port.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
t0=$(date +%s%3N)
DEMO=$ROOT/target/demo

ms_since() { echo $(($(date +%s%3N) - $1)); }
took() { awk -v ms="$(ms_since "$1")" 'BEGIN { if (ms < 1000) printf "%d ms", ms; else printf "%.1f s", ms / 1000 }'; }

# Installs the built plugin per user into the OBS plugins directory $1
# (velora/bin/64bit/velora.so, the Qt docks in velora/bin/64bit/velora/ where
# OBS never loads them as modules, velora/data/): the one place that knows the
# installed layout.
install_plugin() {
  local p=$1/velora
  mkdir -p "$p/bin/64bit/velora" "$p/data"
  cp target/release/libvelora.so "$p/bin/64bit/velora.so"
  rm -f "$p/bin/64bit/velora-dock-qt5.so" "$p/bin/64bit/velora-dock-qt6.so" # the layout before 0.1.0's packaging
  cp target/dock-qt5/velora-dock-qt5.so target/dock-qt6/velora-dock-qt6.so "$p/bin/64bit/velora/"
  cp -r data/. "$p/data/"
}

if [ -n "${VELORA_DEMO_HEADLESS:-}" ]; then
  mode=headless
elif [ -z "${DISPLAY:-}" ]; then
  echo "No desktop here (DISPLAY is not set): the demo runs headless."
  mode=headless
else
  mode=desktop
fi

t=$(date +%s%3N)
deps=$(bash scripts/deps.sh)
grep -v '^deps: ok$' <<<"$deps" || true
echo "✓ system packages and Rust present ($(took "$t"))"

t=$(date +%s%3N)
mkdir -p "$DEMO"
[ -x target/release/velora-demo ] || echo "  building (the first build takes a few minutes)…"
cargo build --release --quiet -p obs-velora -p velora-sandbox -p velora-demo
bash scripts/build-dock.sh both target >/dev/null 2>"$DEMO/build-dock.log" ||
  { cat "$DEMO/build-dock.log" >&2; exit 1; }
echo "✓ obs-velora, its Qt 5 and Qt 6 docks, the sandbox and the demo driver built ($(took "$t"))"

home=$DEMO/$mode
# Headless, every run is a new user's first start of OBS with the plugin.
[ "$mode" = headless ] && rm -rf "$home"
install_plugin "$home/config/obs-studio/plugins"

# A crash of OBS leaves a core in $home for gdb (see the step's message).
ulimit -c unlimited 2>/dev/null || true
args=(--home "$home" --sandbox-bin target/release/velora-sandbox
  --state "$DEMO/sandbox-state.json" --artifacts target/artifacts/demo
  --port "${VELORA_SANDBOX_PORT:-8787}" --rtmp-port "${VELORA_RTMP_PORT:-1935}"
  --since-ms "$t0")
[ "$mode" = headless ] && args+=(--headless --browser "$ROOT/tests/scripts/fake-browser")
exec target/release/velora-demo "${args[@]}"
