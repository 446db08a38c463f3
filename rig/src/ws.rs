//! A small blocking obs-websocket 5.x client (RPC version 1): identify (with
//! the password challenge when the server asks for one), requests, vendor
//! requests and events. One connection, no threads: events that arrive while
//! a response is awaited are kept for [`Client::events`].

use base64::Engine as _;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use std::net::TcpStream;
use std::time::{Duration, Instant};
use tungstenite::{stream::MaybeTlsStream, Message, WebSocket};

/// How long [`Client::request`] waits for its response.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything (0x7ff) plus vendor events (1 << 9).
const EVENT_SUBSCRIPTIONS: u64 = 0x7ff | (1 << 9);

#[derive(Debug)]
pub enum Error {
    /// No websocket server answered, or the handshake failed.
    Connect(String),
    /// The server wants a password and none (or a wrong one) was given.
    Auth(String),
    /// The connection ended (OBS quit).
    Closed(String),
    /// No response in time.
    Timeout(String),
    /// obs-websocket refused the request (its status code and comment).
    Refused { code: i64, comment: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Connect(m) => write!(f, "cannot connect to obs-websocket: {m}"),
            Error::Auth(m) => write!(f, "obs-websocket authentication: {m}"),
            Error::Closed(m) => write!(f, "obs-websocket connection closed: {m}"),
            Error::Timeout(m) => write!(f, "obs-websocket: {m}"),
            Error::Refused { code, comment } => write!(f, "obs-websocket refused the request: {code} {comment}"),
        }
    }
}

impl std::error::Error for Error {}

/// A request's outcome: obs-websocket's status and the response data.
#[derive(Debug, Clone)]
pub struct Reply {
    pub ok: bool,
    pub code: i64,
    pub comment: String,
    pub data: Value,
}

pub struct Client {
    sock: WebSocket<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    events: Vec<Value>,
}

impl Client {
    /// Connects to `ws://127.0.0.1:port`, identifies (answering the
    /// authentication challenge with `password` when the server sends one)
    /// and subscribes to all events including vendor events.
    pub fn connect(port: u16, password: Option<&str>) -> Result<Client, Error> {
        let (sock, _) =
            tungstenite::connect(format!("ws://127.0.0.1:{port}")).map_err(|e| Error::Connect(e.to_string()))?;
        if let MaybeTlsStream::Plain(s) = sock.get_ref() {
            s.set_read_timeout(Some(Duration::from_millis(200)))
                .map_err(|e| Error::Connect(e.to_string()))?;
        }
        let mut client = Client {
            sock,
            next_id: 1,
            events: Vec::new(),
        };
        let hello = client
            .recv_op(0, Duration::from_secs(10))?
            .ok_or_else(|| Error::Connect("no Hello".into()))?;
        let mut identify = json!({"rpcVersion": 1, "eventSubscriptions": EVENT_SUBSCRIPTIONS});
        let auth = &hello["authentication"];
        if auth.is_object() {
            let password = password.ok_or_else(|| Error::Auth("the server requires a password".into()))?;
            let (Some(challenge), Some(salt)) = (auth["challenge"].as_str(), auth["salt"].as_str()) else {
                return Err(Error::Auth("malformed challenge".into()));
            };
            identify["authentication"] = json!(auth_response(password, salt, challenge));
        }
        client.send(json!({"op": 1, "d": identify}))?;
        client
            .recv_op(2, Duration::from_secs(10))?
            .ok_or_else(|| Error::Auth("not identified (wrong password?)".into()))?;
        Ok(client)
    }

    fn send(&mut self, v: Value) -> Result<(), Error> {
        self.sock
            .send(Message::Text(v.to_string()))
            .map_err(|e| Error::Closed(e.to_string()))
    }

