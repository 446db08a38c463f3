//! The OS keyring (Secret Service on Linux) through the `keyring` crate:
//! the probe that decides whether it can be used at all, its failures
//! classified, and [`SecretBackend`], the operations the store needs (the
//! OS keyring, or [`FakeKeyring`] in tests).

use crate::cancel::Cancel;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Keyring service name.
pub const DEFAULT_SERVICE: &str = "obs-velora";

/// How long the keyring probe may take before the keyring counts as
/// unavailable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// The user name of the probe entry (never written).
const PROBE_USER: &str = "__obs-velora-keyring-probe__";

/// A keyring failure, classified.
#[derive(Debug)]
pub(crate) enum KeyringError {
    NoEntry,
    /// The keyring cannot be used (platform failure, no access, locked).
    Unavailable(String),
    /// Anything else (too long, invalid attribute...).
    Other(String),
}

/// The keyring operations the store needs (the OS keyring, or a fake in
/// tests).
pub(crate) trait SecretBackend: Send + Sync {
    fn get(&self, user: &str) -> Result<String, KeyringError>;
    fn set(&self, user: &str, secret: &str) -> Result<(), KeyringError>;
    /// `Ok` when there was nothing to delete.
    fn delete(&self, user: &str) -> Result<(), KeyringError>;
}

/// The OS keyring through the `keyring` crate.
pub(super) struct OsKeyring {
    pub(super) service: String,
}

fn classify(e: keyring::Error) -> KeyringError {
    match e {
        keyring::Error::NoEntry => KeyringError::NoEntry,
        keyring::Error::PlatformFailure(_) | keyring::Error::NoStorageAccess(_) => {
            KeyringError::Unavailable(e.to_string())
        }
        other => KeyringError::Other(other.to_string()),
    }
}

impl OsKeyring {
    fn entry(&self, user: &str) -> Result<keyring::Entry, KeyringError> {
        keyring::Entry::new(&self.service, user).map_err(classify)
    }

    /// Deletes every credential of an ambiguous match.
    fn delete_all(creds: Vec<Box<keyring::credential::Credential>>) -> Result<(), KeyringError> {
        for c in creds {
            match c.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => {}
                Err(e) => return Err(classify(e)),
            }
        }
        Ok(())
    }
}

impl SecretBackend for OsKeyring {
    fn get(&self, user: &str) -> Result<String, KeyringError> {
        match self.entry(user)?.get_password() {
            Ok(s) => Ok(s),
            Err(keyring::Error::Ambiguous(creds)) => {
                // Several matching items (written by another tool?): drop them.
                log::warn!("keyring: several entries for {user}; removing them");
                Self::delete_all(creds)?;
                Err(KeyringError::NoEntry)
            }
            Err(e) => Err(classify(e)),
        }
    }

    fn set(&self, user: &str, secret: &str) -> Result<(), KeyringError> {
        let entry = self.entry(user)?;
        match entry.set_password(secret) {
            Ok(()) => Ok(()),
            Err(keyring::Error::Ambiguous(creds)) => {
                Self::delete_all(creds)?;
                entry.set_password(secret).map_err(classify)
            }
            Err(e) => Err(classify(e)),
        }
    }

    fn delete(&self, user: &str) -> Result<(), KeyringError> {
        match self.entry(user)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(keyring::Error::Ambiguous(creds)) => Self::delete_all(creds),
            Err(e) => Err(classify(e)),
        }
    }
}

/// Whether a D-Bus session bus can be reached without autolaunching one
/// (libdbus would otherwise try `dbus-launch`, which can hang or spawn a
/// daemon): `DBUS_SESSION_BUS_ADDRESS` is set, or `$XDG_RUNTIME_DIR/bus`
/// exists.
pub fn session_bus_check(dbus_address: Option<&str>, xdg_runtime_dir: Option<&Path>) -> Result<(), String> {
    if dbus_address.is_some_and(|a| !a.trim().is_empty()) {
        return Ok(());
    }
    if let Some(dir) = xdg_runtime_dir {
        if dir.join("bus").exists() {
            return Ok(());
        }
    }
    Err("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)".to_string())
}

