//! `velora-demo`: the driver behind `scripts/demo.sh` (which builds
//! everything, installs the plugin into the demo's own OBS configuration and
//! runs this). It starts the Velora sandbox with its nginx-rtmp ingest and
//! OBS with the plugin, then walks through the whole flow: log in through
//! the browser, use Velora, set title/category/tags, go live, see LIVE with
//! viewers, stop, quit. Headless it does every step itself under a private
//! Xvfb and saves a screenshot per step; with a desktop it tells the person
//! what to click and ticks each step off as they do it. Ctrl-C, a failure
//! or the end tear everything down, OBS first.

mod demo;
mod interrupt;
mod report;
mod sandbox;
mod scene;
mod steps;

use clap::Parser;
use demo::{Demo, Failure, Outcome, Paths};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Parser, Debug)]
#[command(name = "velora-demo", about, long_about = None)]
struct Cli {
    /// Do every step under a private Xvfb, unattended, with screenshots
    #[arg(long)]
    headless: bool,
    /// The demo's OBS home: OBS's configuration is HOME/config/obs-studio (with the plugin installed)
    #[arg(long, value_name = "DIR")]
    home: PathBuf,
    /// The velora-sandbox binary
    #[arg(long, value_name = "PATH")]
    sandbox_bin: PathBuf,
    /// The sandbox's state file (kept between runs)
    #[arg(long, value_name = "FILE")]
    state: PathBuf,
    /// The sandbox's HTTP port (0: any free one)
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// nginx-rtmp's port (0: any free one)
    #[arg(long, default_value_t = 1935)]
    rtmp_port: u16,
    /// Headless: the scripted browser that approves the consent page
    #[arg(long, value_name = "PATH")]
    browser: Option<PathBuf>,
    /// Headless: where the screenshots go (emptied first)
    #[arg(long, value_name = "DIR")]
    artifacts: PathBuf,
    /// When scripts/demo.sh started (Unix time in ms), for the total time
    #[arg(long, value_name = "MS")]
    since_ms: Option<u64>,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    interrupt::install();
    let started = Instant::now();
    if cli.headless {
        // Screenshots of this run only.
        let _ = std::fs::remove_dir_all(&cli.artifacts);
    }
    let _ = std::fs::create_dir_all(&cli.artifacts);
    let mut d = Demo {
        headless: cli.headless,
        paths: Paths {
            home: cli.home,
            sandbox_bin: cli.sandbox_bin,
            state_file: cli.state,
            browser: cli.browser,
            artifacts: cli.artifacts,
        },
        port: cli.port,
        rtmp_port: cli.rtmp_port,
        sandbox: None,
        xvfb: None,
        bus: None,
        obs: None,
        ws: None,
        display: std::env::var("DISPLAY").unwrap_or_default(),
        groups: Vec::new(),
    };
    if !d.headless {
        report::line("OBS opens on your desktop with the Velora plugin, in the demo's own configuration.");
        report::line("Do each step shown with → in OBS; it is ticked here once it has worked. Ctrl-C ends the demo.");
    }

    let mut shots = 0;
    let mut done = 0;
    for step in steps::STEPS {
        let t = Instant::now();
        let result = (step.run)(&mut d);
        let took = t.elapsed();
        match result {
            Ok(Outcome::Done(text)) => {
                report::done(&text, took);
                done += 1;
            }
            Ok(Outcome::Skipped(text)) => report::skipped(&text),
            Err(failure) => return fail(&mut d, step, failure, &mut shots, done),
        }
        if let Some(name) = step.shot {
            shots += 1;
            d.screenshot(&format!("{shots:02}-{name}"));
        }
    }

    let demo = report::took(started.elapsed());
    let total = cli
        .since_ms
        .map(|t0| {
            format!(
                ", {} since scripts/demo.sh started",
                report::took(Duration::from_millis(now_ms().saturating_sub(t0)))
            )
        })
        .unwrap_or_default();
    report::line(&format!(
        "Demo done: {done} of {} steps in {demo}{total}.",
        steps::STEPS.len()
    ));
    if d.headless {
        report::line(&format!("Screenshots: {}/", d.paths.artifacts.display()));
    }
    ExitCode::SUCCESS
}

/// Reports why `step` did not finish, with what helps to see why (OBS's
/// log, a screenshot), then tears everything down.
fn fail(d: &mut Demo, step: &steps::Step, failure: Failure, shots: &mut usize, done: usize) -> ExitCode {
    let code = match &failure {
        Failure::Failed(why) => {
            report::failed(step.name, why);
            if d.obs.is_some() || d.obs_dir().join("logs").is_dir() {
                report::detail(
                    &format!("OBS log, last lines ({}/logs/):", d.obs_dir().display()),
                    &d.obs_log_tail(25),
                );
            }
            *shots += 1;
            if let Some(p) = d.screenshot(&format!("{:02}-{}-FAILED", shots, step.shot.unwrap_or("failed"))) {
                report::line(&format!("  screenshot: {}", p.display()));
            }
            ExitCode::FAILURE
        }
        Failure::Interrupted => {
            report::failed(step.name, "interrupted");
            ExitCode::from(130)
        }
        Failure::ObsClosed => {
            report::line(&format!(
                "OBS was closed before “{}”: the demo ends here ({done} steps done).",
                step.name
            ));
            ExitCode::SUCCESS
        }
    };
    let t = Instant::now();
    let problems = d.teardown();
    if problems.is_empty() {
        report::line(&format!(
            "Stopped OBS, the sandbox and nginx; nothing of ours is left running ({}).",
            report::took(t.elapsed())
        ));
        code
    } else {
        for p in &problems {
            report::failed("tear down", p);
        }
        ExitCode::FAILURE
    }
}
