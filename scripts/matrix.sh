#!/usr/bin/env bash
# OBS compatibility matrix (issues 9 and 13): builds the plugin, both Qt docks
# and the .deb once, then runs the real-OBS tests in every row and writes
# target/matrix/results.md (plus one log per row). Rows:
#
#   29            OBS 29.0.2 / Qt 5: the host's (Debian 12) obs-studio
#   30            OBS 30.2.3 / Qt 6: Debian trixie, in a chroot
#   32            OBS 32.2.2 / Qt 6: Debian sid, in a chroot
#   upstream      OBS 32.2.2 re-linked to upstream's sonames: only
#                 libobs.so.30 / libobs-frontend-api.so.30, no .so.0 at all
#   flatpak       the upstream-layout OBS loading the plugin from a Flatpak
#                 extension tree (/app/plugins/…) through OBS_PLUGINS_PATH /
#                 OBS_PLUGINS_DATA_PATH
#   https         OBS 32.2.2 with the sandbox serving HTTPS; a throw-away CA
#                 installed into the root's system store (update-ca-certificates)
#   deb-bookworm  the .deb installed with apt into clean roots (an overlay of
#   deb-trixie    the cached root: nothing reaches the cache), OBS started
#   deb-sid       without a per-user copy, then apt-get remove (tests/obs_package.rs)
#
# (1-3: the real-OBS test binaries obs_e2e, obs_login, obs_stream, obs_exit,
# obs_session, obs_races, obs_settings_page;
# https: obs_login and obs_stream; deb-*: obs_package.)
#
#   bash scripts/matrix.sh [--rows all|LIST] [--no-build] [--rebuild-roots]
#
# LIST is comma-separated row names; `deb` stands for the three deb rows.
# Roots are built once with debootstrap (about 80 s each) and reused from
# ${VELORA_MATRIX_CACHE:-/var/cache/obs-velora-matrix}/<release>/ (with a zstd
# tarball for a fast restore); see docs/matrix.md. Needs root (chroot, mount).
# Environment: VELORA_MATRIX_CACHE, VELORA_MATRIX_MIRROR (default: the host's
# apt mirror), VELORA_MATRIX_ROW_TIMEOUT (s, default 900), VELORA_MATRIX_TARBALL
# (0: keep no tarball), VELORA_MATRIX_TESTS (test binaries to run in every row
# instead of its own list). Exit status 0 only when every row passed.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=matrix/lib.sh
. scripts/matrix/lib.sh

ALL_ROWS=(29 30 32 upstream flatpak https deb-bookworm deb-trixie deb-sid)
rows_wanted=all
do_build=1
rebuild=0
while [ $# -gt 0 ]; do
    case $1 in
    --rows) rows_wanted=$2; shift 2 ;;
    --rows=*) rows_wanted=${1#--rows=}; shift ;;
    --no-build) do_build=0; shift ;;
    --rebuild-roots) rebuild=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "matrix: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || mdie "needs root (debootstrap, chroot, mounts)"

# Rows: the root they run in (a Debian release, "upstream", or "host"),
# whether a throw-away overlay of it is used, the test binaries, extra
# environment and test arguments, and how the table describes them.
TESTS_OBS="obs_e2e obs_login obs_stream obs_exit obs_session obs_races obs_settings_page"
declare -A ROW_BASE=([29]=host [30]=trixie [32]=sid [upstream]=upstream [flatpak]=upstream [https]=sid
    [deb-bookworm]=bookworm [deb-trixie]=trixie [deb-sid]=sid)
declare -A ROW_OVERLAY=([https]=1 [deb-bookworm]=1 [deb-trixie]=1 [deb-sid]=1)
# Row 32 also runs the dock's picker, checklist and languages on Qt 6 (its
# screenshots: target/artifacts/matrix-32/picker-*, lang-*: every row's
# tests see VELORA_TEST_ROW and keep their screenshots and crash backtraces
# in target/artifacts/matrix-<row>/).
declare -A ROW_TESTS=([32]="$TESTS_OBS obs_picker" [https]="obs_login obs_stream" [deb-bookworm]=obs_package [deb-trixie]=obs_package
    [deb-sid]=obs_package)
