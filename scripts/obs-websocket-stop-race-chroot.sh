#!/usr/bin/env bash
# Reproduces WITHOUT obs-velora the crash at exit in obs-websocket's own
# accept race (docs/obs-websocket-exit-race.md) on the OBS of a matrix root
# whose obs-websocket build the gdb script knows (Debian trixie's OBS 30.2.3,
# sid's OBS 32.2.2; stripped builds, so by address): OBS starts in the root
# with a fresh config and no third-party plugin, gdb attaches from the host,
# OBS is asked to quit (SIGINT), and gdb drives its main thread and
# obs-websocket's server thread through the racing interleaving
# (scripts/obs-websocket-stop-race-attach.gdb.py). Prints the race steps, the
# fault and the crashing frames; exits 0 when the SIGSEGV at address 0xa3
# happened, 3 when the root's obs-websocket build is not one the script knows.
#
#   bash scripts/obs-websocket-stop-race-chroot.sh ROOT [OUT_DIR]
#
# ROOT: e.g. /var/cache/obs-velora-matrix/trixie/root (mounted for the
# duration if it is not already). Needs root, gdb, Xvfb, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
root=$(readlink -f "${1:?usage: obs-websocket-stop-race-chroot.sh ROOT [OUT_DIR]}")
out=${2:-$(mktemp -d /tmp/obs-websocket-stop-race.XXXXXX)}
# shellcheck source=matrix/lib.sh
. scripts/matrix/lib.sh
ws_so=$root/usr/lib/x86_64-linux-gnu/obs-plugins/obs-websocket.so
bid=$(readelf -n "$ws_so" 2>/dev/null | awk '/Build ID:/{print $3}')
if [ -z "$bid" ] || ! grep -q "\"$bid\"" scripts/obs-websocket-stop-race-attach.gdb.py; then
    echo "obs-websocket build '${bid:-?}' of $root is not one the gdb script knows" >&2
    exit 3
fi
# shellcheck source=obs-websocket-race-lib.sh
. scripts/obs-websocket-race-lib.sh
race_home "$out"
mounted_here=0
if ! root_mounted "$root"; then
    scripts/matrix/root mount "$root"
    mounted_here=1
fi
race_xvfb "$out"
cleanup() {
    [ -n "${obs_pid:-}" ] && kill -9 "$obs_pid" 2>/dev/null || true
    kill "$xvfb" 2>/dev/null || true
    if [ "$mounted_here" = 1 ]; then scripts/matrix/root umount "$root" >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
[ -z "$(ls "$cfg/plugins" 2>/dev/null)" ] || { echo "a per-user plugin is installed in $cfg/plugins" >&2; exit 2; }
(cd "$out" && HOME=$out/home exec "$repo/scripts/matrix/obs-in-chroot" "$root" --multi --disable-missing-files-check \
    --websocket_port "$port" >"$out/obs.out" 2>&1) &
for _ in $(seq 120); do
    grep -qs "Startup complete\|WebSocketServer::Start" "$cfg"/logs/*.txt && break
    sleep 0.5
done
sleep 3
obs_pid=$(pgrep -f -- "--websocket_port $port" | while read -r p; do
    [ "$(cat /proc/"$p"/comm 2>/dev/null)" = obs ] && echo "$p"; done | head -n1)
[ -n "$obs_pid" ] || { echo "OBS did not start; its log:" >&2; cat "$cfg"/logs/*.txt >&2 || true; exit 2; }
gdb -nx -batch -p "$obs_pid" -ex "set sysroot $root" -ex "set pagination off" \
    -ex "handle SIGINT nostop noprint pass" -ex "handle SIGPIPE nostop noprint pass" \
    -ex "set \$obs_pid = $obs_pid" -ex "source $repo/scripts/obs-websocket-stop-race-attach.gdb.py" \
    -ex "python arm()" -ex continue -ex "python drive()" \
    -ex 'printf "fault address: %p\n", $_siginfo._sifields._sigfault.si_addr' -ex 'x/i $pc' -ex "bt 6" \
    -ex kill >"$out/gdb.log" 2>&1 &
gdb_pid=$!
# gdb is attached (and has armed its breakpoints) once OBS is traced by it.
for _ in $(seq 100); do
    [ "$(awk '/^TracerPid:/{print $2}' /proc/"$obs_pid"/status 2>/dev/null)" = "$gdb_pid" ] && break
    sleep 0.1
done
sleep 1
kill -INT "$obs_pid"
wait "$gdb_pid" || true
obs_pid=""
echo "OBS $(grep -m1 -o 'OBS [0-9.]*' "$cfg"/logs/*.txt | head -n1 || true) in $root; modules it loaded (from its log; no velora):"
awk '/Loaded Modules:/{on=1; next} on && /----/{exit} on{print "  " $NF}' "$cfg"/logs/*.txt | tr '\n' ' '; echo
grep "^race:\|SIGSEGV\|^fault address\|^=> \|^#[0-5] " "$out/gdb.log" | cut -c1-220 || true
echo "(full gdb output: $out/gdb.log)"
grep -q "SIGSEGV" "$out/gdb.log" && grep -q "^fault address: 0xa3" "$out/gdb.log"
