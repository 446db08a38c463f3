//! Downloading one category picture and checking it before anything
//! decodes it: which addresses pictures may come from, the HTTP client
//! (its own, not the API's: no token, no cookies, no referrer, few
//! redirects under the same rule) and the byte, format and pixel caps.

use crate::imagehead;
use std::time::Duration;
use tokio::task::JoinSet;
use url::Url;

/// The most bytes read of one picture.
pub const MAX_IMAGE_BYTES: usize = 512 * 1024;
/// The longest side a picture may declare.
pub const MAX_SIDE: u32 = 1024;
/// The most pixels a picture may declare (what a decoder would allocate for).
pub const MAX_PIXELS: u64 = 1024 * 1024;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_REDIRECTS: usize = 3;

/// May the plugin fetch a picture from `url`? HTTPS, or plain HTTP on
/// loopback while the API is on loopback too (the sandbox). A loopback
/// address is refused for a remote API (it would reach local services).
pub(super) fn allowed(url: &Url, api_loopback: bool) -> bool {
    let loopback = crate::config::is_loopback_url(url);
    match url.scheme() {
        "https" => api_loopback || !loopback,
        "http" => api_loopback && loopback,
        _ => false,
    }
}

/// Why a picture is not used (for the log: no URL, only the host).
pub(super) fn check(bytes: &[u8]) -> Result<imagehead::Format, String> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(format!("more than {MAX_IMAGE_BYTES} bytes"));
    }
    let h = imagehead::read(bytes).ok_or("not a PNG, JPEG, GIF or WebP image")?;
    let pixels = u64::from(h.width) * u64::from(h.height);
    if h.width > MAX_SIDE || h.height > MAX_SIDE || pixels > MAX_PIXELS {
        return Err(format!("{}x{} pixels is over the limit", h.width, h.height));
    }
    Ok(h.format)
}

pub(super) fn host_of(url: &str) -> String {
    Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "(invalid address)".to_string())
}

/// Why a download gave no picture.
#[derive(Debug)]
pub(super) enum Fail {
    /// The server or the way to it failed: tried again next time.
    Network(String),
    /// What came is not a usable picture (or 4xx): not asked for again
    /// within a day (`BAD_TTL`).
    Content(String),
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fail::Network(m) | Fail::Content(m) => f.write_str(m),
        }
    }
}

pub(super) type Fetched = (String, Result<Vec<u8>, Fail>);

/// The HTTP side, made on the first download (start-up never pays for it).
pub(super) struct Net {
    // Dropped in this order: the downloads, the client, then the runtime.
    pub(super) tasks: JoinSet<Fetched>,
    http: reqwest::Client,
    pub(super) rt: tokio::runtime::Runtime,
}

impl Net {
    pub(super) fn new(api_loopback: bool) -> Result<Net, String> {
        let policy = reqwest::redirect::Policy::custom(move |a| {
            if a.previous().len() >= MAX_REDIRECTS {
                a.error("too many redirects")
            } else if allowed(a.url(), api_loopback) {
                a.follow()
            } else {
                a.error("redirected to an address pictures may not come from")
            }
        });
        let http = reqwest::Client::builder()
            .redirect(policy)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(FETCH_TIMEOUT)
            .user_agent(crate::api::default_user_agent())
            .referer(false)
            .build()
            .map_err(|e| format!("cannot create the HTTP client ({})", e.without_url()))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(|e| format!("cannot start the HTTP runtime ({e})"))?;
        Ok(Net {
            rt,
            http,
            tasks: JoinSet::new(),
        })
    }

    pub(super) fn start(&mut self, url: String) {
        let http = self.http.clone();
        let handle = self.rt.handle().clone();
        self.tasks.spawn_on(
            async move {
                let r = download(&http, &url).await;
                (url, r)
            },
            &handle,
        );
    }
}

async fn download(http: &reqwest::Client, url: &str) -> Result<Vec<u8>, Fail> {
    let mut resp = http
        .get(url)
        .header(reqwest::header::ACCEPT, "image/png,image/jpeg,image/gif,image/webp")
        .send()
        .await
        .map_err(|e| Fail::Network(e.without_url().to_string()))?;
    let status = resp.status();
    if status.is_client_error() || status.is_redirection() {
        return Err(Fail::Content(format!("HTTP {}", status.as_u16())));
    }
    if !status.is_success() {
        return Err(Fail::Network(format!("HTTP {}", status.as_u16())));
    }
    let too_big = || Fail::Content(format!("more than {MAX_IMAGE_BYTES} bytes"));
    if resp.content_length().is_some_and(|n| n > MAX_IMAGE_BYTES as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| Fail::Network(e.without_url().to_string()))?
    {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_IMAGE_BYTES {
            return Err(too_big());
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        super::super::tests::png(w, h)
    }

    #[test]
    fn only_https_except_for_a_loopback_api() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(allowed(&u("https://assets.velora.tv/a.jpg"), false));
        assert!(!allowed(&u("http://assets.velora.tv/a.jpg"), false));
        assert!(!allowed(&u("http://127.0.0.1:8787/a.png"), false));
        assert!(!allowed(&u("https://127.0.0.1:8787/a.png"), false));
        assert!(allowed(&u("http://127.0.0.1:8787/a.png"), true));
        assert!(allowed(&u("https://assets.velora.tv/a.jpg"), true));
        assert!(!allowed(&u("http://assets.velora.tv/a.jpg"), true));
        assert!(!allowed(&u("file:///etc/passwd"), true));
        assert!(!allowed(&u("data:image/png;base64,AAAA"), true));
    }

    #[test]
    fn bytes_and_pixels_are_capped_before_decoding() {
        assert_eq!(check(&png(285, 380)), Ok(imagehead::Format::Png));
        assert_eq!(check(&png(1024, 1024)), Ok(imagehead::Format::Png));
        assert!(check(&png(1025, 10)).is_err());
        assert!(check(&png(20000, 20000)).is_err());
        assert!(check(b"<html>not found</html>").is_err());
        let mut big = png(10, 10);
        big.resize(MAX_IMAGE_BYTES + 1, 0);
        assert!(check(&big).is_err());
    }
}
