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
//!
//! * `token_store`: [`TokenStore`], which backend, load / save / delete, the
//!   fallback to the file and the move back into the keyring.
//! * `keyring`: the OS keyring: the probe, its errors classified, and the
//!   `SecretBackend` trait the store talks to (a fake one in tests).
//! * `file`: the record as JSON and the 0600 token files.
//! * `error`: [`StoreError`].

mod error;
mod file;
mod keyring;
mod token_store;

pub use error::StoreError;
pub use file::{file_name_for_env, TOKEN_DIR};
#[cfg(test)]
pub(crate) use keyring::FakeKeyring;
pub use keyring::{probe_os_keyring, session_bus_check, DEFAULT_SERVICE, PROBE_TIMEOUT};
pub use token_store::{Backend, TokenStore, FORCE_FILE_ENV};
