//! HTTP/1.x on one loopback socket, as little of it as the callback needs:
//! reading a request head within the [`Limits`], parsing it strictly,
//! writing an answer with its security headers, and draining what a client
//! still sends after an error page.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// Per-connection limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Cap on the request line plus headers; larger requests get a 431.
    pub max_request_bytes: usize,
    /// Timeout of each read.
    pub read_timeout: Duration,
    /// Total time a client has to send its request head.
    pub request_deadline: Duration,
    /// Total time for reading what is left after an error page.
    pub drain_deadline: Duration,
    /// Connections handled at once; beyond that, the oldest is closed.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_request_bytes: 8 * 1024,
            read_timeout: Duration::from_secs(2),
            request_deadline: Duration::from_secs(5),
            drain_deadline: Duration::from_millis(500),
            max_connections: 32,
        }
    }
}

/// Parsed request head (only what routing needs).
#[derive(Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub target: String,
    pub host: Option<String>,
}

/// An HTTP response to write.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: String,
    pub allow_get: bool,
}

/// Reads and drops what the client still sends, for at most `deadline` in
/// all and 64 KiB (a client trickling a byte at a time must not hold the
/// connection, and its slot, any longer).
pub(super) fn drain(stream: &mut TcpStream, deadline: Duration) {
    let end = Instant::now() + deadline;
    let mut buf = [0u8; 4096];
    let mut total = 0usize;
    while total < 64 * 1024 {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        let _ = stream.set_read_timeout(Some(left.min(Duration::from_millis(100))));
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum ReadError {
    TooLarge,
    Timeout,
    /// Closed after sending part of a request.
    Truncated,
    /// Closed without sending anything.
    Closed,
}

/// Reads up to the end of the headers (`\r\n\r\n`, or `\n\n` from sloppy
/// clients) within the size cap and the deadline.
pub(super) fn read_head(stream: &mut TcpStream, limits: &Limits) -> Result<Vec<u8>, ReadError> {
    let deadline = Instant::now() + limits.request_deadline;
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(ReadError::Timeout);
        }
        let wait = limits.read_timeout.min(deadline - now).max(Duration::from_millis(1));
        let _ = stream.set_read_timeout(Some(wait));
        match stream.read(&mut chunk) {
            Ok(0) => {
                return Err(if buf.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::Truncated
                })
            }
            Ok(n) => {
                let scan_from = buf.len().saturating_sub(3);
                buf.extend_from_slice(&chunk[..n]);
                if let Some(end) = find_head_end(&buf[scan_from..]) {
                    let end = scan_from + end;
                    if end > limits.max_request_bytes {
                        return Err(ReadError::TooLarge);
                    }
                    buf.truncate(end);
                    return Ok(buf);
                }
                if buf.len() > limits.max_request_bytes {
                    return Err(ReadError::TooLarge);
                }
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(ReadError::Timeout)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => {
                return Err(if buf.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::Truncated
                })
            }
        }
    }
}

/// Index just past the blank line ending the head, if present.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    for i in 0..buf.len() {
        if buf[i..].starts_with(b"\r\n\r\n") {
            return Some(i + 4);
        }
        if buf[i..].starts_with(b"\n\n") {
            return Some(i + 2);
        }
    }
    None
}

/// Parses an HTTP/1.x request head (request line + headers, blank line
/// included or not). Strict: one request line of three parts, a token method,
/// `HTTP/1.0` or `HTTP/1.1`, well-formed header lines, at most one `Host`.
pub fn parse_head(head: &[u8]) -> Option<RequestHead> {
    let text = std::str::from_utf8(head).ok()?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let request_line = lines.next()?;
    let mut parts = request_line.split(' ');
    let (method, target, version) = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(m), Some(t), Some(v), None) => (m, t, v),
        _ => return None,
    };
    if method.is_empty() || !method.bytes().all(is_token_byte) {
        return None;
    }
    if target.is_empty() || target.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return None;
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return None;
    }
    let mut host = None;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            return None; // obsolete line folding
        }
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return None;
        }
        if name.eq_ignore_ascii_case("host") {
            if host.is_some() {
                return None;
            }
            host = Some(value.trim().to_string());
        }
    }
    Some(RequestHead {
        method: method.to_string(),
        target: target.to_string(),
        host,
    })
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

pub(super) fn write_response(stream: &mut TcpStream, r: &Response) -> io::Result<()> {
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n\
         Content-Type: text/html; charset=utf-8\r\n\
         Content-Length: {}\r\n\
         Cache-Control: no-store\r\n\
         Pragma: no-cache\r\n\
         Referrer-Policy: no-referrer\r\n\
         X-Content-Type-Options: nosniff\r\n\
         X-Frame-Options: DENY\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; \
         img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'\r\n\
         Connection: close\r\n",
        r.status,
        status_text(r.status),
        r.body.len()
    );
    if r.allow_get {
        head.push_str("Allow: GET\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(r.body.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(req: &str) -> RequestHead {
        parse_head(req.as_bytes()).expect("parse")
    }

    #[test]
    fn parses_a_browser_request() {
        let h = head(
            "GET /velora/callback?code=a&state=b HTTP/1.1\r\nHost: 127.0.0.1:5000\r\n\
             User-Agent: x\r\nAccept: */*\r\n\r\n",
        );
        assert_eq!(h.method, "GET");
        assert_eq!(h.target, "/velora/callback?code=a&state=b");
        assert_eq!(h.host.as_deref(), Some("127.0.0.1:5000"));
        // bare LF and HTTP/1.0 without Host
        let h = head("GET / HTTP/1.0\n\n");
        assert_eq!(h.host, None);
    }

    #[test]
    fn rejects_garbage_heads() {
        for bad in [
            "",
            "\r\n\r\n",
            "GARBAGE\r\n\r\n",
            "GET /\r\n\r\n",
            "GET / HTTP/2\r\n\r\n",
            "GET  / HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1 extra\r\n\r\n",
            "G(T / HTTP/1.1\r\n\r\n",
            "GET /a\x01b HTTP/1.1\r\n\r\n",
            "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            "GET / HTTP/1.1\r\nBad Name: a\r\n\r\n",
        ] {
            assert!(parse_head(bad.as_bytes()).is_none(), "{bad:?}");
        }
        assert!(parse_head(b"GET / HTTP/1.1\r\nX: \xff\xfe\r\n\r\n").is_none());
    }
}
