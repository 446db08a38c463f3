//! A TCP forwarder between OBS and the sandbox that can make the network
//! fail the ways a real one does: the API goes down (connections refused,
//! open ones reset) or becomes a black hole (connections never complete,
//! open ones go silent). Real sockets, no mocks.

use socket2::{Domain, Socket, Type};
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PASS: u8 = 0;
const DOWN: u8 = 1;
const BLACK_HOLE: u8 = 2;

pub struct FaultProxy {
    port: u16,
    upstream: SocketAddr,
    mode: Arc<AtomicU8>,
    listener: Arc<Mutex<Option<TcpListener>>>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    /// Connections made to fill the accept queue in black-hole mode.
    fillers: Mutex<Vec<TcpStream>>,
    stop: Arc<AtomicBool>,
}

/// A listener with the shortest accept queue, so that a few connections
/// nobody accepts fill it and the kernel drops further SYNs.
fn listen(port: u16) -> TcpListener {
    let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    s.set_reuse_address(true).unwrap();
    s.bind(&SocketAddr::from(([127, 0, 0, 1], port)).into()).unwrap();
    s.listen(1).unwrap();
    s.into()
}

impl FaultProxy {
    /// Forwards 127.0.0.1:<free port> to `upstream_url`'s host and port.
    pub fn start(upstream_url: &str) -> FaultProxy {
        let u = url::Url::parse(upstream_url).unwrap();
        let upstream: SocketAddr = format!("{}:{}", u.host_str().unwrap(), u.port().unwrap())
            .parse()
            .unwrap();
        let listener = listen(0);
        let port = listener.local_addr().unwrap().port();
        let p = FaultProxy {
            port,
            upstream,
            mode: Arc::new(AtomicU8::new(PASS)),
            listener: Arc::new(Mutex::new(Some(listener))),
            open: Arc::new(Mutex::new(Vec::new())),
            fillers: Mutex::new(Vec::new()),
            stop: Arc::new(AtomicBool::new(false)),
        };
        p.spawn_acceptor();
        p
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn spawn_acceptor(&self) {
        let (mode, listener, open, stop, upstream) = (
            self.mode.clone(),
            self.listener.clone(),
            self.open.clone(),
            self.stop.clone(),
            self.upstream,
        );
        std::thread::spawn(move || {
            while !stop.load(Ordering::SeqCst) {
                if mode.load(Ordering::SeqCst) != PASS {
                    // Down or black hole: nobody accepts.
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                let accepted = match listener.lock().unwrap().as_ref() {
                    Some(l) => {
                        l.set_nonblocking(true).unwrap();
                        l.accept()
                    }
                    None => {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                };
                match accepted {
                    Ok((client, _)) => {
                        let _ = client.set_nonblocking(false);
                        let Ok(server) = TcpStream::connect(upstream) else {
                            continue;
                        };
                        open.lock().unwrap().push(client.try_clone().unwrap());
                        open.lock().unwrap().push(server.try_clone().unwrap());
                        pipe(client.try_clone().unwrap(), server.try_clone().unwrap(), mode.clone());
                        pipe(server, client, mode.clone());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
    }

    /// The API is down: new connections are refused, open ones reset.
    pub fn down(&self) {
        self.mode.store(DOWN, Ordering::SeqCst);
        *self.listener.lock().unwrap() = None;
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// A black hole: new connections never complete (the accept queue is
    /// full, the kernel drops their SYNs), open ones go silent.
    pub fn black_hole(&self) {
        self.mode.store(BLACK_HOLE, Ordering::SeqCst);
        let mut fillers = self.fillers.lock().unwrap();
        for _ in 0..4 {
            if let Ok(s) = TcpStream::connect_timeout(
                &SocketAddr::from(([127, 0, 0, 1], self.port)),
                Duration::from_millis(200),
            ) {
                fillers.push(s);
            }
        }
    }

    /// Back to normal.
    pub fn heal(&self) {
        self.fillers.lock().unwrap().clear();
        // Drop whatever queued up while nobody accepted.
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        let mut g = self.listener.lock().unwrap();
        if g.is_none() {
            *g = Some(listen(self.port));
        }
        drop(g);
        // Connections stuck in the queue are accepted now and forwarded.
        self.mode.store(PASS, Ordering::SeqCst);
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

/// Copies `from` → `to` while the proxy passes; in any other mode the bytes
/// stop (a silent connection).
fn pipe(mut from: TcpStream, mut to: TcpStream, mode: Arc<AtomicU8>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    while mode.load(Ordering::SeqCst) == BLACK_HOLE {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    if mode.load(Ordering::SeqCst) == DOWN || to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
