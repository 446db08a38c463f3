//! Every locale key used in the code (Rust core and Qt dock) exists in
//! data/locale/en-US.ini, and the file has no duplicate keys.

use std::collections::BTreeSet;
use std::path::Path;

fn files(dir: &Path, exts: &[&str], out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, exts, out);
        } else if p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| exts.contains(&x))
        {
            out.push(p);
        }
    }
}

/// `"Velora.Something.Key"` literals (also `c"…"`); prefixes ending in `.` are not keys.
fn keys_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("\"Velora.") {
        let after = &rest[i + 1..];
        let end = after.find('"').unwrap_or(after.len());
        let lit = &after[..end];
        if !lit.ends_with('.') && lit.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') {
            out.push(lit.to_string());
        }
        rest = &after[end.min(after.len())..];
    }
    out
}

#[test]
fn every_key_used_in_code_is_in_en_us() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ini = std::fs::read_to_string(root.join("data/locale/en-US.ini")).unwrap();
    let mut defined = BTreeSet::new();
    for line in ini
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
    {
        let (k, v) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("not a key=value line: {line}"));
        assert!(v.starts_with('"') && v.ends_with('"'), "value of {k} must be quoted");
        assert!(defined.insert(k.to_string()), "duplicate key {k}");
    }

    let mut sources = Vec::new();
    files(&root.join("src"), &["rs"], &mut sources);
    files(&root.join("dock/src"), &["cpp", "hpp"], &mut sources);
    let mut used = BTreeSet::new();
    for f in &sources {
        for k in keys_in(&std::fs::read_to_string(f).unwrap()) {
            used.insert(k);
        }
    }
    // Keys built at run time.
    for p in ["rtmp", "srt", "whip"] {
        used.insert(format!("Velora.Protocol.{p}"));
    }
    assert!(used.len() > 50, "found only {} keys: the scan is broken", used.len());
    let missing: Vec<&String> = used.iter().filter(|k| !defined.contains(*k)).collect();
    assert!(
        missing.is_empty(),
        "keys used in code but missing from en-US.ini: {missing:?}"
    );
}