declare -A ROW_WHERE=([29]="host (Debian 12)" [30]="Debian trixie chroot" [32]="Debian sid chroot"
    [upstream]="sid chroot re-linked to upstream's sonames (libobs.so.30 only)"
    [flatpak]="Flatpak extension tree via OBS_PLUGINS_PATH, upstream-layout root"
    [https]="sid chroot, sandbox over HTTPS, CA in the system store"
    [deb-bookworm]="clean bookworm root, .deb via apt" [deb-trixie]="clean trixie root, .deb via apt"
    [deb-sid]="clean sid root, .deb via apt")
# VELORA_MATRIX_TESTS (space- or comma-separated test binaries) replaces
# every row's own list: for re-running one test on the rows while fixing it.
tests_of() {
    if [ -n "${VELORA_MATRIX_TESTS:-}" ]; then
        printf '%s\n' "${VELORA_MATRIX_TESTS//,/ }"
    else
        printf '%s\n' "${ROW_TESTS[$1]:-$TESTS_OBS}"
    fi
}

rows=()
IFS=, read -r -a wanted <<<"$rows_wanted"
for r in "${wanted[@]}"; do
    case $r in
    all) rows+=("${ALL_ROWS[@]}") ;;
    deb) rows+=(deb-bookworm deb-trixie deb-sid) ;;
    *)
        [ -n "${ROW_BASE[$r]:-}" ] || mdie "unknown row '$r' (known: ${ALL_ROWS[*]}, deb, all)"
        rows+=("$r")
        ;;
    esac
done
need_deb=0 need_upstream=0 need_tls=0
releases=()
for r in "${rows[@]}"; do
    case $r in deb-*) need_deb=1 ;; https) need_tls=1 ;; esac
    b=${ROW_BASE[$r]}
    [ "$b" = upstream ] && need_upstream=1 && b=sid
    [ "$b" = host ] && continue
    case " ${releases[*]-} " in *" $b "*) ;; *) releases+=("$b") ;; esac
done

out=$repo/target/matrix
mkdir -p "$out"
t_start=$SECONDS
timings=()
step_t0=0
step() {
    step_t0=$SECONDS
    printf '\n=== %s (t+%ss)\n' "$*" "$((SECONDS - t_start))" >&2
}
step_done() { timings+=("$(printf '%-40s %4ss' "$1" "$((SECONDS - step_t0))")"); }

# --- mounts: none may outlive this script ----------------------------------
cleanup() {
    local r
    # OBS (or anything) still running inside a root: ours, or a killed run's.
    for r in "$MATRIX_CACHE"/*/root "$MATRIX_CACHE"/overlays/*/merged; do
        [ -d "$r" ] && kill_in_root "$(readlink -f "$r")"
    done
    # Everything under the cache: ours, and leftovers of a killed run.
    umount_under "$MATRIX_CACHE"
}
row_pid=""
on_signal() {
    trap - INT TERM
    mlog "interrupted: stopping the tests, unmounting"
    if [ -n "$row_pid" ]; then
        kill -TERM -- "-$row_pid" 2>/dev/null || kill -TERM "$row_pid" 2>/dev/null || true
        sleep 2
        kill -KILL -- "-$row_pid" 2>/dev/null || true
    fi
    cleanup
    exit 130
}
mkdir -p "$MATRIX_CACHE"
# One matrix at a time (the cleanup unmounts everything under the cache). The
# lock is taken before any trap exists; fd 9 is closed for every child
# (9>&-), so processes left over by a killed run do not keep it.
exec 9>"$MATRIX_CACHE/.lock"
flock -n 9 || mdie "another scripts/matrix.sh holds $MATRIX_CACHE/.lock"
trap cleanup EXIT
trap on_signal INT TERM
if [ -n "$(mounts_under "$MATRIX_CACHE" 2>/dev/null)" ]; then
    mlog "unmounting leftovers of an earlier run under $MATRIX_CACHE"
