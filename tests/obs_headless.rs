//! Headless: load the built module into a bare libobs (no OBS frontend) and
//! check the `velora` service. Needs an X display (libobs 29 does), so the
//! test command runs under Xvfb. The libobs work happens in a child process
//! whose stdout (libobs's default log handler prints there) the parent reads.

mod common;

use std::process::Command;
use velora::ffi::harness;

const CHILD_ENV: &str = "VELORA_HEADLESS_CHILD";

#[test]
fn module_loads_into_libobs_and_registers_the_service() {
    let x = common::display();
    let plugin = common::installed_plugin();
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "headless_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .env("DISPLAY", &x.name)
        .env("VELORA_TEST_PLUGIN", plugin.so.to_str().unwrap())
        .env("VELORA_TEST_PLUGIN_DATA", plugin.data.to_str().unwrap())
        .output()
        .expect("run child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child failed:\n{stdout}\n{stderr}");
    for marker in [
        "CHILD types contain velora",
        "CHILD display name Velora",
        "CHILD url rtmp://127.0.0.1:1935/live",
        "CHILD key matches",
        "CHILD output rtmp_output",
        "CHILD srt output ffmpeg_mpegts_muxer",
        "CHILD empty key refused",
        "CHILD second copy refused",
        "CHILD done",
    ] {
        assert!(stdout.contains(marker), "missing '{marker}' in child output:\n{stdout}");
    }
    // Our refusal is logged for the empty key and the empty server, not for the valid one.
    let refusals = stdout
        .matches("[velora] warning: The Velora service has no server or stream key")
        .count();
    assert_eq!(refusals, 2, "{stdout}");
    assert!(
        stdout.contains("[velora] service 'velora' registered (184-byte"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("[velora] service 'velora' registered").count(),
        1,
        "{stdout}"
    );
    // libobs's default log handler prints errors to stderr.
    assert!(
        stderr.contains("[velora] error: another copy of obs-velora is already loaded"),
        "{stderr}"
    );
    assert!(
        !stdout.contains("live_headless_key"),
        "the key reached the log:\n{stdout}"
    );
}

#[test]
#[ignore = "runs only as the child of module_loads_into_libobs_and_registers_the_service"]
fn headless_child() {
    if std::env::var(CHILD_ENV).is_err() {
        return;
    }
    let so = std::env::var("VELORA_TEST_PLUGIN").unwrap();
    let data = std::env::var("VELORA_TEST_PLUGIN_DATA").unwrap();
    assert!(harness::startup(), "obs_startup failed (is DISPLAY set?)");
    assert_eq!(harness::reset_video(), 0, "obs_reset_video failed");
    harness::load_module(
        "/usr/lib/x86_64-linux-gnu/obs-plugins/obs-outputs.so",
        "/usr/share/obs/obs-plugins/obs-outputs",
    )
    .expect("obs-outputs loads");
    harness::load_module(&so, &data).expect("velora.so loads");
    // The same plugin found in a second place (a per-user copy beside the
    // package): OBS would load it again; the second copy refuses.
    let copy_dir = tempfile::tempdir().unwrap();
    let copy = copy_dir.path().join("velora.so");
    std::fs::copy(&so, &copy).unwrap();
    if harness::load_module(copy.to_str().unwrap(), &data) == Err(-100) {
        println!("CHILD second copy refused");
    }

    assert!(harness::service_types().iter().any(|t| t == "velora"));
    println!("CHILD types contain velora");

    let key = "live_headless_key";
    let svc = harness::Service::create(
        "velora",
        &format!(r#"{{"server":"rtmp://127.0.0.1:1935/live","key":"{key}","protocol":"rtmp"}}"#),
    )
    .expect("create velora service");
    assert_eq!(svc.type_id(), "velora");
    println!("CHILD display name {}", svc.name());
    println!("CHILD url {}", svc.url());
    if svc.key() == key {
        println!("CHILD key matches");
    }
    println!("CHILD output {}", svc.output_type());

    let srt = harness::Service::create(
        "velora",
        r#"{"server":"srt://127.0.0.1:9999","key":"k","protocol":"srt"}"#,
    )
    .unwrap();
    println!("CHILD srt output {}", srt.output_type());

    let empty = harness::Service::create("velora", r#"{"server":"rtmp://127.0.0.1:1935/live","key":""}"#).unwrap();
    let no_server = harness::Service::create("velora", r#"{"server":"","key":"k"}"#).unwrap();
    if !empty.try_start_rtmp_output() && !no_server.try_start_rtmp_output() {
        println!("CHILD empty key refused");
    }
    // The valid service gets past our check (and then fails for lack of
    // encoders in a bare libobs); only our refusal message is counted.
    let _ = svc.try_start_rtmp_output();
    drop((svc, srt, empty, no_server));
    harness::shutdown();
    println!("CHILD done");
}
