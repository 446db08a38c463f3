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
/// them (frames, thread headers and the signal line only). `sysroot`: the
/// root OBS ran in (a chroot), for its libraries.
pub fn backtraces(exe: &Path, sysroot: Option<&Path>, core: &Path) -> String {
    let mut gdb = Command::new("gdb");
    gdb.args(["-batch", "-nx"]);
    if let Some(r) = sysroot {
        gdb.args(["-ex", &format!("set sysroot {}", r.display())]);
    }
    gdb.args(["-ex", "thread apply all bt 25"]).arg(exe).arg(core);
    match gdb.output() {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| l.starts_with('#') || l.starts_with("Thread") || l.contains("signal"))
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
/// on it: `handle_accept` → `start_accept` → `start_op`). Recognised only when
/// the crashing thread is that accept path, no frame on any thread is
/// `plugin`'s ([`names_plugin`]), and the main thread is in
/// `WebSocketServer::Stop`.
pub fn is_websocket_stop_race(bt: &str, plugin: &str) -> bool {
    let lines: Vec<&str> = bt.lines().collect();
    // gdb prints the crashing frame first, then every thread.
    let Some(first) = lines.iter().find(|l| l.starts_with("#0")) else {
        return false;
    };
    let threads: Vec<Vec<&str>> = lines
        .split(|l| l.starts_with("Thread "))
        .skip(1)
        .map(|t| t.to_vec())
        .collect();
    let Some(crashing) = threads.iter().find(|t| t.first() == Some(first)) else {
        return false;
    };
    let text = crashing.join("\n");
    first.contains("reactive_socket_service_base::start_op")
        && text.contains("websocketpp::server<websocketpp::config::asio>::start_accept")
        && text.contains("websocketpp::server<websocketpp::config::asio>::handle_accept")
        && text.contains("WebSocketServer::ServerRunner")
        && (plugin.is_empty() || !lines.iter().any(|l| names_plugin(l, plugin)))
        && threads
            .iter()
            .any(|t| t.iter().any(|l| l.contains("WebSocketServer::Stop()")))
}
