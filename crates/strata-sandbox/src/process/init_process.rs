//! `--init`: PID 1 stays our code, as tini does for `docker run --init`: it
//! forks the command, forwards every catchable signal to it, reaps every
//! zombie, and exits with the command's status (128+N when killed by N). It
//! is non-dumpable all its life, so no process of the container can open its
//! /proc/1/exe (our binary, on the host).

use super::channel::Channel;
use super::signals;
use super::{Failure, last_errno};

/// Signals the kernel sends for a fault of the process itself: never
/// blocked, as tini leaves them (and the terminal's stop signals).
const UNBLOCKED: [libc::c_int; 9] = [
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGABRT,
    libc::SIGTRAP,
    libc::SIGSYS,
    libc::SIGTTIN,
    libc::SIGTTOU,
];

/// The exit code of a wait status: the code, or 128+N for signal N.
pub(crate) fn exit_code(status: libc::c_int) -> i32 {
    if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        libc::WEXITSTATUS(status)
    }
}

/// Runs the init: forks a child that runs `execute` (it returns only on
/// failure, reported over `channel` with exit code 127 or 126), then
/// forwards and reaps until that child is gone. `terminal`: the child's
/// process group takes the terminal's foreground.
pub(crate) fn run(channel: Channel, terminal: bool, execute: impl FnOnce() -> Failure) -> ! {
    let waited = block_signals();
    // fork, not clone3: Docker's seccomp profile refuses clone3 (ENOSYS).
    // SAFETY: this process is single-threaded (a clone of a single-threaded
    // caller), so the child may run any code.
    let child = match unsafe { libc::fork() } {
        0 => super::child_only(|| command_child(&channel, terminal, execute)),
        pid if pid > 0 => pid,
        _ => {
            let failure = Failure::setup(format!("fork: {}", std::io::Error::last_os_error()));
            let _ = channel.send(&failure.into(), None);
            exit(1)
        }
    };
    drop(channel);
    // Nothing of the setup stays open in the container's PID 1.
    // SAFETY: close_range only closes descriptors; nothing below uses any.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    forward_and_reap(child, &waited)
}

/// Blocks every signal but the synchronous ones and ignores the terminal's
/// stop signals; the set to wait for.
fn block_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialised by sigfillset; the calls
    // read only what is passed.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        for signal in UNBLOCKED {
            libc::sigdelset(&mut set, signal);
        }
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGTTIN, libc::SIG_IGN);
        libc::signal(libc::SIGTTOU, libc::SIG_IGN);
        set
    }
}

/// The command: a process group of its own (the terminal's foreground),
/// our signal state undone, then `execute`.
fn command_child(channel: &Channel, terminal: bool, execute: impl FnOnce() -> Failure) -> ! {
    // SAFETY: plain calls on this process and its standard input.
    unsafe {
        libc::setpgid(0, 0);
        if terminal {
            libc::tcsetpgrp(0, libc::getpid());
        }
    }
    signals::reset();
    let failure = execute();
    let code = match failure.kind {
        crate::wire::FailureKind::Exec(crate::ExecProblem::NotExecutable) => 126,
        _ => 127,
    };
    let _ = channel.send(&failure.into(), None);
    exit(code)
}

/// Waits for signals: a SIGCHLD reaps every zombie (and ends the init with
/// the child's status when it is among them), any other goes to the child.
fn forward_and_reap(child: libc::pid_t, waited: &libc::sigset_t) -> ! {
    loop {
        // SAFETY: `waited` is an initialised signal set; no info is asked for.
        let signal = unsafe { libc::sigwaitinfo(waited, std::ptr::null_mut()) };
        if signal < 0 {
            if last_errno() == rustix::io::Errno::INTR {
                continue;
            }
            exit(1);
        }
        if signal != libc::SIGCHLD {
            // SAFETY: a signal to our own child, which we have not reaped.
            unsafe { libc::kill(child, signal) };
            continue;
        }
        loop {
            let mut status = 0;
            // SAFETY: `status` is a valid place for the wait status.
            let reaped = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if reaped <= 0 {
                break;
            }
            if reaped == child {
                exit(exit_code(status));
            }
        }
    }
}

fn exit(code: i32) -> ! {
    // SAFETY: ends this process without running the caller's destructors or
    // atexit handlers, which belong to the process we were cloned from.
    unsafe { libc::_exit(code) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_tinis() {
        // A wait status: the code in bits 8-15, or the signal in bits 0-6.
        assert_eq!(exit_code(3 << 8), 3);
        assert_eq!(exit_code(0), 0);
        assert_eq!(exit_code(libc::SIGTERM), 128 + 15);
        assert_eq!(exit_code(libc::SIGKILL), 137);
    }
}
