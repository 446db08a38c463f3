//! Token storage: the OS keyring (Secret Service on Linux), one entry per
//! environment, with a fallback to a JSON file only the user can read.
//!
//! * Keyring: service [`DEFAULT_SERVICE`] (`obs-velora`), user = the
//!   environment key (`production`, `sandbox`, `custom:https://host`...), the
//!   secret = the [`StoredTokens`] record as JSON.
//! * File: `<config_dir>/tokens/<encoded env>.json`, mode 0600 (set when the
//!   file is created, before anything is written; written to a temporary file
//!   and renamed over the old one), directory mode 0700. On Windows the files
//!   inherit the ACL of the (per-user) config directory.
//!
//! [`TokenStore::open`] probes the keyring once: no D-Bus session bus, no
//! Secret Service, no default collection, or no answer within
//! [`PROBE_TIMEOUT`] means the file backend, and [`TokenStore::backend`] /
//! [`TokenStore::fallback_reason`] say so for the log. A keyring that fails
//! later (locked, unlock prompt dismissed) also switches the store to the
//! file. Tokens found in the file while the keyring works are moved into the
//! keyring.
//!
//! Keyring calls can block while the desktop shows an unlock prompt: use the
//! store off the UI thread. Nothing here logs a token.

use super::tokens::StoredTokens;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Keyring service name.
pub const DEFAULT_SERVICE: &str = "obs-velora";

/// Sub-directory of the config dir holding the token files.
pub const TOKEN_DIR: &str = "tokens";

/// How long the keyring probe may take before the keyring counts as
/// unavailable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);

/// Set to `file` to force the file backend (e.g. for tests of the real plugin
/// in OBS, where the caller cannot pass `prefer_keyring = false`).
pub const FORCE_FILE_ENV: &str = "VELORA_TOKEN_STORE";

/// The user name of the probe entry (never written).
const PROBE_USER: &str = "__obs-velora-keyring-probe__";

/// Where tokens are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Keyring,
    File,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Keyring => "OS keyring",
            Backend::File => "file",
        })
    }
}

#[derive(Debug)]
pub enum StoreError {
    Io(io::Error),
    /// The keyring failed (text from the platform; no secrets).
    Keyring(String),
    /// A stored record is not valid JSON for [`StoredTokens`].
    Corrupt(String),
    /// The environment key is empty or has control characters.
    InvalidEnv,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Io(e) => write!(f, "token file: {e}"),
            StoreError::Keyring(e) => write!(f, "keyring: {e}"),
            StoreError::Corrupt(e) => write!(f, "stored tokens are unreadable: {e}"),
            StoreError::InvalidEnv => f.write_str("invalid environment key"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<io::Error> for StoreError {
    fn from(e: io::Error) -> Self {
        StoreError::Io(e)
    }
}

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
struct OsKeyring {
    service: String,
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
/// "no entry" within `timeout`.
pub fn probe_os_keyring(service: &str, timeout: Duration) -> Result<(), String> {
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
    thread::Builder::new()
        .name("velora-keyring-probe".into())
        .spawn(move || {
            let r = match backend.get(PROBE_USER) {
                Ok(_) | Err(KeyringError::NoEntry) => Ok(()),
                Err(KeyringError::Unavailable(e)) | Err(KeyringError::Other(e)) => Err(e),
            };
            let _ = tx.send(r);
        })
        .map_err(|e| format!("could not start the keyring probe: {e}"))?;
    match rx.recv_timeout(timeout) {
        Ok(r) => r,
        Err(_) => Err(format!("the keyring did not answer within {} s", timeout.as_secs_f32())),
    }
}

struct State {
    backend: Backend,
    reason: Option<String>,
}

struct Inner {
    dir: PathBuf,
    keyring: Option<Box<dyn SecretBackend>>,
    state: Mutex<State>,
}

/// The token store. Cheap to clone (shared state).
#[derive(Clone)]
pub struct TokenStore {
    inner: Arc<Inner>,
}

impl fmt::Debug for TokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStore")
            .field("backend", &self.backend())
            .field("dir", &self.inner.dir)
            .finish()
    }
}

impl TokenStore {
    /// Opens the store with service [`DEFAULT_SERVICE`]. `config_dir` is the
    /// plugin's config directory (token files go to `config_dir/tokens`).
    /// With `prefer_keyring` the OS keyring is probed and used when it works;
    /// otherwise (or when `VELORA_TOKEN_STORE=file`) the file backend is used.
    pub fn open(config_dir: &Path, prefer_keyring: bool) -> TokenStore {
        Self::open_with_service(config_dir, prefer_keyring, DEFAULT_SERVICE)
    }

