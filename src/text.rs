//! Localized text. OBS's locale table is installed by the FFI layer at load
//! (`obs_module_text`); without it (unit tests, tools) the English text
//! compiled in from data/locale/en-US.ini is used, and an unknown key stands
//! for itself.

use once_cell::sync::Lazy;
use std::collections::HashMap;
use std::sync::RwLock;

/// en-US.ini, parsed once: `Key="value"` lines (OBS's format, `\n` escapes).
static ENGLISH: Lazy<HashMap<&'static str, String>> = Lazy::new(|| {
    include_str!("../data/locale/en-US.ini")
        .lines()
        .filter_map(|l| {
            let (k, v) = l.trim().split_once('=')?;
            let v = v.strip_prefix('"')?.strip_suffix('"')?;
            Some((k.trim(), v.replace("\\n", "\n").replace("\\\"", "\"")))
        })
        .collect()
});

type Lookup = fn(&str) -> String;

static LOOKUP: RwLock<Option<Lookup>> = RwLock::new(None);

/// Installs the lookup (module load) or removes it (unload).
pub fn set_lookup(f: Option<Lookup>) {
    *LOOKUP.write().unwrap_or_else(|e| e.into_inner()) = f;
}

/// The text for `key` in the user's language (English when missing).
pub fn tr(key: &str) -> String {
    let f = *LOOKUP.read().unwrap_or_else(|e| e.into_inner());
    match f {
        Some(f) => f(key),
        None => ENGLISH.get(key).cloned().unwrap_or_else(|| key.to_string()),
    }
}

/// [`tr`] with `%1`, `%2`… replaced by `args`.
pub fn tr_args(key: &str, args: &[&str]) -> String {
    let mut s = tr(key);
    // Highest first, so %1 does not eat the start of %10.
    for (i, a) in args.iter().enumerate().rev() {
        s = s.replace(&format!("%{}", i + 1), a);
    }
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn without_obs_the_english_text_is_used() {
        assert_eq!(super::tr("Velora.Error.NotReady").chars().next(), Some('T'));
        assert_eq!(super::tr("Velora.Unknown.Key"), "Velora.Unknown.Key");
        assert_eq!(super::tr_args("a %1 b %2", &["x", "y"]), "a x b y");
        assert!(super::tr_args("Velora.Error.Paced", &["7"]).contains(" 7 "));
    }
}
