#!/usr/bin/env bash
# OBS version compatibility matrix (issue 9): builds the plugin and both Qt
# docks once, then runs the real-OBS tests (obs_e2e, obs_login, obs_stream)
# against
#
#   OBS 29.0.2 / Qt 5   the host's (Debian 12) obs-studio, directly
#   OBS 30.2.3 / Qt 6   Debian trixie's, in a chroot (scripts/matrix/obs-in-chroot)
#   OBS 32.2.2 / Qt 6   Debian sid's, in a chroot
#
# and writes target/matrix/results.md (plus one log per row). Exit status 0
# only when every row passed.
#
#   bash scripts/matrix.sh [--rows 29,30,32] [--no-build] [--rebuild-roots]
#
# Roots are built once with debootstrap (about 80 s each) and reused from
# ${VELORA_MATRIX_CACHE:-/var/cache/obs-velora-matrix}/<release>/ (with a zstd
# tarball for a fast restore); see docs/matrix.md. Needs root (chroot, mount).
# Environment: VELORA_MATRIX_CACHE, VELORA_MATRIX_MIRROR (default: the host's
# apt mirror), VELORA_MATRIX_ROW_TIMEOUT (s, default 900), VELORA_MATRIX_TARBALL
# (0: keep no tarball).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# shellcheck source=matrix/lib.sh
. scripts/matrix/lib.sh

rows_wanted=29,30,32
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
[ "$(id -u)" = 0 ] || mdie "needs root (debootstrap, chroot, bind mounts)"

# Rows: id, Debian release ("host" for the host), the test binaries.
TESTS=(obs_e2e obs_login obs_stream)
declare -A ROW_RELEASE=([29]=host [30]=trixie [32]=sid)
rows=()
IFS=, read -r -a rows <<<"$rows_wanted"
for r in "${rows[@]}"; do
    [ -n "${ROW_RELEASE[$r]:-}" ] || mdie "unknown row '$r' (known: 29, 30, 32)"
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
step_done() { timings+=("$(printf '%-34s %4ss' "$1" "$((SECONDS - step_t0))")"); }

# --- mounts: none may outlive this script ----------------------------------
kill_in_root() { # processes whose root is ROOT (OBS, fake-browser left behind)
    local root=$1 p
    for p in /proc/[0-9]*; do
        [ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && kill -KILL "${p#/proc/}" 2>/dev/null || true
    done
}
cleanup() {
    local r
    # OBS (or anything) still running inside a root: ours, or a killed run's.
    for r in "$MATRIX_CACHE"/*/root; do
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
mkdir -p "$MATRIX_CACHE"
cleanup

# --- host tools --------------------------------------------------------------
step "host dependencies"
bash scripts/deps.sh >&2
ensure_host_tools
step_done "host dependencies"

# --- build ---------------------------------------------------------------------
if [ "$do_build" = 1 ]; then
    step "cargo build --workspace"
    cargo build --workspace >&2 9>&-
    step_done "cargo build"

    step "Qt docks (scripts/build-dock.sh both)"
    bash scripts/build-dock.sh both >&2 9>&-
    step_done "build-dock.sh both"

    step "compile the test binaries"
    test_args=()
    for t in "${TESTS[@]}"; do test_args+=(--test "$t"); done
    cargo test --no-run "${test_args[@]}" >&2 9>&-
    step_done "cargo test --no-run"
fi
for f in target/debug/libvelora.so target/dock-qt5/velora-dock-qt5.so target/dock-qt6/velora-dock-qt6.so; do
    [ -f "$f" ] || mdie "$f is missing (run without --no-build)"
done

# --- roots -----------------------------------------------------------------------
declare -A ROW_ROOT=()
for r in "${rows[@]}"; do
    rel=${ROW_RELEASE[$r]}
    [ "$rel" = host ] && continue
    step "Debian $rel root"
    if [ "$rebuild" = 1 ]; then
        remove_root "$(release_root "$rel")"
        rm -f "$(release_dir "$rel")/stamp" "$(release_dir "$rel")/root.tar.zst"
    fi
    root=$(ensure_root "$rel" 9>&-)
    mount_root "$root"
    ROW_ROOT[$r]=$root
    step_done "root $rel"
done

# --- rows --------------------------------------------------------------------------
qt_of() { # dpkg admindir, package glob -> "5.15.8" / "6.8.2"
    dpkg-query --admindir="$1" -W -f '${Package} ${Version}\n' "$2" 2>/dev/null |
        awk 'NF == 2 && $2 != "" { sub(/\+.*/, "", $2); sub(/-.*/, "", $2); print $2; exit }'
}

