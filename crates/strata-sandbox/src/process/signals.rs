//! Signal state a new process must not inherit from its caller: execve
//! keeps the blocked mask and ignored signals, and a Rust caller ignores
//! SIGPIPE (its own caller may have left more ignored).

/// The kernel's `struct sigaction` (asm-generic layout, with `sa_restorer`).
#[repr(C)]
struct KernelSigaction {
    handler: libc::c_ulong,
    flags: libc::c_ulong,
    restorer: libc::c_ulong,
    mask: u64,
}

/// Unblocks every signal and gives each one its default action, through
/// the system calls: glibc refuses to touch the two it uses itself (32, 33).
pub(crate) fn reset() {
    let empty: u64 = 0;
    let default = KernelSigaction {
        handler: libc::SIG_DFL as libc::c_ulong,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // SAFETY: both calls read only the live values passed (a 64-bit signal
    // set, whose size is passed, and a kernel sigaction) and keep nothing;
    // SIG_DFL needs no handler or restorer. KILL and STOP just fail.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_SETMASK,
            &empty as *const u64,
            std::ptr::null_mut::<u64>(),
            size_of::<u64>(),
        );
        for signal in 1..=64 {
            libc::syscall(
                libc::SYS_rt_sigaction,
                signal,
                &default as *const KernelSigaction,
                std::ptr::null_mut::<KernelSigaction>(),
                size_of::<u64>(),
            );
        }
    }
}
