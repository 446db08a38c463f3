//! What can go wrong in the token store.

use std::fmt;
use std::io;

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
