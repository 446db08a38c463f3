#!/usr/bin/env bash
# Builds only the Qt dock libraries (no cargo), with CMake, out of the source
# tree:
#
#   scripts/build-dock.sh [5|6|both] [OUTDIR]
#
# Qt 5 -> OUTDIR/dock-qt5/velora-dock-qt5.so, Qt 6 -> OUTDIR/dock-qt6/velora-dock-qt6.so.
# OUTDIR defaults to <repo>/target; the default variant is "both". Prints the
# built libraries' paths on stdout (build output goes to stderr).
# Needs cmake, g++ and qtbase5-dev / qt6-base-dev (scripts/deps.sh).
# Environment: CMAKE_BUILD_TYPE (Release), VELORA_JOBS (nproc), VELORA_WERROR (OFF).
set -euo pipefail

usage() { echo "usage: $0 [5|6|both] [OUTDIR]" >&2; exit 2; }

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
variant=${1:-both}
out=${2:-$root/target}
[ $# -le 2 ] || usage
case $variant in
  5) majors=(5) ;;
  6) majors=(6) ;;
  both) majors=(5 6) ;;
  -h|--help) usage ;;
  *) usage ;;
esac

command -v cmake >/dev/null 2>&1 || { echo "build-dock: cmake is missing (apt-get install cmake)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
jobs=${VELORA_JOBS:-$(nproc 2>/dev/null || echo 2)}

for qt in "${majors[@]}"; do
  dir=$out/dock-qt$qt
  echo "build-dock: Qt $qt -> $dir" >&2
  args=(-DVELORA_QT="$qt" -DVELORA_BUILD_BOTH=OFF -DVELORA_BUILD_CORE=OFF
    -DVELORA_WERROR="${VELORA_WERROR:-OFF}" -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}")
  # Configure once per set of options; later builds only run the (incremental)
  # build, which re-configures by itself when a CMake file changed.
  if [ ! -f "$dir/CMakeCache.txt" ] || [ "$(cat "$dir/.configured-with" 2>/dev/null)" != "${args[*]}" ]; then
    cmake -S "$root" -B "$dir" "${args[@]}" >&2
    printf '%s' "${args[*]}" > "$dir/.configured-with"
  fi
  cmake --build "$dir" --target "velora-dock-qt$qt" --parallel "$jobs" >&2
  lib=$dir/velora-dock-qt$qt.so
  [ -f "$lib" ] || { echo "build-dock: $lib was not built" >&2; exit 1; }
  echo "$lib"
done
