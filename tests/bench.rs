//! Benchmarks (not assertions): `bash scripts/bench.sh` runs these ignored
//! tests and prints the numbers the README quotes. Machines here are noisy:
//! read medians, not single runs.

mod common;

use common::obs::{Obs, ObsHome};
use serde_json::json;
use std::time::{Duration, Instant};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `obs_init_module(velora.so): N ms` from OBS's own profiler output.
fn module_init_ms(log: &str) -> Option<f64> {
    let line = log.lines().find(|l| l.contains("obs_init_module(velora.so)"))?;
    line.rsplit(':')
        .next()?
        .trim()
        .trim_end_matches("ms")
        .trim()
        .parse()
        .ok()
}

#[test]
#[ignore = "benchmark: scripts/bench.sh"]
fn bench_startup_and_memory() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let display = common::display();
    let velora = common::sandbox::Velora::start();
    for with_plugin in [false, true] {
        let mut ready = Vec::new();
        let mut rss = Vec::new();
        let mut init = Vec::new();
        for _ in 0..runs {
            let home = ObsHome::new(with_plugin);
            let t = Instant::now();
            let obs = Obs::start(&home, &display.name, &[("VELORA_API_URL", velora.base_url())]);
            ready.push(t.elapsed().as_secs_f64() * 1000.0);
            std::thread::sleep(Duration::from_secs(8));
            rss.push(rss_kib(obs.pid()) as f64 / 1024.0);
            obs.stop();
            if let Some(ms) = module_init_ms(&home.last_log()) {
                init.push(ms);
            }
        }
        println!(
            "BENCH startup {}: websocket ready median {:.0} ms (min {:.0}, max {:.0}); RSS after 8 s median {:.1} MiB",
            if with_plugin { "with plugin" } else { "without plugin" },
            median(ready.clone()),
            ready.iter().cloned().fold(f64::MAX, f64::min),
            ready.iter().cloned().fold(0.0, f64::max),
            median(rss)
        );
        if with_plugin && !init.is_empty() {
            println!("BENCH obs_init_module(velora.so) median {:.3} ms", median(init));
        }
    }
}

#[test]
#[ignore = "benchmark: scripts/bench.sh"]
fn bench_api_traffic_and_ui_thread() {
    let idle_secs: u64 = std::env::var("BENCH_IDLE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(180);
    let live_secs: u64 = std::env::var("BENCH_LIVE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(120);
    let display = common::display();
    let velora = common::sandbox::Velora::start();
    let home = ObsHome::new(true);
    let env = velora.obs_env("approve");
    let obs = Obs::start(&home, &display.name, &env);
    let mut ws = obs.ws();
    ws.velora("Login", json!({}));
    common::wait_for(Duration::from_secs(30), || {
        (ws.velora("GetStatus", json!({}))["loggedIn"] == true).then_some(())
    })
    .expect("login");
    ws.velora("ApplySetup", json!({}));
    std::thread::sleep(Duration::from_secs(5));
    let rss_logged_in = rss_kib(obs.pid()) as f64 / 1024.0;

    // Idle, dock shown (first run shows it), not streaming.
    velora.control("DELETE", "requests", json!({}));
    std::thread::sleep(Duration::from_secs(idle_secs));
    let idle = velora.requests().len();
    println!(
        "BENCH traffic idle (dock visible, not live): {idle} requests in {idle_secs} s = {:.2}/min",
        idle as f64 * 60.0 / idle_secs as f64
    );

    // Live.
    ws.request("StartStream", json!(null));
    common::wait_for(Duration::from_secs(30), || velora.is_live().then_some(())).expect("live");
    velora.control("DELETE", "requests", json!({}));
    std::thread::sleep(Duration::from_secs(live_secs));
    let live = velora.requests().len();
    println!(
        "BENCH traffic live: {live} requests in {live_secs} s = {:.2}/min",
        live as f64 * 60.0 / live_secs as f64
    );
    ws.request("StopStream", json!(null));
    let st = ws.velora("GetStatus", json!({}));
    println!(
        "BENCH UI thread: longest call of ours {} ms over {} calls, {} over 16 ms",
        st["uiThreadMaxMs"], st["uiThreadCalls"], st["uiThreadSlowCalls"]
    );
    println!("BENCH RSS logged in with the dock: {rss_logged_in:.1} MiB");
    obs.stop();
}
