//! OBS quits within 2 s of being asked, with exit code 0 and no thread of
//! ours left, whatever the network does: a stalled API, a black hole, an API
//! that is down, five automation requests queued behind a stalled one, a
//! token refresh in flight, a login waiting for the browser. Real OBS, real
//! sandbox, real sockets (a TCP fault proxy in between).

mod common;

use common::obs::{Obs, ObsHome};
use common::proxy::FaultProxy;
use common::sandbox::Velora;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// What "promptly" means: the budget for quitting OBS.
const EXIT_BUDGET: Duration = Duration::from_secs(2);

struct Rig {
    velora: Velora,
    proxy: FaultProxy,
    home: ObsHome,
    obs: Option<Obs>,
    ws: common::ws::Ws,
    _display: common::Display,
}

impl Rig {
    /// OBS talking to the sandbox through the fault proxy; logged in (unless
    /// the browser is told to walk away) and streaming set up.
    fn start(browser: &str) -> Rig {
        let display = common::display();
        let velora = Velora::start();
        let proxy = FaultProxy::start(&velora.base_url());
        let home = ObsHome::new(true);
        let mut env = velora.obs_env(browser);
        for (k, v) in env.iter_mut() {
            if *k == "VELORA_API_URL" {
                *v = proxy.url();
            }
        }
        let obs = Obs::start(&home, &display.name, &env);
        let mut ws = obs.ws();
        if browser == "approve" {
            assert_eq!(ws.velora("Login", json!({}))["ok"], true);
            ws.wait_status(30, |s| s["loggedIn"] == true);
            let r = ws.velora("ApplySetup", json!({}));
            assert_eq!(r["ok"], true, "{r}");
        }
        Rig {
            velora,
            proxy,
            home,
            obs: Some(obs),
            ws,
            _display: display,
        }
    }

    /// Sends `request` on its own connection from a thread (it may wait);
    /// yields the answer, or `None` when OBS closed the connection first.
    fn in_background(&self, request: &'static str, data: Value) -> std::thread::JoinHandle<Option<Value>> {
        let port = self.obs.as_ref().unwrap().port;
        std::thread::spawn(move || {
            let mut ws = common::ws::Ws::connect(port).ok()?;
            let answer = ws.try_velora(request, data);
            drop(ws);
            answer
        })
    }

    /// Waits until the plugin is busy with a request to Velora.
    fn wait_busy(&mut self) {
        let st = self.ws.wait_status(10, |s| s["busy"] == true);
        assert_eq!(st["busy"], true, "{st}");
    }