    /// [`TokenStore::open`] with another keyring service name (tests use one
    /// of their own so they never touch the user's real entries).
    pub fn open_with_service(config_dir: &Path, prefer_keyring: bool, service: &str) -> TokenStore {
        let forced = std::env::var(FORCE_FILE_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("file"));
        let why_not = if !prefer_keyring {
            Some("the keyring is turned off".to_string())
        } else if forced {
            Some(format!("{FORCE_FILE_ENV}=file"))
        } else {
            probe_os_keyring(service, PROBE_TIMEOUT).err()
        };
        let store = match why_not {
            None => Self::with_keyring(
                config_dir,
                Box::new(OsKeyring {
                    service: service.to_string(),
                }),
            ),
            Some(reason) => Self::file_with_reason(config_dir, Some(reason)),
        };
        match store.fallback_reason() {
            None => log::info!("token store: OS keyring (service {service})"),
            Some(why) => log::info!("token store: file in {} ({why})", store.inner.dir.display()),
        }
        store
    }

    /// The file backend only (tests; no keyring access at all).
    pub fn file_only(config_dir: &Path) -> TokenStore {
        Self::file_with_reason(config_dir, None)
    }

    fn file_with_reason(config_dir: &Path, reason: Option<String>) -> TokenStore {
        TokenStore {
            inner: Arc::new(Inner {
                dir: config_dir.join(TOKEN_DIR),
                keyring: None,
                state: Mutex::new(State {
                    backend: Backend::File,
                    reason,
                }),
            }),
        }
    }

    pub(crate) fn with_keyring(config_dir: &Path, keyring: Box<dyn SecretBackend>) -> TokenStore {
        TokenStore {
            inner: Arc::new(Inner {
                dir: config_dir.join(TOKEN_DIR),
                keyring: Some(keyring),
                state: Mutex::new(State {
                    backend: Backend::Keyring,
                    reason: None,
                }),
            }),
        }
    }

    /// The backend in use now (log it).
    pub fn backend(&self) -> Backend {
        self.state().backend
    }

    /// Why the file backend is used, when it is.
    pub fn fallback_reason(&self) -> Option<String> {
        self.state().reason.clone()
    }

