//! A new session, as runc gives every container process, and with it, when
//! asked, a pseudo-terminal of the sandbox's own devpts as the controlling
//! terminal and standard streams; the master goes back to the caller.

use std::os::fd::{AsRawFd, OwnedFd};

use rustix::fs::{Mode, OFlags};

use super::syscalls::Syscalls;
use super::{Failure, last_errno, setup};
use crate::launch::Stdio;

/// The size of a terminal to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TerminalSize {
    /// Rows.
    pub(crate) rows: u16,
    /// Columns.
    pub(crate) columns: u16,
}

/// Makes the caller's descriptors 0, 1 and 2 (a missing stdin: the host's
/// /dev/null, opened before pivot_root); for a terminal, the size to make
/// it once the sandbox's devpts is there.
pub(crate) fn install_streams(stdio: Stdio) -> Result<Option<TerminalSize>, Failure> {
    let (stdin, stdout, stderr) = match stdio {
        Stdio::Terminal { rows, columns } => return Ok(Some(TerminalSize { rows, columns })),
        Stdio::Fds {
            stdin,
            stdout,
            stderr,
        } => (stdin, stdout, stderr),
    };
    let stdin = match stdin {
        Some(stdin) => stdin,
        None => rustix::fs::open("/dev/null", OFlags::RDWR | OFlags::CLOEXEC, Mode::empty())
            .map_err(setup("open /dev/null"))?,
    };
    // Out of the way first, so that no source is overwritten before it is copied.
    let mut moved = Vec::with_capacity(3);
    for fd in [&stdin, &stdout, &stderr] {
        moved.push(rustix::io::fcntl_dupfd_cloexec(fd, 10).map_err(setup("duplicate stdio"))?);
    }
    for (target, fd) in moved.iter().enumerate() {
        // SAFETY: dup2 onto 0, 1 or 2, which this process gives up for it.
        if unsafe { libc::dup2(fd.as_raw_fd(), target as libc::c_int) } < 0 {
            return Err(setup("install stdio")(last_errno()));
        }
    }
    // A caller's descriptor that was 0, 1 or 2 already now holds its copy: keep it open.
    for fd in [stdin, stdout, stderr] {
        if fd.as_raw_fd() <= 2 {
            std::mem::forget(fd);
        }
    }
    Ok(None)
}

/// A new session, and the terminal's master when one is asked for
/// (`console`: also bound on /dev/console, as for a container's PID 1).
pub(crate) fn start_session(
    sys: &impl Syscalls,
    terminal: Option<TerminalSize>,
    console: bool,
) -> Result<Option<OwnedFd>, Failure> {
    sys.new_session().map_err(setup("setsid"))?;
    let Some(size) = terminal else {
        return Ok(None);
    };
    sys.terminal(size.rows, size.columns, console)
        .map(Some)
        .map_err(setup("set up the terminal"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::recording::{Call, Recording};

    #[test]
    fn a_session_always_and_a_terminal_when_asked() {
        let fake = Recording::new();
        assert!(start_session(&fake, None, true).unwrap().is_none());
        assert_eq!(fake.calls(), [Call::NewSession]);
        let fake = Recording::new();
        let size = TerminalSize {
            rows: 24,
            columns: 80,
        };
        assert!(start_session(&fake, Some(size), false).unwrap().is_some());
        assert_eq!(
            fake.calls(),
            [
                Call::NewSession,
                Call::Terminal {
                    rows: 24,
                    columns: 80,
                    console: false
                }
            ]
        );
    }
}