    /// One message, or None when nothing arrived within the read timeout.
    fn recv_any(&mut self) -> Result<Option<Value>, Error> {
        match self.sock.read() {
            Ok(Message::Text(t)) => Ok(serde_json::from_str(t.as_ref()).ok()),
            Ok(Message::Close(frame)) => Err(Error::Closed(
                frame.map(|f| format!("{} {}", f.code, f.reason)).unwrap_or_default(),
            )),
            Ok(_) => Ok(None),
            Err(tungstenite::Error::Io(e))
                if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                Ok(None)
            }
            Err(e) => Err(Error::Closed(e.to_string())),
        }
    }

    /// Waits for a message with opcode `op` (keeping events on the way).
    fn recv_op(&mut self, op: i64, timeout: Duration) -> Result<Option<Value>, Error> {
        let t = Instant::now();
        while t.elapsed() < timeout {
            if let Some(m) = self.recv_any()? {
                if m["op"] == op {
                    return Ok(Some(m["d"].clone()));
                }
                self.keep_event(&m);
            }
        }
        Ok(None)
    }

    fn keep_event(&mut self, m: &Value) {
        if m["op"] == 5 {
            self.events.push(m["d"].clone());
        }
    }

    /// Sends a request and waits for its response ([`REQUEST_TIMEOUT`]).
    /// A request that obs-websocket answers with a failure status is an
    /// `Ok(Reply { ok: false, .. })`: the caller decides.
    pub fn request(&mut self, request_type: &str, data: Value) -> Result<Reply, Error> {
        let id = self.next_id.to_string();
        self.next_id += 1;
        let mut d = json!({"requestType": request_type, "requestId": id});
        if !data.is_null() {
            d["requestData"] = data;
        }
        self.send(json!({"op": 6, "d": d}))?;
        let t = Instant::now();
        while t.elapsed() < REQUEST_TIMEOUT {
            if let Some(m) = self.recv_any()? {
                if m["op"] == 7 && m["d"]["requestId"] == id {
                    let st = &m["d"]["requestStatus"];
                    return Ok(Reply {
                        ok: st["result"].as_bool().unwrap_or(false),
                        code: st["code"].as_i64().unwrap_or(0),
                        comment: st["comment"].as_str().unwrap_or("").to_string(),
                        data: m["d"]["responseData"].clone(),
                    });
                }
                self.keep_event(&m);
            }
        }
        Err(Error::Timeout(format!(
            "no response to {request_type} within {} s",
            REQUEST_TIMEOUT.as_secs()
        )))
    }

    /// `CallVendorRequest`; returns the vendor's response object. An empty
    /// `data` becomes `{"from": "obs-rig"}`: obs-websocket refuses an empty
    /// requestData object.
    pub fn call_vendor(&mut self, vendor: &str, request_type: &str, data: Value) -> Result<Value, Error> {
        let data = if data.as_object().is_none_or(|o| o.is_empty()) {
            json!({"from": "obs-rig"})
        } else {
            data
        };
        let r = self.request(
            "CallVendorRequest",
            json!({"vendorName": vendor, "requestType": request_type, "requestData": data}),
        )?;
        if !r.ok {
            return Err(Error::Refused {
                code: r.code,
                comment: r.comment,
            });
        }
        Ok(r.data["responseData"].clone())
    }

    /// Reads incoming events for `dur`.
    pub fn pump(&mut self, dur: Duration) -> Result<(), Error> {
        let t = Instant::now();
        while t.elapsed() < dur {
            if let Some(m) = self.recv_any()? {
                self.keep_event(&m);
            }
        }
        Ok(())
    }

    /// Says goodbye (a close frame) and waits up to a second for the
    /// server's answer, so obs-websocket does not wait for one at its exit.
    pub fn close(mut self) {
        if self.sock.close(None).is_err() {
            return;
        }
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(1) {
            match self.sock.read() {
                Ok(_) => {}
                Err(tungstenite::Error::Io(e))
                    if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => return,
            }
        }
    }

    /// Every event received so far (op 5 `d` objects), oldest first.
    pub fn events(&self) -> &[Value] {
        &self.events
    }

    /// The `eventData` of the vendor events `vendor`/`event_type` seen so far.
    pub fn vendor_events(&self, vendor: &str, event_type: &str) -> Vec<Value> {
        self.events
            .iter()
            .filter(|e| e["eventType"] == "VendorEvent")
            .filter(|e| e["eventData"]["vendorName"] == vendor && e["eventData"]["eventType"] == event_type)
            .map(|e| e["eventData"]["eventData"].clone())
            .collect()
    }
}

/// obs-websocket 5's answer to its challenge:
/// `base64(sha256(base64(sha256(password + salt)) + challenge))`.
fn auth_response(password: &str, salt: &str, challenge: &str) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let secret = b64.encode(Sha256::digest(format!("{password}{salt}")));
    b64.encode(Sha256::digest(format!("{secret}{challenge}")))
}

/// A random password for `--websocket_password` (32 alphanumerics).
pub fn random_password() -> String {
    use rand::distributions::{Alphanumeric, DistString};
    Alphanumeric.sample_string(&mut rand::thread_rng(), 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_response_matches_an_independent_computation() {
        // Computed with Python's hashlib and base64 from the protocol's recipe.
        let salt = "lM1GncleQOaCu9lT1yeUZhFYnqhsLLP1G5lAGo3ixaI=";
        let challenge = "+IxH4CnCiqpX1rM9scsNynZzbOe4KhDeYcTNS3PDaeY=";
        assert_eq!(
            auth_response("supersecretpassword", salt, challenge),
            "1Ct943GAT+6YQUUX47Ia/ncufilbe6+oD6lY+5kaCu4="
        );
    }

    #[test]
    fn random_passwords_differ() {
        let (a, b) = (random_password(), random_password());
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
