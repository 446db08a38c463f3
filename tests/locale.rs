//! Every locale key used in the code (Rust core and Qt dock) exists in
//! data/locale/en-US.ini, and the file has no duplicate keys; every
//! translation in data/locale/ has exactly en-US's keys, its placeholders
//! and its `&` mnemonics, in a form OBS's text lookup reads as intended.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

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

/// `text` without its top-level `#[cfg(test)] mod … { … }` blocks (as rustfmt
/// lays them out: the closing brace alone at column 0): keys made up by unit
/// tests (`tr("Velora.X")`) are not keys the plugin shows.
fn without_test_modules(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        if l.trim() == "#[cfg(test)]" && lines.peek().is_some_and(|n| n.starts_with("mod ") && n.ends_with('{')) {
            for skipped in lines.by_ref() {
                if skipped == "}" {
                    break;
                }
            }
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[test]
fn every_key_used_in_code_is_in_en_us() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let defined: BTreeSet<String> = parse_locale(&root.join("data/locale/en-US.ini"))
        .into_iter()
        .map(|e| e.key)
        .collect();

    let mut sources = Vec::new();
    files(&root.join("src"), &["rs"], &mut sources);
    files(&root.join("dock/src"), &["cpp", "hpp"], &mut sources);
    let mut used = BTreeSet::new();
    for f in &sources {
        let text = std::fs::read_to_string(f).unwrap();
        let text = if f.extension().is_some_and(|x| x == "rs") {
            without_test_modules(&text)
        } else {
            text
        };
        for k in keys_in(&text) {
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

/* ------------------------------------------------------------------------ */
/* translations                                                              */

/// The languages the plugin ships besides en-US; a missing file fails.
const TRANSLATIONS: &[&str] = &[
    "de-DE", "es-ES", "fr-FR", "it-IT", "ja-JP", "ko-KR", "pt-BR", "ru-RU", "zh-CN", "zh-TW", "pl-PL", "tr-TR",
];

/// Languages whose mnemonics follow the Qt convention for scripts without
/// Latin letters: `ログイン(&L)`, the Latin letter English uses, at the end.
const PAREN_MNEMONIC: &[&str] = &["ja-JP", "ko-KR", "zh-CN", "zh-TW"];

/// Keys whose mnemonics are on screen together (one dock page each): their
/// letters must differ, or Alt+letter only moves the focus between them.
/// Update these lists when the dock gains or moves a control with a mnemonic.
const MNEMONIC_GROUPS: &[(&str, &[&str])] = &[
    (
        "logged out",
        &[
            "Velora.Dock.Login",
            "Velora.Dock.Advanced",
            "Velora.Dock.Environment",
            "Velora.Dock.CustomUrl",
        ],
    ),
    ("logging in", &["Velora.Dock.CopyLink", "Velora.Dock.Cancel"]),
    (
        "ready",
        &[
            "Velora.Dock.UseVelora",
            "Velora.Dock.StreamTitle",
            "Velora.Dock.Category",
            "Velora.Dock.Tags",
            "Velora.Dock.Update",
            "Velora.Dock.Protocol",
            "Velora.Dock.Reveal",
            "Velora.Dock.Check.CheckKey",
        ],
    ),
];

/// Names that stay as they are in every language.
const PRODUCT_NAMES: &[&str] = &["Velora", "OBS", "RTMP", "SRT", "WHIP", "WebRTC"];

/// Languages that decline Velora (Polish: Velory, Velorą, Velorze): there
/// its stem is what must be kept.
const DECLINES_VELORA: &[&str] = &["pl-PL"];

/// One `Key="value"` line; `value` is the text between the quotes, escapes
/// left as written.
struct Entry {
    line: usize,
    key: String,
    value: String,
}

/// Reads a locale file the way OBS's text lookup (libobs/util/text-lookup.c)
/// does, and fails on anything it would read differently from what the line
/// seems to say: an unquoted value, a `"` that ends the value early, an
/// escape it does not know (it knows `\n`, `\t`, `\r`, `\"`), a duplicate key.
fn parse_locale(path: &Path) -> Vec<Entry> {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(
        !bytes.starts_with(&[0xEF, 0xBB, 0xBF]),
        "{name}: starts with a byte-order mark"
    );
    let text = String::from_utf8(bytes).unwrap_or_else(|_| panic!("{name}: not UTF-8"));
    assert!(!text.contains('\r'), "{name}: CRLF line ends");

    let mut out: Vec<Entry> = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim();
        // `#` is the only comment OBS knows; a `;` line would become a key.
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (key, value) = l
            .split_once('=')
            .unwrap_or_else(|| panic!("{name}:{line}: not a Key=\"value\" line: {raw}"));
        assert!(
            !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_'),
            "{name}:{line}: bad key {key:?} (no spaces around '=')"
        );
        assert!(
            value.len() >= 2 && value.starts_with('"') && value.ends_with('"'),
            "{name}:{line}: the value of {key} must be in double quotes"
        );
        let inner = &value[1..value.len() - 1];
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n' | 't' | 'r' | '"') => {}
                    other => panic!("{name}:{line}: {key}: unknown escape \\{other:?} (OBS knows \\n \\t \\r \\\")"),
                },
                '"' => panic!("{name}:{line}: {key}: a \" inside the value must be written \\\""),
                c if c.is_control() => panic!("{name}:{line}: {key}: control character {c:?}"),
                _ => {}
            }
        }
        assert!(!inner.trim().is_empty(), "{name}:{line}: {key} is empty");
        assert!(seen.insert(key.to_string()), "{name}:{line}: duplicate key {key}");
        out.push(Entry {
            line,
            key: key.to_string(),
            value: inner.to_string(),
        });
    }
    out
}

