#!/usr/bin/env bash
# Installs what building, running and testing obs-velora needs on Debian 12
# (bookworm). Idempotent: apt runs only when something is missing.
set -euo pipefail

PKGS=(
  # build
  pkg-config libobs-dev libclang-dev clang cmake libdbus-1-dev qtbase5-dev qt6-base-dev
  # run and test: OBS, a display, screenshots, input, an RTMP ingest, SRT, keyring
  obs-studio xvfb xauth x11-utils xdotool imagemagick libgl1-mesa-dri
  nginx-light libnginx-mod-rtmp ffmpeg srt-tools tcpdump curl python3
  gnome-keyring dbus dbus-x11
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "deps: Rust (cargo) is missing: install it with rustup (https://rustup.rs), then run this again" >&2
  exit 1
fi
echo "deps: ok"
