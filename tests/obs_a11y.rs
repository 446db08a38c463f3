//! Screen readers hear the dock: in real OBS with Qt's Linux accessibility
//! bridge on, a listener on the AT-SPI bus (what Orca uses) records what the
//! dock announces: the answer to a click, the live state going on and off,
//! and the problem banner. Needs a D-Bus session bus (run the test under
//! `tests/scripts/with-keyring`), at-spi2-core and python3-pyatspi.

mod common;

use common::obs::{our_problems, Obs, ObsHome};
use common::sandbox::Velora;
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Listener {
    child: Child,
    out: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl Listener {
    fn start(display: &str) -> Listener {
        assert!(
            std::env::var("DBUS_SESSION_BUS_ADDRESS").is_ok_and(|v| !v.is_empty()),
            "no D-Bus session bus: run under tests/scripts/with-keyring"
        );
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("a11y.log");
        let child = Command::new(common::repo_root().join("tests/scripts/a11y-listen"))
            .arg(&out)
            .env("DISPLAY", display)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tests/scripts/a11y-listen (apt-get install python3-pyatspi at-spi2-core)");
        let l = Listener { child, out, _dir: dir };
        common::wait_for(Duration::from_secs(15), || l.text().starts_with("ready").then_some(()))
            .expect("the AT-SPI listener did not start");
        l
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Waits until a description change with `description` was heard.
    fn heard(&self, description: &str) -> String {
        common::wait_for(Duration::from_secs(15), || {
            let t = self.text();
            t.lines()
                .find(|l| l.starts_with("object:property-change:accessible-description") && l.ends_with(description))
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("screen readers never heard {description:?}; heard:\n{}", self.text()))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        std::thread::sleep(Duration::from_millis(300));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn answers_live_state_and_problems_are_announced() {
    let display = common::display();
    let d = display.name.clone();
    let listener = Listener::start(&d);
    let velora = Velora::start();
    let home = ObsHome::new(true);
    let mut env = velora.obs_env("approve");
    env.push(("QT_LINUX_ACCESSIBILITY_ALWAYS_ON", "1".to_string()));
    let obs = Obs::start(&home, &d, &env);
    let mut ws = obs.ws();
    ws.wait_status(10, |s| s["ready"] == true);
    assert_eq!(ws.velora("Login", json!({}))["ok"], true);
    ws.wait_status(30, |s| s["loggedIn"] == true && s["title"].is_string());

    // A click's answer: Use Velora (Alt+L) from the keyboard.
    common::keyboard::focus_obs(&d);
    common::keyboard::key(&d, "alt+l");
    ws.wait_status(10, |s| s["serviceActive"] == true);
    let line = listener.heard("OBS now streams to Velora.");
    assert!(line.contains("\tResult\t"), "{line}");

    // Live and offline.
    assert!(ws.request("StartStream", json!(null)).ok);
    common::wait_for(Duration::from_secs(30), || velora.is_live().then_some(())).expect("live");
    ws.wait_status(25, |s| s["isLive"] == true);
    let line = listener.heard("You are live on Velora.");
    assert!(line.contains("\tStream status\t"), "{line}");
    let _ = ws.request("StopStream", json!(null));
    ws.wait_status(25, |s| s["isLive"] == false);
    listener.heard("Your stream has ended.");

    // A problem: the session is revoked at Velora.
    velora.control("POST", "revoke", json!({"all": true}));
    let r = ws.velora("GetCategories", json!({"refresh": true}));
    assert_eq!(r["ok"], false, "{r}");
    let line = listener.heard("Session expired: Your Velora session expired. Log in again.");
    assert!(line.contains("\tVelora problem\t"), "{line}");

    let st = ws.velora("GetStatus", json!({}));
    let max = st["uiThreadMaxMs"].as_f64().unwrap();
    assert!(
        max < 16.0,
        "UI thread held {max} ms with the accessibility bridge on: {st}"
    );
    let exit = obs.stop();
    assert_eq!(exit.code(), Some(0), "OBS exit {exit}:\n{}", home.log_tail(40));
    let problems: Vec<String> = our_problems(&home.logs())
        .into_iter()
        .filter(|l| !l.contains("login required"))
        .collect();
    assert!(problems.is_empty(), "warnings of ours: {problems:?}");
}
