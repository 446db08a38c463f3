//! The files the plugin reads back: the token record (keyring entry or
//! 0600 file) and the preferences. Garbage reads as an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = serde_json::from_slice::<velora::auth::StoredTokens>(data) {
        // The expiry math takes any values.
        let _ = t.needs_refresh(u64::MAX);
        let _ = t.needs_refresh(0);
        let _ = t.secs_until_refresh(1_700_000_000);
        let _ = t.is_expired(1_700_000_000);
        // Debug never shows a token, whatever the other fields hold.
        let mut t = t;
        t.access_token = velora::Secret::new("VATFUZZ_access_9f8e7d6c");
        t.refresh_token = Some(velora::Secret::new("VRTFUZZ_refresh_5b4a3f2e"));
        let dbg = format!("{t:?}");
        assert!(!dbg.contains("VATFUZZ_access") && !dbg.contains("VRTFUZZ_refresh"), "{dbg}");
    }
    if let Ok(p) = velora::session::prefs::parse(data) {
        let _ = p.environment();
        let _ = p.endpoint_settings();
    }
    if let Ok(env) = std::str::from_utf8(data) {
        if let Ok(name) = velora::auth::store::file_name_for_env(env) {
            assert!(!name.contains('/') && !name.contains('\0') && name != ".." && name != ".");
        }
    }
});
