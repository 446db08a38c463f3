#!/usr/bin/env bash
# Installs what building (and, by default, testing) obs-velora needs on Debian
# 12 (bookworm) or a Debian-based system, with apt. Idempotent: apt runs only
# when something is missing.
#
#   bash scripts/deps.sh               # build + run the tests (scripts/test.sh, demo)
#   bash scripts/deps.sh --build-only  # only what `cargo build`, the docks and
#                                      # scripts/build-deb.sh need
#   bash scripts/deps.sh --print       # list the packages of the mode, install nothing
#
# As root it runs apt-get itself; otherwise through sudo when there is one,
# else it says which packages to install. Rust is not an apt package here
# (Debian 12's rustc is too old): the script checks for cargo at the end.
set -euo pipefail

mode=all
print=0
for arg in "$@"; do
  case $arg in
    --build-only) mode=build ;;
    --print) print=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "deps: unknown argument $arg (see --help)" >&2; exit 2 ;;
  esac
done

BUILD_PKGS=(
  # the core (bindgen over libobs's headers, keyring over libdbus) and the .deb
  pkg-config libobs-dev libclang-dev clang libdbus-1-dev dpkg-dev binutils
  # the Qt docks
  cmake g++ make qtbase5-dev qt6-base-dev
)
TEST_PKGS=(
  # run and test: OBS, a display, screenshots, input, an RTMP ingest, SRT, keyring
  obs-studio xvfb xauth x11-utils xdotool imagemagick libgl1-mesa-dri
  nginx-light libnginx-mod-rtmp ffmpeg srt-tools tcpdump curl python3 procps
  gnome-keyring dbus dbus-x11
  # crash backtraces of OBS in the tests (core dumps read by gdb)
  gdb
  # screenshots of the dock in Japanese, Korean and Chinese (CJK glyphs)
  fonts-noto-cjk
  # what screen readers hear (AT-SPI bus and a listener: tests/obs_a11y.rs)
  at-spi2-core python3-pyatspi gir1.2-atspi-2.0
  # the compatibility matrix and the package checks (Debian roots, re-linking, lint)
  debootstrap zstd patchelf lintian ca-certificates
)

pkgs=("${BUILD_PKGS[@]}")
[ "$mode" = build ] || pkgs+=("${TEST_PKGS[@]}")

if [ "$print" = 1 ]; then
  printf '%s\n' "${pkgs[@]}"
  exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "deps: missing packages: ${missing[*]}" >&2
    echo "deps: not root and no sudo here: as root, run  apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "deps: installing ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "deps: Rust is missing: curl --proto '=https' -sSf https://sh.rustup.rs | sh -s -- -y  (https://rustup.rs), then open a new shell or run: . \"\$HOME/.cargo/env\"" >&2
  exit 1
fi
echo "deps: ok ($mode)"