/// Probes the OS keyring: a read of an entry that does not exist must answer
/// "no entry" within `timeout` (and before `cancel` fires: OBS quitting).
pub fn probe_os_keyring(service: &str, timeout: Duration, cancel: &Cancel) -> Result<(), String> {
    if cfg!(any(
        target_os = "linux",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    )) {
        let addr = std::env::var("DBUS_SESSION_BUS_ADDRESS").ok();
        let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
        session_bus_check(addr.as_deref(), runtime.as_deref())?;
    }
    // Without a native store for this platform the `keyring` crate falls back
    // to an in-memory mock that forgets everything: not a keyring.
    use keyring::credential::CredentialPersistence as P;
    let persistence = match keyring::default::default_credential_builder().persistence() {
        P::UntilDelete => None,
        P::EntryOnly => Some("entry only"),
        P::ProcessOnly => Some("process only"),
        P::UntilReboot => Some("until reboot"),
        _ => Some("unknown"),
    };
    if let Some(kind) = persistence {
        return Err(format!(
            "no persistent keyring store is built in for this platform ({kind})"
        ));
    }
    let (tx, rx) = mpsc::channel();
    let backend = OsKeyring {
        service: service.to_string(),
    };
    crate::threads::spawn("velora-keyring-probe", move || {
        let r = match backend.get(PROBE_USER) {
            Ok(_) | Err(KeyringError::NoEntry) => Ok(()),
            Err(KeyringError::Unavailable(e)) | Err(KeyringError::Other(e)) => Err(e),
        };
        let _ = tx.send(r);
    })
    .map_err(|e| format!("could not start the keyring probe: {e}"))?;
    let start = std::time::Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(r) => return r,
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err("the keyring probe failed".into()),
            Err(mpsc::RecvTimeoutError::Timeout) if cancel.is_cancelled() => return Err("OBS is closing".into()),
            Err(mpsc::RecvTimeoutError::Timeout) if start.elapsed() >= timeout => {
                return Err(format!("the keyring did not answer within {} s", timeout.as_secs_f32()))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
    }
}

#[cfg(test)]
use std::sync::atomic::Ordering;
#[cfg(test)]
use std::sync::{Arc, Mutex};

/// An in-memory keyring for tests, with switchable failures.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct FakeKeyring {
    pub map: Mutex<std::collections::HashMap<String, String>>,
    pub unavailable: std::sync::atomic::AtomicBool,
    /// Writes fail (a full disk, a keyring refusing the item) while reads work.
    pub refuse_writes: std::sync::atomic::AtomicBool,
}

#[cfg(test)]
impl SecretBackend for Arc<FakeKeyring> {
    fn get(&self, user: &str) -> Result<String, KeyringError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(KeyringError::Unavailable("locked".into()));
        }
        self.map.lock().unwrap().get(user).cloned().ok_or(KeyringError::NoEntry)
    }

    fn set(&self, user: &str, secret: &str) -> Result<(), KeyringError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(KeyringError::Unavailable("locked".into()));
        }
        if self.refuse_writes.load(Ordering::SeqCst) {
            return Err(KeyringError::Other("write refused".into()));
        }
        self.map.lock().unwrap().insert(user.to_string(), secret.to_string());
        Ok(())
    }

    fn delete(&self, user: &str) -> Result<(), KeyringError> {
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(KeyringError::Unavailable("locked".into()));
        }
        self.map.lock().unwrap().remove(user);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn no_session_bus_means_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        assert!(session_bus_check(None, None).is_err());
        assert!(session_bus_check(Some(""), Some(dir.path())).is_err());
        assert!(session_bus_check(Some("unix:path=/run/user/1/bus"), None).is_ok());
        fs::write(dir.path().join("bus"), "").unwrap();
        assert!(session_bus_check(None, Some(dir.path())).is_ok());
    }
}
