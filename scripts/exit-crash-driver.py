#!/usr/bin/env python3
"""Starts real OBS (the host's /usr/bin/obs) N times, with or without the
plugin, lets it run, quits it with SIGINT and records how it ended (exit
status, core dump, log). For the exit-crash investigation.

  exit-crash-driver.py --runs N [--plugin|--no-plugin] [--hold S] [--out DIR]
                       [--plugin-dir DIR] [--obs /usr/bin/obs] [--sigint-to main|any]

Every run: a fresh config (the tests' global.ini / basic.ini), cwd = the run
directory (core_pattern is `core`), `ulimit -c unlimited`, readiness = the
log says "Startup complete" (and, with the plugin, "dock ready"), then
`--hold` seconds (a float, or "a-b" for uniform random), then SIGINT, then up
to 30 s for the exit (SIGKILL after). A core gets a gdb backtrace of all
threads next to it.
"""
import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time

GLOBAL_INI = """[General]
Pre19Defaults=false
Pre21Defaults=false
Pre23Defaults=false
Pre24.1Defaults=false
FirstRun=true
LastVersion=486539266
EnableAutoUpdates=false
ConfirmOnExit=false

[Basic]
Profile=Untitled
ProfileDir=Untitled
SceneCollection=Untitled
SceneCollectionFile=Untitled

[BasicWindow]
SysTrayEnabled=false
WarnBeforeStartingStream=false
WarnBeforeStoppingStream=false
WarnBeforeStoppingRecord=false

[OBSWebSocket]
FirstLoad=false
ServerEnabled=true
ServerPort={port}
AlertsEnabled=false
AuthRequired=false
ServerPassword=
"""