    /// The directory of the token files.
    pub fn file_dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The token file of `env`.
    pub fn file_path(&self, env: &str) -> Result<PathBuf, StoreError> {
        Ok(self.inner.dir.join(file_name_for_env(env)?))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        match self.inner.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn active_keyring(&self) -> Option<&dyn SecretBackend> {
        match self.backend() {
            Backend::Keyring => self.inner.keyring.as_deref(),
            Backend::File => None,
        }
    }

    fn switch_to_file(&self, why: &str) {
        let mut st = self.state();
        if st.backend == Backend::Keyring {
            log::warn!(
                "token store: keyring failed ({why}); using the file in {}",
                self.inner.dir.display()
            );
            st.backend = Backend::File;
            st.reason = Some(format!("the keyring failed: {why}"));
        }
    }

    /// The tokens of `env`, if any.
    pub fn load(&self, env: &str) -> Result<Option<StoredTokens>, StoreError> {
        let path = self.file_path(env)?;
        if let Some(kr) = self.active_keyring() {
            match kr.get(env) {
                Ok(json) => return parse(&json).map(Some),
                Err(KeyringError::NoEntry) => {
                    // Saved to the file while the keyring was unavailable?
                    // Move it into the keyring.
                    let Some(tokens) = read_file(&path)? else {
                        return Ok(None);
                    };
                    match kr.set(env, &to_json(&tokens)?) {
                        Ok(()) => {
                            remove_file(&path)?;
                            log::info!("token store: moved the {env} tokens into the keyring");
                        }
                        Err(e) => {
                            log::warn!("token store: could not move tokens to the keyring: {e:?}")
                        }
                    }
                    return Ok(Some(tokens));
                }
                Err(KeyringError::Unavailable(why)) => self.switch_to_file(&why),
                Err(KeyringError::Other(why)) => return Err(StoreError::Keyring(why)),
            }
        }
        read_file(&path)
    }

    /// Stores `tokens` for `env` (replacing what was there).
    pub fn save(&self, env: &str, tokens: &StoredTokens) -> Result<(), StoreError> {
        let path = self.file_path(env)?;
        let json = to_json(tokens)?;
        if let Some(kr) = self.active_keyring() {
            match kr.set(env, &json) {
                Ok(()) => {
                    // no stale copy in the file
                    return remove_file(&path);
                }
                Err(KeyringError::Unavailable(why)) => self.switch_to_file(&why),
                Err(KeyringError::NoEntry) => return Err(StoreError::Keyring("entry vanished while writing".into())),
                Err(KeyringError::Other(why)) => return Err(StoreError::Keyring(why)),
            }
        }
        write_file_atomic(&self.inner.dir, &path, json.as_bytes())
    }

    /// Forgets the tokens of `env` (keyring and file). `Ok` when there were
    /// none.
    pub fn delete(&self, env: &str) -> Result<(), StoreError> {
        let path = self.file_path(env)?;
        remove_file(&path)?;
        if let Some(kr) = self.inner.keyring.as_deref() {
            // Also when the store fell back to the file: an entry written
            // before the keyring failed must not come back.
            match kr.delete(env) {
                Ok(()) | Err(KeyringError::NoEntry) => {}
                Err(KeyringError::Unavailable(why)) | Err(KeyringError::Other(why)) => {
                    return Err(StoreError::Keyring(why))
                }
            }
        }
        Ok(())
    }
}

fn parse(json: &str) -> Result<StoredTokens, StoreError> {
    // serde_json's message names the position, not the content
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn to_json(tokens: &StoredTokens) -> Result<String, StoreError> {
    serde_json::to_string(tokens).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Maps an environment key to a file name that is unique (also on
/// case-insensitive file systems), portable and short: bytes outside
/// `[a-z0-9._-]` become `%XX`; long keys are cut and get a hash suffix.
pub fn file_name_for_env(env: &str) -> Result<String, StoreError> {
    if env.is_empty() || env.chars().any(|c| c.is_control()) {
        return Err(StoreError::InvalidEnv);
    }
    const MAX_RAW: usize = 64;
    let encode = |bytes: &[u8]| {
        let mut out = String::with_capacity(bytes.len() * 3);
        for &b in bytes {
            if b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-') {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    let bytes = env.as_bytes();
    let name = if bytes.len() <= MAX_RAW {
        encode(bytes)
    } else {
        format!("{}~{:016x}", encode(&bytes[..MAX_RAW]), fnv1a64(bytes))
    };
    Ok(format!("{name}.json"))
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn read_file(path: &Path) -> Result<Option<StoredTokens>, StoreError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = f.metadata()?.permissions().mode();
        if mode & 0o077 != 0 {
            log::warn!(
                "token store: {} was readable by others (mode {:o}); fixing",
                path.display(),
                mode & 0o777
            );
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
    }
    let mut json = String::new();
    f.read_to_string(&mut json)?;
    parse(&json).map(Some)
}

fn remove_file(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Creates `dir` (mode 0700) or tightens it to 0700.
fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if let Some(parent) = dir.parent() {
        fs::create_dir_all(parent)?;
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => {}
        Err(e) => return Err(e),
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(dir)?.permissions().mode();
        if mode & 0o777 != 0o700 {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Writes `data` to `path` atomically: a new temporary file in the same
/// directory, created with mode 0600 (so the content is never readable by
/// others, not even briefly), synced, then renamed over `path`.
fn write_file_atomic(dir: &Path, path: &Path, data: &[u8]) -> Result<(), StoreError> {
    ensure_private_dir(dir)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("tokens.json");
    let tmp = dir.join(format!(
        ".{file_name}.{}.{}.tmp",
        std::process::id(),
        TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let result = (|| -> io::Result<()> {
        let mut f = opts.open(&tmp)?;
        #[cfg(unix)]
        {
            // The mode passed to open() is masked by the umask; make sure.
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        #[cfg(unix)]
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(StoreError::from)
}

/// An in-memory keyring for tests, with switchable failures.
#[cfg(test)]
#[derive(Default)]
pub(crate) struct FakeKeyring {
    pub map: Mutex<std::collections::HashMap<String, String>>,
    pub unavailable: std::sync::atomic::AtomicBool,
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
    use crate::Secret;
    use std::sync::atomic::AtomicBool;

    fn tokens(access: &str) -> StoredTokens {
        StoredTokens {
            access_token: Secret::new(access),
            refresh_token: Some(Secret::new(format!("{access}-refresh"))),
            expires_at: Some(1_700_003_600),
            scope: Some("stream:key stream:read stream:write user:read".into()),
            account_name: Some("alice".into()),
            obtained_at: Some(1_700_000_000),
        }
    }

    #[cfg(unix)]
    fn mode(p: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn file_backend_round_trip_delete_and_separate_envs() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("obs-velora");
        let store = TokenStore::file_only(&cfg);
        assert_eq!(store.backend(), Backend::File);
        assert_eq!(store.load("production").unwrap(), None);
        store.save("production", &tokens("prod")).unwrap();
        store.save("sandbox", &tokens("sbx")).unwrap();
        store
            .save("custom:https://Host.example:8443", &tokens("custom"))
            .unwrap();
        assert_eq!(store.load("production").unwrap(), Some(tokens("prod")));
        assert_eq!(store.load("sandbox").unwrap(), Some(tokens("sbx")));
        assert_eq!(
            store.load("custom:https://Host.example:8443").unwrap(),
            Some(tokens("custom"))
        );
        assert_eq!(store.load("custom:https://host.example:8443").unwrap(), None);
        // overwrite
        store.save("production", &tokens("prod2")).unwrap();
        assert_eq!(store.load("production").unwrap(), Some(tokens("prod2")));
        // a second store over the same dir sees the same data
        let again = TokenStore::file_only(&cfg);
        assert_eq!(again.load("production").unwrap(), Some(tokens("prod2")));
        // delete one; others stay; delete is idempotent
        store.delete("production").unwrap();
        store.delete("production").unwrap();
        assert_eq!(store.load("production").unwrap(), None);
        assert_eq!(store.load("sandbox").unwrap(), Some(tokens("sbx")));
        // no temp files left behind
        let names: Vec<String> = fs::read_dir(store.file_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.iter().all(|n| n.ends_with(".json") && !n.starts_with('.')),
            "{names:?}"
        );
        assert_eq!(names.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn file_backend_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("cfg");
        let store = TokenStore::file_only(&cfg);
        store.save("production", &tokens("a")).unwrap();
        let path = store.file_path("production").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(store.file_dir()), 0o700);
        // a loosened file or dir is tightened again
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        fs::set_permissions(store.file_dir(), fs::Permissions::from_mode(0o755)).unwrap();
        assert!(store.load("production").unwrap().is_some());
        assert_eq!(mode(&path), 0o600);
        store.save("production", &tokens("b")).unwrap();
        assert_eq!(mode(store.file_dir()), 0o700);
        assert_eq!(mode(&path), 0o600);
        // the file holds JSON with the record fields
        let text = fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for k in ["access_token", "refresh_token", "expires_at", "scope", "account_name"] {
            assert!(v.get(k).is_some(), "{k} in {text}");
        }
    }

    #[test]
    fn corrupt_file_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::file_only(dir.path());
        store.save("production", &tokens("a")).unwrap();
        fs::write(store.file_path("production").unwrap(), "{not json").unwrap();
        let e = store.load("production").unwrap_err();
        assert!(matches!(e, StoreError::Corrupt(_)));
        store.save("production", &tokens("b")).unwrap();
        assert_eq!(store.load("production").unwrap(), Some(tokens("b")));
    }

    #[test]
    fn env_file_names() {
        assert_eq!(file_name_for_env("production").unwrap(), "production.json");
        assert_eq!(
            file_name_for_env("custom:https://Host").unwrap(),
            "custom%3Ahttps%3A%2F%2F%48ost.json"
        );
        assert_ne!(file_name_for_env("a/b").unwrap(), file_name_for_env("a%2Fb").unwrap());
        let long = format!("custom:https://{}", "x".repeat(300));
        let n = file_name_for_env(&long).unwrap();
        assert!(n.len() < 255, "{}", n.len());
        let long2 = format!("custom:https://{}y", "x".repeat(300));
        assert_ne!(n, file_name_for_env(&long2).unwrap());
        assert!(matches!(file_name_for_env(""), Err(StoreError::InvalidEnv)));
        assert!(matches!(file_name_for_env("a\nb"), Err(StoreError::InvalidEnv)));
    }

    #[test]
    fn prefer_keyring_false_forces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path(), false);
        assert_eq!(store.backend(), Backend::File);
        assert!(store.fallback_reason().is_some());
    }

    #[test]
    fn no_session_bus_means_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        assert!(session_bus_check(None, None).is_err());
        assert!(session_bus_check(Some(""), Some(dir.path())).is_err());
        assert!(session_bus_check(Some("unix:path=/run/user/1/bus"), None).is_ok());
        fs::write(dir.path().join("bus"), "").unwrap();
        assert!(session_bus_check(None, Some(dir.path())).is_ok());
    }

    fn fake_store(dir: &Path) -> (TokenStore, Arc<FakeKeyring>) {
        let fake = Arc::new(FakeKeyring::default());
        (TokenStore::with_keyring(dir, Box::new(fake.clone())), fake)
    }

    #[test]
    fn keyring_backend_keeps_one_json_entry_per_env() {
        let dir = tempfile::tempdir().unwrap();
        let (store, fake) = fake_store(dir.path());
        assert_eq!(store.backend(), Backend::Keyring);
        store.save("production", &tokens("p")).unwrap();
        store.save("sandbox", &tokens("s")).unwrap();
        {
            let map = fake.map.lock().unwrap();
            assert_eq!(map.len(), 2);
            let v: serde_json::Value = serde_json::from_str(&map["production"]).unwrap();
            assert_eq!(v["access_token"], "p");
        }
        assert!(!store.file_path("production").unwrap().exists());
        assert_eq!(store.load("sandbox").unwrap(), Some(tokens("s")));
        store.delete("sandbox").unwrap();
        assert_eq!(store.load("sandbox").unwrap(), None);
        assert_eq!(fake.map.lock().unwrap().len(), 1);
    }

    #[test]
    fn failing_keyring_falls_back_to_the_file_and_migrates_back() {
        let dir = tempfile::tempdir().unwrap();
        let (store, fake) = fake_store(dir.path());
        fake.unavailable.store(true, Ordering::SeqCst);
        store.save("production", &tokens("p")).unwrap();
        assert_eq!(store.backend(), Backend::File);
        assert!(store.fallback_reason().unwrap().contains("locked"));
        assert!(store.file_path("production").unwrap().exists());
        assert_eq!(store.load("production").unwrap(), Some(tokens("p")));

        // next start: the keyring works again; the file copy moves in
        fake.unavailable.store(false, Ordering::SeqCst);
        let store2 = TokenStore::with_keyring(dir.path(), Box::new(fake.clone()));
        assert_eq!(store2.load("production").unwrap(), Some(tokens("p")));
        assert!(!store2.file_path("production").unwrap().exists());
        assert!(fake.map.lock().unwrap().contains_key("production"));
        assert_eq!(store2.backend(), Backend::Keyring);
    }

    #[test]
    fn keyring_failing_on_load_switches_to_file() {
        let dir = tempfile::tempdir().unwrap();
        let (store, fake) = fake_store(dir.path());
        let flag: &AtomicBool = &fake.unavailable;
        flag.store(true, Ordering::SeqCst);
        assert_eq!(store.load("production").unwrap(), None);
        assert_eq!(store.backend(), Backend::File);
        // delete while the keyring is down reports the failure
        assert!(matches!(store.delete("production"), Err(StoreError::Keyring(_))));
    }
}
