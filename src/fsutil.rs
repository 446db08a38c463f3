//! The one way the plugin writes a file that may hold something private
//! (stream key, tokens) or that two threads may write (preferences):
//! a fresh temporary file beside the target, created exclusively (never
//! following a link someone planted), mode 0600 from the first byte, synced,
//! renamed over the target, and removed again when anything fails.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temp name no other writer (thread or process) uses:
/// `.<file>.<pid>.<n>.tmp` in the target's directory.
fn temp_path(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Writes `data` to `path` atomically with mode 0600 (see the module docs).
/// The parent directory must exist.
pub fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    let tmp = temp_path(path);
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // create_new is O_CREAT|O_EXCL (which never follows a symlink at the
        // last component); O_NOFOLLOW says so explicitly.
        opts.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let result = (|| -> io::Result<()> {
        let mut f = opts.open(&tmp)?;
        #[cfg(unix)]
        {
            // The mode given to open() is masked by the umask; make sure.
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(fs::Permissions::from_mode(0o600))?;
        }
        f.write_all(data)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)?;
        #[cfg(unix)]
        if let Some(dir) = path.parent() {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Creates `dir` (mode 0700) or tightens it to 0700; its parents are created
/// with the default mode.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
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

/// Removes `path`; a file that is not there is not an error.
pub fn remove_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leftovers(dir: &Path) -> Vec<String> {
        fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[cfg(unix)]
    #[test]
    fn private_and_atomic() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.json");
        write_private(&p, b"one").unwrap();
        write_private(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(fs::metadata(&p).unwrap().permissions().mode() & 0o777, 0o600);
        assert!(leftovers(d.path()).is_empty());
    }

    #[test]
    fn failure_leaves_no_temp_file() {
        let d = tempfile::tempdir().unwrap();
        // The target is a directory: the rename fails after the temp file was written.
        let p = d.path().join("dir");
        fs::create_dir(&p).unwrap();
        fs::write(p.join("x"), b"keep").unwrap();
        assert!(write_private(&p, b"data").is_err());
        assert!(leftovers(d.path()).is_empty(), "{:?}", leftovers(d.path()));
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_symlink_is_never_followed() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        fs::write(&victim, b"precious").unwrap();
        // Whatever temp name comes next, plant links for a range of them.
        let target = d.path().join("t.json");
        let next = COUNTER.load(Ordering::Relaxed);
        for n in next..next + 64 {
            let name = format!(".t.json.{}.{n}.tmp", std::process::id());
            std::os::unix::fs::symlink(&victim, d.path().join(name)).unwrap();
        }
        // Every planted name is refused (O_EXCL): the write fails, the victim is untouched.
        let r = write_private(&target, b"secret");
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        if r.is_ok() {
            // Another test took the counter past our range: the write used a clean name.
            assert_eq!(fs::read(&target).unwrap(), b"secret");
        }
    }

    #[test]
    fn concurrent_writers_never_share_a_temp_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("prefs.json");
        let threads: Vec<_> = (0..8)
            .map(|i| {
                let p = p.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        write_private(&p, format!("{{\"writer\":{i}}}").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let text = fs::read_to_string(&p).unwrap();
        assert!(text.starts_with("{\"writer\":") && text.ends_with('}'), "{text}");
        assert!(leftovers(d.path()).is_empty());
    }
}
