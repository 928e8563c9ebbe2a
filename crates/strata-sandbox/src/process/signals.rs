//! Signal state a new process must not inherit from its caller: execve
//! keeps the blocked mask and ignored signals, which a monitor may well have.

/// Unblocks every signal and gives each one its default action.
pub(crate) fn reset() {
    // SAFETY: sigset_t is plain data initialised by sigemptyset; sigaction
    // and sigprocmask read only the values passed, and SIG_DFL is always a
    // valid disposition (KILL and STOP, which cannot change, just fail).
    unsafe {
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        for signal in 1..=libc::SIGRTMAX() {
            libc::signal(signal, libc::SIG_DFL);
        }
    }
}
