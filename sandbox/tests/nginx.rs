//! End-to-end ingest with a real nginx-rtmp (supervised by the sandbox) and
//! ffmpeg publishing a short test pattern.
//!
//! Requires `nginx` with `ngx_rtmp_module.so` and `ffmpeg` (Debian:
//! `apt-get install nginx-light libnginx-mod-rtmp ffmpeg`). Set
//! `VELORA_SKIP_NGINX_TESTS=1` to skip on machines without them.

mod common;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use serde_json::Value;
use velora_sandbox::{Config, NginxConfig};

fn tools_available() -> bool {
    let ok = |cmd: &str, arg: &str| {
        Command::new(cmd)
            .arg(arg)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    ok("nginx", "-v") && ok("ffmpeg", "-version") && std::path::Path::new(&NginxConfig::default().module_path).exists()
}

fn publish(port: u16, key: &str) -> bool {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15"])
        .args(["-f", "lavfi", "-i", "sine", "-t", "2"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-f", "flv"])
        .arg(format!("rtmp://127.0.0.1:{port}/live/{key}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run ffmpeg")
        .success()
}

#[test]
fn real_nginx_and_ffmpeg_publish() {
    if !tools_available() {
        if std::env::var_os("VELORA_SKIP_NGINX_TESTS").is_some() {
            eprintln!("skipping: nginx/rtmp module/ffmpeg not installed");
            return;
        }
        panic!("nginx, ngx_rtmp_module and ffmpeg are required (or set VELORA_SKIP_NGINX_TESTS=1)");
    }
    let sb = start(Config {
        auto_approve: true,
        nginx: Some(NginxConfig::default()),
        ..Config::default()
    });
    let port = sb.rtmp_port().expect("rtmp port");
    let t = token(&sb, ALL_SCOPES);
    let setup: Value = api_get(&sb, "/api/integrations/oauth/stream/setup", &t).json().unwrap();
    assert_eq!(setup["rtmpUrl"], format!("rtmp://127.0.0.1:{port}/live"));
    let key = setup["streamKey"].as_str().unwrap().to_string();

    // Right key: publish succeeds and the sandbox sees the user live meanwhile.
    let saw_live = Arc::new(Mutex::new(false));
    let watcher = {
        let saw_live = saw_live.clone();
        let base = sb.base_url();
        std::thread::spawn(move || {
            let c = client();
            for _ in 0..40 {
                let s: Value = c.get(format!("{base}/_sandbox/state")).send().unwrap().json().unwrap();
                if s["isLive"] == true {
                    *saw_live.lock().unwrap() = true;
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    assert!(publish(port, &key), "ffmpeg with the right key must succeed");
    watcher.join().unwrap();
    assert!(*saw_live.lock().unwrap(), "sandbox saw the user live");
    // on_publish_done marks the user offline again.
    let mut offline = false;
    for _ in 0..40 {
        if state(&sb)["isLive"] == false {
            offline = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(offline, "user offline after publish ended");

    // Wrong key: nginx refuses the publish.
    assert!(!publish(port, "live_notthekeynotthekeynotth"), "wrong key must fail");

    // After regenerate, the old key is refused.
    let regen: Value = api_get(&sb, "/api/integrations/oauth/stream/key/regenerate", &t)
        .json()
        .unwrap();
    assert_ne!(regen["streamKey"], key.as_str());
    assert!(!publish(port, &key), "old key must fail after regenerate");

    sb.shutdown();
    // nginx is gone with the sandbox.
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err());
}
