//! Every thread the plugin starts goes through [`spawn`], which keeps count,
//! so unload can say (and tests can check) that no thread of ours outlives
//! the module.

use std::sync::Mutex;
use std::thread::JoinHandle;

static LIVE: Mutex<Vec<(u64, String)>> = Mutex::new(Vec::new());
static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

struct Registration(u64);

impl Drop for Registration {
    fn drop(&mut self) {
        let mut g = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        g.retain(|(id, _)| *id != self.0);
    }
}

/// `std::thread::Builder::spawn` with a name, counted until the thread ends.
pub fn spawn<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> std::io::Result<JoinHandle<T>> {
    let id = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push((id, name.to_string()));
    let reg = Registration(id);
    std::thread::Builder::new().name(name.to_string()).spawn(move || {
        let _reg = reg;
        f()
    })
    // On a failed spawn the closure (and `reg`) is dropped: the count is right.
}

/// Names of the plugin's threads still running.
pub fn live() -> Vec<String> {
    LIVE.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(_, n)| n.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_until_the_thread_ends() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let h = super::spawn("velora-test-count", move || {
            let _ = rx.recv();
        })
        .unwrap();
        assert!(super::live().iter().any(|n| n == "velora-test-count"));
        tx.send(()).unwrap();
        h.join().unwrap();
        assert!(!super::live().iter().any(|n| n == "velora-test-count"));
    }
}
