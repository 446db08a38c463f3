//! An OBS that crashed: its core file, the backtraces gdb reads from it, and
//! the one crash of OBS's own that its exit is known to have
//! (docs/obs-websocket-exit-race.md).

use std::path::{Path, PathBuf};
use std::process::Command;

/// The newest core file (`core` or `core.*`) in any of `dirs`.
pub fn find_core(dirs: &[PathBuf]) -> Option<PathBuf> {
    let mut cores: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| std::fs::read_dir(d).into_iter().flatten().flatten().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n == "core" || n.starts_with("core."))
        })
        .collect();
    cores.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    cores.pop()
}

/// `name` as the shell finds it in `$PATH`.
pub fn in_path(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Every thread's backtrace (25 frames) from `core` of `exe`, as gdb prints
/// them (frames, thread headers and the signal line only), after the
/// crashing thread's fault address (`fault address: 0x…`) and faulting
/// instruction (`=> 0x…: insn`), which name a crash in a stripped library.
/// `sysroot`: the root OBS ran in (a chroot), for its libraries.
pub fn backtraces(exe: &Path, sysroot: Option<&Path>, core: &Path) -> String {
    let mut gdb = Command::new("gdb");
    gdb.args(["-batch", "-nx"]);
    if let Some(r) = sysroot {
        // -iex: in force before the executable and the core are loaded. With
        // -ex, gdb first resolved the core's libraries against the host's
        // files (the host's OBS 29 has its own obs-websocket.so and libsrt at
        // the same paths): frame #0 named a host symbol and `x/i $pc` read
        // the host file's bytes (`add %al,(%rax)` where the chroot's
        // obs-websocket has `cmpb $0x0,0xa3(%rax)`), so a row-30 crash of
        // obs-websocket's known stop race went unrecognised in CI.
        gdb.args(["-iex", &format!("set sysroot {}", r.display())]);
    }
    gdb.args([
        "-ex",
        r#"printf "fault address: %p\n", $_siginfo._sifields._sigfault.si_addr"#,
        "-ex",
        "x/i $pc",
        "-ex",
        "thread apply all bt 25",
    ])
    .arg(exe)
    .arg(core);
    match gdb.output() {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| {
                l.starts_with('#')
                    || l.starts_with("Thread")
                    || l.contains("signal")
                    || l.starts_with("fault address:")
                    || l.starts_with("=> ")
            })
            .collect::<Vec<_>>()
            .join("\n"),
        Err(e) => format!("(gdb failed: {e})"),
    }
}

/// Whether a gdb line is a frame of `plugin`'s: its function or its file
/// names it (case-insensitive). Directories do not count: a chroot's root can
/// sit under a folder named after the plugin (`/var/cache/obs-velora-matrix/…`)
/// and every library of OBS's then lies beneath it.
fn names_plugin(line: &str, plugin: &str) -> bool {
    let plugin = plugin.to_lowercase();
    line.starts_with('#')
        && line
            .split_whitespace()
            .map(|w| w.rsplit('/').next().unwrap_or(w))
            .any(|w| w.to_lowercase().contains(&plugin))
}

/// The crash obs-websocket has on its own while it stops its server
/// (`WebSocketServer::Stop` on OBS's main thread closes the listening socket
/// while its asio thread, completing the cancelled accept, starts a new one
/// on it: `handle_accept` → `start_accept` → `start_op`, which reloads the
/// socket's `reactor_data_` after the main thread set it to NULL and reads
/// `descriptor_state::shutdown_` through it). Reproduced without any plugin
/// by scripts/obs-websocket-stop-race.sh (OBS 29) and
/// scripts/obs-websocket-stop-race-chroot.sh (OBS 30 and 32).
///
/// Recognised only when no frame on any thread is `plugin`'s
/// ([`names_plugin`]) and either
/// - (builds with symbols, Debian 12's OBS 29) the crashing thread is that
///   accept path by name and a thread is in `WebSocketServer::Stop`; or
/// - (stripped builds, OBS 30 and 32, where start_op is inlined and nothing
///   is named) the fault is that read: address 0xa3 by a `cmpb $0x0,0xa3(…)`,
///   on a thread whose frames are obs-websocket's asio strand dispatch, while
///   a thread is in obs-websocket's own `obs_module_unload`.
pub fn is_websocket_stop_race(bt: &str, plugin: &str) -> bool {
    let lines: Vec<&str> = bt.lines().collect();
    if !plugin.is_empty() && lines.iter().any(|l| names_plugin(l, plugin)) {
        return false;
    }
    // gdb prints the crashing frame first, then every thread.
    let Some(first) = lines.iter().find(|l| l.starts_with("#0")) else {
        return false;
    };
    let threads: Vec<Vec<&str>> = lines
        .split(|l| l.starts_with("Thread "))
        .skip(1)
        .map(|t| t.to_vec())
        .collect();
    // That frame again, in its thread's list: the same address (gdb may name
    // it differently there: "??" where the first line has the nearest symbol).
    let pc = |l: &str| l.split_whitespace().nth(1).map(str::to_string);
    let Some(crashing) = threads
        .iter()
        .find(|t| t.first().is_some_and(|l| l.starts_with("#0") && pc(l) == pc(first)))
    else {
        return false;
    };
    let text = crashing.join("\n");
    let named = first.contains("reactive_socket_service_base::start_op")
        && text.contains("websocketpp::server<websocketpp::config::asio>::start_accept")
        && text.contains("websocketpp::server<websocketpp::config::asio>::handle_accept")
        && text.contains("WebSocketServer::ServerRunner")
        && threads
            .iter()
            .any(|t| t.iter().any(|l| l.contains("WebSocketServer::Stop()")));
    let stripped = lines.iter().any(|l| l.trim() == "fault address: 0xa3")
        && lines
            .iter()
            .any(|l| l.starts_with("=> ") && l.contains("cmpb") && l.contains("$0x0,0xa3("))
        && first.contains("/obs-websocket.so")
        && crashing
            .iter()
            .any(|l| l.contains("asio::detail::strand_service::") && l.contains("/obs-websocket.so"))
        && threads.iter().any(|t| {
            t.iter()
                .any(|l| l.contains(" in obs_module_unload () from ") && l.contains("/obs-websocket.so"))
        });
    named || stripped
}
