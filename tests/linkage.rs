//! How `velora.so` is linked (issue 13): it names no OBS library, so the very
//! same file loads on Debian's OBS (`libobs.so.0`) and on upstream builds
//! (`libobs.so.30`: the obsproject PPA, Flathub, source builds), taking
//! libobs's symbols from the process that loads it. Outside OBS the dynamic
//! loader refuses it cleanly, and an OBS older than 29.0 is refused by
//! `obs_module_load` with a log line.
//!
//! Needs binutils (readelf, nm), a C compiler and python3 (ctypes does the
//! dlopen, so this file has no `unsafe`).

mod common;

use std::path::Path;
use std::process::{Command, Output};

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `readelf -d` of a file: (DT_NEEDED entries, the FLAGS lines).
fn dynamic_section(so: &Path) -> (Vec<String>, String) {
    let out = run(Command::new("readelf").arg("-d").arg(so));
    assert!(out.status.success(), "readelf -d {}: {}", so.display(), stderr(&out));
    let text = stdout(&out);
    let needed = text
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1).map(|s| s.trim_end_matches(']').to_string()))
        .collect();
    let flags = text
        .lines()
        .filter(|l| l.contains("(FLAGS"))
        .collect::<Vec<_>>()
        .join("\n");
    (needed, flags)
}

/// Names no OBS library, and is bound at load time (`-z now`): a missing
/// symbol fails the dlopen instead of crashing later.
pub fn assert_links_no_obs_library(so: &Path) {
    let (needed, flags) = dynamic_section(so);
    assert!(!needed.is_empty(), "no DT_NEEDED at all in {}?", so.display());
    for lib in &needed {
        assert!(
            !lib.starts_with("libobs") && !lib.contains("frontend-api") && !lib.contains("Qt"),
            "{} needs {lib} (all: {needed:?})",
            so.display()
        );
    }
    assert!(
        flags.contains("BIND_NOW") || flags.contains("NOW"),
        "{} is not linked with -z now:\n{flags}",
        so.display()
    );
}

#[test]
fn velora_so_names_no_obs_library_and_binds_now() {
    let so = common::built_plugin();
    assert_links_no_obs_library(&so);
    // The symbols it takes from the process are libobs's (unversioned) ones.
    let out = run(Command::new("nm").args(["-D", "--undefined-only"]).arg(&so));
    assert!(out.status.success(), "{}", stderr(&out));
    let from_process: Vec<String> = stdout(&out)
        .lines()
        .filter(|l| l.trim_start().starts_with("U ") && !l.contains('@'))
        .map(|l| l.trim_start()[2..].trim().to_string())
        .collect();
    for sym in ["obs_get_version", "obs_register_service_s", "blog"] {
        assert!(
            from_process.iter().any(|s| s == sym),
            "{sym} not undefined: {from_process:?}"
        );
    }
    // The frontend API is never linked: looked up with dlsym at run time.
    assert!(
        !from_process.iter().any(|s| s.starts_with("obs_frontend_")),
        "frontend symbols linked: {from_process:?}"
    );
}

#[test]
fn dlopen_outside_obs_fails_cleanly_in_the_loader() {
    let so = common::built_plugin();
    let script = r#"
import ctypes, sys
try:
    ctypes.CDLL(sys.argv[1])
except OSError as e:
    print("REFUSED", e)
    sys.exit(0)
print("LOADED")
"#;
    let out = run(Command::new("python3").args(["-c", script]).arg(&so));
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "python3 did not exit normally ({}): {text}{}",
        out.status,
        stderr(&out)
    );
    assert!(text.starts_with("REFUSED"), "{text}");
    assert!(text.contains("undefined symbol"), "{text}");
}

/// A stand-in for an old libobs: every symbol velora.so takes from the
/// process, with `obs_get_version` answering 28.1.2 and `blog` printing to
/// stdout. Any other function aborts: the refusal must come before them.
fn fake_old_libobs(so: &Path, dir: &Path) -> std::path::PathBuf {
    let out = run(Command::new("nm").args(["-D", "--undefined-only"]).arg(so));
    assert!(out.status.success(), "{}", stderr(&out));
    let mut c = String::from(
        "#include <stdarg.h>\n#include <stdio.h>\n#include <stdlib.h>\n#include <stdint.h>\n\
         uint32_t obs_get_version(void) { return (28u << 24) | (1u << 16) | 2u; }\n\
         const char *obs_get_version_string(void) { return \"28.1.2\"; }\n\
         void blog(int level, const char *fmt, ...) {\n\
           va_list ap; va_start(ap, fmt); printf(\"BLOG %d \", level); vprintf(fmt, ap);\n\
           va_end(ap); printf(\"\\n\"); fflush(stdout); }\n",
    );
    for line in stdout(&out).lines() {
        let line = line.trim_start();
        if !line.starts_with("U ") || line.contains('@') {
            continue;
        }
        let sym = line[2..].trim();
        if ["obs_get_version", "obs_get_version_string", "blog"].contains(&sym) {
            continue;
        }
        c.push_str(&format!(
            "void {sym}(void) {{ fprintf(stderr, \"called {sym}\\n\"); abort(); }}\n"
        ));
    }
    let src = dir.join("fakeobs.c");
    std::fs::write(&src, c).unwrap();
    let lib = dir.join("libfakeobs.so");
    let cc = run(Command::new("cc").args(["-shared", "-fPIC", "-o"]).arg(&lib).arg(&src));
    assert!(cc.status.success(), "cc: {}", stderr(&cc));
    lib
}

#[test]
fn an_obs_older_than_29_is_refused_with_a_log_line() {
    let so = common::built_plugin();
    let dir = tempfile::tempdir().unwrap();
    let fake = fake_old_libobs(&so, dir.path());
    let script = r#"
import ctypes, sys
ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
velora = ctypes.CDLL(sys.argv[2])
velora.obs_module_ver.restype = ctypes.c_uint32
print("MODULE_VER", velora.obs_module_ver(), flush=True)
velora.obs_module_load.restype = ctypes.c_bool
print("LOAD", velora.obs_module_load(), flush=True)
"#;
    let out = run(Command::new("python3").args(["-c", script]).arg(&fake).arg(&so));
    let text = stdout(&out);
    assert!(
        out.status.success(),
        "the process did not survive ({}):\n{text}{}",
        out.status,
        stderr(&out)
    );
    assert!(
        text.contains(&format!("MODULE_VER {}", (29u32 << 24))),
        "obs_module_ver must stay 29.0: {text}"
    );
    assert!(text.contains("LOAD False"), "{text}");
    let want = format!(
        "[velora] error: obs-velora {} needs OBS 29.0.0 or newer; this is OBS 28.1.2 (libobs 28.1.2): not loading",
        env!("CARGO_PKG_VERSION")
    );
    assert!(text.contains(&want), "missing refusal line:\n{text}");
    assert!(!text.contains("loading obs-velora"), "{text}");
    assert!(!stderr(&out).contains("called "), "{}", stderr(&out));
}
