# Shared by scripts/obs-websocket-stop-race.sh and
# scripts/obs-websocket-stop-race-chroot.sh (sourced, from the repository root):
# a fresh OBS config for a no-plugin run and a private Xvfb.

# race_home OUT: writes the tests' own OBS config (websocket on, no first-run
# wizard) under OUT/home; sets cfg (its obs-studio folder) and port.
race_home() {
    local out=$1
    rm -rf "$out/home"
    cfg=$out/home/.config/obs-studio
    mkdir -p "$cfg/basic/profiles/Untitled" "$cfg/basic/scenes"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    python3 - "$cfg" "$port" "$PWD/scripts/exit-crash-driver.py" <<'PY'
import sys, importlib.util
cfg, port, drv = sys.argv[1:]
spec = importlib.util.spec_from_file_location("drv", drv)
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
open(cfg + "/global.ini", "w").write(m.GLOBAL_INI.format(port=port))
open(cfg + "/basic/profiles/Untitled/basic.ini", "w").write(m.PROFILE_INI)
PY
}

# race_xvfb OUT: starts a private Xvfb; sets xvfb (its PID) and exports DISPLAY.
race_xvfb() {
    local out=$1
    Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$out/display" >/dev/null 2>&1 &
    xvfb=$!
    for _ in $(seq 50); do [ -s "$out/display" ] && break; sleep 0.1; done
    export DISPLAY=":$(cat "$out/display")"
}
