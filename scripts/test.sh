#!/usr/bin/env bash
# The one test command (README, CI): installs dependencies, checks formatting
# and lints, builds, and runs every test: unit, sandbox, API contract, login,
# headless libobs and real OBS under Xvfb with nginx-rtmp and a real keyring.
set -euo pipefail
cd "$(dirname "$0")/.."

t0=$SECONDS
step() { printf '\n=== %s (t+%ss)\n' "$*" "$((SECONDS - t0))"; }

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

# Tests start their own Xvfb, OBS, nginx and sandbox; the login tests use a
# private D-Bus session with an unlocked gnome-keyring.
step "cargo test"
unset DISPLAY WAYLAND_DISPLAY
VELORA_TEST_KEYRING=1 tests/scripts/with-keyring cargo test --workspace -- --test-threads=2

step "done in $((SECONDS - t0))s"
