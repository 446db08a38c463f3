//! `velora-sandbox` binary: run the local Velora API sandbox.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use velora_sandbox::{Config, NginxConfig, RateProfile, Sandbox, TestPki, TlsConfig};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RateArg {
    /// 30 requests/minute
    Sandbox,
    /// 800 requests/minute
    Production,
}

/// Local Velora API sandbox: OAuth 2.0 (PKCE), the streaming integration API,
/// rate limits, nginx-rtmp ingest hooks and fault injection.
#[derive(Parser, Debug)]
#[command(name = "velora-sandbox", version, about, long_about = None)]
struct Cli {
    /// Address to bind
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// HTTP port (0 = pick a free one)
    #[arg(long, default_value_t = 8787)]
    port: u16,
    /// Approve authorization requests without showing the consent page
    #[arg(long)]
    auto_approve: bool,
    /// Access token lifetime in seconds
    #[arg(long = "token-ttl", value_name = "SECS", default_value_t = 3600)]
    token_ttl: u64,
    /// Authorization code lifetime in seconds
    #[arg(long = "code-ttl", value_name = "SECS", default_value_t = 60)]
    code_ttl: u64,
    /// Rate-limit profile
    #[arg(long = "rate-limit", value_enum, default_value = "sandbox")]
    rate_limit: RateArg,
    /// RTMP URL returned by /stream/setup (ignored with --nginx)
    #[arg(long = "rtmp-url", value_name = "URL", default_value = "rtmp://127.0.0.1:1935/live")]
    rtmp_url: String,
    /// SRT URL returned by /stream/setup
    #[arg(long = "srt-url", value_name = "URL", default_value = "srt://127.0.0.1:9999")]
    srt_url: String,
    /// WHIP URL template returned by /stream/setup ({key} is replaced by the stream key)
    #[arg(
        long = "whip-url",
        value_name = "TEMPLATE",
        default_value = "http://127.0.0.1:8889/live/{key}/whip"
    )]
    whip_url: String,
    /// ingestServer returned by /stream/setup
    #[arg(long = "ingest-server", value_name = "HOST", default_value = "127.0.0.1")]
    ingest_server: String,
    /// Run and supervise nginx with the RTMP module; its on_publish hooks call this sandbox
    #[arg(long)]
    nginx: bool,
    /// RTMP port for the supervised nginx (0 = pick a free one); implies --nginx
    #[arg(long = "rtmp-port", value_name = "PORT")]
    rtmp_port: Option<u16>,
    /// nginx binary
    #[arg(long = "nginx-bin", value_name = "PATH", default_value = "nginx")]
    nginx_bin: PathBuf,
    /// nginx RTMP dynamic module
    #[arg(
        long = "rtmp-module",
        value_name = "PATH",
        default_value = "/usr/lib/nginx/modules/ngx_rtmp_module.so"
    )]
    rtmp_module: PathBuf,
    /// Load state from FILE at start and save it there (atomically) after each change
    #[arg(long = "state", value_name = "FILE")]
    state: Option<PathBuf>,
    /// Disable the /_sandbox/ control API
    #[arg(long = "no-control")]
    no_control: bool,
    /// Do not issue refresh tokens
    #[arg(long = "no-refresh-tokens")]
    no_refresh_tokens: bool,
    /// Register a confidential client: its token requests must carry this secret (repeatable)
    #[arg(long = "client-secret", value_name = "ID=SECRET", value_parser = parse_kv)]
    client_secret: Vec<(String, String)>,
    /// Do not log requests to stderr
    #[arg(long, short)]
    quiet: bool,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs --tls-key
    #[arg(
        long = "tls-cert",
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "tls_generate"
    )]
    tls_cert: Option<PathBuf>,
    /// Private key of --tls-cert (PEM)
    #[arg(long = "tls-key", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a throw-away CA and a certificate for localhost, 127.0.0.1
    /// and ::1, generated now; writes ca.pem (install it into a trust store),
    /// cert.pem and key.pem into DIR
    #[arg(long = "tls-generate", value_name = "DIR")]
    tls_generate: Option<PathBuf>,
    /// Only write a throw-away CA (ca.pem), a certificate for localhost,
    /// 127.0.0.1 and ::1 signed by it (cert.pem) and its key (key.pem) into DIR,
    /// then exit; serve them later with --tls-cert DIR/cert.pem --tls-key DIR/key.pem
    #[arg(long = "tls-init", value_name = "DIR", exclusive = true)]
    tls_init: Option<PathBuf>,
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err("expected ID=SECRET".to_string()),
    }
}

fn tls_config(cli: &Cli) -> Result<Option<TlsConfig>, String> {
    if let Some(dir) = &cli.tls_generate {
        let pki = TestPki::generate().map_err(|e| format!("generating certificates: {e}"))?;
        pki.write_to(dir)
            .map_err(|e| format!("writing certificates to {}: {e}", dir.display()))?;
        eprintln!(
            "velora-sandbox: throw-away CA in {} (trust it: copy it to \
             /usr/local/share/ca-certificates/velora-sandbox.crt and run update-ca-certificates)",
            dir.join("ca.pem").display()
        );
        return Ok(Some(TlsConfig::from(&pki)));
    }
    match (&cli.tls_cert, &cli.tls_key) {
        (Some(c), Some(k)) => TlsConfig::from_files(c, k)
            .map(Some)
            .map_err(|e| format!("reading --tls-cert/--tls-key: {e}")),
        _ => Ok(None),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(dir) = &cli.tls_init {
        return match TestPki::generate().and_then(|p| p.write_to(dir)) {
            Ok(()) => {
                println!(
                    "velora-sandbox: wrote ca.pem, cert.pem and key.pem to {}",
                    dir.display()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("velora-sandbox: {}: {e}", dir.display());
                ExitCode::FAILURE
            }
        };
    }
    let tls = match tls_config(&cli) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("velora-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    let nginx = (cli.nginx || cli.rtmp_port.is_some()).then(|| NginxConfig {
        rtmp_port: cli.rtmp_port.unwrap_or(0),
        nginx_bin: cli.nginx_bin.clone(),
        module_path: cli.rtmp_module.clone(),
    });
    let config = Config {
        bind: cli.bind,
        port: cli.port,
        auto_approve: cli.auto_approve,
        token_ttl_secs: cli.token_ttl,
        code_ttl_secs: cli.code_ttl,
        rate_limit: match cli.rate_limit {
            RateArg::Sandbox => RateProfile::Sandbox,
            RateArg::Production => RateProfile::Production,
        },
        rtmp_url: cli.rtmp_url,
        srt_url: cli.srt_url,
        whip_url_template: cli.whip_url,
        ingest_server: cli.ingest_server,
        nginx,
        state_file: cli.state,
        control_api: !cli.no_control,
        issue_refresh_tokens: !cli.no_refresh_tokens,
        client_secrets: cli.client_secret.into_iter().collect::<BTreeMap<_, _>>(),
        log_requests: !cli.quiet,
        tls,
    };

    let sandbox = match Sandbox::start(config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("velora-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "velora-sandbox listening on {}", sandbox.base_url());
        if let Some(p) = sandbox.rtmp_port() {
            let _ = writeln!(out, "velora-sandbox rtmp ingest on rtmp://127.0.0.1:{p}/live");
        }
        let _ = out.flush();
    }

    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("velora-sandbox: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(wait_for_signal());
    eprintln!("velora-sandbox: shutting down");
    sandbox.shutdown();
    ExitCode::SUCCESS
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}