fi
cleanup
# Overlays of a killed run (drop_overlay refuses to delete anything that is
# still mounted: with /tmp bound in, rm -rf would reach the host's).
for d in "$MATRIX_CACHE"/overlays/*/; do
    [ -d "$d" ] && drop_overlay "$(basename "$d")"
done

# --- host tools --------------------------------------------------------------
step "host dependencies"
bash scripts/deps.sh >&2
ensure_host_tools
step_done "host dependencies"

# --- build ---------------------------------------------------------------------
all_tests=()
for r in "${rows[@]}"; do
    for t in $(tests_of "$r"); do
        case " ${all_tests[*]-} " in *" $t "*) ;; *) all_tests+=("$t") ;; esac
    done
done
if [ "$do_build" = 1 ]; then
    step "cargo build --workspace"
    cargo build --workspace >&2 9>&-
    step_done "cargo build"

    step "Qt docks (scripts/build-dock.sh both)"
    bash scripts/build-dock.sh both >&2 9>&-
    step_done "build-dock.sh both"

    step "compile the test binaries"
    test_args=()
    for t in "${all_tests[@]}"; do test_args+=(--test "$t"); done
    cargo test --no-run "${test_args[@]}" >&2 9>&-
    step_done "cargo test --no-run"

    if [ "$need_deb" = 1 ]; then
        step "the .deb (scripts/build-deb.sh)"
        bash scripts/build-deb.sh >&2 9>&-
        step_done "build-deb.sh"
    fi
fi
for f in target/debug/libvelora.so target/dock-qt5/velora-dock-qt5.so target/dock-qt6/velora-dock-qt6.so \
    target/debug/velora-sandbox; do
    [ -f "$f" ] || mdie "$f is missing (run without --no-build)"
done
deb=""
if [ "$need_deb" = 1 ]; then
    deb=$(ls "$repo"/target/deb/obs-velora_*.deb 2>/dev/null | head -n1)
    [ -n "$deb" ] || mdie "target/deb/obs-velora_*.deb is missing (run without --no-build, or scripts/build-deb.sh)"
fi

# --- roots -----------------------------------------------------------------------
declare -A REL_ROOT=()
for rel in "${releases[@]}"; do
    step "Debian $rel root"
    if [ "$rebuild" = 1 ]; then
        remove_root "$(release_root "$rel")"
        rm -f "$(release_dir "$rel")/stamp" "$(release_dir "$rel")/root.tar.zst"
    fi
    REL_ROOT[$rel]=$(ensure_root "$rel" 9>&-)
    step_done "root $rel"
done
if [ "$need_upstream" = 1 ]; then
    step "upstream-layout root (sid re-linked)"
    if [ "$rebuild" = 1 ]; then
        remove_root "$(upstream_dir)/root"
        rm -f "$(upstream_dir)/stamp"
    fi
    REL_ROOT[upstream]=$(ensure_upstream_root 9>&-)
    step_done "root upstream"
fi
if [ "$need_tls" = 1 ]; then
    # A throw-away CA and a certificate for 127.0.0.1, made now (rcgen, in the
    # sandbox binary); the https row installs ca.pem into its root's store.
    rm -rf "$out/tls"
    target/debug/velora-sandbox --tls-init "$out/tls" >&2 9>&-
fi

# --- rows --------------------------------------------------------------------------
qt_of() { # dpkg admindir, package glob -> "5.15.8" / "6.8.2"
    dpkg-query --admindir="$1" -W -f '${Package} ${Version}\n' "$2" 2>/dev/null |
        awk 'NF == 2 && $2 != "" { sub(/\+.*/, "", $2); sub(/-.*/, "", $2); print $2; exit }'
}