    /// Quits; OBS must be gone within the budget, cleanly, with no thread of ours.
    fn quit_promptly(self, waiting: Vec<std::thread::JoinHandle<Option<Value>>>) {
        let Rig {
            velora,
            proxy,
            home,
            obs,
            ws,
            _display,
        } = self;
        // Our own idle connection says goodbye first (obs-websocket would
        // otherwise wait 5 s for a close handshake nobody answers).
        ws.close();
        let exit = obs.unwrap().stop();
        let log = home.last_log();
        // Our lines and OBS's own shutdown lines: what happened when.
        let tail: Vec<&str> = log
            .lines()
            .filter(|l| {
                l.contains("[velora]") || l.contains("Shutting down") || l.contains("shutdown") || l.contains("Freeing")
            })
            .collect();
        assert_eq!(exit.code(), Some(0), "OBS exit {exit}:\n{}", tail.join("\n"));
        assert!(
            exit.after_quit < EXIT_BUDGET,
            "OBS took {} ms to exit:\n{}",
            exit.after_quit.as_millis(),
            tail.join("\n")
        );
        assert!(
            log.contains("[velora] unloaded; no thread of ours is running"),
            "a thread of ours outlived the module:\n{}",
            tail.join("\n")
        );
        // Every automation request that was waiting got its answer (or its
        // connection closed) — none is left hanging.
        let t = Instant::now();
        for h in waiting {
            while !h.is_finished() {
                assert!(
                    t.elapsed() < Duration::from_secs(5),
                    "an automation request is still waiting"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            if let Some(v) = h.join().unwrap() {
                assert_ne!(
                    v["ok"].as_bool(),
                    Some(true),
                    "a request against a dead API succeeded: {v}"
                );
            }
        }
        drop(proxy);
        drop(velora);
    }
}

/// The reference: OBS without the plugin, quit the same way.
#[test]
fn without_the_plugin_obs_quits_within_the_budget_too() {
    let display = common::display();
    let home = ObsHome::new(false);
    let obs = Obs::start(&home, &display.name, &[]);
    let ws = obs.ws();
    std::thread::sleep(Duration::from_millis(500));
    ws.close();
    let exit = obs.stop();
    assert_eq!(exit.code(), Some(0), "OBS exit {exit}");
    assert!(
        exit.after_quit < EXIT_BUDGET,
        "OBS alone took {} ms",
        exit.after_quit.as_millis()
    );
    eprintln!("OBS without the plugin quit in {} ms", exit.after_quit.as_millis());
}

#[test]
fn quits_promptly_while_the_api_stalls_with_a_request_in_flight() {
    let mut rig = Rig::start("approve");
    rig.velora.control("POST", "faults", json!({"latencyMs": 60000}));
    let waiting = vec![rig.in_background("ApplySetup", json!({"protocol": "rtmp"}))];
    rig.wait_busy();
    rig.quit_promptly(waiting);
}

#[test]
fn quits_promptly_when_the_api_is_a_black_hole() {
    let mut rig = Rig::start("approve");
    rig.proxy.black_hole();
    let waiting = vec![rig.in_background("ApplySetup", json!({"protocol": "rtmp"}))];
    rig.wait_busy();
    rig.quit_promptly(waiting);
}

#[test]
fn quits_promptly_when_the_api_is_down() {
    let mut rig = Rig::start("approve");
    rig.proxy.down();
    let r = rig.ws.velora("GetCategories", json!({"refresh": true}));
    assert_eq!(r["ok"], false, "{r}");
    assert_eq!(r["error"]["code"], "NETWORK", "{r}");
    rig.quit_promptly(Vec::new());
}

#[test]
fn quits_promptly_with_five_automation_requests_queued_behind_a_stalled_one() {
    let mut rig = Rig::start("approve");
    rig.velora.control("POST", "faults", json!({"latencyMs": 60000}));
    let mut waiting = vec![rig.in_background("ApplySetup", json!({"protocol": "rtmp"}))];
    rig.wait_busy();
    for i in 0..5 {
        waiting.push(rig.in_background("SetStreamInfo", json!({"title": format!("Queued {i}")})));
    }
    std::thread::sleep(Duration::from_millis(300));
    rig.quit_promptly(waiting);
}

#[test]
fn quits_promptly_with_a_token_refresh_in_flight() {
    let mut rig = Rig::start("approve");
    // The access token expires: the next call refreshes first, and the
    // token endpoint stalls.
    rig.velora.control("POST", "expire-tokens", json!({}));
    rig.velora.control("POST", "faults", json!({"latencyMs": 60000}));
    let waiting = vec![rig.in_background("ApplySetup", json!({"protocol": "rtmp"}))];
    rig.wait_busy();
    rig.quit_promptly(waiting);
}

#[test]
fn quits_promptly_while_a_login_waits_for_the_browser() {
    // The scripted browser fetches the consent page and walks away.
    let mut rig = Rig::start("none");
    let r = rig.ws.velora("Login", json!({}));
    assert_eq!(r["ok"], true, "{r}");
    let st = rig.ws.wait_status(10, |s| s["loginPending"] == true);
    assert_eq!(st["loginPending"], true, "{st}");
    rig.quit_promptly(Vec::new());
}

/// The one crash `Obs::stop` lets through is obs-websocket's own accept race
/// (seen once in CI on OBS 29; reproduced without the plugin by
/// scripts/obs-websocket-stop-race.sh, docs/obs-websocket-exit-race.md), recognised
/// from its backtrace only: any frame of ours, another crashing frame, or a
/// main thread not stopping obs-websocket's server fails as before.
#[test]
fn only_obs_websockets_own_stop_race_is_let_through() {
    use common::obs::is_websocket_stop_race;
    let bt = include_str!("data/obs29-websocket-stop-race.txt");
    assert!(is_websocket_stop_race(bt));
    let with_ours = bt.replacen(
        "WebSocketServer::ServerRunner() () from",
        "WebSocketServer::ServerRunner() () from /x/velora.so\n#13 0x0 in velora_something () from",
        1,
    );
    assert!(!is_websocket_stop_race(&with_ours));
    // The same crash in a chroot row: gdb names every library under the
    // root's directory (the matrix cache, whose name has "velora" in it).
    // Still obs-websocket's; a frame of ours there still refuses it.
    let in_chroot = bt.replace(" from /usr/", " from /var/cache/obs-velora-matrix/trixie/root/usr/");
    assert_ne!(in_chroot, bt);
    assert!(is_websocket_stop_race(&in_chroot));
    let ours_in_chroot = in_chroot.replacen(
        "WebSocketServer::ServerRunner() () from",
        "WebSocketServer::ServerRunner() () from /var/cache/obs-velora-matrix/trixie/root/usr/lib/obs-plugins/velora.so\n#13 0x0 in std::rt::lang_start () from",
        1,
    );
    assert!(!is_websocket_stop_race(&ours_in_chroot));
    // OBS 30 and 32 (stripped obs-websocket, start_op inlined): recognised by
    // the fault (address 0xa3, read by `cmpb $0x0,0xa3(…)`) on obs-websocket's
    // asio thread while obs-websocket's own obs_module_unload runs.
    let bt30 = include_str!("data/obs30-websocket-stop-race.txt");
    assert!(is_websocket_stop_race(bt30));
    assert!(!is_websocket_stop_race(&bt30.replacen(
        "#4  0x00007fcd7a4df88b in QWaitCondition",
        "#4  0x0 in velora::session::stop () from /x/velora.so\n#5  0x00007fcd7a4df88b in QWaitCondition",
        1
    )));
    assert!(!is_websocket_stop_race(
        &bt30.replace("fault address: 0xa3", "fault address: 0x18")
    ));
    assert!(!is_websocket_stop_race(
        &bt30.replace("$0x0,0xa3(%rax)", "$0x0,0x58(%rax)")
    ));
    assert!(!is_websocket_stop_race(
        &bt30.replace("in obs_module_unload () from", "in obs_module_post_load () from")
    ));
    assert!(!is_websocket_stop_race(
        &bt30.replace("strand_service::", "scheduler::")
    ));
    let not_stopping = bt.replace("WebSocketServer::Stop()", "WebSocketServer::Start()");
    assert!(!is_websocket_stop_race(&not_stopping));
    let elsewhere = bt.replacen("reactive_socket_service_base::start_op", "something_else", 1);
    assert!(!is_websocket_stop_race(&elsewhere));
    assert!(!is_websocket_stop_race(
        "(no core file found in /tmp/x — core_pattern or ulimit?)"
    ));
}

/// On a matrix row, a crash is read with the root's libraries, not with the
/// host's files at the same paths (the host's OBS 29 has its own
/// obs-websocket.so and libsrt there): gdb's sysroot must be in force before
/// it loads the core. It was not, and a crash of row 30 had its faulting
/// instruction read from the host's obs-websocket.so.
#[test]
fn a_crash_in_a_root_is_read_with_the_roots_own_libraries() {
    let Ok(cmd) = std::env::var("VELORA_OBS_CMD") else {
        eprintln!("skipped: OBS runs on the host (no root)");
        return;
    };
    let root = std::path::PathBuf::from(cmd.split_whitespace().nth(1).expect("VELORA_OBS_CMD names the root"));
    let inside = format!("/tmp/velora-core-{}", std::process::id());
    let dir = root.join(inside.trim_start_matches('/'));
    std::fs::create_dir_all(&dir).unwrap();
    // A process of the root killed by SIGSEGV leaves its core in its working
    // directory (core_pattern "core", as for OBS itself).
    let st = std::process::Command::new("chroot")
        .arg(&root)
        .args([
            "/bin/sh",
            "-c",
            "ulimit -c unlimited; cd \"$1\" && { sleep 100 & sleep 0.5; kill -SEGV $!; wait; }",
            "sh",
            &inside,
        ])
        .status()
        .expect("chroot");
    assert!(st.code().is_some(), "{st}");
    let core = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("core")))
        .unwrap_or_else(|| panic!("no core in {} (core_pattern?)", dir.display()));
    let bt = obs_rig::crash::backtraces(&root.join("usr/bin/sleep"), Some(&root), &core);
    let _ = std::fs::remove_dir_all(&dir);
    // The crashing frame gdb prints as it loads the core, and every frame of
    // every thread, name the root's files (read from the host's, the first
    // one named a host function with the host's debug information).
    let root_s = root.to_string_lossy();
    let first = bt
        .lines()
        .find(|l| l.starts_with("#0 "))
        .unwrap_or_else(|| panic!("{bt}"));
    assert!(
        first.contains(&format!(" from {root_s}/")),
        "read from the host: {first}\n{bt}"
    );
    let froms: Vec<&str> = bt.lines().filter_map(|l| l.split(" from ").nth(1)).collect();
    for f in froms {
        assert!(
            f.starts_with(&*root_s),
            "a library read from the host, not the root: {f}\n{bt}"
        );
    }
}

