//! Velora sandbox: a local server implementing the documented Velora API
//! (OAuth 2.0 authorization code + PKCE, client credentials, the streaming
//! integration endpoints, `/api/streams`, rate limits) plus ingest hooks for
//! nginx-rtmp, optional nginx supervision, fault injection and persistence.
//!
//! ```no_run
//! let sandbox = velora_sandbox::Sandbox::start(velora_sandbox::Config::default()).unwrap();
//! println!("{}", sandbox.base_url());
//! sandbox.shutdown();
//! ```

mod api;
mod control;
mod http;
mod images;
mod ingest;
mod nginx;
mod oauth;
mod state;
pub mod tls;
mod util;
mod web;

pub use tls::{TestPki, TlsConfig};

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Rate-limit profile, as documented ("Sandbox 30 requests/minute,
/// Production 800 requests/minute").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RateProfile {
    /// 30 requests per minute.
    #[default]
    Sandbox,
    /// 800 requests per minute.
    Production,
}

impl RateProfile {
    /// Requests allowed per 60 second window.
    pub fn per_minute(self) -> u32 {
        match self {
            RateProfile::Sandbox => 30,
            RateProfile::Production => 800,
        }
    }
}

impl FromStr for RateProfile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "sandbox" => Ok(RateProfile::Sandbox),
            "production" => Ok(RateProfile::Production),
            other => Err(format!(
                "unknown rate-limit profile `{other}` (expected sandbox or production)"
            )),
        }
    }
}

/// Supervised nginx (with the RTMP module) whose `on_publish` hooks call back
/// into the sandbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NginxConfig {
    /// RTMP listen port on 127.0.0.1; 0 picks a free port.
    pub rtmp_port: u16,
    /// nginx binary (looked up in PATH when not absolute). Default `nginx`.
    pub nginx_bin: PathBuf,
    /// Dynamic RTMP module. Default `/usr/lib/nginx/modules/ngx_rtmp_module.so`.
    pub module_path: PathBuf,
}

impl Default for NginxConfig {
    fn default() -> Self {
        NginxConfig {
            rtmp_port: 0,
            nginx_bin: PathBuf::from("nginx"),
            module_path: PathBuf::from("/usr/lib/nginx/modules/ngx_rtmp_module.so"),
        }
    }
}

/// Sandbox configuration. `Config::default()` gives the documented defaults
/// except `port`, which is 0 (ephemeral) so tests can run in parallel; the
/// binary defaults to 8787.
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to bind. Default 127.0.0.1.
    pub bind: IpAddr,
    /// HTTP port; 0 = ephemeral.
    pub port: u16,
    /// Skip the consent page: the authorize endpoint redirects with a code at once.
    pub auto_approve: bool,
    /// Access token lifetime in seconds. Default 3600.
    pub token_ttl_secs: u64,
    /// Authorization code lifetime in seconds. Default 60.
    pub code_ttl_secs: u64,
    /// Rate-limit profile. Default sandbox (30/min).
    pub rate_limit: RateProfile,
    /// RTMP ingest URL returned by `/stream/setup` (rewritten when nginx is supervised).
    pub rtmp_url: String,
    /// SRT ingest URL returned by `/stream/setup`.
    pub srt_url: String,
    /// WHIP URL template; `{key}` is replaced by the stream key.
    pub whip_url_template: String,
    /// `ingestServer` returned by `/stream/setup`.
    pub ingest_server: String,
    /// Supervise an nginx-rtmp instance.
    pub nginx: Option<NginxConfig>,
    /// Load state from / persist state to this file.
    pub state_file: Option<PathBuf>,
    /// Mount the `/_sandbox/` control API. Default true.
    pub control_api: bool,
    /// Issue refresh tokens with authorization-code grants. Default true.
    pub issue_refresh_tokens: bool,
    /// Registered client secrets (`client_id` -> secret). Clients listed here
    /// must authenticate with that secret; others are public clients.
    pub client_secrets: BTreeMap<String, String>,
    /// Log one line per request to stderr. Default true.
    pub log_requests: bool,
    /// Serve HTTPS with this certificate instead of plain HTTP. nginx-rtmp's
    /// `on_publish` hooks cannot use HTTPS, so a second, plain HTTP listener
    /// on the loopback address serves them (see [`Sandbox::hook_base_url`]).
    pub tls: Option<TlsConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            auto_approve: false,
            token_ttl_secs: 3600,
            code_ttl_secs: 60,
            rate_limit: RateProfile::Sandbox,
            rtmp_url: "rtmp://127.0.0.1:1935/live".into(),
            srt_url: "srt://127.0.0.1:9999".into(),
            whip_url_template: "http://127.0.0.1:8889/live/{key}/whip".into(),
            ingest_server: "127.0.0.1".into(),
            nginx: None,
            state_file: None,
            control_api: true,
            issue_refresh_tokens: true,
            client_secrets: BTreeMap::new(),
            log_requests: true,
            tls: None,
        }
    }
}

