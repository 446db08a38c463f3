//! What an image host sends as a category picture: the header reader never
//! panics, and what it accepts declares a non-empty image of a known format.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(h) = velora::imagehead::read(data) {
        assert!(h.width > 0 && h.height > 0);
        assert!(!h.format.extension().is_empty());
    }
});
