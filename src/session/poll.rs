//! When to ask Velora again: every [`POLL_LIVE`] while streaming, every
//! [`POLL_IDLE`] while the dock is visible, never otherwise; after an error,
//! a backoff (15 s doubling to 5 min) or the server's (or our own budget's)
//! wait. Pure scheduling: the worker makes the calls.

use super::{POLL_IDLE, POLL_LIVE};
use crate::api::ApiError;
use std::time::{Duration, Instant};

/// The first wait after an error, unless tuned (`VELORA_RETRY_MIN_SECS`).
pub(super) const BACKOFF_MIN: Duration = Duration::from_secs(15);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

#[derive(Debug)]
pub(super) struct Poller {
    next: Option<Instant>,
    backoff: Duration,
    backoff_min: Duration,
    pub dock_visible: bool,
    pub streaming: bool,
}

impl Default for Poller {
    fn default() -> Self {
        Poller::new(BACKOFF_MIN)
    }
}

impl Poller {
    pub fn new(backoff_min: Duration) -> Poller {
        Poller {
            next: None,
            backoff: Duration::ZERO,
            backoff_min: backoff_min.min(BACKOFF_MAX),
            dock_visible: false,
            streaming: false,
        }
    }

    pub fn next(&self) -> Option<Instant> {
        self.next
    }

    pub fn is_due(&self, now: Instant) -> bool {
        self.next.is_some_and(|t| t <= now)
    }

    /// Polling helps only while someone looks or OBS streams.
    pub fn useful(&self, streaming_now: bool) -> bool {
        self.dock_visible || self.streaming || streaming_now
    }

    /// Asks again within `after` (an earlier schedule stays).
    pub fn schedule(&mut self, after: Duration) {
        let at = Instant::now() + after;
        self.next = Some(match self.next {
            Some(t) if t < at => t,
            _ => at,
        });
    }

    /// Drops the schedule (logged out, nothing to poll).
    pub fn stop(&mut self) {
        self.next = None;
    }

    /// Taken for a poll now.
    pub fn take(&mut self) {
        self.next = None;
    }

    /// A poll succeeded: the regular rhythm.
    pub fn succeeded(&mut self, live: bool) {
        self.backoff = Duration::ZERO;
        if self.next.is_none() {
            self.schedule(if live { POLL_LIVE } else { POLL_IDLE });
        }
    }

    /// A call to Velora failed (a poll, or a request of the streamer's):
    /// the next poll comes after the server's (or our budget's) wait, or the
    /// backoff — so the plugin notices by itself when Velora is back. Returns
    /// that wait in seconds.
    pub fn failed(&mut self, e: &ApiError) -> Option<u64> {
        let wait = match e {
            ApiError::RateLimited { retry_after, .. } | ApiError::Paced { retry_after } => {
                *retry_after + Duration::from_secs(1)
            }
            e if e.is_retryable() || matches!(e, ApiError::InvalidResponse { .. }) => {
                self.backoff = (self.backoff * 2).clamp(self.backoff_min, BACKOFF_MAX);
                self.backoff
            }
            // Not worth repeating soon (a 4xx): the regular rhythm.
            _ => POLL_IDLE,
        };
        self.schedule(wait);
        Some(wait.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::NetworkKind;

    #[test]
    fn backoff_doubles_up_to_five_minutes_and_resets() {
        let mut p = Poller::default();
        let down = ApiError::Network {
            kind: NetworkKind::ConnectionRefused,
            message: String::new(),
        };
        let mut waits = Vec::new();
        for _ in 0..7 {
            p.take();
            waits.push(p.failed(&down).unwrap());
        }
        assert_eq!(waits, vec![15, 30, 60, 120, 240, 300, 300]);
        p.take();
        p.succeeded(true);
        p.take();
        assert_eq!(p.failed(&down), Some(15));
    }

    #[test]
    fn the_servers_wait_is_honoured() {
        let mut p = Poller::default();
        let e = ApiError::RateLimited {
            retry_after: Duration::from_secs(30),
            message: String::new(),
        };
        assert_eq!(p.failed(&e), Some(31));
        let e = ApiError::Paced {
            retry_after: Duration::from_secs(9),
        };
        p.take();
        assert_eq!(p.failed(&e), Some(10));
    }
}
