//! HTTPS mode: the API on TLS with a throw-away CA, refused by a client that
//! does not trust the CA; nginx-rtmp's hooks on the plain loopback listener,
//! with a real nginx and ffmpeg publishing (as tests/nginx.rs; needs
//! nginx-light, libnginx-mod-rtmp, ffmpeg).

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use velora_sandbox::{Config, NginxConfig, Sandbox, TestPki, TlsConfig};

fn trusting(ca: &str) -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// One second of test pattern to rtmp://127.0.0.1:PORT/live/KEY; true when
/// nginx accepted it.
fn publish(port: u16, key: &str) -> bool {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin"])
        .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=15", "-t", "1"])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-f", "flv"])
        .arg(format!("rtmp://127.0.0.1:{port}/live/{key}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("run ffmpeg")
        .success()
}

#[test]
fn https_api_plain_hooks_real_nginx() {
    let pki = TestPki::generate().unwrap();
    let sb = Sandbox::start(Config {
        tls: Some(TlsConfig::from(&pki)),
        nginx: Some(NginxConfig::default()),
        log_requests: false,
        ..Config::default()
    })
    .expect("sandbox with TLS and nginx");
    let base = sb.base_url();
    assert!(base.starts_with("https://127.0.0.1:"), "{base}");
    let hooks = sb.hook_base_url();
    assert!(
        hooks.starts_with("http://127.0.0.1:") && hooks != base.replace("https", "http"),
        "{hooks}"
    );

    // Trusted: answers. Not trusted (only the built-in roots): refused.
    let http = trusting(&pki.ca_pem);
    let st: Value = http
        .get(format!("{base}/_sandbox/state"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let key = st["streamKey"].as_str().expect("streamKey").to_string();
    let err = reqwest::blocking::Client::new()
        .get(format!("{base}/_sandbox/state"))
        .send()
        .unwrap_err();
    assert!(err.is_connect() || err.is_request(), "{err:?}");
    // Plain HTTP on the TLS port gets no HTTP answer.
    assert!(reqwest::blocking::get(format!("{}/_sandbox/state", base.replace("https", "http"))).is_err());

    // The hooks answer over plain HTTP: right key 200, wrong key 403.
    let plain = reqwest::blocking::Client::new();
    let on_publish = |name: &str| {
        plain
            .post(format!("{hooks}/ingest/on_publish"))
            .form(&[("name", name), ("app", "live")])
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(on_publish("not-the-key"), 403);

    // A real publish through nginx, whose on_publish goes to the plain listener.
    let port = sb.rtmp_port().unwrap();
    assert!(
        publish(port, &key),
        "ffmpeg with the right key must get through nginx's on_publish"
    );
    let bad = publish(port, "wrong-key");
    assert!(!bad, "a wrong key must be refused");
    sb.shutdown();
}
