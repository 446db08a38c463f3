//! Real OBS Studio for the integration tests and the demo, in one place: a
//! private X server and session bus, a private dialog-free OBS configuration, the OBS process
//! (start, readiness, a clean stop), and an obs-websocket client. Real
//! processes, no mocks; nothing here knows about Velora.

pub mod config;
pub mod crash;
pub mod dbus;
pub mod obs;
pub mod ws;
pub mod x11;

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

/// Where a child process stands when someone presses Ctrl-C in the terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// In the caller's process group: the terminal's Ctrl-C reaches it too
    /// (tests: nothing outlives an interrupted `cargo test`).
    Shared,
    /// In a process group of its own: only its owner stops it, in its own
    /// order (the demo quits OBS before it stops the X server and the ingest).
    Own,
}

impl Group {
    pub fn apply(self, cmd: &mut Command) {
        if self == Group::Own {
            cmd.process_group(0);
        }
    }
}

/// Processes (pids) whose process group is `pgid`, read from /proc.
pub fn processes_in_group(pgid: u32) -> Vec<u32> {
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    rd.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // /proc/PID/stat: "pid (comm) state ppid pgrp ..."; comm may hold spaces.
            std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|s| {
                let rest = &s[s.rfind(')')? + 1..];
                rest.split_whitespace().nth(2)?.parse::<u32>().ok()
            }) == Some(pgid)
        })
        .collect()
}

/// Sends `signal` to process `pid`.
pub fn signal(pid: u32, signal: i32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    unsafe { libc::kill(pid, signal) == 0 }
}

/// Sends `signal` to every process in process group `pgid`.
pub fn signal_group(pgid: u32, signal: i32) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    // SAFETY: killpg(2) takes plain integers and touches no memory of ours.
    unsafe { libc::killpg(pgid, signal) == 0 }
}

/// Asks `child` to stop with `signal`, gives it `grace`, then kills it;
/// reaps it either way. None when it had to be killed.
pub fn stop_child(child: &mut Child, signal: i32, grace: Duration) -> Option<ExitStatus> {
    if let Ok(Some(st)) = child.try_wait() {
        return Some(st);
    }
    crate::signal(child.id(), signal);
    let stopped = wait_for(grace, || child.try_wait().ok().flatten());
    if stopped.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    stopped
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a TCP port on 127.0.0.1")
}

/// Polls `f` every 100 ms until it returns Some or `timeout` has passed.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let t = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if t.elapsed() > timeout {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_process_is_found_in_our_group() {
        let me = std::process::id();
        // SAFETY: getpgrp(2) has no arguments and cannot fail.
        let pgid = unsafe { libc::getpgrp() } as u32;
        assert!(processes_in_group(pgid).contains(&me));
    }

    #[test]
    fn a_child_in_its_own_group_is_alone_there() {
        let mut cmd = Command::new("sleep");
        cmd.arg("5");
        Group::Own.apply(&mut cmd);
        let mut child = cmd.spawn().unwrap();
        let pid = child.id();
        assert_eq!(processes_in_group(pid), vec![pid]);
        assert!(signal(pid, libc::SIGTERM));
        child.wait().unwrap();
        assert!(processes_in_group(pid).is_empty());
    }
}
