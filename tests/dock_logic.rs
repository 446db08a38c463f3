//! The dock's own logic, in C++ against the real header: which answer
//! belongs to which click (a late answer to an older click is never shown
//! as the answer to the newest one) and the snapshot copy of the category
//! pictures. Builds `dock/tests/requests_test.cpp` for Qt 5 and Qt 6 with
//! CMake (as `scripts/build-dock.sh` does) and runs it.

use std::path::PathBuf;
use std::process::Command;

fn build_and_run(qt: u32) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join(format!("target/dock-tests-qt{qt}"));
    let run = |c: &mut Command| {
        let out = c.output().expect("cmake (apt-get install cmake)");
        assert!(
            out.status.success(),
            "{c:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(Command::new("cmake").args([
        "-S".into(),
        root.clone(),
        "-B".into(),
        dir.clone(),
        format!("-DVELORA_QT={qt}").into(),
        "-DVELORA_BUILD_BOTH=OFF".into(),
        "-DVELORA_BUILD_CORE=OFF".into(),
        "-DVELORA_WERROR=ON".into(),
        "-DCMAKE_BUILD_TYPE=Debug".into(),
    ]));
    let target = format!("velora-dock-tests-qt{qt}");
    run(Command::new("cmake")
        .arg("--build")
        .arg(&dir)
        .args(["--target", &target]));
    let out = Command::new(dir.join(&target)).output().expect("run the dock test");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "Qt {qt}:\n{stdout}\n{stderr}");
    assert!(stdout.contains(", 0 failed"), "{stdout}");
    println!("{}", stdout.trim());
}

#[test]
fn late_answers_and_pictures_qt5() {
    build_and_run(5);
}

#[test]
fn late_answers_and_pictures_qt6() {
    build_and_run(6);
}
