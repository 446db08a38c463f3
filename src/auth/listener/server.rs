//! The listener's socket: the accept loop, one short-lived thread per
//! connection, a slot for each (the oldest closed when all are taken), and
//! the end of the wait (callback, cancel or deadline) that closes them all.

use super::http::{drain, parse_head, read_head, write_response, Limits, ReadError};
use super::outcome::{CallbackResult, Rejection};
use super::route::{reject, route};
use crate::auth::pkce::ExpectedState;
use crate::cancel::Cancel;
use std::io::{self, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the accept loop looks at the cancel token and the deadline.
pub const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Why [`CallbackServer::serve`] stopped without a result.
#[derive(Debug, PartialEq, Eq)]
pub enum ServeStop {
    Cancelled,
    TimedOut,
}

/// The listener. Closed when dropped.
pub struct CallbackServer {
    listener: TcpListener,
    port: u16,
}

impl CallbackServer {
    /// Binds `127.0.0.1:preferred`; when that fails (port taken, forbidden),
    /// binds an ephemeral port. `preferred == 0` asks for an ephemeral port.
    /// Returns the server and whether it fell back.
    pub fn bind(preferred: u16) -> io::Result<(CallbackServer, bool)> {
        let (listener, fell_back) = match TcpListener::bind((Ipv4Addr::LOCALHOST, preferred)) {
            Ok(l) => (l, false),
            Err(e) if preferred != 0 => {
                log::warn!(
                    "login: port {preferred} unavailable ({e}); using an ephemeral port (the \
                     server must accept any loopback port in the redirect URI)"
                );
                (TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?, true)
            }
            Err(e) => return Err(e),
        };
        let port = listener.local_addr()?.port();
        listener.set_nonblocking(true)?;
        Ok((CallbackServer { listener, port }, fell_back))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Accepts connections until a callback with the right `state` arrives,
    /// `cancel` is set (checked every [`POLL_INTERVAL`]) or `deadline` passes.
    /// `on_rejection` is called on this thread for every request that did not
    /// end the flow.
    pub fn serve(
        &self,
        state: ExpectedState,
        cancel: &Cancel,
        deadline: Instant,
        limits: &Limits,
        on_rejection: &mut dyn FnMut(Rejection),
    ) -> Result<CallbackResult, ServeStop> {
        let state = Arc::new(Mutex::new(state));
        let open = Connections::default();
        let (tx, rx) = mpsc::channel::<Event>();
        let result = loop {
            if cancel.is_cancelled() {
                break Err(ServeStop::Cancelled);
            }
            if Instant::now() >= deadline {
                break Err(ServeStop::TimedOut);
            }
            self.accept_pending(&state, &open, &tx, limits, on_rejection);
            match rx.recv_timeout(POLL_INTERVAL) {
                Ok(Event::Done(result)) => break Ok(result),
                Ok(Event::Rejected(r)) => on_rejection(r),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
            }
        };
        // Nothing of this login stays open: the connection threads end now.
        open.close_all();
        result
    }

    fn accept_pending(
        &self,
        state: &Arc<Mutex<ExpectedState>>,
        open: &Connections,
        tx: &Sender<Event>,
        limits: &Limits,
        on_rejection: &mut dyn FnMut(Rejection),
    ) {
        loop {
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if !peer.ip().is_loopback() {
                        continue; // cannot happen on 127.0.0.1; drop it anyway
                    }
                    if open.count() >= limits.max_connections {
                        // The newest connection is the likeliest to be the
                        // browser: make room by closing the oldest.
                        open.close_oldest();
                        on_rejection(Rejection::Busy);
                    }
                    let Ok(handle) = stream.try_clone() else {
                        continue;
                    };
                    let id = open.add(handle);
                    let ctx = ConnCtx {
                        port: self.port,
                        state: state.clone(),
                        tx: tx.clone(),
                        limits: limits.clone(),
                    };
                    let done = open.clone();
                    let spawned = crate::threads::spawn("velora-login-conn", move || {
                        handle_connection(stream, peer, ctx);
                        done.remove(id);
                    });
                    if spawned.is_err() {
                        open.close(id);
                        on_rejection(Rejection::Busy);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE, ECONNABORTED...: keep the flow alive, retry next poll
                    log::debug!("login: accept failed: {e}");
                    return;
                }
            }
        }
    }
}

/// The connections being handled, oldest first, each with a handle to close
/// it from outside its thread.
#[derive(Clone, Default)]
struct Connections(Arc<Mutex<Open>>);

/// The last id given out, and the open connections by id.
type Open = (u64, Vec<(u64, TcpStream)>);

impl Connections {
    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn count(&self) -> usize {
        self.lock().1.len()
    }

    fn add(&self, s: TcpStream) -> u64 {
        let mut g = self.lock();
        g.0 += 1;
        let id = g.0;
        g.1.push((id, s));
        id
    }

    fn remove(&self, id: u64) {
        self.lock().1.retain(|(i, _)| *i != id);
    }

    /// Closes one connection: its thread's next read or write fails at once.
    fn close(&self, id: u64) {
        let mut g = self.lock();
        if let Some(pos) = g.1.iter().position(|(i, _)| *i == id) {
            let (_, s) = g.1.remove(pos);
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn close_oldest(&self) {
        let mut g = self.lock();
        if !g.1.is_empty() {
            let (_, s) = g.1.remove(0);
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    fn close_all(&self) {
        for (_, s) in self.lock().1.drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

enum Event {
    Done(CallbackResult),
    Rejected(Rejection),
}

struct ConnCtx {
    port: u16,
    state: Arc<Mutex<ExpectedState>>,
    tx: Sender<Event>,
    limits: Limits,
}

fn handle_connection(mut stream: TcpStream, _peer: SocketAddr, ctx: ConnCtx) {
    // Accepted sockets may inherit non-blocking mode on some platforms.
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_write_timeout(Some(ctx.limits.read_timeout));
    let routed = match read_head(&mut stream, &ctx.limits) {
        Ok(head) => match parse_head(&head) {
            Some(req) => {
                let mut guard = match ctx.state.lock() {
                    Ok(g) => g,
                    Err(poisoned) => poisoned.into_inner(),
                };
                route(&req, ctx.port, &mut guard)
            }
            None => reject(400, Rejection::Malformed),
        },
        Err(ReadError::TooLarge) => reject(431, Rejection::TooLarge),
        Err(ReadError::Timeout) => reject(408, Rejection::Timeout),
        Err(ReadError::Truncated) => {
            let _ = ctx.tx.send(Event::Rejected(Rejection::Truncated));
            return;
        }
        Err(ReadError::Closed) => return, // connect-and-close (port scan): nothing to say
    };
    let wants_drain = routed.rejection.is_some();
    let _ = write_response(&mut stream, &routed.response);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
    let event = match (routed.result, routed.rejection) {
        (Some(result), _) => Some(Event::Done(result)),
        (None, Some(r)) => Some(Event::Rejected(r)),
        (None, None) => None,
    };
    if let Some(event) = event {
        let _ = ctx.tx.send(event);
    }
    if wants_drain {
        // Read what is left (a POST body...) so closing does not reset the
        // connection before the client has read the error page.
        drain(&mut stream, ctx.limits.drain_deadline);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Secret;
    use std::io::Read;
    use std::thread;

    const STATE: &str = "good-state_123";

    fn short_limits() -> Limits {
        Limits {
            max_request_bytes: 2048,
            read_timeout: Duration::from_millis(300),
            request_deadline: Duration::from_millis(800),
            drain_deadline: Duration::from_millis(200),
            max_connections: 8,
        }
    }

    /// Runs `serve` on a thread; returns the port, the cancel token and a
    /// handle yielding (result, rejections).
    #[allow(clippy::type_complexity)]
    fn serve_in_background(
        limits: Limits,
        timeout: Duration,
    ) -> (
        u16,
        Cancel,
        thread::JoinHandle<(Result<CallbackResult, ServeStop>, Vec<Rejection>)>,
        Arc<Mutex<Vec<Rejection>>>,
    ) {
        let (server, fell_back) = CallbackServer::bind(0).unwrap();
        assert!(!fell_back);
        let port = server.port();
        let cancel = Cancel::new();
        let c2 = cancel.clone();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        let h = thread::spawn(move || {
            let st = ExpectedState::new(Secret::new(STATE));
            let r = server.serve(st, &c2, Instant::now() + timeout, &limits, &mut |why| {
                seen2.lock().unwrap().push(why)
            });
            let seen = seen2.lock().unwrap().clone();
            (r, seen)
        });
        (port, cancel, h, seen)
    }

    fn wait_until_seen(seen: &Mutex<Vec<Rejection>>, why: Rejection) {
        let t = Instant::now();
        while !seen.lock().unwrap().contains(&why) {
            assert!(t.elapsed() < Duration::from_secs(10), "{why:?} never reported");
            thread::sleep(Duration::from_millis(10));
        }
    }

    fn exchange(port: u16, raw: &[u8]) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // Only ends a test whose server never answers.
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(raw).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The server has neither written to nor closed `s` yet.
    fn unanswered_and_open(s: &TcpStream) -> bool {
        s.set_nonblocking(true).unwrap();
        let mut b = [0u8; 1];
        let r = s.peek(&mut b);
        s.set_nonblocking(false).unwrap();
        matches!(r, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
    }

    fn status_of(resp: &str) -> u16 {
        resp.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    #[test]
    fn hostile_clients_do_not_end_or_block_the_flow() {
        let limits = Limits {
            read_timeout: Duration::from_secs(3),
            request_deadline: Duration::from_secs(6),
            ..short_limits()
        };
        let (port, cancel, h, seen) = serve_in_background(limits, Duration::from_secs(30));

        // a slow client that connects and sends nothing, opened first
        let idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
        // a slowloris that sends one byte and then stalls
        let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
        slow.write_all(b"G").unwrap();
        // a port scan: connect and close
        drop(TcpStream::connect(("127.0.0.1", port)).unwrap());

        let r = exchange(port, b"GET /favicon.ico HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        assert_eq!(status_of(&r), 404, "{r}");
        // Not blocked by the idle clients: answered while the idle one is
        // still waiting for its 408 (it gets it below, at its deadline).
        assert!(unanswered_and_open(&idle), "the idle client was dealt with first");
        assert!(r.contains("Content-Security-Policy"));

        let r = exchange(port, b"HEAD /velora/callback HTTP/1.1\r\n\r\n");
        assert_eq!(status_of(&r), 405, "{r}");
        let r = exchange(
            port,
            b"POST /velora/callback HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
        );
        assert_eq!(status_of(&r), 405, "{r}");
        let r = exchange(port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n");
        assert_eq!(status_of(&r), 400, "{r}");
        let mut huge = b"GET /velora/callback HTTP/1.1\r\nX-Pad: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', 5000));
        huge.extend_from_slice(b"\r\n\r\n");
        let r = exchange(port, &huge);
        assert_eq!(status_of(&r), 431, "{r}");
        // truncated: half a request, then close
        {
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            s.write_all(b"GET /velora/callback?code=x").unwrap();
            s.shutdown(Shutdown::Write).unwrap();
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            assert!(out.is_empty());
        }
        let r = exchange(port, b"GET /velora/callback?code=x&state=nope HTTP/1.1\r\n\r\n");
        assert_eq!(status_of(&r), 400);
        assert!(r.contains("does not match"));
        let r = exchange(
            port,
            b"GET /velora/callback?error=access_denied&state=nope HTTP/1.1\r\n\r\n",
        );
        assert_eq!(status_of(&r), 400);

        // the idle client gets a 408 after the request deadline
        let mut idle = idle;
        idle.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut out = Vec::new();
        let _ = idle.read_to_end(&mut out);
        assert_eq!(status_of(&String::from_utf8_lossy(&out)), 408);
        drop(slow);
        wait_until_seen(&seen, Rejection::Timeout);
        wait_until_seen(&seen, Rejection::Truncated);

        assert!(!h.is_finished(), "nothing so far may end the flow");

        // and the real callback still works
        let r = exchange(
            port,
            format!("GET /velora/callback?code=real&state={STATE} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n")
                .as_bytes(),
        );
        assert_eq!(status_of(&r), 200, "{r}");
        let (res, seen) = h.join().unwrap();
        match res {
            Ok(CallbackResult::Code(c)) => assert_eq!(c.expose(), "real"),
            other => panic!("{other:?}"),
        }
        for why in [
            Rejection::NotFound,
            Rejection::MethodNotAllowed,
            Rejection::Malformed,
            Rejection::TooLarge,
            Rejection::Truncated,
            Rejection::StateMismatch,
            Rejection::Timeout,
        ] {
            assert!(seen.contains(&why), "{why:?} not reported: {seen:?}");
        }
        drop(cancel);
    }

    #[test]
    fn denied_ends_serve() {
        let (port, _cancel, h, _) = serve_in_background(short_limits(), Duration::from_secs(20));
        let r = exchange(
            port,
            format!("GET /velora/callback?error=access_denied&state={STATE} HTTP/1.1\r\n\r\n").as_bytes(),
        );
        assert_eq!(status_of(&r), 200);
        let (res, _) = h.join().unwrap();
        assert!(matches!(res, Ok(CallbackResult::Denied { description: None })));
    }

    #[test]
    fn cancel_is_prompt_and_closes_the_port() {
        let (port, cancel, h, _) = serve_in_background(short_limits(), Duration::from_secs(60));
        // a stalled client must not delay cancellation
        let _idle = TcpStream::connect(("127.0.0.1", port)).unwrap();
        thread::sleep(Duration::from_millis(50));
        cancel.cancel();
        let (res, _) = h.join().unwrap();
        // Ended by the cancel, not by its 60 s deadline (TimedOut) nor by the
        // idle client; how often cancel is looked at is the test below.
        assert_eq!(res.unwrap_err(), ServeStop::Cancelled);
        // the server was dropped with the thread: the port is closed
        assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
    }

    #[test]
    fn cancel_is_checked_at_least_every_100ms() {
        assert!(POLL_INTERVAL <= Duration::from_millis(100));
    }

    #[test]
    fn deadline_ends_serve() {
        let (_port, _cancel, h, _) = serve_in_background(short_limits(), Duration::from_millis(200));
        let (res, _) = h.join().unwrap();
        assert_eq!(res.unwrap_err(), ServeStop::TimedOut);
    }

    #[test]
    fn a_full_house_closes_the_oldest_connection_not_the_newest() {
        let mut limits = short_limits();
        limits.max_connections = 2;
        limits.request_deadline = Duration::from_secs(10);
        limits.read_timeout = Duration::from_secs(10);
        let (port, cancel, h, seen) = serve_in_background(limits, Duration::from_secs(20));
        let mut a = TcpStream::connect(("127.0.0.1", port)).unwrap();
        thread::sleep(Duration::from_millis(60));
        let _b = TcpStream::connect(("127.0.0.1", port)).unwrap();
        thread::sleep(Duration::from_millis(60));
        // The newest is answered while the one in the middle is untouched...
        let r = exchange(port, b"GET / HTTP/1.1\r\n\r\n");
        assert_eq!(status_of(&r), 404, "{r}");
        assert!(unanswered_and_open(&_b));
        // ...and the oldest was closed unanswered: had the newest waited for
        // a slot, the oldest would have had its 408 at its deadline instead.
        a.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut out = Vec::new();
        let _ = a.read_to_end(&mut out);
        assert!(out.is_empty(), "{}", String::from_utf8_lossy(&out));
        cancel.cancel();
        let (res, _) = h.join().unwrap();
        assert_eq!(res.unwrap_err(), ServeStop::Cancelled);
        assert!(seen.lock().unwrap().contains(&Rejection::Busy));
    }

    /// Regression: 32 local connections trickling a byte every 90 ms used to
    /// hold every slot for over an hour (the drain after the 408 had no total
    /// deadline) and the browser's callback was dropped.
    #[test]
    fn trickling_connections_never_starve_the_real_callback() {
        let limits = Limits::default();
        let (port, _cancel, h, _) = serve_in_background(limits.clone(), Duration::from_secs(60));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tricklers = Vec::new();
        for _ in 0..limits.max_connections {
            let stop = stop.clone();
            let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
            tricklers.push(thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    if s.write_all(b"G").is_err() {
                        break;
                    }
                    thread::sleep(Duration::from_millis(90));
                }
            }));
        }
        thread::sleep(Duration::from_millis(300));
        let r = exchange(
            port,
            format!("GET /velora/callback?code=real&state={STATE} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n")
                .as_bytes(),
        );
        // Answered at all: before the fix, not within the hour.
        assert_eq!(status_of(&r), 200, "{r}");
        let (res, _) = h.join().unwrap();
        assert!(matches!(res, Ok(CallbackResult::Code(_))), "{res:?}");
        // The flow is over: every connection it held is closed, so each
        // trickler's next write fails and it stops by itself.
        let t = Instant::now();
        while tricklers.iter().any(|t| !t.is_finished()) {
            // A hang guard, not a speed check: each trickler writes every 90 ms.
            assert!(t.elapsed() < Duration::from_secs(30), "connections outlived the login");
            thread::sleep(Duration::from_millis(20));
        }
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for t in tricklers {
            t.join().unwrap();
        }
    }

    #[test]
    fn the_drain_after_an_error_page_has_a_total_deadline() {
        let limits = short_limits();
        let (port, cancel, h, _) = serve_in_background(limits, Duration::from_secs(20));
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.write_all(b"POST /x HTTP/1.1\r\nContent-Length: 100000\r\n\r\n")
            .unwrap();
        s.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
        // Keep trickling the body: the server must close anyway after its drain deadline.
        let t = Instant::now();
        let mut closed = false;
        // The drain deadline is 200 ms; the loop only ends a test that would
        // otherwise trickle for ever.
        while t.elapsed() < Duration::from_secs(30) {
            if s.write_all(b"x").is_err() {
                closed = true;
                break;
            }
            let mut buf = [0u8; 4096];
            match s.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                _ => thread::sleep(Duration::from_millis(40)),
            }
        }
        assert!(closed, "the server kept a trickling connection for 30 s");
        cancel.cancel();
        let _ = h.join();
    }

    #[test]
    fn taken_port_falls_back_to_ephemeral() {
        let blocker = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let taken = blocker.local_addr().unwrap().port();
        let (server, fell_back) = CallbackServer::bind(taken).unwrap();
        assert!(fell_back);
        assert_ne!(server.port(), taken);
        assert_ne!(server.port(), 0);
        // a free port is used as asked
        let free = server.port();
        drop(server);
        let (server, fell_back) = CallbackServer::bind(free).unwrap();
        assert!(!fell_back);
        assert_eq!(server.port(), free);
    }
}
