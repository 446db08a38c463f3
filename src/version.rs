//! Version numbers: ours and OBS's (`MAKE_SEMANTIC_VERSION`).

/// The plugin's version (Cargo package version).
pub const PLUGIN_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `MAKE_SEMANTIC_VERSION(major, minor, patch)` from obs-config.h.
pub const fn semantic(major: u32, minor: u32, patch: u32) -> u32 {
    (major << 24) | (minor << 16) | patch
}

/// The API version the module reports from `obs_module_ver`: the oldest OBS
/// we support, so OBS 32 (which rejects newer modules) loads us.
pub const MODULE_API_VERSION: u32 = semantic(29, 0, 0);

/// The oldest libobs the plugin runs on. `velora.so` links no libobs (it
/// takes the symbols from the process that loads it), so the version is
/// checked at load time instead of by the dynamic loader.
pub const MIN_OBS_VERSION: u32 = semantic(29, 0, 0);

/// Whether the running libobs (`obs_get_version()`) is one we support.
pub const fn is_supported(obs_version: u32) -> bool {
    obs_version >= MIN_OBS_VERSION
}

/// "29.0.2" from a numeric version.
pub fn display(v: u32) -> String {
    format!("{}.{}.{}", v >> 24, (v >> 16) & 0xff, v & 0xffff)
}

#[cfg(test)]
mod tests {
    #[test]
    fn semantic_matches_obs() {
        assert_eq!(super::semantic(29, 0, 2), 486539266);
        assert_eq!(super::display(super::semantic(32, 2, 2)), "32.2.2");
    }

    #[test]
    fn oldest_supported_is_29_0() {
        use super::{is_supported, semantic};
        assert!(!is_supported(semantic(28, 1, 2)));
        assert!(!is_supported(semantic(27, 2, 4)));
        assert!(is_supported(semantic(29, 0, 0)));
        assert!(is_supported(semantic(29, 0, 2)));
        assert!(is_supported(semantic(32, 2, 2)));
        // obs_module_ver reports the oldest supported API (OBS 32 refuses newer modules).
        assert_eq!(super::MODULE_API_VERSION, super::MIN_OBS_VERSION);
    }
}
