//! The soak: many cycles of what a streamer's evening looks like — start
//! OBS, log in, switch profiles, have a tool replace the service, *Use
//! Velora*, stream, stop, quit — while automation hammers `GetStatus` from
//! other threads the whole time. Zero crashes (the rig fails on any crash
//! and saves its backtrace), zero hangs, every exit clean.
//!
//! `VELORA_SOAK_CYCLES` cycles (default 3, what the test suite runs);
//! `scripts/soak.sh` runs 50 on OBS 29 and on OBS 32.

mod common;

use common::obs::{Obs, ObsHome};
use common::sandbox::Velora;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn cycles() -> usize {
    std::env::var("VELORA_SOAK_CYCLES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(3)
}

/// `GetStatus` from a thread of its own until told to stop; counts answers.
fn hammer(port: u16, stop: Arc<AtomicBool>, reads: Arc<AtomicUsize>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let Ok(mut ws) = common::ws::Ws::connect(port) else {
            return;
        };
        while !stop.load(Ordering::SeqCst) {
            match ws.try_velora("GetStatus", json!({"from": "soak"})) {
                Some(st) => {
                    assert_eq!(st["ok"], true, "{st}");
                    reads.fetch_add(1, Ordering::SeqCst);
                }
                None => return,
            }
        }
        ws.close();
    })
}

#[test]
fn soak_start_login_apply_stream_quit() {
    let n = cycles();
    let display = common::display();
    // One login serves every cycle (the token stays in the keyring), and each
    // start → apply → stream spends about seven requests: 50 restarts in a
    // few minutes would exceed the sandbox's 30 a minute per token, and the
    // plugin then rightly waits for the window to reset (the 429 and
    // X-RateLimit paths are the fault table's rows). The soak is about
    // crashes and hangs, so its server allows production's 800 a minute.
    let velora = Velora::start_with(|c| c.rate_limit = velora_sandbox::RateProfile::Production);
    let started = Instant::now();
    let mut exits = Vec::new();
    for cycle in 1..=n {
        let home = ObsHome::new(true);
        let obs = Obs::start(&home, &display.name, &velora.obs_env("approve"));
        let stop = Arc::new(AtomicBool::new(false));
        let reads = Arc::new(AtomicUsize::new(0));
        let hammers: Vec<_> = (0..2).map(|_| hammer(obs.port, stop.clone(), reads.clone())).collect();
        let mut ws = obs.ws();

        assert_eq!(ws.velora("Login", json!({}))["ok"], true);
        ws.wait_status(30, |s| s["loggedIn"] == true);
        // Profiles switched back and forth, and a tool replaces the service.
        ws.create_profile("Soak");
        assert!(ws.request("SetCurrentProfile", json!({"profileName": "Untitled"})).ok);
        let r = ws.request(
            "SetStreamServiceSettings",
            json!({"streamServiceType": "rtmp_custom", "streamServiceSettings": {"server": "rtmp://example.invalid/app", "key": "k"}}),
        );
        assert!(r.ok, "{}", r.comment);
        let r = ws.velora("ApplySetup", json!({}));
        if r["ok"] != true {
            let seen = velora.requests();
            let last: Vec<String> = seen[seen.len().saturating_sub(40)..]
                .iter()
                .map(|q| format!("{} {} {} {}", q["at"], q["method"], q["path"], q["status"]))
                .collect();
            panic!("cycle {cycle}: {r}\nthe sandbox's last requests:\n{}", last.join("\n"));
        }

        let r = ws.request("StartStream", json!(null));
        assert!(r.ok, "cycle {cycle}: StartStream {}", r.comment);
        let live = common::wait_for(Duration::from_secs(30), || velora.is_live().then_some(()));
        assert!(live.is_some(), "cycle {cycle}: never live:\n{}", home.log_tail(30));
        std::thread::sleep(Duration::from_secs(5));
        let _ = ws.request("StopStream", json!(null));
        common::wait_for(Duration::from_secs(15), || (!velora.is_live()).then_some(()));

        stop.store(true, Ordering::SeqCst);
        for h in hammers {
            h.join().expect("a GetStatus hammer failed");
        }
        assert!(
            reads.load(Ordering::SeqCst) > 10,
            "cycle {cycle}: the hammers barely ran"
        );
        ws.close();
        let exit = obs.stop();
        assert_eq!(
            exit.code(),
            Some(0),
            "cycle {cycle}: OBS exit {exit}:\n{}",
            home.log_tail(30)
        );
        exits.push(exit.after_quit.as_millis());
        eprintln!("soak: cycle {cycle}/{n} ok (exit {} ms)", exit.after_quit.as_millis());
    }
    exits.sort();
    eprintln!(
        "soak: {n} cycles in {} s, no crash, no hang; exit after quit: median {} ms, max {} ms",
        started.elapsed().as_secs(),
        exits[exits.len() / 2],
        exits[exits.len() - 1]
    );
}
