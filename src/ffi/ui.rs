//! Hops to OBS's UI thread (`obs_queue_task(OBS_TASK_UI, …)`), the one
//! thread where the frontend's objects may be read and changed.
//!
//! Trap: OBS's UI task handler (29–32, `ui_task_handler` in the frontend)
//! posts with `Qt::AutoConnection`, so a task queued *from* the UI thread
//! runs at once, inside whatever OBS call we are in — a service's `create`
//! or `destroy` callback in the middle of `SetService`. Seen on OBS 29: the
//! repair of a mangled service created a service whose `create` queued a
//! refresh that ran inline, repaired again, … until the stack overflowed.
//! [`queue`] therefore never runs inline: from the UI thread the task first
//! hops through libobs's own task thread (`OBS_TASK_DESTROY`, a plain task
//! queue in every version), which queues it back to the UI thread.

use super::sys;
use crate::cancel::Cancel;
use crate::guard::{guard, ui_guard};
use std::ffi::c_void;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest a caller waits for the UI thread to run its task.
pub const UI_WAIT: Duration = Duration::from_secs(5);

const PENDING: u8 = 0;
const RUNNING: u8 = 1;
const ABANDONED: u8 = 2;

struct Task {
    state: Arc<AtomicU8>,
    f: Box<dyn FnOnce() + Send>,
    /// Who queued it: named in the log when it held the UI thread too long.
    from: &'static Location<'static>,
}

/// Set at OBS's EXIT: the frontend is going away, no task of ours runs or
/// is queued any more.
static CLOSED: AtomicBool = AtomicBool::new(false);

unsafe extern "C" fn trampoline(param: *mut c_void) {
    // SAFETY: `param` is the live Box<Task> leaked by `queue_task`; only a
    // plain field is read here, the box is taken below.
    let from = unsafe { (*(param as *const Task)).from };
    let where_ = format!("ui.task from {}:{}", from.file(), from.line());
    ui_guard(&where_, (), || {
        // SAFETY: `param` is the Box<Task> leaked by `queue_task`, run once.
        let task = unsafe { Box::from_raw(param as *mut Task) };
        // A task whose caller gave up does not run late, nor one after EXIT.
        if !CLOSED.load(Ordering::SeqCst)
            && task
                .state
                .compare_exchange(PENDING, RUNNING, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            (task.f)();
        }
    })
}

/// On libobs's task thread: queues the task back to the UI thread (from
/// another thread, so OBS really queues it).
unsafe extern "C" fn hop(param: *mut c_void) {
    guard("ui.hop", (), || {
        if CLOSED.load(Ordering::SeqCst) {
            // SAFETY: the Box<Task> from `queue_task`, dropped unrun.
            drop(unsafe { Box::from_raw(param as *mut Task) });
            return;
        }
        // SAFETY: ownership of `param` passes on to the trampoline.
        unsafe { sys::obs_queue_task(sys::obs_task_type_OBS_TASK_UI, Some(trampoline), param, false) };
    })
}

fn queue_task(state: Arc<AtomicU8>, f: Box<dyn FnOnce() + Send>, from: &'static Location<'static>) {
    if CLOSED.load(Ordering::SeqCst) {
        return;
    }
    let param = Box::into_raw(Box::new(Task { state, f, from })) as *mut c_void;
    // SAFETY: the trampoline (through `hop` from the UI thread) takes
    // ownership of `param` exactly once. (If OBS never runs the task, at
    // shutdown, the box is leaked: nothing dangles.)
    unsafe {
        if on_ui_thread() {
            sys::obs_queue_task(sys::obs_task_type_OBS_TASK_DESTROY, Some(hop), param, false);
        } else {
            sys::obs_queue_task(sys::obs_task_type_OBS_TASK_UI, Some(trampoline), param, false);
        }
    }
}

/// OBS's EXIT: no task of ours runs or is queued from now on.
pub fn close() {
    CLOSED.store(true, Ordering::SeqCst);
}

/// After OBS's EXIT: a queued task will not run.
pub fn is_closed() -> bool {
    CLOSED.load(Ordering::SeqCst)
}

/// Module load (a new OBS run in the same process, as in the tests' headless
/// harness): tasks run again.
pub fn open() {
    CLOSED.store(false, Ordering::SeqCst);
}

/// On OBS's UI thread now?
pub fn on_ui_thread() -> bool {
    // SAFETY: a plain query of libobs's task threads.
    unsafe { sys::obs_in_task_thread(sys::obs_task_type_OBS_TASK_UI) }
}

/// Queues `f` on the UI thread; does not wait, and never runs it inline
/// (see the module's note), even when called on the UI thread.
#[track_caller]
pub fn queue(f: impl FnOnce() + Send + 'static) {
    queue_task(Arc::new(AtomicU8::new(PENDING)), Box::new(f), Location::caller());
}

/// Runs `f` on the UI thread and waits for its result: at most [`UI_WAIT`],
/// and not past `cancel` (OBS quitting: the UI thread is then waiting for
/// us). A task whose wait ended first is abandoned: it never runs later, so
/// no change happens after its caller reported a failure. Called on the UI
/// thread, `f` runs inline.
#[track_caller]
pub fn run_on_ui<T: Send + 'static>(cancel: &Cancel, f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    if on_ui_thread() {
        return Ok(f());
    }
    let (tx, rx) = channel();
    let state = Arc::new(AtomicU8::new(PENDING));
    queue_task(
        state.clone(),
        Box::new(move || {
            let _ = tx.send(f());
        }),
        Location::caller(),
    );
    let start = Instant::now();
    loop {
        match rx.recv_timeout(Duration::from_millis(10)) {
            Ok(v) => return Ok(v),
            Err(RecvTimeoutError::Disconnected) => return Err("OBS's UI thread dropped the task".into()),
            Err(RecvTimeoutError::Timeout) => {
                if !cancel.is_cancelled() && start.elapsed() < UI_WAIT {
                    continue;
                }
                if state
                    .compare_exchange(PENDING, ABANDONED, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
                {
                    return Err(if cancel.is_cancelled() {
                        "OBS is closing".into()
                    } else {
                        "OBS's UI thread did not answer in time".into()
                    });
                }
                // It is running right now on the UI thread: it ends shortly.
            }
        }
    }
}