declare -A ROW_OBS ROW_QT ROW_STATUS ROW_SECS ROW_PASSED ROW_FAILED
declare -A RESULT # "row|binary::test" -> ok / FAILED / ignored
all_tests=()
failed_rows=0
for r in "${rows[@]}"; do
    rel=${ROW_RELEASE[$r]}
    env_obs=()
    if [ "$rel" = host ]; then
        ROW_OBS[$r]=$(dpkg-query -W -f '${Version}' obs-studio)
        ROW_QT[$r]=$(qt_of /var/lib/dpkg 'libqt5core5*')
        label="OBS ${ROW_OBS[$r]} (host, Debian 12)"
    else
        root=${ROW_ROOT[$r]}
        ROW_OBS[$r]=$(root_obs_version "$root")
        ROW_QT[$r]=$(qt_of "$root/var/lib/dpkg" 'libqt6core6*')
        env_obs=("VELORA_OBS_CMD=$repo/scripts/matrix/obs-in-chroot $root")
        label="OBS ${ROW_OBS[$r]} (Debian $rel chroot)"
    fi
    step "row $r: $label, Qt ${ROW_QT[$r]}"
    log=$out/obs-$r.log
    test_args=()
    for t in "${TESTS[@]}"; do test_args+=(--test "$t"); done
    rc=0
    # As scripts/test.sh: private Xvfb per test, private D-Bus session with an
    # unlocked gnome-keyring (its socket is under /tmp, so OBS in a chroot
    # reaches it through the /tmp bind).
    # `timeout` makes its own process group (a terminal's Ctrl-C does not
    # reach it): run it in the background and wait, so that the INT/TERM trap
    # runs at once and ends the whole group (row_pid).
    env -u DISPLAY -u WAYLAND_DISPLAY "${env_obs[@]}" VELORA_TEST_KEYRING=1 \
        timeout -k 30 "${VELORA_MATRIX_ROW_TIMEOUT:-900}" \
        tests/scripts/with-keyring cargo test --no-fail-fast "${test_args[@]}" -- --test-threads=2 \
        </dev/null >"$log" 2>&1 9>&- &
    row_pid=$!
    wait "$row_pid" || rc=$?
    row_pid=""
    ROW_SECS[$r]=$((SECONDS - step_t0))
    # "Running tests/obs_e2e.rs (...)" then "test name ... ok"
    passed=0 failed=0
    while IFS='|' read -r bin name res; do
        key="$bin::$name"
        RESULT["$r|$key"]=$res
        case " ${all_tests[*]-} " in *" $key "*) ;; *) all_tests+=("$key") ;; esac
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
    echo
    echo "| OBS | Qt | where | dock | result | passed | failed | time |"
    echo "|---|---|---|---|---|---|---|---|"
    for r in "${rows[@]}"; do
        rel=${ROW_RELEASE[$r]}
        where="Debian $rel chroot"
        [ "$rel" = host ] && where="host (Debian 12)"
        echo "| ${ROW_OBS[$r]} | ${ROW_QT[$r]} | $where | velora-dock-qt${ROW_QT[$r]%%.*}.so | ${ROW_STATUS[$r]} | ${ROW_PASSED[$r]} | ${ROW_FAILED[$r]} | ${ROW_SECS[$r]} s |"
    done
    echo
    printf '| test |'
    for r in "${rows[@]}"; do printf ' OBS %s / Qt %s |' "${ROW_OBS[$r]%%+*}" "${ROW_QT[$r]}"; done
    echo
    printf '|---|'
    for _ in "${rows[@]}"; do printf -- '---|'; done
    echo
    for key in "${all_tests[@]}"; do
        printf '| `%s` |' "$key"
        for r in "${rows[@]}"; do
            v=${RESULT["$r|$key"]:-not run}
            case $v in ok) v=pass ;; FAILED) v="**FAIL**" ;; esac
            printf ' %s |' "$v"
        done
        echo
    done
    echo
    echo "Logs: \`target/matrix/obs-<row>.log\` (cargo test output); screenshots:"
    echo "\`target/artifacts/obs-<major>-plugin-loaded.png\`."
} >"$res"

printf '\n=== timings\n' >&2
printf '  %s\n' "${timings[@]}" >&2
printf '  %-34s %4ss\n' total "$((SECONDS - t_start))" >&2
echo >&2
cat "$res"
if [ "$failed_rows" -gt 0 ]; then
    mlog "$failed_rows row(s) failed"
    exit 1
fi
mlog "all rows passed"
