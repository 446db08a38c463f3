//! Real OBS (Debian's obs-studio) under Xvfb, driven through obs-websocket.

mod common;

use common::obs::{our_lines, our_problems, Obs, ObsHome};
use serde_json::json;

#[test]
fn plugin_loads_in_real_obs_and_answers_get_status() {
    let display = common::display();
    let home = ObsHome::new(true);
    let obs = Obs::start(&home, &display.name, &[]);
    let mut ws = obs.ws();

    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["ok"], true, "{st}");
    assert_eq!(st["version"], env!("CARGO_PKG_VERSION"));
    assert!(st["obsVersion"].as_str().unwrap().starts_with(char::is_numeric), "{st}");
    assert_eq!(st["loggedIn"], false);
    assert_eq!(
        st["serviceActive"], false,
        "a fresh profile streams with OBS's default service"
    );
    assert!(st["apiBaseUrl"].as_str().unwrap().starts_with("http"));

    // Requests we did not register are refused by obs-websocket itself.
    let unknown = ws.request(
        "CallVendorRequest",
        json!({"vendorName": "velora", "requestType": "NoSuchRequest", "requestData": {"x": 1}}),
    );
    assert!(!unknown.ok);

    std::thread::sleep(std::time::Duration::from_secs(2));
    let major = st["obsApiVersion"]
        .as_str()
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_string();
    // The matrix tags rows that share an OBS major (upstream, flatpak).
    let tag = std::env::var("VELORA_TEST_ARTIFACT_TAG")
        .map(|t| format!("-{t}"))
        .unwrap_or_default();
    let shot = common::screenshot(&display.name, &format!("obs-{major}-plugin-loaded{tag}"));
    assert!(shot.is_some(), "screenshot failed");

    let status = obs.stop();
    assert_eq!(status.code(), Some(0), "OBS exit status after quitting: {status}");
    let log = home.logs();
    assert!(
        log.contains("[velora] loading obs-velora"),
        "{}",
        our_lines(&log).join("\n")
    );
    // Loaded from where the rig installed it (per-user, or the Flatpak tree).
    let dir = home.plugin.as_ref().unwrap().so.parent().unwrap().display().to_string();
    assert!(
        log.contains(&format!(") from {dir}\n")),
        "not loaded from {dir}:\n{}",
        our_lines(&log).join("\n")
    );
    assert!(log.contains("[velora] dock loaded"), "{}", our_lines(&log).join("\n"));
    assert!(
        log.contains("[velora] service 'velora' registered"),
        "{}",
        our_lines(&log).join("\n")
    );
    assert!(
        log.contains("[velora] obs-websocket vendor 'velora' registered"),
        "{}",
        our_lines(&log).join("\n")
    );
    assert!(
        log.contains("[velora] unloaded"),
        "module unload did not run:\n{}",
        our_lines(&log).join("\n")
    );
    assert!(
        our_problems(&log).is_empty(),
        "warnings of ours: {:?}",
        our_problems(&log)
    );
}

/// Sets OBS's stream service over obs-websocket (what a Stream Deck or a script does).
fn set_service(ws: &mut common::ws::Ws, settings: serde_json::Value) {
    let r = ws.request(
        "SetStreamServiceSettings",
        json!({"streamServiceType": "velora", "streamServiceSettings": settings}),
    );
    assert!(r.ok, "SetStreamServiceSettings: {} {}", r.code, r.comment);
}

fn output_active(ws: &mut common::ws::Ws) -> bool {
    ws.request("GetStreamStatus", json!(null)).data["outputActive"]
        .as_bool()
        .unwrap_or(false)
}

/// Starts the stream and waits until OBS's output is active and the sandbox
/// (told by nginx's on_publish) shows the user live. Returns whether it did.
fn stream_goes_live(ws: &mut common::ws::Ws, velora: &common::sandbox::Velora, secs: u64) -> bool {
    let r = ws.request("StartStream", json!(null));
    assert!(r.ok, "StartStream: {} {}", r.code, r.comment);
    common::wait_for(std::time::Duration::from_secs(secs), || {
        (velora.is_live() && output_active(ws)).then_some(())
    })
    .is_some()
}

fn stop_stream(ws: &mut common::ws::Ws) {
    let _ = ws.request("StopStream", json!(null));
    common::wait_for(std::time::Duration::from_secs(15), || {
        (!output_active(ws)).then_some(())
    });
}

#[test]
fn velora_service_streams_to_nginx_rtmp_only_with_the_right_key_and_persists() {
    let display = common::display();
    let velora = common::sandbox::Velora::start();
    let home = ObsHome::new(true);
    let key = velora.stream_key();

    let obs = Obs::start(&home, &display.name, &[]);
    let mut ws = obs.ws();

    // A wrong key: nginx asks the sandbox (on_publish), which refuses.
    set_service(
        &mut ws,
        json!({"server": velora.rtmp_url(), "key": "live_wrong_key_000000000000", "protocol": "rtmp"}),
    );
    let r = ws.request("StartStream", json!(null));
    assert!(r.ok);
    std::thread::sleep(std::time::Duration::from_secs(6));
    assert!(!velora.is_live(), "a wrong key must not publish");
    stop_stream(&mut ws);

    // An empty key: the service refuses to start at all.
    set_service(
        &mut ws,
        json!({"server": velora.rtmp_url(), "key": "", "protocol": "rtmp"}),
    );
    let _ = ws.request("StartStream", json!(null));
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(!output_active(&mut ws), "an empty key must not start");
    assert!(!velora.is_live());

    // The right key publishes.
    set_service(
        &mut ws,
        json!({"server": velora.rtmp_url(), "key": key, "protocol": "rtmp"}),
    );
    let st = ws.velora("GetStatus", json!({}));
    assert_eq!(st["serviceActive"], true, "{st}");
    assert_eq!(st["protocol"], "rtmp");
    assert!(
        stream_goes_live(&mut ws, &velora, 30),
        "OBS did not go live on nginx-rtmp:\n{}",
        home.last_log()
    );
    stop_stream(&mut ws);
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));

    // The service survives a restart (service.json).
    let obs = Obs::start(&home, &display.name, &[]);
    let mut ws = obs.ws();
    let svc = ws.request("GetStreamServiceSettings", json!(null));
    assert_eq!(svc.data["streamServiceType"], "velora", "{:?}", svc.data);
    assert_eq!(svc.data["streamServiceSettings"]["server"], velora.rtmp_url().as_str());
    assert_eq!(svc.data["streamServiceSettings"]["key"], key.as_str());
    let st = obs.stop();
    assert_eq!(st.code(), Some(0), "OBS exit {st}:\n{}", home.log_tail(60));

    let log = home.logs();
    assert!(!log.contains(&key), "the stream key reached the OBS log");
    let problems: Vec<String> = our_problems(&log)
        .into_iter()
        .filter(|l| !l.contains("has no server or stream key yet"))
        .collect();
    assert!(problems.is_empty(), "warnings of ours: {problems:?}");
    assert!(
        log.contains("has no server or stream key yet"),
        "the empty key was not refused by our service"
    );
}
