//! The dock's C header: generated, current, and limited to the dock ABI.

#[test]
fn header_exports_only_the_dock_abi() {
    let h = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/velora.h")).unwrap();
    for line in h.lines() {
        if let Some(rest) = line.strip_prefix("#define ") {
            let name = rest.split_whitespace().next().unwrap();
            assert!(
                name == "VELORA_H" || name.starts_with("VELORA_"),
                "stray constant in the header: {name}"
            );
        }
        if let Some(rest) = line
            .strip_prefix("typedef struct ")
            .or_else(|| line.strip_prefix("typedef enum "))
        {
            let name = rest.split_whitespace().next().unwrap();
            assert!(name.starts_with("Velora"), "stray type in the header: {name}");
        }
    }
    for needle in [
        "VeloraCoreApi",
        "VeloraDockState",
        "velora_core_api",
        "velora_dock_load_fn",
        "VELORA_TITLE_MAX_CHARS",
    ] {
        assert!(h.contains(needle), "{needle} missing from include/velora.h");
    }
    assert!(
        !h.contains("obs_module_load"),
        "module exports leaked into the dock header"
    );
}