/// [`obs_websockets_stop_race_crashes_obs_without_the_plugin`] on a matrix
/// row's OBS (trixie's 30.2.3, sid's 32.2.2: stripped obs-websocket builds
/// the gdb script knows by address; scripts/obs-websocket-stop-race-chroot.sh).
fn the_race_without_the_plugin_in(root: &str) {
    let out = std::process::Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/obs-websocket-stop-race-chroot.sh"
        ))
        .arg(root)
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        eprintln!("skipped: {text}");
        return;
    }
    assert!(out.status.success(), "no crash:\n{text}");
    assert!(!text.contains("velora.so"), "{text}");
    assert!(text.contains("obs-websocket.so"), "{text}");
    // The fault the recogniser takes for this race: address 0xa3, read by
    // `cmpb $0x0,0xa3(…)` on obs-websocket's asio thread.
    assert!(text.lines().any(|l| l == "fault address: 0xa3"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("=> ") && l.contains("cmpb") && l.contains("$0x0,0xa3(")),
        "{text}"
    );
    assert!(text.contains("asio::detail::strand_service::"), "{text}");
    eprintln!("{text}");
}

/// The no-plugin twin of the race above: Debian 12's OBS 29.0.2 with no
/// third-party plugin at all crashes at exit in that very place when gdb
/// runs obs-websocket's two threads in the racing order
/// (scripts/obs-websocket-stop-race.sh). On a matrix row, the same race on
/// that row's OBS (OBS 30 and 32, [`the_race_without_the_plugin_in`]).
#[test]
fn obs_websockets_stop_race_crashes_obs_without_the_plugin() {
    let version = std::process::Command::new("dpkg-query")
        .args(["-W", "-f=${Version}", "obs-studio"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    if let Ok(cmd) = std::env::var("VELORA_OBS_CMD") {
        // A matrix row: OBS in a Debian root (`obs-in-chroot ROOT`).
        let root = cmd.split_whitespace().nth(1).expect("VELORA_OBS_CMD names the root");
        return the_race_without_the_plugin_in(root);
    }
    if !version.starts_with("29.0.2") {
        eprintln!("skipped: the gdb script knows Debian 12's obs-websocket (host OBS is '{version}')");
        return;
    }
    let out = std::process::Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/obs-websocket-stop-race.sh"
        ))
        .output()
        .expect("bash");
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "no crash:\n{text}");
    assert!(!text.contains("velora.so"), "{text}");
    let bt: String = text
        .lines()
        .filter(|l| l.starts_with('#') || l.starts_with("Thread"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(bt.contains("reactive_socket_service_base::start_op"), "{text}");
    assert!(
        bt.contains("websocketpp::server<websocketpp::config::asio>::handle_accept"),
        "{text}"
    );
}
