//! The packaging files agree with the code: the Debian changelog and the
//! Flatpak MetaInfo name the crate's version, the maintainer is the one
//! CMake puts in the .deb, the Flatpak extension manifest has the shape
//! Flathub's OBS extension point needs, and the cargo sources generated for
//! an offline Flatpak build cover every crate of Cargo.lock.
//! (Building the .deb and the layouts themselves is tested in real OBS by the
//! compatibility matrix; the Flatpak itself cannot be built here.)

use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

#[test]
fn debian_changelog_and_maintainer() {
    let changelog = read("packaging/debian/changelog");
    let first = changelog.lines().next().unwrap();
    assert_eq!(
        first,
        format!("obs-velora ({}) unstable; urgency=medium", env!("CARGO_PKG_VERSION"))
    );
    let cmake = read("CMakeLists.txt");
    let maintainer = "obs-velora developers <dev@velora.invalid>";
    assert!(cmake.contains(&format!("\"{maintainer}\" CACHE STRING")));
    let sig = changelog.lines().find(|l| l.starts_with(" -- ")).unwrap();
    assert!(sig.starts_with(&format!(" -- {maintainer}  ")), "{sig}");
    // RFC 5322 date, as dpkg-parsechangelog wants.
    let date = sig.split("  ").nth(1).unwrap();
    assert!(date.ends_with(" +0000") && date.contains(", "), "{date}");
    assert!(read("packaging/debian/copyright").contains("License: GPL-2.0-or-later"));
}

#[test]
fn flatpak_manifest_is_an_obs_extension() {
    let m: Value = serde_json::from_str(&read("packaging/flatpak/com.obsproject.Studio.Plugin.Velora.json")).unwrap();
    assert_eq!(m["id"], "com.obsproject.Studio.Plugin.Velora");
    assert_eq!(m["runtime"], "com.obsproject.Studio");
    assert_eq!(m["branch"], "stable");
    assert_eq!(m["build-extension"], true);
    // /app/plugins/<Name>: merged into /app/plugins/lib/obs-plugins by the
    // extension point's merge-dirs.
    assert_eq!(m["build-options"]["prefix"], "/app/plugins/Velora");
    // Extensions cannot add sandbox permissions (flatpak computes them from
    // the app and runtime only): none are pretended here.
    assert!(m.get("finish-args").is_none());
    let module = &m["modules"][0];
    let opts: Vec<&str> = module["config-opts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(opts.contains(&"-DVELORA_QT=6"), "{opts:?}");
    assert!(opts.contains(&"-DCMAKE_INSTALL_LIBDIR=lib"), "{opts:?}");
    assert!(module["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "cargo-sources.json"));
    let metainfo = read("packaging/flatpak/com.obsproject.Studio.Plugin.Velora.metainfo.xml");
    assert!(metainfo.contains("<id>com.obsproject.Studio.Plugin.Velora</id>"));
    assert!(metainfo.contains("<extends>com.obsproject.Studio</extends>"));
    assert!(metainfo.contains(&format!("<release version=\"{}\"", env!("CARGO_PKG_VERSION"))));
}

#[test]
fn flatpak_cargo_sources_cover_cargo_lock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("packaging/flatpak/cargo-sources.py"))
        .arg("--stdout")
        .output()
        .expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let sources: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let lock = read("Cargo.lock");
    let mut crates = 0;
    for block in lock.split("[[package]]").skip(1) {
        let field = |k: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k} = \"")))
                .map(|v| v.trim_end_matches('"').to_string())
        };
        let (Some(name), Some(version)) = (field("name"), field("version")) else {
            continue;
        };
        let Some(checksum) = field("checksum") else {
            continue; // workspace members
        };
        crates += 1;
        let url = format!("https://static.crates.io/crates/{name}/{name}-{version}.crate");
        let archive = sources
            .iter()
            .find(|s| s["url"] == url.as_str())
            .unwrap_or_else(|| panic!("{name} {version} is not in the cargo sources"));
        assert_eq!(archive["sha256"], checksum.as_str());
        assert_eq!(archive["dest"], format!("cargo/vendor/{name}-{version}").as_str());
        assert!(sources.iter().any(|s| s["dest"] == archive["dest"]
            && s["dest-filename"] == ".cargo-checksum.json"
            && s["contents"].as_str().is_some_and(|c| c.contains(&checksum))));
    }
    assert!(crates > 100, "{crates}");
    assert_eq!(sources.len(), crates * 2 + 1);
    let config = sources.last().unwrap();
    assert_eq!(config["dest-filename"], "config");
    assert!(config["contents"]
        .as_str()
        .unwrap()
        .contains("replace-with = \"vendored-sources\""));
}
