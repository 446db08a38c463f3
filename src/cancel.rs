//! A cancel flag shared between whoever waits (the worker's HTTP calls, a
//! login waiting for the browser, a wait for OBS's UI thread) and whoever
//! decides to stop (OBS quitting, *Cancel* in the dock).
//!
//! Threads poll [`Cancel::is_cancelled`]; async code awaits
//! [`Cancel::cancelled`], which wakes the moment [`Cancel::cancel`] runs, so
//! an HTTP request in flight is dropped at once instead of running into its
//! timeout.

use std::sync::Arc;
use tokio::sync::watch;

#[derive(Clone, Debug)]
pub struct Cancel(Arc<watch::Sender<bool>>);

impl Default for Cancel {
    fn default() -> Self {
        Cancel(Arc::new(watch::Sender::new(false)))
    }
}

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the flag (idempotent) and wakes every waiter.
    pub fn cancel(&self) {
        self.0.send_replace(true);
    }

    pub fn is_cancelled(&self) -> bool {
        *self.0.borrow()
    }

    /// Completes once [`Cancel::cancel`] has run (at once if it already has).
    pub async fn cancelled(&self) {
        let mut rx = self.0.subscribe();
        // The sender lives in `self`: wait_for only fails if it was dropped.
        let _ = rx.wait_for(|c| *c).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn wakes_async_waiters_at_once() {
        let c = Cancel::new();
        assert!(!c.is_cancelled());
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let c2 = c.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            c2.cancel();
        });
        let woke = rt.block_on(async {
            tokio::select! {
                _ = c.cancelled() => true,
                _ = tokio::time::sleep(Duration::from_secs(10)) => false,
            }
        });
        t.join().unwrap();
        // Woken by the cancel, not by the 10 s sleep.
        assert!(woke);
        assert!(c.is_cancelled());
        // Already cancelled: completes immediately.
        rt.block_on(c.cancelled());
    }
}
