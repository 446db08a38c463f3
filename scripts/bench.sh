#!/usr/bin/env bash
# Benchmarks for the README's budgets: plugin size, OBS start-up and memory
# with and without the plugin, API traffic idle and live, UI-thread time.
#   BENCH_RUNS=5 BENCH_IDLE_SECS=180 BENCH_LIVE_SECS=120 bash scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cargo build --release -p obs-velora
cargo build --workspace
bash scripts/build-dock.sh both target >/dev/null
tmp=$(mktemp -d)
strip -o "$tmp/velora.so" target/release/libvelora.so
size=$(stat -c %s "$tmp/velora.so")
echo "BENCH size: velora.so (release, stripped) $size bytes = $(awk "BEGIN{printf \"%.2f\", $size/1048576}") MiB"
for q in 5 6; do
  strip -o "$tmp/d.so" "target/dock-qt$q/velora-dock-qt$q.so"
  printf 'BENCH size: velora-dock-qt%s.so (stripped) %s bytes\n' "$q" "$(stat -c %s "$tmp/d.so")"
done
rm -rf "$tmp"
unset DISPLAY
cargo test --release --test bench -- --ignored --nocapture --test-threads=1 2>&1 | grep -oE 'BENCH.*|test result.*'
