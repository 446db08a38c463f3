#!/usr/bin/env bash
# Builds the Debian package of obs-velora (velora.so, both Qt docks, locale,
# changelog, copyright) with CMake + CPack, on Debian 12 (bookworm):
#
#   bash scripts/build-deb.sh [OUTDIR]      # default OUTDIR: target/deb
#
# Prints the path of obs-velora_<version>_<arch>.deb on stdout (build output
# goes to stderr). Needs what `bash scripts/deps.sh --build-only` installs
# (cmake, g++, qtbase5-dev, qt6-base-dev, libobs-dev, libclang-dev, dpkg-dev)
# and Rust. The core is built with `cargo build --release --locked`.
#
# Install it with `sudo apt-get install ./target/deb/obs-velora_*.deb`; it
# depends on obs-studio (>= 29.0.0). Layout:
#   /usr/lib/<multiarch>/obs-plugins/velora.so
#   /usr/lib/<multiarch>/obs-plugins/velora/velora-dock-qt{5,6}.so
#   /usr/share/obs/obs-plugins/velora/locale/*.ini
#   /usr/share/doc/obs-velora/{changelog.gz,copyright}
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:-$root/target/deb}
build=$root/target/deb-build
jobs=${VELORA_JOBS:-$(nproc 2>/dev/null || echo 2)}

for tool in cmake cpack dpkg-deb dpkg-shlibdeps cargo; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "build-deb: $tool is missing (bash scripts/deps.sh --build-only)" >&2; exit 1; }
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/obs-velora_*.deb

cmake -S "$root" -B "$build" -DVELORA_BUILD_BOTH=ON -DVELORA_USER_INSTALL=OFF \
    -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=Release \
    -DVELORA_CARGO_TARGET_DIR="$root/target" >&2
cmake --build "$build" --parallel "$jobs" >&2
(cd "$build" && cpack -G DEB -B "$out") >&2

deb=$(ls "$out"/obs-velora_*.deb 2>/dev/null | head -n1)
[ -n "$deb" ] || { echo "build-deb: cpack made no .deb in $out" >&2; exit 1; }
# A package for every OBS needs both docks (Qt 5 for OBS 29, Qt 6 for 30+).
contents=$(dpkg-deb -c "$deb")
for f in velora.so velora/velora-dock-qt5.so velora/velora-dock-qt6.so; do
    grep -q "/obs-plugins/$f\$" <<<"$contents" ||
        { echo "build-deb: $deb lacks obs-plugins/$f (qtbase5-dev and qt6-base-dev both installed?)" >&2; exit 1; }
done
rm -rf "$out/_CPack_Packages"
echo "$deb"
