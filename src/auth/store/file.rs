//! The stored form of a record: its JSON text (the keyring's secret and the
//! file's content alike), and the token files, one per environment, mode
//! 0600 in a 0700 directory.

use super::error::StoreError;
use crate::auth::record::StoredTokens;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

/// Sub-directory of the config dir holding the token files.
pub const TOKEN_DIR: &str = "tokens";

pub(super) fn parse(json: &str) -> Result<StoredTokens, StoreError> {
    // serde_json's message names the position, not the content
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(super) fn to_json(tokens: &StoredTokens) -> Result<String, StoreError> {
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

pub(super) fn read_file(path: &Path) -> Result<Option<StoredTokens>, StoreError> {
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

/// Writes the token file (mode 0600, atomically) in a 0700 directory.
pub(super) fn write_file_atomic(dir: &Path, path: &Path, data: &[u8]) -> Result<(), StoreError> {
    crate::fsutil::ensure_private_dir(dir)?;
    crate::fsutil::write_private(path, data)?;
    Ok(())
}

pub(super) fn remove_file(path: &Path) -> Result<(), StoreError> {
    crate::fsutil::remove_if_exists(path).map_err(StoreError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
