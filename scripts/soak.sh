#!/usr/bin/env bash
# The soak (issue 12): VELORA_SOAK_CYCLES (default 50) cycles of start OBS →
# log in → switch profiles → a tool replaces the service → Use Velora →
# stream 5 s → quit, with GetStatus hammered from two threads throughout, on
# OBS 29 (the host) and on OBS 32 (Debian sid's, in the matrix's chroot).
# Any crash fails the run with its backtrace (target/artifacts/crashes/),
# any hang too. Needs root for the OBS 32 row.
#
#   bash scripts/soak.sh                 # both rows, 50 cycles each
#   VELORA_SOAK_CYCLES=5 bash scripts/soak.sh 29
set -euo pipefail
cd "$(dirname "$0")/.."
cycles=${VELORA_SOAK_CYCLES:-50}
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(29 32)
export VELORA_SOAK_CYCLES=$cycles
out=target/soak
mkdir -p "$out"
cargo build --quiet
bash scripts/build-dock.sh both target >/dev/null
for row in "${rows[@]}"; do
    t0=$SECONDS
    case $row in
    29)
        VELORA_TEST_KEYRING=1 tests/scripts/with-keyring cargo test --quiet --test obs_soak -- --nocapture \
            >"$out/obs-29.log" 2>&1 || { tail -60 "$out/obs-29.log"; echo "soak: OBS 29 FAILED"; exit 1; }
        ;;
    32)
        root=$(bash scripts/matrix/root ensure sid | tail -n1)
        bash scripts/matrix/root mount "$root"
        trap 'bash scripts/matrix/root umount "$root"' EXIT
        VELORA_OBS_CMD="$(pwd)/scripts/matrix/obs-in-chroot $root" VELORA_TEST_KEYRING=1 \
            tests/scripts/with-keyring cargo test --quiet --test obs_soak -- --nocapture \
            >"$out/obs-32.log" 2>&1 || { tail -60 "$out/obs-32.log"; echo "soak: OBS 32 FAILED"; exit 1; }
        bash scripts/matrix/root umount "$root"
        trap - EXIT
        ;;
    *) echo "soak: unknown row $row (29 or 32)" >&2; exit 2 ;;
    esac
    echo "soak: OBS $row: $(grep -h '^soak: [0-9]* cycles' "$out/obs-$row.log") ($((SECONDS - t0)) s)"
done
