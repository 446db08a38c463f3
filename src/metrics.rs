//! Counters the budgets in the README are measured with (no secrets).

use std::sync::atomic::{AtomicU64, Ordering};

static UI_MAX_MICROS: AtomicU64 = AtomicU64::new(0);
static UI_CALLS: AtomicU64 = AtomicU64::new(0);
static UI_SLOW: AtomicU64 = AtomicU64::new(0);

static DOCK_CREATE_MICROS: AtomicU64 = AtomicU64::new(0);

/// The one-time construction of the dock at FINISHED_LOADING.
pub fn record_dock_creation(micros: u64) {
    DOCK_CREATE_MICROS.store(micros, Ordering::Relaxed);
    log::info!(
        "dock set up in {:.1} ms (one-time widget construction at start-up)",
        micros as f64 / 1000.0
    );
}

pub fn dock_creation_ms() -> f64 {
    DOCK_CREATE_MICROS.load(Ordering::Relaxed) as f64 / 1000.0
}

/// One frame at 60 fps: what the UI thread may spend on us at most.
pub const UI_FRAME_MICROS: u64 = 16_000;

/// Records the duration of one call we made on OBS's UI thread.
pub fn record_ui_call(micros: u64) {
    UI_CALLS.fetch_add(1, Ordering::Relaxed);
    UI_MAX_MICROS.fetch_max(micros, Ordering::Relaxed);
    if micros > UI_FRAME_MICROS {
        UI_SLOW.fetch_add(1, Ordering::Relaxed);
    }
}

/// (longest call in ms, calls, calls over one frame)
pub fn ui_stats() -> (f64, u64, u64) {
    (
        UI_MAX_MICROS.load(Ordering::Relaxed) as f64 / 1000.0,
        UI_CALLS.load(Ordering::Relaxed),
        UI_SLOW.load(Ordering::Relaxed),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_maximum() {
        super::record_ui_call(5);
        super::record_ui_call(20_000);
        super::record_ui_call(7);
        let (max, calls, slow) = super::ui_stats();
        assert!(max >= 20.0);
        assert!(calls >= 3);
        assert!(slow >= 1);
    }
}
