//! Numbered reads: one thread (OBS's UI thread) reads something on request,
//! other threads may wait until a read that started after their request has
//! finished. Asks that come while a read is queued and not yet started join
//! it, so a burst of asks costs one read.

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    /// A read is queued and has not started (a new ask joins it).
    queued: bool,
    last_queued: u64,
    last_done: u64,
}

pub struct Reads {
    state: Mutex<State>,
    done: Condvar,
}

/// What [`Reads::ask`] says.
#[derive(Debug, PartialEq, Eq)]
pub enum Ask {
    /// Queue a read with this number (and call [`Reads::started`] then
    /// [`Reads::finished`] with it).
    Queue(u64),
    /// The queued read with this number covers the ask.
    Joined(u64),
}

impl Ask {
    pub fn number(&self) -> u64 {
        match *self {
            Ask::Queue(n) | Ask::Joined(n) => n,
        }
    }
}

impl Default for Reads {
    fn default() -> Self {
        Self::new()
    }
}

impl Reads {
    pub const fn new() -> Self {
        Reads {
            state: Mutex::new(State {
                queued: false,
                last_queued: 0,
                last_done: 0,
            }),
            done: Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Someone wants a fresh read.
    pub fn ask(&self) -> Ask {
        let mut s = self.lock();
        if s.queued {
            return Ask::Joined(s.last_queued);
        }
        s.queued = true;
        s.last_queued += 1;
        Ask::Queue(s.last_queued)
    }

    /// The reader starts read `n`: asks from now on need a new read.
    pub fn started(&self, n: u64) {
        let mut s = self.lock();
        if s.last_queued == n {
            s.queued = false;
        }
    }

    /// Read `n` is done: its waiters go on.
    pub fn finished(&self, n: u64) {
        let mut s = self.lock();
        s.last_done = s.last_done.max(n);
        self.done.notify_all();
    }

    /// The queued read will never run (the reader stopped): the next ask
    /// queues a new one.
    pub fn dropped(&self) {
        self.lock().queued = false;
    }

    /// Waits until read `n` is done: at most `max`, and no longer once
    /// `stop()` says so (checked every 10 ms). True when it is done.
    pub fn wait(&self, n: u64, max: Duration, stop: impl Fn() -> bool) -> bool {
        let start = Instant::now();
        let mut s = self.lock();
        loop {
            if s.last_done >= n {
                return true;
            }
            if stop() {
                return false;
            }
            let Some(left) = max.checked_sub(start.elapsed()) else {
                return false;
            };
            s = self
                .done
                .wait_timeout(s, left.min(Duration::from_millis(10)))
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn asks_join_a_queued_read_until_it_starts() {
        let r = Reads::new();
        assert_eq!(r.ask(), Ask::Queue(1));
        assert_eq!(r.ask(), Ask::Joined(1));
        r.started(1);
        // Started: it may have read before this ask's change.
        assert_eq!(r.ask(), Ask::Queue(2));
        r.finished(1);
        assert!(!r.wait(2, Duration::ZERO, || false));
        assert!(r.wait(1, Duration::ZERO, || false));
        r.started(2);
        r.finished(2);
        assert!(r.wait(2, Duration::ZERO, || false));
    }

    #[test]
    fn a_waiter_goes_on_when_its_read_is_done() {
        let r = Arc::new(Reads::new());
        let n = r.ask().number();
        let reader = {
            let r = r.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(30));
                r.started(n);
                r.finished(n);
            })
        };
        assert!(r.wait(n, Duration::from_secs(10), || false));
        reader.join().unwrap();
    }

    #[test]
    fn the_wait_is_bounded_and_stops_when_told() {
        let r = Reads::new();
        let n = r.ask().number();
        let t = Instant::now();
        assert!(!r.wait(n, Duration::from_millis(40), || false));
        assert!(t.elapsed() >= Duration::from_millis(40));
        assert!(!r.wait(n, Duration::from_secs(60), || true));
        // A read that will never run does not block the next ask.
        r.dropped();
        assert_eq!(r.ask(), Ask::Queue(2));
    }
}
