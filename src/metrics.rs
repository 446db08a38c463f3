//! Counters the budgets in the README are measured with (no secrets).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{OnceLock, RwLock};
use std::time::Instant;

/// What a thread has used so far: CPU time, how often it gave up the CPU
/// to wait (a lock, I/O, a sleep: voluntary context switches), and, where
/// the kernel keeps it (Linux schedstat), how long it stood in a run queue
/// waiting for a CPU that other processes had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadUsage {
    pub cpu_micros: u64,
    pub waits: u64,
    pub queued_micros: Option<u64>,
}

type UsageFn = fn() -> Option<ThreadUsage>;

static THREAD_USAGE: RwLock<Option<UsageFn>> = RwLock::new(None);

/// Installs the reader of the calling thread's usage (the FFI layer, at load).
pub fn set_thread_usage(f: Option<UsageFn>) {
    *THREAD_USAGE.write().unwrap_or_else(|e| e.into_inner()) = f;
}

pub fn thread_usage() -> Option<ThreadUsage> {
    let f = *THREAD_USAGE.read().unwrap_or_else(|e| e.into_inner());
    f.and_then(|f| f())
}

/// How long a call held the thread: its wall time, less the time the
/// scheduler made it stand in a run queue while other processes used the
/// CPUs (a busy machine preempting the UI thread is not the call's doing;
/// blocking on a lock, I/O or a sleep is, and counts in full). Without the
/// run-queue reading: the CPU time if the call never waited, else the whole
/// wall time. Without any reading, the wall time.
pub fn held_micros(wall_micros: u64, before: Option<ThreadUsage>, after: Option<ThreadUsage>) -> u64 {
    match (before, after) {
        (Some(b), Some(a)) => match (b.queued_micros, a.queued_micros) {
            (Some(qb), Some(qa)) => wall_micros.saturating_sub(qa.saturating_sub(qb)),
            _ if a.waits == b.waits => a.cpu_micros.saturating_sub(b.cpu_micros).min(wall_micros),
            _ => wall_micros,
        },
        _ => wall_micros,
    }
}

/// A reading taken before some work on the UI thread; [`held_since`] says how
/// long the work held the thread. (The dock takes one through its ABI, so
/// its own rendering is counted like the core's calls.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mark {
    /// Microseconds since the first mark of the process.
    pub at_micros: u64,
    pub usage: Option<ThreadUsage>,
}

static EPOCH: OnceLock<Instant> = OnceLock::new();

fn now_micros() -> u64 {
    EPOCH.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// The calling thread's clock and usage now.
pub fn mark() -> Mark {
    let usage = thread_usage();
    Mark {
        at_micros: now_micros(),
        usage,
    }
}

/// How long some work held the thread, and what that was made of (for the
/// log when it was too long).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    /// What counts ([`held_micros`]).
    pub micros: u64,
    pub wall_micros: u64,
    /// CPU time and waits, when the usage was read.
    pub usage: Option<ThreadUsage>,
}

impl std::fmt::Display for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |us: u64| us as f64 / 1000.0;
        write!(f, "{:.1} ms", ms(self.micros))?;
        match self.usage {
            Some(u) => {
                write!(
                    f,
                    " (wall {:.1} ms, CPU {:.1} ms, {} waits",
                    ms(self.wall_micros),
                    ms(u.cpu_micros),
                    u.waits
                )?;
                match u.queued_micros {
                    Some(q) => write!(f, ", {:.1} ms in a run queue)", ms(q)),
                    None => write!(f, ")"),
                }
            }
            None => write!(f, " (wall time; no usage readings)"),
        }
    }
}

/// How long the calling thread was held since `m` (see [`held_micros`]).
pub fn held_since(m: Mark) -> Held {
    let wall = now_micros().saturating_sub(m.at_micros);
    let now = thread_usage();
    let usage = m.usage.zip(now).map(|(b, a)| ThreadUsage {
        cpu_micros: a.cpu_micros.saturating_sub(b.cpu_micros),
        waits: a.waits.saturating_sub(b.waits),
        queued_micros: b
            .queued_micros
            .zip(a.queued_micros)
            .map(|(qb, qa)| qa.saturating_sub(qb)),
    });
    Held {
        micros: held_micros(wall, m.usage, now),
        wall_micros: wall,
        usage,
    }
}

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
    fn preemption_is_not_held_time_but_waiting_is() {
        use super::{held_micros, ThreadUsage};
        let at = |cpu, waits| {
            Some(ThreadUsage {
                cpu_micros: cpu,
                waits,
                queued_micros: None,
            })
        };
        // 30 ms of wall time, 2 ms of CPU, no wait: preempted, held 2 ms.
        assert_eq!(held_micros(30_000, at(100, 5), at(2_100, 5)), 2_000);
        // The same call waited once (a lock): all 30 ms were held.
        assert_eq!(held_micros(30_000, at(100, 5), at(2_100, 6)), 30_000);
        // No readings: wall time.
        assert_eq!(held_micros(30_000, None, None), 30_000);
        // With run-queue readings: 30 ms of wall time of which 25 ms in a
        // run queue (preempted, or woken from a wait and not yet running):
        // held 5 ms, waits or not.
        let q = |cpu, waits, queued| {
            Some(ThreadUsage {
                cpu_micros: cpu,
                waits,
                queued_micros: Some(queued),
            })
        };
        assert_eq!(held_micros(30_000, q(100, 5, 1_000), q(2_100, 6, 26_000)), 5_000);
        // Blocked 28 ms on a lock, never queued: all of it held.
        assert_eq!(held_micros(30_000, q(100, 5, 1_000), q(2_100, 6, 1_000)), 30_000);
    }

    #[test]
    fn held_time_says_what_it_is_made_of() {
        use super::{Held, ThreadUsage};
        let h = Held {
            micros: 18_000,
            wall_micros: 18_000,
            usage: Some(ThreadUsage {
                cpu_micros: 3_200,
                waits: 2,
                queued_micros: None,
            }),
        };
        assert_eq!(h.to_string(), "18.0 ms (wall 18.0 ms, CPU 3.2 ms, 2 waits)");
        let q = Held {
            micros: 18_000,
            wall_micros: 30_000,
            usage: Some(ThreadUsage {
                cpu_micros: 3_200,
                waits: 2,
                queued_micros: Some(12_000),
            }),
        };
        assert_eq!(
            q.to_string(),
            "18.0 ms (wall 30.0 ms, CPU 3.2 ms, 2 waits, 12.0 ms in a run queue)"
        );
    }

    #[test]
    fn a_mark_counts_a_wait_in_full() {
        // Sleeping is waiting: with or without usage readings, held.
        let m = super::mark();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(super::held_since(m).micros >= 20_000);
    }

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
