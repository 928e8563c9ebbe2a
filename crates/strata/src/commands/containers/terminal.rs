//! Our terminal for a container's: raw mode while attached, and the relay
//! of `exec -t` between our terminal and the pseudo-terminal's master side.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::event::{PollFd, PollFlags};
use rustix::termios::{OptionalActions, Termios};
use signal_hook::consts::SIGWINCH;

/// Our terminal in raw mode, put back as it was when dropped.
pub(crate) struct RawMode {
    saved: Termios,
}

impl RawMode {
    /// Puts standard input's terminal in raw mode (keys go to the container as typed).
    pub(crate) fn enter() -> anyhow::Result<RawMode> {
        let stdin = std::io::stdin();
        let saved = rustix::termios::tcgetattr(stdin.as_fd())?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(stdin.as_fd(), OptionalActions::Now, &raw)?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ =
            rustix::termios::tcsetattr(std::io::stdin().as_fd(), OptionalActions::Now, &self.saved);
    }
}

/// Copies the master's output to our stdout, and (with `stdin`) our input
/// to the master, until the process on the terminal ends (`pidfd` readable)
/// and its output is drained; our window size follows SIGWINCH.
pub(crate) fn relay(
    master: &OwnedFd,
    stdin: bool,
    stdin_is_terminal: bool,
    pidfd: &OwnedFd,
) -> anyhow::Result<()> {
    let _raw = if stdin && stdin_is_terminal {
        Some(RawMode::enter()?)
    } else {
        None
    };
    let resized = Arc::new(AtomicBool::new(false));
    let registration = signal_hook::flag::register(SIGWINCH, Arc::clone(&resized))?;
    let stdin_fd = std::io::stdin();
    let stdout_fd = std::io::stdout();
    let mut stdin_open = stdin;
    let mut chunk = vec![0u8; 32 * 1024];
    let mut exited = false;
    loop {
        if resized.swap(false, Ordering::SeqCst)
            && let Ok(size) = rustix::termios::tcgetwinsize(stdout_fd.as_fd())
        {
            let _ = rustix::termios::tcsetwinsize(master, size);
        }
        let mut fds = vec![PollFd::new(master, PollFlags::IN)];
        if !exited {
            fds.push(PollFd::new(pidfd, PollFlags::IN));
        }
        if stdin_open {
            fds.push(PollFd::new(&stdin_fd, PollFlags::IN));
        }
        let timeout = exited.then_some(rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 50_000_000,
        });
        match rustix::event::poll(&mut fds, timeout.as_ref()) {
            Ok(0) if exited => break,
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
        let master_ready = !fds[0].revents().is_empty();
        let mut index = 1;
        if !exited {
            exited = !fds[index].revents().is_empty();
            index += 1;
        }
        let stdin_ready = stdin_open && !fds[index].revents().is_empty();
        drop(fds);
        if master_ready {
            match rustix::io::read(master, &mut chunk) {
                // EIO: the last process on the terminal is gone.
                Ok(0) | Err(_) => break,
                Ok(read) => {
                    let _ = rustix::io::write(&stdout_fd, &chunk[..read]);
                }
            }
        }
        if stdin_ready {
            match rustix::io::read(&stdin_fd, &mut chunk) {
                Ok(0) | Err(_) => stdin_open = false,
                Ok(read) => {
                    let _ = rustix::io::write(master, &chunk[..read]);
                }
            }
        }
    }
    signal_hook::low_level::unregister(registration);
    Ok(())
}
