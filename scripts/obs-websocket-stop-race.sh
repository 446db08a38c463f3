#!/usr/bin/env bash
# Reproduces, deterministically and WITHOUT obs-velora, the crash at exit in
# obs-websocket's own accept race (docs/obs-websocket-exit-race.md): the
# host's OBS 29.0.2 (Debian 12, obs-websocket 5.1.0) runs under gdb with a
# fresh config and no third-party plugin; when it is quit, gdb drives its main
# thread and obs-websocket's server thread through the interleaving
# (scripts/obs-websocket-stop-race.gdb.py). Prints the race steps and the
# crashing backtrace; exits 0 when the SIGSEGV in start_op happened.
#
#   bash scripts/obs-websocket-stop-race.sh [OUT_DIR]
#
# Needs obs-studio, gdb, Xvfb, python3 (deps.sh installs them). The offset
# in the gdb script (start_op+0x252) is that of Debian 12's obs-websocket.so.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
out=${1:-$(mktemp -d /tmp/obs-websocket-stop-race.XXXXXX)}
# shellcheck source=obs-websocket-race-lib.sh
. scripts/obs-websocket-race-lib.sh
race_home "$out"
race_xvfb "$out"
trap 'kill $xvfb 2>/dev/null || true' EXIT
[ -z "$(ls "$cfg/plugins" 2>/dev/null)" ] || { echo "a per-user plugin is installed in $cfg/plugins" >&2; exit 2; }
(cd "$out" && HOME=$out/home gdb -nx -batch -ex "set pagination off" -ex "handle SIGPIPE nostop noprint pass" \
    -ex "source $repo/scripts/obs-websocket-stop-race.gdb.py" -ex run -ex "python drive()" -ex "bt 4" -ex kill \
    --args /usr/bin/obs --multi --disable-missing-files-check --websocket_port "$port" >"$out/gdb.log" 2>&1) &
gdb_pid=$!
for _ in $(seq 120); do
    grep -qs "Startup complete\|WebSocketServer::Start" "$cfg"/logs/*.txt && break
    sleep 0.5
done
sleep 3
obs_pid=$(pgrep -f -- "--websocket_port $port" | while read -r p; do
    [ "$(cat /proc/"$p"/comm 2>/dev/null)" = obs ] && echo "$p"; done | head -n1)
python3 "$repo/rig/obs-close-window" "$obs_pid"
wait "$gdb_pid" || true
echo "modules OBS loaded (from its log; no velora):"
awk '/Loaded Modules:/{on=1; next} on && /----/{exit} on{print "  " $NF}' "$cfg"/logs/*.txt | tr '\n' ' '; echo
grep "^race:\|SIGSEGV\|^#[0-3] " "$out/gdb.log" | cut -c1-200 || true
echo "(full gdb output: $out/gdb.log)"
grep -q "SIGSEGV" "$out/gdb.log"