/// A running sandbox. Dropping it shuts the server (and its nginx) down.
pub struct Sandbox {
    addr: SocketAddr,
    base_url: String,
    hook_base_url: String,
    rtmp_port: Option<u16>,
    shutdown_tx: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    nginx: Option<nginx::NginxProcess>,
}

impl Sandbox {
    /// Bind, start the server on its own tokio runtime (background thread) and
    /// return once it is listening (and, with nginx, once RTMP accepts TCP).
    pub fn start(mut config: Config) -> io::Result<Sandbox> {
        // Pick the RTMP port first so the advertised rtmp_url is right.
        let mut rtmp_port = None;
        if let Some(ng) = config.nginx.as_mut() {
            if ng.rtmp_port == 0 {
                ng.rtmp_port = nginx::free_port()?;
            }
            rtmp_port = Some(ng.rtmp_port);
            config.rtmp_url = format!("rtmp://127.0.0.1:{}/live", ng.rtmp_port);
        }

        let listener = std::net::TcpListener::bind(SocketAddr::new(config.bind, config.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let host = util::url_host(addr.ip());
        let tls = config.tls.as_ref().map(tls::server_config).transpose()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let base_url = format!("{scheme}://{}:{}", host, addr.port());
        // Plain HTTP for nginx's hooks when the API itself is HTTPS.
        let hook_listener = match tls {
            Some(_) => {
                let l = std::net::TcpListener::bind(SocketAddr::new(util::hook_ip(addr.ip()), 0))?;
                l.set_nonblocking(true)?;
                Some(l)
            }
            None => None,
        };
        let hook_base_url = match &hook_listener {
            Some(l) => {
                let a = l.local_addr()?;
                format!("http://{}:{}", util::url_host(a.ip()), a.port())
            }
            None => format!("http://{}:{}", util::url_host(util::hook_ip(addr.ip())), addr.port()),
        };

        let state = Arc::new(state::AppState::new(config.clone(), base_url.clone())?);
        let app = http::router(state.clone());

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("velora-sandbox")
            .enable_all()
            .build()?;
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<()>>();

        let thread = std::thread::Builder::new()
            .name("velora-sandbox-main".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let hook_listener = match hook_listener.map(tokio::net::TcpListener::from_std).transpose() {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
                    let mut servers = Vec::new();
                    match tls {
                        None => servers.push(tokio::spawn(serve_plain(listener, app.clone(), stop_rx.clone()))),
                        Some(tls) => {
                            servers.push(tokio::spawn(tls::serve(listener, tls, app.clone(), stop_rx.clone())));
                        }
                    }
                    if let Some(l) = hook_listener {
                        servers.push(tokio::spawn(serve_plain(l, app.clone(), stop_rx.clone())));
                    }
                    let _ = ready_tx.send(Ok(()));
                    let _ = shutdown_rx.await;
                    let _ = stop_tx.send(true);
                    // Give in-flight requests a moment, then drop everything.
                    let _ = tokio::time::timeout(Duration::from_secs(2), async {
                        for s in servers {
                            let _ = s.await;
                        }
                    })
                    .await;
                });
                runtime.shutdown_background();
            })?;

        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(_) => return Err(io::Error::other("sandbox server thread died")),
        }

        let mut sandbox = Sandbox {
            addr,
            base_url,
            hook_base_url,
            rtmp_port,
            shutdown_tx: Some(shutdown_tx),
            thread: Some(thread),
            nginx: None,
        };

        if let Some(ng) = config.nginx.as_ref() {
            let hook_base = sandbox.hook_base_url.clone();
            // On error `sandbox` is dropped here, which stops the server.
            sandbox.nginx = Some(nginx::NginxProcess::start(ng, &hook_base)?);
        }
        Ok(sandbox)
    }

    /// Base URL without trailing slash, e.g. `http://127.0.0.1:41234`
    /// (`https://…` with [`Config::tls`]).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// Plain HTTP base URL of the same server for local hooks (nginx-rtmp's
    /// `on_publish`): [`Sandbox::base_url`] without TLS, a second loopback
    /// listener with it.
    pub fn hook_base_url(&self) -> String {
        self.hook_base_url.clone()
    }

    /// The HTTP port actually bound.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// RTMP port of the supervised nginx, if any.
    pub fn rtmp_port(&self) -> Option<u16> {
        self.rtmp_port
    }

    /// Stop nginx (if any) and the server, and wait for the server thread.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(mut ng) = self.nginx.take() {
            ng.stop();
        }
        if let Some(tx) = self.shutdown_tx.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Plain HTTP until `stop` turns true.
async fn serve_plain(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let _ = axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async move {
            let _ = stop.wait_for(|s| *s).await;
        })
        .await;
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}
