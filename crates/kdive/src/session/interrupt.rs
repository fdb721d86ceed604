//! Ctrl-C during a command stops the command, not the session. A SIGINT
//! handler sets a flag; long loops (search, the output writer, walks over
//! every task) poll [`interrupted`], which costs one relaxed atomic load,
//! and give up with [`INTERRUPTED`] as their error. The flag is cleared
//! before each command.

use std::sync::atomic::{AtomicBool, Ordering};

static FLAG: AtomicBool = AtomicBool::new(false);

/// The error message of a command stopped by Ctrl-C.
pub const INTERRUPTED: &str = "interrupted";

/// Whether Ctrl-C was pressed since the command began.
pub fn interrupted() -> bool {
    FLAG.load(Ordering::Relaxed)
}

/// `Err(INTERRUPTED)` once Ctrl-C was pressed: `check()?` in a loop.
pub fn check() -> Result<(), String> {
    if interrupted() {
        Err(INTERRUPTED.to_string())
    } else {
        Ok(())
    }
}

/// Forget an earlier Ctrl-C (before a command starts).
pub fn clear() {
    FLAG.store(false, Ordering::Relaxed);
}

extern "C" fn on_sigint(_: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    FLAG.store(true, Ordering::Relaxed);
}

/// Catch SIGINT for the rest of the process (interactive sessions only:
/// a batch run stops on Ctrl-C as any program does).
pub fn install() {
    // SAFETY: the handler only stores to an atomic; `signal` with a valid
    // function pointer has no other precondition.
    unsafe {
        libc::signal(libc::SIGINT, on_sigint as *const () as libc::sighandler_t);
    }
}
