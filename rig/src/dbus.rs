//! A private D-Bus session bus. OBS asks for the session bus at start (to
//! inhibit the screensaver while live); without one, libdbus autolaunches a
//! `dbus-launch` through the X server that outlives OBS. With a private bus
//! nothing autolaunches and nothing of the person's session is touched.

use crate::Group;
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct SessionBus {
    /// For `DBUS_SESSION_BUS_ADDRESS`.
    pub address: String,
    child: Child,
}

impl SessionBus {
    /// Starts `dbus-daemon --session` and returns once it prints its address.
    pub fn start(group: Group) -> std::io::Result<SessionBus> {
        let mut cmd = Command::new("dbus-daemon");
        cmd.args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        group.apply(&mut cmd);
        let mut child = cmd.spawn().map_err(|e| {
            std::io::Error::new(e.kind(), format!("cannot run dbus-daemon (apt-get install dbus): {e}"))
        })?;
        let mut line = String::new();
        let mut out = std::io::BufReader::new(child.stdout.take().expect("piped stdout"));
        let _ = out.read_line(&mut line);
        let address = line.trim().to_string();
        if address.is_empty() {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("dbus-daemon did not print its address"));
        }
        Ok(SessionBus { address, child })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the bus (SIGTERM) and reaps it.
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        crate::stop_child(&mut self.child, libc::SIGTERM, Duration::from_secs(5));
    }
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        self.terminate();
    }
}
