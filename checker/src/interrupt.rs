//! SIGINT and SIGTERM (Ctrl-C, or a CI runner at its timeout) stop `kexit check` at the next
//! execution boundary: the engines stop claiming executions, the run prints the results it has
//! (the interrupted one marked as not exhaustive) and what it found is saved as usual; the exit
//! code is 130. A second signal ends the process at once.

use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Exit code of an interrupted run (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Whether a stop was asked for.
pub fn requested() -> bool {
    INTERRUPTED.load(SeqCst)
}

/// Asks every engine to stop at its next execution boundary (what the signal handler does;
/// also for tests).
pub fn request() {
    INTERRUPTED.store(true, SeqCst);
}

#[cfg(unix)]
extern "C" fn on_signal(_: libc::c_int) {
    // Async-signal-safe: an atomic swap, and _exit on the second signal.
    if INTERRUPTED.swap(true, SeqCst) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(i32::from(EXIT_INTERRUPTED)) };
    }
}

/// Installs the handler for SIGINT and SIGTERM.
pub fn install() {
    #[cfg(unix)]
    // SAFETY: the handler only touches an atomic and calls _exit, both async-signal-safe.
    unsafe {
        let handler = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGINT, handler);
        libc::signal(libc::SIGTERM, handler);
    }
}
