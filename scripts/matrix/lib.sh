# shellcheck shell=bash
# Shared helpers of the OBS compatibility matrix (scripts/matrix.sh,
# scripts/matrix/obs-in-chroot, scripts/matrix/root). Source it; it defines
# functions and a few variables and runs nothing by itself.
#
# Cache layout (VELORA_MATRIX_CACHE, default /var/cache/obs-velora-matrix):
#   <cache>/<release>/root/          the Debian root (debootstrap + OBS)
#   <cache>/<release>/root.tar.zst   a tarball of the finished root (fast restore)
#   <cache>/<release>/stamp          what the root was built from; a different
#                                    stamp (other packages/mirror) rebuilds it
# Inside each root, /etc/velora-matrix/obs-version holds the OBS version.

MATRIX_CACHE=${VELORA_MATRIX_CACHE:-/var/cache/obs-velora-matrix}
MATRIX_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# Packages installed in every root. obs-plugins (obs-websocket, obs-outputs,
# obs-x264 ...) and qt6-qpa-plugins (Qt's xcb platform plugin) are only
# Recommends of obs-studio; libgl1-mesa-dri gives llvmpipe (software GL);
# python3 runs tests/scripts/fake-browser, which OBS starts as $BROWSER from
# inside the root; fonts-dejavu-core so the UI in screenshots has text and
# fonts-noto-cjk so the Japanese dock (obs_picker, row 32) has glyphs, not
# boxes (as on the host: scripts/deps.sh); qt6-svg-plugins so OBS 30+ draws
# its SVG toolbar icons.
MATRIX_PACKAGES="obs-studio obs-plugins qt6-qpa-plugins xauth x11-utils libgl1-mesa-dri \
python3 fonts-dejavu-core fonts-noto-cjk dbus qt6-svg-plugins"
# Debian 12 (bookworm, OBS 29.0.2, Qt 5): obs-studio itself ships
# obs-websocket, obs-outputs and obs-x264, and Qt 5's xcb platform plugin is
# in libqt5gui5 (a dependency). Used by the clean-root package check.
MATRIX_PACKAGES_BOOKWORM="obs-studio xauth x11-utils libgl1-mesa-dri python3 fonts-dejavu-core dbus"

# The packages of RELEASE's root.
packages_for() {
    case $1 in
    bookworm) printf '%s\n' "$MATRIX_PACKAGES_BOOKWORM" ;;
    *) printf '%s\n' "$MATRIX_PACKAGES" ;;
    esac
}
# Bump when the recipe below changes in a way that needs new roots.
MATRIX_RECIPE=2

mlog() { printf 'matrix: %s\n' "$*" >&2; }
mdie() {
    mlog "error: $*"
    exit 1
}

release_dir() { printf '%s/%s\n' "$MATRIX_CACHE" "$1"; }
release_root() { printf '%s/%s/root\n' "$MATRIX_CACHE" "$1"; }

