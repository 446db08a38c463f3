//! Build script: OBS bindings (bindgen over the installed libobs headers) and
//! the dock's C header (cbindgen over src/ffi/dock_api.rs and dock_calls.rs).

use std::env;
use std::path::PathBuf;

fn obs_include_dirs() -> Vec<PathBuf> {
    if let Ok(dir) = env::var("VELORA_OBS_INCLUDE") {
        return vec![PathBuf::from(dir)];
    }
    let out = std::process::Command::new("pkg-config")
        .args(["--cflags-only-I", "libobs"])
        .output();
    let mut dirs: Vec<PathBuf> = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .filter_map(|f| f.strip_prefix("-I").map(PathBuf::from))
            .collect(),
        _ => Vec::new(),
    };
    if dirs.is_empty() {
        dirs.push(PathBuf::from("/usr/include/obs"));
    }
    dirs
}

fn main() {
    println!("cargo:rerun-if-changed=src/ffi/wrapper.h");
    println!("cargo:rerun-if-changed=src/ffi/dock_api.rs");
    println!("cargo:rerun-if-changed=src/ffi/dock_calls.rs");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=VELORA_OBS_INCLUDE");
    println!("cargo:rerun-if-env-changed=VELORA_OBS_LIBDIR");

    let includes = obs_include_dirs();
    let mut builder = bindgen::Builder::default()
        .header("src/ffi/wrapper.h")
        .clang_arg("-DHAVE_OBSCONFIG_H")
        .allowlist_function("obs_(data|register|get|module|service|output|properties|property|current|enum|weak|frontend)_.*")
        .allowlist_function("obs_(queue_task|in_task_thread|reset_video|get_version|get_version_string|startup|shutdown|initialized|get_proc_handler|find_module_file|open_module|init_module|load_all_modules|post_load_modules|log_loaded_modules|find_data_file)")
        .allowlist_function("(blog|bfree|bmalloc|bzalloc|bstrdup_n|calldata_.*|proc_handler_.*|text_lookup_.*|os_.*)")
        .allowlist_type("obs_.*|video_.*|calldata.*|proc_handler.*|lookup_t|text_lookup|obs_frontend_event")
        .allowlist_var("LOG_.*|LIBOBS_API_.*|OBS_.*")
        .blocklist_function("obs_module_(load|unload|post_load|set_locale|free_locale|text|get_string|name|description|author|ver|set_pointer)")
        .blocklist_function("obs_current_module")
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()));
    for dir in &includes {
        builder = builder.clang_arg(format!("-I{}", dir.display()));
    }
    let bindings = builder
        .generate()
        .expect("bindgen could not read the OBS headers (install libobs-dev and libclang-dev)");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    bindings
        .write_to_file(out.join("obs_bindings.rs"))
        .expect("write bindings");

    // velora.so names no libobs (no DT_NEEDED): OBS has loaded libobs before
    // any module, so the plugin takes libobs's symbols from the process. That
    // is what lets one file load on Debian's OBS (soname libobs.so.0) and on
    // upstream's builds (libobs.so.30: the obsproject PPA, Flathub, source
    // builds). rustc links cdylibs with `-z now`, so a process without libobs
    // refuses the file in the dynamic loader (an "undefined symbol" error from
    // dlopen), before any of our code runs.
    //
    // Executables cannot leave symbols undefined: the integration tests (the
    // headless harness calls libobs itself) link libobs; `--as-needed` keeps
    // it out of the test binaries that do not use it. (The library's unit
    // tests reach no libobs function.)
    if let Ok(dir) = env::var("VELORA_OBS_LIBDIR") {
        println!("cargo:rustc-link-search=native={dir}");
    }
    println!("cargo:rustc-link-arg-tests=-lobs");

    // The dock's header. Generated into include/ (checked in, so the C++ side
    // builds without running cargo first); a stale header fails the test
    // `header_is_current`.
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    if !crate_dir.join("src/ffi/dock_api.rs").exists() {
        return;
    }
    // Only dock_api.rs (the types) and dock_calls.rs (the exported
    // `velora_core_api`): the header is the dock's ABI and nothing else of
    // the crate (and it is current whenever those two files are).
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    match cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/ffi/dock_api.rs"))
        .with_src(crate_dir.join("src/ffi/dock_calls.rs"))
        .generate()
    {
        Ok(b) => {
            b.write_to_file(crate_dir.join("include/velora.h"));
        }
        Err(e) => println!("cargo:warning=cbindgen: {e}"),
    }
}