PROFILE_INI = """[General]
Name=Untitled

[Video]
BaseCX=640
BaseCY=360
OutputCX=640
OutputCY=360
FPSType=0
FPSCommon=30

[Output]
Mode=Simple

[SimpleOutput]
StreamEncoder=x264
Preset=ultrafast
VBitrate=600
ABitrate=96
UseAdvanced=false

[Audio]
SampleRate=48000
ChannelSetup=Stereo
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def install_plugin(plugins, plugin_dir, repo):
    root = os.path.join(plugins, "velora")
    b = os.path.join(root, "bin/64bit")
    os.makedirs(b)
    shutil.copy(os.path.join(plugin_dir, "libvelora.so"), os.path.join(b, "velora.so"))
    for qt in ("5", "6"):
        so = os.path.join(repo, "target", f"dock-qt{qt}", f"velora-dock-qt{qt}.so")
        if os.path.exists(so):
            shutil.copy(so, b)
    shutil.copytree(os.path.join(repo, "data"), os.path.join(root, "data"))


def last_log(obsdir):
    d = os.path.join(obsdir, "logs")
    try:
        files = sorted(os.listdir(d))
    except FileNotFoundError:
        return ""
    if not files:
        return ""
    with open(os.path.join(d, files[-1]), errors="replace") as f:
        return f.read()


def start_xvfb():
    x = subprocess.Popen(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    n = x.stdout.readline().decode().strip()
    return x, ":" + n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--plugin", dest="plugin", action="store_true", default=True)
    g.add_argument("--no-plugin", dest="plugin", action="store_false")
    ap.add_argument("--hold", default="2-4")
    ap.add_argument("--out", default="/tmp/crash-runs")
    ap.add_argument("--repo", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--plugin-dir", default=None, help="where velora.so is (default REPO/target/debug)")
    ap.add_argument("--obs", default="/usr/bin/obs")
    ap.add_argument("--tag", default="")
    ap.add_argument("--inject-at", default=None,
                    help="instead of kill -INT: attach gdb, stop at this function on the UI thread and "
                         "deliver SIGINT right there (what a SIGINT arriving at that moment does)")
    ap.add_argument("--busy-delay-ms", default="0",
                    help="with --when-busy: wait this long (ms, or a-b for uniform random) after seeing it run")
    ap.add_argument("--quit", choices=["sigint", "window"], default="sigint",
                    help="sigint: kill -INT (the tests' way); window: WM_DELETE_WINDOW to the main window "
                         "(rig/obs-close-window, what a window manager's close button sends)")
    ap.add_argument("--contend", action="store_true",
                    help="pin OBS to CPU 0 and run a busy loop pinned to CPU 0 too (a loaded machine)")
    ap.add_argument("--when-busy", action="store_true",
                    help="after the hold, send SIGINT at the first moment the UI (main) thread is seen "
                         "running (state R in /proc), i.e. while it handles a timer/repaint, not while idle")
    args = ap.parse_args()
    plugin_dir = args.plugin_dir or os.path.join(args.repo, "target", "debug")
    os.makedirs(args.out, exist_ok=True)

    xvfb, display = start_xvfb()
    closer = os.path.join(args.repo, "rig", "obs-close-window")

    def quit_obs(pid):
        if args.quit == "sigint":
            os.kill(pid, signal.SIGINT)
        else:
            r = subprocess.run([closer, str(pid)], env=dict(os.environ, DISPLAY=display))
            if r.returncode != 0:
                print(f"  (obs-close-window failed: {r.returncode})", flush=True)
    hog = None
    if args.contend:
        hog = subprocess.Popen(["taskset", "-c", "0", "bash", "-c", "while :; do :; done"])
    results = []
    try:
        for i in range(args.runs):
            tag = f"{args.tag}{'p' if args.plugin else 'n'}-{time.strftime('%H%M%S')}-{i}"
            run = os.path.join(args.out, tag)
            home = os.path.join(run, "home")
            cfg = os.path.join(home, "config")
            obsdir = os.path.join(cfg, "obs-studio")
            os.makedirs(os.path.join(obsdir, "basic/profiles/Untitled"))
            os.makedirs(os.path.join(obsdir, "basic/scenes"))
            port = free_port()
            with open(os.path.join(obsdir, "global.ini"), "w") as f:
                f.write(GLOBAL_INI.format(port=port))
            with open(os.path.join(obsdir, "basic/profiles/Untitled/basic.ini"), "w") as f:
                f.write(PROFILE_INI)
            if args.plugin:
                install_plugin(os.path.join(obsdir, "plugins"), plugin_dir, args.repo)
            env = dict(os.environ)
            env.pop("QT_QPA_PLATFORM", None)
            env.update({"HOME": home, "XDG_CONFIG_HOME": cfg, "DISPLAY": display, "LIBGL_ALWAYS_SOFTWARE": "1"})
            if "-" in args.hold:
                a, b = (float(x) for x in args.hold.split("-"))
                hold = random.uniform(a, b)
            else:
                hold = float(args.hold)
            t0 = time.time()
            p = subprocess.Popen(
                ["bash", "-c", 'ulimit -c unlimited; exec "$@"', "obs"] + (["taskset", "-c", "0"] if args.contend else []) + [args.obs, "--multi",
                 "--disable-missing-files-check", "--websocket_port", str(port)],
                cwd=run, env=env, stdin=subprocess.DEVNULL, stdout=open(os.path.join(run, "stdout"), "w"),
                stderr=subprocess.STDOUT)
            ready = False
            while time.time() - t0 < 60:
                if p.poll() is not None:
                    break
                log = last_log(obsdir)
                if "Startup complete" in log and (not args.plugin or "dock ready" in log):
                    ready = True
                    break
                time.sleep(0.05)
            t_ready = time.time() - t0
            if ready:
                time.sleep(hold)
            t_int = time.time()
            if p.poll() is None and args.inject_at:
                cmds = os.path.join(run, "inject.gdb")
                with open(cmds, "w") as f:
                    f.write("set pagination off\nset confirm off\n"
                            "handle SIGINT nostop noprint pass\nhandle SIGPIPE nostop noprint pass\n"
                            "handle SIG32 nostop noprint pass\nhandle SIG33 nostop noprint pass\n"
                            f"break {args.inject_at}\ncontinue\n"
                            "echo === stopped here, delivering SIGINT ===\\n\nbt 40\ndelete\n"
                            "signal SIGINT\n"
                            "echo === stopped again ===\\n\ninfo threads\nthread apply all bt 60\n"
                            "kill\n")
                subprocess.Popen(["gdb", "-p", str(p.pid), "-batch", "-x", cmds],
                                 stdout=open(os.path.join(run, "inject-gdb.txt"), "w"), stderr=subprocess.STDOUT)
            elif p.poll() is None and args.when_busy:
                stat = f"/proc/{p.pid}/task/{p.pid}/stat"
                deadline = time.time() + 10
                seen = False
                while time.time() < deadline:
                    try:
                        with open(stat) as f:
                            st = f.read().rsplit(")", 1)[1].split()[0]
                    except OSError:
                        break
                    if st == "R":
                        seen = True
                        break
                if seen and args.busy_delay_ms != "0":
                    if "-" in args.busy_delay_ms:
                        a, b = (float(x) for x in args.busy_delay_ms.split("-"))
                        d = random.uniform(a, b)
                    else:
                        d = float(args.busy_delay_ms)
                    end = time.perf_counter() + d / 1000
                    while time.perf_counter() < end:
                        pass
                quit_obs(p.pid)
                if not seen:
                    print("  (main thread never seen running: plain SIGINT)", flush=True)
            elif p.poll() is None:
                quit_obs(p.pid)
            try:
                rc = p.wait(30)
            except subprocess.TimeoutExpired:
                subprocess.run(["gdb", "-p", str(p.pid), "-batch", "-ex", "thread apply all bt 80"],
                               stdout=open(os.path.join(run, "hang-bt.txt"), "w"), stderr=subprocess.STDOUT)
                p.kill()
                p.wait()
                rc = "hang"
            t_exit = time.time() - t_int
            log = last_log(obsdir)
            with open(os.path.join(run, "obs.log"), "w") as f:
                f.write(log)
            core = os.path.join(run, "core")
            has_core = os.path.exists(core)
            if has_core:
                with open(os.path.join(run, "bt.txt"), "w") as f:
                    subprocess.run(["gdb", "-batch", "-ex", "set pagination off", "-ex", "info sharedlibrary",
                                    "-ex", "thread apply all bt 60", "-ex", "thread", "-ex", "bt full 30",
                                    args.obs, core], stdout=f, stderr=subprocess.STDOUT)
            res = {"run": tag, "rc": rc, "ready": ready, "t_ready": round(t_ready, 2), "hold": round(hold, 2),
                   "exit_s": round(t_exit, 2), "core": has_core}
            results.append(res)
            print(res, flush=True)
            if not has_core and rc == 0:
                shutil.rmtree(home, ignore_errors=True)
    finally:
        if hog:
            hog.kill()
        xvfb.terminate()
        xvfb.wait()
    bad = [r for r in results if r["rc"] != 0]
    print(f"SUMMARY quit={args.quit} plugin={args.plugin} runs={len(results)} nonzero={len(bad)} "
          f"segv={sum(1 for r in results if r['rc'] == -11)} cores={sum(1 for r in results if r['core'])}")


if __name__ == "__main__":
    main()
