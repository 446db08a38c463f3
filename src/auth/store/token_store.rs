//! [`TokenStore`]: which backend holds the tokens, and load / save / delete
//! over it, falling back to the file when the keyring fails and moving
//! tokens found in the file back into the keyring when it works again.

use super::error::StoreError;
use super::file::{file_name_for_env, parse, read_file, remove_file, to_json, write_file_atomic, TOKEN_DIR};
use super::keyring::{probe_os_keyring, KeyringError, OsKeyring, SecretBackend, DEFAULT_SERVICE, PROBE_TIMEOUT};
use crate::auth::record::StoredTokens;
use crate::cancel::Cancel;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Set to `file` to force the file backend (e.g. for tests of the real plugin
/// in OBS, where the caller cannot pass `prefer_keyring = false`).
pub const FORCE_FILE_ENV: &str = "VELORA_TOKEN_STORE";

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

    /// [`TokenStore::open`] whose keyring probe ends when `cancel` fires.
    pub fn open_unless(config_dir: &Path, prefer_keyring: bool, cancel: &Cancel) -> TokenStore {
        Self::open_with(config_dir, prefer_keyring, DEFAULT_SERVICE, cancel)
    }

    /// [`TokenStore::open`] with another keyring service name (tests use one
    /// of their own so they never touch the user's real entries).
    pub fn open_with_service(config_dir: &Path, prefer_keyring: bool, service: &str) -> TokenStore {
        Self::open_with(config_dir, prefer_keyring, service, &Cancel::new())
    }

    fn open_with(config_dir: &Path, prefer_keyring: bool, service: &str, cancel: &Cancel) -> TokenStore {
        let forced = std::env::var(FORCE_FILE_ENV).is_ok_and(|v| v.eq_ignore_ascii_case("file"));
        let why_not = if !prefer_keyring {
            Some("the keyring is turned off".to_string())
        } else if forced {
            Some(format!("{FORCE_FILE_ENV}=file"))
        } else {
            probe_os_keyring(service, PROBE_TIMEOUT, cancel).err()
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

#[cfg(test)]
mod tests {
    use super::super::keyring::FakeKeyring;
    use super::*;
    use crate::Secret;
    use std::fs;
    use std::sync::atomic::{AtomicBool, Ordering};

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
    fn prefer_keyring_false_forces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::open(dir.path(), false);
        assert_eq!(store.backend(), Backend::File);
        assert!(store.fallback_reason().is_some());
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