declare -A ROW_OBS ROW_QT ROW_STATUS ROW_SECS ROW_PASSED ROW_FAILED
declare -A RESULT # "row|binary::test" -> ok / FAILED / ignored
result_keys=()
failed_rows=0
for r in "${rows[@]}"; do
    base=${ROW_BASE[$r]}
    step "row $r: ${ROW_WHERE[$r]}"
    env_row=()
    test_extra=()
    root=""
    if [ "$base" = host ]; then
        ROW_OBS[$r]=$(dpkg-query -W -f '${Version}' obs-studio)
        ROW_QT[$r]=$(qt_of /var/lib/dpkg 'libqt5core5*')
    else
        root=${REL_ROOT[$base]}
        if [ -n "${ROW_OVERLAY[$r]:-}" ]; then
            root=$(overlay_root "$root" "$r")
        fi
        [ -n "$root" ] && [ -x "$root/usr/bin/obs" ] || mdie "row $r: no usable root ('$root')"
        mount_root "$root"
        ROW_OBS[$r]=$(root_obs_version "$root")
        case ${ROW_OBS[$r]} in
        29.*) ROW_QT[$r]=$(qt_of "$root/var/lib/dpkg" 'libqt5core5*') ;;
        *) ROW_QT[$r]=$(qt_of "$root/var/lib/dpkg" 'libqt6core6*') ;;
        esac
        env_row+=("VELORA_OBS_CMD=$repo/scripts/matrix/obs-in-chroot $root")
    fi
    env_row+=("VELORA_TEST_ROW=$r")
    case $r in
    upstream) env_row+=(VELORA_TEST_ARTIFACT_TAG=upstream) ;;
    flatpak) env_row+=(VELORA_TEST_LAYOUT=flatpak VELORA_TEST_ARTIFACT_TAG=flatpak) ;;
    https)
        install_ca "$root" "$out/tls/ca.pem"
        # The sandboxes serve HTTPS with the CA's certificate. The test process
        # on the host trusts the CA too (its own HTTP clients, and the
        # velora::api::Client some tests use to act "from elsewhere"), through
        # SSL_CERT_FILE; OBS in the root never sees that variable
        # (obs-in-chroot passes a fixed list) and trusts it through the
        # root's store only.
        env_row+=("VELORA_TEST_TLS_DIR=$out/tls" "SSL_CERT_FILE=$out/tls/ca.pem")
        ;;
    deb-*)
        env_row+=("VELORA_TEST_ROOT=$root" "VELORA_TEST_DEB=$deb")
        test_extra+=(--ignored)
        ;;
    esac
    log=$out/obs-$r.log
    test_args=()
    for t in $(tests_of "$r"); do test_args+=(--test "$t"); done
    rc=0
    # As scripts/test.sh: private Xvfb per test, private D-Bus session with an
    # unlocked gnome-keyring (its socket is under /tmp, so OBS in a chroot
    # reaches it through the /tmp bind).
    # `timeout` makes its own process group (a terminal's Ctrl-C does not
    # reach it): run it in the background and wait, so that the INT/TERM trap
    # runs at once and ends the whole group (row_pid).
    env -u DISPLAY -u WAYLAND_DISPLAY "${env_row[@]}" VELORA_TEST_KEYRING=1 \
        timeout -k 30 "${VELORA_MATRIX_ROW_TIMEOUT:-900}" \
        tests/scripts/with-keyring cargo test --no-fail-fast "${test_args[@]}" -- --test-threads=2 \
        "${test_extra[@]}" </dev/null >"$log" 2>&1 9>&- &
    row_pid=$!
    wait "$row_pid" || rc=$?
    row_pid=""
    ROW_SECS[$r]=$((SECONDS - step_t0))
    if [ -n "${ROW_OVERLAY[$r]:-}" ]; then
        drop_overlay "$r"
    fi
    # "Running tests/obs_e2e.rs (...)" then "test name ... ok"
    passed=0 failed=0
    while IFS='|' read -r bin name res; do
        key="$bin::$name"
        RESULT["$r|$key"]=$res
        case " ${result_keys[*]-} " in *" $key "*) ;; *) result_keys+=("$key") ;; esac
        case $res in ok) passed=$((passed + 1)) ;; FAILED) failed=$((failed + 1)) ;; esac
    done < <(awk '
        /^ *Running tests\// { b = $2; sub(/^tests\//, "", b); sub(/\.rs$/, "", b) }
        /^test .* \.\.\. (ok|FAILED|ignored)/ { n = $2; r = $NF; print b "|" n "|" r }
    ' "$log")
    ROW_PASSED[$r]=$passed
    ROW_FAILED[$r]=$failed
    if [ "$rc" = 0 ] && [ "$failed" = 0 ] && [ "$passed" -gt 0 ]; then
        ROW_STATUS[$r]=pass
    else
        ROW_STATUS[$r]=FAIL
        failed_rows=$((failed_rows + 1))
        [ "$rc" = 124 ] && ROW_STATUS[$r]="FAIL (timeout)"
        mlog "row $r failed (exit $rc): see $log"
        grep -E '^test .* FAILED|panicked at|^---- ' "$log" | head -n 20 >&2 || true
        # Why, in a form that survives a CI summary: each failure's message
        # (its first lines; for a crash, every thread's top frame and the
        # frames of ours, of a module's unload and of obs-websocket's server).
        awk -v r="$r" '
            /panicked at/ { n = 6; next }
            n > 0 { n--; if ($0 != "") print "matrix: row " r ": why: " substr($0, 1, 300); next }
            /^#0 / || /^#[0-9]+ .*(velora\.so|velora-dock|velora::|obs_module_unload|WebSocketServer::)/ { print "matrix: row " r ": frame: " substr($0, 1, 300) }
        ' "$log" | head -n 60 >&2 || true
    fi
    mlog "row $r: ${ROW_STATUS[$r]}, $passed passed, $failed failed, ${ROW_SECS[$r]} s"
    step_done "row $r (OBS ${ROW_OBS[$r]%%+*})"
done

# --- report ------------------------------------------------------------------------
cleanup
res=$out/results.md
{
    echo "# OBS compatibility matrix"
    echo
    echo "Run $(date -u '+%Y-%m-%d %H:%M UTC') on $(. /etc/os-release && echo "$PRETTY_NAME") ($(uname -m)),"
    echo "obs-velora $(git -C "$repo" describe --always --dirty 2>/dev/null || echo '?'), by \`bash scripts/matrix.sh\`."
    if [ -n "${VELORA_MATRIX_TESTS:-}" ]; then
        echo "Only these tests ran in every row (VELORA_MATRIX_TESTS): ${VELORA_MATRIX_TESTS}."
    fi
    echo
    echo "| row | OBS | Qt | where | dock | result | passed | failed | time |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for r in "${rows[@]}"; do
        echo "| $r | ${ROW_OBS[$r]} | ${ROW_QT[$r]} | ${ROW_WHERE[$r]} | velora-dock-qt${ROW_QT[$r]%%.*}.so | ${ROW_STATUS[$r]} | ${ROW_PASSED[$r]} | ${ROW_FAILED[$r]} | ${ROW_SECS[$r]} s |"
    done
    echo
    printf '| test |'
    for r in "${rows[@]}"; do printf ' %s |' "$r"; done
    echo
    printf '|---|'
    for _ in "${rows[@]}"; do printf -- '---|'; done
    echo
    for key in "${result_keys[@]}"; do
        printf '| `%s` |' "$key"
        for r in "${rows[@]}"; do
            v=${RESULT["$r|$key"]:-–}
            case $v in ok) v=pass ;; FAILED) v="**FAIL**" ;; esac
            printf ' %s |' "$v"
        done
        echo
    done
    echo
    echo "Logs: \`target/matrix/obs-<row>.log\` (cargo test output); screenshots:"
    echo "\`target/artifacts/matrix-<row>/\` (e.g. \`obs-<major>-plugin-loaded[-upstream|-flatpak].png\`)."
} >"$res"

printf '\n=== timings\n' >&2
printf '  %s\n' "${timings[@]}" >&2
printf '  %-40s %4ss\n' total "$((SECONDS - t_start))" >&2
echo >&2
cat "$res"
if [ "$failed_rows" -gt 0 ]; then
    mlog "$failed_rows row(s) failed"
    exit 1
fi
mlog "all rows passed"
