# gdb (all-stop, scheduler-locking while driving). Forces one interleaving of
# obs-websocket's own threads at exit, OBS 29.0.2, no other plugin loaded:
#  1. OBS's main thread, in WebSocketServer::Stop(), stops at the close() of
#     the listening socket: asio has deregistered it and handed the cancelled
#     accept to the server thread.
#  2. Only the server thread runs: handle_accept -> start_accept (still
#     "listening") -> start_op, which takes the socket's reactor mutex; it
#     stops just before reloading impl.reactor_data_ (start_op+0x252).
#  3. Only the main thread runs: it finishes closing the socket
#     (cleanup_descriptor_data sets impl.reactor_data_ to NULL).
#  4. Only the server thread runs again: it reloads reactor_data_ and reads
#     shutdown_ through it.
import gdb
S = "_ZN4asio6detail28reactive_socket_service_base8start_opERNS1_24base_implementation_typeEiPNS0_10reactor_opEbbb"
gdb.execute("set breakpoint pending on")
gdb.execute("set $stopping = 0")
gdb.execute("break WebSocketServer::Stop")
gdb.execute("commands\nsilent\nset $stopping = 1\ncontinue\nend")
gdb.execute("break close if $stopping == 1 && $_thread == 1")

def say(m):
    gdb.write("race: %s\n" % m)
    gdb.flush()

def server_thread():
    for t in gdb.selected_inferior().threads():
        t.switch()
        f = gdb.newest_frame()
        while f is not None:
            if f.name() and "ServerRunner" in f.name():
                return t
            f = f.older()
    return None

def drive():
    main = gdb.selected_thread()
    say("1. main thread %d at close(fd %d) in WebSocketServer::Stop" % (main.num, int(gdb.parse_and_eval("$rdi"))))
    gdb.execute("delete")
    io = server_thread()
    say("server thread: %d" % io.num)
    gdb.execute("set scheduler-locking on")
    io.switch()
    gdb.execute("tbreak *(%s + 0x252) thread %d" % (S, io.num))
    gdb.execute("continue")
    say("2. server thread at start_op+0x252, fd %d, impl.reactor_data_ %#x"
        % (int(gdb.parse_and_eval("*(int*)$rbx")), int(gdb.parse_and_eval("*(long*)($rbx + 8)"))))
    gdb.execute("bt 6")
    rbx = int(gdb.parse_and_eval("$rbx"))
    main.switch()
    # out of close() and socket_ops::close (inlined into Stop), then on
    # through Stop's inlined cleanup_descriptor_data, one instruction at a time
    gdb.execute("finish")
    gdb.execute("finish")
    for i in range(2000):
        if int(gdb.parse_and_eval("*(long*)(%d + 8)" % rbx)) == 0:
            say("   after %d instructions of Stop()" % i)
            break
        gdb.execute("nexti", to_string=True)
    say("3. main thread closed it: impl.reactor_data_ now %#x" % int(gdb.parse_and_eval("*(long*)(%d + 8)" % rbx)))
    io.switch()
    say("4. server thread runs on")
    gdb.execute("continue")