# The Debian mirror of the host's apt sources (deb822 or one-line format).
host_mirror() {
    if [ -n "${VELORA_MATRIX_MIRROR:-}" ]; then
        printf '%s\n' "$VELORA_MATRIX_MIRROR"
        return
    fi
    local m=""
    if compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
        # First URIs of a stanza whose Suites are not *-security.
        m=$(awk '
            /^[[:space:]]*$/ { if (uri != "" && suites !~ /security/) { print uri; exit } uri = ""; suites = ""; next }
            /^URIs:/ { uri = $2 }
            /^Suites:/ { suites = $0 }
            END { if (uri != "" && suites !~ /security/) print uri }
        ' /etc/apt/sources.list.d/*.sources | head -n1)
    fi
    if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
        m=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' \
            /etc/apt/sources.list)
    fi
    printf '%s\n' "${m:-http://deb.debian.org/debian}"
}

# Mount points under DIR (deepest first), from /proc/self/mountinfo.
mounts_under() {
    local dir
    dir=$(readlink -f "$1")
    awk -v d="$dir" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r -u
}

# Unmounts everything under DIR (lazily when busy). Safe to call repeatedly.
umount_under() {
    local dir=$1 m left
    [ -d "$dir" ] || return 0
    for _ in 1 2 3; do
        left=$(mounts_under "$dir")
        [ -n "$left" ] || return 0
        while IFS= read -r m; do
            [ -n "$m" ] || continue
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        done <<<"$left"
    done
    left=$(mounts_under "$dir")
    [ -z "$left" ] || mlog "warning: still mounted: $left"
}

bind_one() { # SRC DST [ro]
    local src=$1 dst=$2
    mkdir -p "$dst"
    mountpoint -q "$dst" && return 0
    mount --bind "$src" "$dst"
    # Private: nothing mounted or unmounted here propagates to the host (on
    # systemd hosts / is a shared mount).
    mount --make-private "$dst"
    if [ "${3:-}" = ro ]; then
        mount -o remount,bind,ro "$dst"
    fi
}

# Plain binds of /proc /sys /dev /dev/pts (/dev/shm) and the host's /tmp into
# ROOT, and the repository at the same path, read-only (tests hand OBS
# $BROWSER=<repo>/tests/scripts/fake-browser).
mount_root() {
    local root=$1
    bind_one /proc "$root/proc"
    bind_one /sys "$root/sys"
    bind_one /dev "$root/dev"
    bind_one /dev/pts "$root/dev/pts"
    if mountpoint -q /dev/shm; then bind_one /dev/shm "$root/dev/shm"; fi
    bind_one /tmp "$root/tmp"
    case $MATRIX_REPO/ in
    /tmp/*) ;; # already visible through the /tmp bind
    *) bind_one "$MATRIX_REPO" "$root$MATRIX_REPO" ro ;;
    esac
}

# Whether ROOT has its mounts (the wrapper refuses to run without them).
root_mounted() {
    mountpoint -q "$1/proc" && mountpoint -q "$1/tmp" && mountpoint -q "$1/dev"
}

# Host tools the matrix needs (debootstrap, zstd, patchelf), installed with apt if missing.
ensure_host_tools() {
    local need=()
    command -v debootstrap >/dev/null || need+=(debootstrap)
    command -v zstd >/dev/null || need+=(zstd)
    command -v mountpoint >/dev/null || need+=(util-linux)
    command -v patchelf >/dev/null || need+=(patchelf)
    if [ ${#need[@]} -gt 0 ]; then
        mlog "installing on the host: ${need[*]}"
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
    fi
}

stamp_for() { # RELEASE
    printf 'recipe=%s\nrelease=%s\nmirror=%s\npackages=%s\n' \
        "$MATRIX_RECIPE" "$1" "$(host_mirror)" "$(packages_for "$1")"
}

# Deletes a root. Refuses while anything is mounted under it: with /tmp or
# /dev bound in, rm -rf would wipe the host's.
remove_root() {
    local root=$1
    [ -e "$root" ] || return 0
    umount_under "$root"
    [ -z "$(mounts_under "$root")" ] || mdie "refusing to delete $root: mounts remain under it"
    rm -rf --one-file-system "$root"
}

# Builds ROOT for RELEASE from scratch (debootstrap + apt). Mounts are left in
# place for the caller (whose trap unmounts them).
build_root() {
    local release=$1 root=$2 mirror
    mirror=$(host_mirror)
    remove_root "$root"
    mkdir -p "$(dirname "$root")"
    local tmp="$root.partial"
    remove_root "$tmp"
    mlog "$release: debootstrap from $mirror"
    debootstrap --variant=minbase --include=ca-certificates "$release" "$tmp" "$mirror" \
        >"$tmp.debootstrap.log" 2>&1 || {
        tail -n 30 "$tmp.debootstrap.log" >&2
        mdie "$release: debootstrap failed (log: $tmp.debootstrap.log)"
    }
    # The archive reachable here is a frozen snapshot past its Valid-Until.
    printf 'Acquire::Check-Valid-Until "false";\n' >"$tmp/etc/apt/apt.conf.d/99no-valid-until"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$tmp/etc/apt/apt.conf.d/99no-recommends"
    # No daemons started by package scripts.
    printf '#!/bin/sh\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
    chmod 755 "$tmp/usr/sbin/policy-rc.d"
    mount_root "$tmp"
    local pkgs
    pkgs=$(packages_for "$release")
    mlog "$release: apt-get install $pkgs"
    if ! chroot "$tmp" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
        sh -c "apt-get update -q && apt-get install -y -q --no-install-recommends $pkgs && apt-get clean" \
        >"$tmp.apt.log" 2>&1; then
        tail -n 30 "$tmp.apt.log" >&2
        umount_under "$tmp"
        mdie "$release: apt-get failed (log: $tmp.apt.log)"
    fi
    local ver
    ver=$(chroot "$tmp" env -i PATH=/usr/bin:/bin dpkg-query -W -f '${Version}' obs-studio)
    mkdir -p "$tmp/etc/velora-matrix"
    printf '%s\n' "$ver" >"$tmp/etc/velora-matrix/obs-version"
    # obs --version must run (shared libraries complete).
    local v
    v=$(chroot "$tmp" env -i PATH=/usr/bin:/bin HOME=/root obs --version 2>&1 | tail -n1) ||
        mdie "$release: 'obs --version' failed inside the root: $v"
    mlog "$release: $v (package $ver)"
    umount_under "$tmp"
    [ -z "$(mounts_under "$tmp")" ] || mdie "$release: could not unmount $tmp"
    mv "$tmp" "$root"
    rm -f "$tmp.debootstrap.log" "$tmp.apt.log"
}

# Writes RELEASE's tarball from its (unmounted) root.
pack_root() {
    local release=$1 root=$2 tarball=$3
    [ -z "$(mounts_under "$root")" ] || mdie "refusing to pack $root while mounted"
    mlog "$release: packing $tarball"
    tar -C "$root" --numeric-owner --xattrs -cf - . | zstd -q -T0 -3 -o "$tarball.tmp" -f
    mv "$tarball.tmp" "$tarball"
}

unpack_root() {
    local release=$1 root=$2 tarball=$3
    remove_root "$root"
    mkdir -p "$root"
    mlog "$release: restoring $root from $tarball"
    zstd -q -d -c "$tarball" | tar -C "$root" --numeric-owner --xattrs -xf - || {
        remove_root "$root"
        return 1
    }
}

# Makes RELEASE's root ready (reuse, restore from the tarball, or build).
# Prints the root's path.
ensure_root() {
    local release=$1 dir root tarball stamp want
    dir=$(release_dir "$release")
    root="$dir/root"
    tarball="$dir/root.tar.zst"
    stamp="$dir/stamp"
    want=$(stamp_for "$release")
    mkdir -p "$dir"
    umount_under "$dir"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        if [ -x "$root/usr/bin/obs" ] && [ -f "$root/etc/velora-matrix/obs-version" ]; then
            mlog "$release: reusing $root"
            printf '%s\n' "$root"
            return
        fi
        if [ -f "$tarball" ] && unpack_root "$release" "$root" "$tarball" &&
            [ -x "$root/usr/bin/obs" ] && [ -f "$root/etc/velora-matrix/obs-version" ]; then
            printf '%s\n' "$root"
            return
        fi
    fi
    rm -f "$stamp" "$tarball"
    build_root "$release" "$root"
    if [ "${VELORA_MATRIX_TARBALL:-1}" != 0 ]; then
        pack_root "$release" "$root" "$tarball"
    fi
    printf '%s\n' "$want" >"$stamp"
    printf '%s\n' "$root"
}

# OBS's version inside ROOT (Debian package version, e.g. 30.2.3+dfsg-3).
root_obs_version() {
    local root=$1
    if [ -f "$root/etc/velora-matrix/obs-version" ]; then
        cat "$root/etc/velora-matrix/obs-version"
    else
        dpkg-query --admindir="$root/var/lib/dpkg" -W -f '${Version}' obs-studio 2>/dev/null
    fi
}

# --- the upstream-layout root ------------------------------------------------
# OBS's own CMake gives libobs and the frontend API the soname .so.30 (30 for
# OBS 30, 31 and 32): that is what the obsproject PPA, Flathub and source
# builds run. Debian renames it .so.0 and adds a .so.30 link. This root is a
# copy of the sid root re-linked to upstream's names with patchelf: the
# libraries are called libobs.so.30 / libobs-frontend-api.so.30 (soname and
# file), every ELF that needed .so.0 now needs .so.30, and no .so.0 of them
# exists at all. libobs-opengl is left alone (libobs dlopens it by name).
# (Upstream 30.2+ also installs a libobs.so.0 compat link; 30.0/30.1 and
# packagers who drop it do not: this root is the strict case.)
UPSTREAM_RECIPE=1
UPSTREAM_RELINKED="libobs libobs-frontend-api"

upstream_dir() { printf '%s/sid-upstream\n' "$MATRIX_CACHE"; }

# Re-links ROOT (unmounted) in place; fails loudly if anything still names .so.0.
relink_upstream() {
    local root=$1 lib name real new f
    lib=$(dirname "$(find "$root/usr/lib" -name 'libobs.so.0' | head -n1)")
    [ -d "$lib" ] && [ "$lib" != . ] || mdie "relink: no libobs.so.0 under $root/usr/lib"
    for name in $UPSTREAM_RELINKED; do
        real=$(readlink -f "$lib/$name.so.0")
        [ -f "$real" ] || mdie "relink: $lib/$name.so.0 does not resolve to a file"
        new="$lib/$name.so.30.relinked"
        cp -p "$real" "$new"
        patchelf --set-soname "$name.so.30" "$new"
        # Every name of it goes: the .so.0 link or file, the old .so.30 link,
        # the versioned file they pointed at.
        rm -f "$lib/$name.so.0" "$lib/$name.so.30" "$real"
        mv "$new" "$lib/$name.so.30"
    done
    # Every ELF under /usr that needed the .so.0 names.
    while IFS= read -r -d '' f; do
        head -c 4 "$f" 2>/dev/null | grep -q 'ELF' || continue
        local needs
        needs=$(patchelf --print-needed "$f" 2>/dev/null) || continue
        for name in $UPSTREAM_RELINKED; do
            if grep -qx "$name.so.0" <<<"$needs"; then
                patchelf --replace-needed "$name.so.0" "$name.so.30" "$f"
            fi
        done
    done < <(find "$root/usr" -type f \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) -print0)
    chroot "$root" /sbin/ldconfig
    # Checks: no .so.0 of them anywhere, nothing needs one, the soname is .so.30.
    local left
    left=$(find "$root" -xdev \( -name 'libobs.so.0*' -o -name 'libobs-frontend-api.so.0*' \) | head -n5)
    [ -z "$left" ] || mdie "relink: still there: $left"
    for name in $UPSTREAM_RELINKED; do
        patchelf --print-soname "$lib/$name.so.30" | grep -qx "$name.so.30" || mdie "relink: soname of $name"
    done
    left=$(find "$root/usr" -type f \( -name '*.so*' -o -perm -u+x \) -exec sh -c \
        'patchelf --print-needed "$1" 2>/dev/null | grep -qE "^libobs(-frontend-api)?\.so\.0$" && echo "$1"' _ {} \; | head -n5)
    [ -z "$left" ] || mdie "relink: still needing .so.0: $left"
    if chroot "$root" /sbin/ldconfig -p | grep -qE 'libobs(-frontend-api)?\.so\.0 '; then
        mdie "relink: the loader cache still knows a .so.0"
    fi
}

# Makes the upstream-layout root ready (reuse or rebuild from the sid root);
# prints its path. The sid root must exist and be unmounted or mounted (it is
# only read).
ensure_upstream_root() {
    local sid dir root stamp want
    sid=$(release_root sid)
    [ -x "$sid/usr/bin/obs" ] || mdie "upstream: the sid root is missing (ensure_root sid first)"
    dir=$(upstream_dir)
    root=$dir/root
    stamp=$dir/stamp
    want="$(cat "$(release_dir sid)/stamp")
upstream=$UPSTREAM_RECIPE"
    mkdir -p "$dir"
    umount_under "$dir"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$root/usr/bin/obs" ]; then
        mlog "upstream: reusing $root"
        printf '%s\n' "$root"
        return
    fi
    rm -f "$stamp"
    remove_root "$root"
    remove_root "$root.partial"
    mlog "upstream: copying the sid root and re-linking libobs to upstream's sonames"
    # Only the root's own files (not what is mounted into it).
    mkdir -p "$root.partial"
    tar -C "$sid" --one-file-system --numeric-owner --xattrs -cf - . | tar -C "$root.partial" --numeric-owner --xattrs -xf -
    relink_upstream "$root.partial"
    mount_root "$root.partial"
    local v
    v=$(chroot "$root.partial" env -i PATH=/usr/bin:/bin HOME=/root obs --version 2>&1 | tail -n1) || {
        umount_under "$root.partial"
        mdie "upstream: 'obs --version' fails after re-linking: $v"
    }
    umount_under "$root.partial"
    mlog "upstream: $v runs with libobs.so.30 only"
    mv "$root.partial" "$root"
    printf '%s\n' "$want" >"$stamp"
    printf '%s\n' "$root"
}

# --- throw-away overlays -------------------------------------------------------
# overlay_root LOWER NAME: a writable view of LOWER at
# <cache>/overlays/NAME/merged (overlayfs; upper and work directories beside
# it), so a test may install and remove packages without changing the cached
# root. Any earlier overlay of that NAME is dropped first. Prints the path.
overlay_dir() { printf '%s/overlays/%s\n' "$MATRIX_CACHE" "$1"; }

overlay_root() {
    local lower=$1 name=$2 d
    d=$(overlay_dir "$name")
    drop_overlay "$name"
    mkdir -p "$d/upper" "$d/work" "$d/merged"
    mount -t overlay "velora-$name" -o "lowerdir=$lower,upperdir=$d/upper,workdir=$d/work" "$d/merged" ||
        mdie "overlay $name: mount failed (overlayfs)"
    mount --make-private "$d/merged"
    printf '%s\n' "$d/merged"
}

drop_overlay() {
    local d
    d=$(overlay_dir "$1")
    [ -e "$d" ] || return 0
    kill_in_root "$(readlink -f "$d/merged")"
    umount_under "$d"
    [ -z "$(mounts_under "$d")" ] || mdie "refusing to delete $d: mounts remain under it"
    rm -rf --one-file-system "$d"
}

# Processes whose root is ROOT (OBS, fake-browser left behind).
kill_in_root() {
    local root=$1 p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null || true
    done
}

# install_ca ROOT PEM: PEM becomes a CA the root's system trusts
# (/usr/local/share/ca-certificates + update-ca-certificates).
install_ca() {
    local root=$1 pem=$2
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp "$pem" "$root/usr/local/share/ca-certificates/velora-matrix-test-ca.crt"
    chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin update-ca-certificates >/dev/null ||
        mdie "update-ca-certificates failed in $root"
    grep -q "$(sed -n 2p "$pem")" "$root/etc/ssl/certs/ca-certificates.crt" ||
        mdie "the CA did not reach $root/etc/ssl/certs/ca-certificates.crt"
}
