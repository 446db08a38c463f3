#!/usr/bin/env bash
# The one test command (README, CI): installs dependencies, checks formatting
# and lints, builds, and runs every test: unit, sandbox, API contract, login,
# headless libobs and real OBS under Xvfb with nginx-rtmp and a real keyring
# (streaming, faults, exit, races, a short soak), the headless demo and the
# fuzz targets; then (as root) the .deb and the compatibility matrix: OBS 30
# and 32, the upstream-layout OBS, the Flatpak layout, HTTPS with a CA in the
# system store, and the package installed into clean Debian 12, trixie and
# sid roots.
set -euo pipefail
cd "$(dirname "$0")/.."

t0=$SECONDS
cur=""
cur_t0=0
timings=()
step() {
    [ -z "$cur" ] || timings+=("$(printf '%-58s %5ss' "$cur" "$((SECONDS - cur_t0))")")
    cur=$*
    cur_t0=$SECONDS
    printf '\n=== %s (t+%ss)\n' "$*" "$((SECONDS - t0))"
}
summary() {
    step ""
    printf '\n=== timings\n'
    printf '  %s\n' "${timings[@]}"
    printf '  %-58s %5ss\n' total "$((SECONDS - t0))"
}
trap summary EXIT

step "dependencies"
bash scripts/deps.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo build"
cargo build --workspace

step "Qt docks (Qt 5 and Qt 6)"
bash scripts/build-dock.sh both target

step "the .deb (scripts/build-deb.sh: release build, CPack) and lintian"
deb=$(bash scripts/build-deb.sh)
lintian --allow-root --fail-on error,warning "$deb"
echo "lintian: clean"

# Tests start their own Xvfb, OBS, nginx and sandbox; the login tests use a
# private D-Bus session with an unlocked gnome-keyring. This is row 29 of the
# compatibility matrix (the host's OBS 29.0.2) and everything without OBS.
step "cargo test"
unset DISPLAY WAYLAND_DISPLAY
VELORA_TEST_KEYRING=1 tests/scripts/with-keyring cargo test --workspace -- --test-threads=2

# What a new user runs first: the whole flow, unattended, in real OBS with
# the sandbox and nginx-rtmp (release build, like the README's command).
# Free ports, so it never collides with a sandbox or ingest already running.
step "headless demo (VELORA_DEMO_HEADLESS=1 bash scripts/demo.sh)"
VELORA_DEMO_HEADLESS=1 VELORA_SANDBOX_PORT=0 VELORA_RTMP_PORT=0 bash scripts/demo.sh

# Everything the plugin reads from outside, fuzzed for a bounded time
# (FUZZ_SECS per target, default 30; `bash scripts/fuzz.sh` alone for longer).
step "fuzz (${FUZZ_SECS:-30} s a target)"
bash scripts/fuzz.sh

# The same real-OBS tests on OBS 30.2 (Debian trixie) and 32.2 (sid), on
# 32.2 re-linked to upstream's sonames, from the Flatpak extension's layout,
# over HTTPS, and the .deb in clean roots, in debootstrap chroots (see
# docs/matrix.md). Needs root.
step "compatibility matrix: 30, 32, upstream, flatpak, https, deb (bookworm, trixie, sid)"
if [ "$(id -u)" -eq 0 ]; then
    bash scripts/matrix.sh --rows 30,32,upstream,flatpak,https,deb --no-build
else
    echo "skipped: the matrix needs root for debootstrap, chroot and mounts (sudo bash scripts/matrix.sh)"
fi

step "done"