/// `%1`, `%2`… in order of appearance.
fn placeholders(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits > 0 {
                out.push(v[i..i + 1 + digits].to_string());
                i += 1 + digits;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// The characters marked by a single `&` (Qt mnemonics); `&&` is a literal `&`.
fn mnemonics(v: &str) -> Vec<char> {
    let mut out = Vec::new();
    let mut it = v.chars().peekable();
    while let Some(c) = it.next() {
        if c == '&' {
            match it.next() {
                Some('&') => {}
                Some(m) => out.push(m),
                None => out.push('\0'),
            }
        }
    }
    out
}

fn locale_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("data/locale")
}

#[test]
fn every_translation_matches_en_us() {
    let dir = locale_dir();
    let en: BTreeMap<String, String> = parse_locale(&dir.join("en-US.ini"))
        .into_iter()
        .map(|e| (e.key, e.value))
        .collect();
    for (k, v) in &en {
        assert!(mnemonics(v).len() <= 1, "en-US.ini: {k} has more than one mnemonic");
    }

    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ini"))
        .filter(|p| p.file_stem().is_some_and(|s| s != "en-US"))
        .collect();
    paths.sort();
    for lang in TRANSLATIONS {
        assert!(
            paths.contains(&dir.join(format!("{lang}.ini"))),
            "data/locale/{lang}.ini is missing"
        );
    }

    let mut problems = Vec::new();
    for path in &paths {
        let lang = path.file_stem().unwrap().to_string_lossy().into_owned();
        let name = format!("{lang}.ini");
        let entries = parse_locale(path);
        let keys: BTreeSet<&str> = entries.iter().map(|e| e.key.as_str()).collect();
        for k in en.keys().filter(|k| !keys.contains(k.as_str())) {
            problems.push(format!("{name}: missing {k}"));
        }
        let mut letters: BTreeMap<&str, char> = BTreeMap::new();
        for Entry { line, key, value } in &entries {
            let Some(en_value) = en.get(key) else {
                problems.push(format!("{name}:{line}: {key} is not in en-US.ini"));
                continue;
            };
            let at = format!("{name}:{line}: {key}");

            let (mut want, mut got) = (placeholders(en_value), placeholders(value));
            want.sort();
            got.sort();
            if want != got {
                problems.push(format!("{at}: placeholders {got:?}, en-US has {want:?}"));
            }

            let (en_m, m) = (mnemonics(en_value), mnemonics(value));
            if m.len() != en_m.len() {
                problems.push(format!("{at}: {} mnemonic(s) ('&'), en-US has {}", m.len(), en_m.len()));
            } else if let (Some(&c), Some(&en_c)) = (m.first(), en_m.first()) {
                if PAREN_MNEMONIC.contains(&lang.as_str()) {
                    let tail = value.trim_end_matches([':', ' ', '…']);
                    if !tail.ends_with(&format!("(&{c})")) || !c.eq_ignore_ascii_case(&en_c) {
                        problems.push(format!(
                            "{at}: mnemonic must be \"(&{})\" at the end",
                            en_c.to_ascii_uppercase()
                        ));
                    }
                } else if !c.is_alphabetic() {
                    problems.push(format!("{at}: the '&' must stand before a letter, not {c:?}"));
                }
                letters.insert(key.as_str(), c);
            }

            if value.matches("\\n").count() != en_value.matches("\\n").count() {
                problems.push(format!("{at}: line breaks (\\n) differ from en-US"));
            }
            for product in PRODUCT_NAMES {
                let stem = if *product == "Velora" && DECLINES_VELORA.contains(&lang.as_str()) {
                    "Velor"
                } else {
                    product
                };
                if en_value.contains(product) && !value.contains(stem) {
                    problems.push(format!("{at}: {product} must stay untranslated"));
                }
            }
        }

        for (page, group) in MNEMONIC_GROUPS {
            let mut used: BTreeMap<String, &str> = BTreeMap::new();
            for key in *group {
                if let Some(c) = letters.get(key) {
                    let c = c.to_lowercase().to_string();
                    if let Some(other) = used.insert(c.clone(), key) {
                        problems.push(format!(
                            "{name}: {key} and {other} share the mnemonic '{c}' ({page} page)"
                        ));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "locale problems:\n{}", problems.join("\n"));
}

#[test]
fn mnemonic_groups_name_real_keys_and_en_us_keeps_them_apart() {
    let en: BTreeMap<String, String> = parse_locale(&locale_dir().join("en-US.ini"))
        .into_iter()
        .map(|e| (e.key, e.value))
        .collect();
    for (page, group) in MNEMONIC_GROUPS {
        let mut used = BTreeSet::new();
        for key in *group {
            let v = en
                .get(*key)
                .unwrap_or_else(|| panic!("{key} ({page} page) is not in en-US.ini"));
            let m = mnemonics(v);
            assert_eq!(m.len(), 1, "{key} ({page} page) has no mnemonic in en-US.ini");
            assert!(
                used.insert(m[0].to_ascii_lowercase()),
                "en-US.ini: {key} reuses a mnemonic on the {page} page"
            );
        }
    }
}

#[test]
fn placeholder_and_mnemonic_scanners() {
    assert_eq!(placeholders("%1/%2 and %10, 100%"), ["%1", "%2", "%10"]);
    assert_eq!(mnemonics("Ca&ncel"), ['n']);
    assert_eq!(mnemonics("R&&D &Go"), ['G']);
    assert_eq!(mnemonics("ログイン(&L)"), ['L']);
    assert!(mnemonics("Plain").is_empty());
}
