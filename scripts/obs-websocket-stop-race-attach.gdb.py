# gdb, attached to a running OBS (all-stop; scheduler-locking while driving).
# The stripped obs-websocket builds of Debian trixie (OBS 30.2.3,
# obs-websocket 5.5.2) and sid (OBS 32.2.2): the same interleaving as
# scripts/obs-websocket-stop-race.gdb.py (OBS 29, named symbols), at the
# addresses of each build, found by disassembly (docs/obs-websocket-exit-race.md):
#  1. OBS's main thread, in WebSocketServer::Stop(), stops at the close() of
#     the listening socket.
#  2. Only the server thread runs: the cancelled accept's handler starts a new
#     accept; asio's start_op (inlined there) takes the socket's reactor
#     mutex and stops just before reloading impl.reactor_data_.
#  3. Only the main thread runs: it finishes closing the socket
#     (impl.reactor_data_ becomes NULL).
#  4. Only the server thread runs again: it reloads reactor_data_ and reads
#     descriptor_state::shutdown_ through it: SIGSEGV at address 0xa3.
# Needs $obs_pid (the attached process).
import gdb

# Build ID of obs-websocket.so -> (WebSocketServer::Stop, the reload after
# pthread_mutex_lock, the faulting cmpb $0x0,0xa3(%rax), the register
# holding &impl).
BUILDS = {
    "4c78610643f6622d04486a9fd168d7d0a61c551b": (0x92710, 0xC588A, 0xC5561, "r12"),  # trixie, OBS 30.2.3
    "ef250280870a21672f37294ecfef2e9f78dbece8": (0x8FB90, 0xC340E, 0xC328C, "rbp"),  # sid, OBS 32.2.2
}
PID = int(gdb.parse_and_eval("$obs_pid"))


def say(m):
    gdb.write("race: %s\n" % m)
    gdb.flush()


def mapping():
    lo = hi = None
    path = None
    for line in open("/proc/%d/maps" % PID):
        f = line.split()
        if len(f) >= 6 and f[5].endswith("/obs-websocket.so"):
            a, b = [int(x, 16) for x in f[0].split("-")]
            if int(f[2], 16) == 0:
                lo, path = a, f[5]
            hi = max(hi or 0, b)
    return lo, hi, path


def build_id(path):
    import subprocess
    import os
    # /proc/PID/maps names the file as the process sees it (inside its root).
    f = "/proc/%d/root%s" % (PID, path)
    out = subprocess.run(["readelf", "-n", f if os.path.exists(f) else path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if "Build ID:" in line:
            return line.split("Build ID:")[1].strip()
    return None


BASE, END, PATH = mapping()
BID = build_id(PATH)
if BID not in BUILDS:
    say("unknown obs-websocket build %s (%s): no addresses for it" % (BID, PATH))
    STOP = RELOAD = FAULT = None
    REG = None
else:
    STOP, RELOAD, FAULT, REG = BUILDS[BID]
    say("obs-websocket.so build %s at %#x" % (BID, BASE))


def arm():
    gdb.execute("set breakpoint pending on")
    gdb.execute("set $stopping = 0")
    gdb.execute("break *%#x" % (BASE + STOP))
    gdb.execute("commands\nsilent\nset $stopping = 1\ncontinue\nend")
    gdb.execute("break close if $stopping == 1 && $_thread == 1")


def server_thread(main):
    # obs-websocket's only std::thread with its frames on the stack while idle:
    # the asio loop of WebSocketServer::ServerRunner.
    for t in gdb.selected_inferior().threads():
        if t.num == main.num:
            continue
        t.switch()
        f = gdb.newest_frame()
        n = 0
        while f is not None and n < 30:
            if BASE <= f.pc() < END:
                return t
            f = f.older()
            n += 1
    return None


def drive():
    main = gdb.selected_thread()
    say("1. main thread %d (LWP %d) at close(fd %d) in WebSocketServer::Stop"
        % (main.num, main.ptid[1], int(gdb.parse_and_eval("$rdi"))))
    gdb.execute("delete")
    io = server_thread(main)
    say("server thread: %d (LWP %d)" % (io.num, io.ptid[1]))
    gdb.execute("set scheduler-locking on")
    io.switch()
    gdb.execute("tbreak *%#x thread %d" % (BASE + RELOAD, io.num))
    gdb.execute("continue")
    impl = int(gdb.parse_and_eval("$" + REG))
    rd = "*(long*)(%d + 0x10)" % impl
    say("2. server thread in start_op at obs-websocket.so+%#x, impl.reactor_data_ %#x"
        % (RELOAD, int(gdb.parse_and_eval(rd))))
    gdb.execute("bt 6")
    main.switch()
    gdb.execute("finish")
    for i in range(4000):
        if int(gdb.parse_and_eval(rd)) == 0:
            say("   after %d instructions" % i)
            break
        gdb.execute("nexti", to_string=True)
    say("3. main thread closed it: impl.reactor_data_ now %#x" % int(gdb.parse_and_eval(rd)))
    io.switch()
    say("4. server thread runs on")
    gdb.execute("continue")
    say("stopped at obs-websocket.so+%#x (the race faults at +%#x)" % (int(gdb.parse_and_eval("$pc")) - BASE, FAULT))
