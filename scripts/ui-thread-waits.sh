#!/usr/bin/env bash
# Where does OBS's UI thread block inside the plugin? A diagnostic for the
# "held OBS's UI thread for N ms (…, K waits, …)" warnings: runs one
# integration test under `perf record` of the scheduler's switch events of
# OBS's main thread (comm "obs"), with DWARF call chains, and prints every
# switch where the thread went to sleep (state S or D: a lock, I/O, a page
# fault on a file) with a frame of the plugin's libraries on its stack.
#
#   scripts/ui-thread-waits.sh [--load N] [--cold] TEST [FILTER]
#
# --load N  N busy loops beside the test (a loaded CI machine)
# --cold    drop the page cache first (fonts and libraries read from disk)
#
# Needs perf with access to sched tracepoints (root, or
# kernel.perf_event_paranoid <= -1). Found with it: Qt opening a font file
# (FT_New_Face, page faults on a cold disk) inside a snapshot rendering;
# the dock now opens its fonts while it is built (dock/src/fonts.cpp).
set -euo pipefail

load=0
cold=0
while [ $# -gt 0 ]; do
  case $1 in
    --load) load=$2; shift 2 ;;
    --cold) cold=1; shift ;;
    -h|--help) sed -n 2,18p "$0"; exit 0 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: $0 [--load N] [--cold] TEST [FILTER]" >&2; exit 2; }
test=$1
filter=${2:-}
command -v perf >/dev/null || { echo "ui-thread-waits: perf is missing (apt-get install linux-perf)" >&2; exit 1; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$root/target/ui-thread-waits
mkdir -p "$out"
cd "$root"
cargo test -q --test "$test" --no-run >/dev/null

if [ "$cold" = 1 ]; then
  sync
  echo 3 > /proc/sys/vm/drop_caches
fi
loaders=()
cleanup() { [ ${#loaders[@]} -eq 0 ] || kill "${loaders[@]}" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 "$load"); do
  (while :; do :; done) &
  loaders+=($!)
done

rc=0
perf record -q -o "$out/perf.data" -a -e sched:sched_switch --filter 'prev_comm == "obs"' \
  --call-graph dwarf,16384 -- \
  cargo test -q --test "$test" ${filter:+"$filter"} -- --test-threads=1 > "$out/test.log" 2>&1 || rc=$?
cleanup
loaders=()
echo "test: rc=$rc (output: $out/test.log)"

perf script -i "$out/perf.data" 2>/dev/null > "$out/switches.txt"
python3 - "$out/switches.txt" <<'EOF'
import re, sys
events = open(sys.argv[1]).read().split("\n\n")
ours = re.compile(r"/velora(-dock-qt\d)?\.so\)")
found = 0
for e in events:
    lines = e.strip().split("\n")
    if not lines or not any(ours.search(l) for l in lines):
        continue
    m = re.search(r"prev_state=(\S+)", lines[0])
    if not m or m.group(1).startswith("R"):
        continue  # preempted: the machine's doing, not a wait
    found += 1
    print("== " + lines[0].strip()[:140])
    for l in lines[1:]:
        l = l.strip()
        if "kernel.kallsyms" in l and "fault" not in l:
            continue
        print("   " + re.sub(r"^[0-9a-f]+ ", "", l)[:140])
print(f"{found} sleeps of OBS's UI thread with a frame of the plugin on its stack")
EOF
exit "$rc"
