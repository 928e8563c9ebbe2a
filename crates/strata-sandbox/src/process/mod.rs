//! The steps that turn a cloned (or forked) copy of a single-threaded caller
//! into a sandboxed process, one file each, in the order PID 1 takes them:
//! [`rootfs`] (root attached, mount points), [`mounts`] (/proc, /dev, /sys,
//! masked and read-only paths, extra mounts), [`etc_files`], [`pivot`],
//! [`terminal`], [`credentials`] (user, rlimits, capabilities, seccomp's
//! place), [`exec`], and [`init_process`] for `--init`. The steps reach the
//! kernel through [`Syscalls`], so that unit tests can record what they do
//! with the fake in `recording`; what needs no test (clone, the channel to
//! the caller, signals) calls the kernel directly.

pub(crate) mod channel;
pub(crate) mod credentials;
pub(crate) mod etc_files;
pub(crate) mod exec;
pub(crate) mod init_process;
pub(crate) mod linux;
pub(crate) mod mounts;
pub(crate) mod namespaces;
pub(crate) mod pivot;
#[cfg(test)]
pub(crate) mod recording;
pub(crate) mod rootfs;
pub(crate) mod signals;
pub(crate) mod syscalls;
pub(crate) mod terminal;

use rustix::io::Errno;

pub(crate) use syscalls::Syscalls;

use crate::wire::FailureKind;

/// Why a process could not be set up: its kind and message (runc's or
/// Docker's words where they have some).
#[derive(Debug)]
pub(crate) struct Failure {
    /// What kind of error the caller gets.
    pub(crate) kind: FailureKind,
    /// The message.
    pub(crate) message: String,
}

impl Failure {
    /// A setup failure with `message`.
    pub(crate) fn setup(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Setup,
            message: message.into(),
        }
    }

    /// The public error.
    #[cfg(test)]
    pub(crate) fn into_error(self) -> crate::Error {
        self.kind.into_error(self.message)
    }
}

impl From<crate::Error> for Failure {
    fn from(error: crate::Error) -> Self {
        use crate::Error;
        let (kind, message) = match error {
            Error::NotRoot => (FailureKind::NotRoot, String::new()),
            Error::User { message } => (FailureKind::User, message),
            Error::Exec { message, problem } => (FailureKind::Exec(problem), message),
            Error::Setup { message } => (FailureKind::Setup, message),
            other => (FailureKind::Setup, other.to_string()),
        };
        Self { kind, message }
    }
}

/// Maps a kernel error to a setup failure saying what was being done.
pub(crate) fn setup(what: impl std::fmt::Display) -> impl FnOnce(Errno) -> Failure {
    move |errno| Failure::setup(format!("{what}: {}", std::io::Error::from(errno)))
}

/// Runs the body of a cloned or forked child, which never returns into the
/// frames it shares with its caller: a panic ends it (exit 1) instead of
/// unwinding into the caller's code, and so does a body that returns.
pub(crate) fn child_only(body: impl FnOnce()) -> ! {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
    // SAFETY: ends this copy of the caller without running the caller's
    // destructors or atexit handlers, which are not ours to run.
    unsafe { libc::_exit(1) }
}

/// The last OS error as an `Errno`.
pub(crate) fn last_errno() -> Errno {
    Errno::from_raw_os_error(std::io::Error::last_os_error().raw_os_error().unwrap_or(0))
}
