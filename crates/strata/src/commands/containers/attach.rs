//! Attached containers (`run` in the foreground, `start -a`): output to our
//! stdout/stderr, our stdin to the container with `-i`, and, as the docker
//! CLI does, the terminal in raw mode with `-t` (its size sent on SIGWINCH)
//! and every other signal we get forwarded to the container (sig-proxy).

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use signal_hook::consts::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
use strata_run::{Ended, Request, Session, StdOutput};

/// Signals forwarded to the container.
const FORWARDED: [i32; 6] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2];

fn send_size(session: &mut Session) {
    if let Ok(size) = rustix::termios::tcgetwinsize(std::io::stdout().as_fd()) {
        let _ = session.resize(size.ws_row, size.ws_col);
    }
}

/// Relays until the container stops.
pub(crate) fn relay(mut session: Session, stdin: bool, tty: bool) -> anyhow::Result<Ended> {
    let (wake_read, wake_write): (OwnedFd, OwnedFd) =
        rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    let mut flags: Vec<(i32, Arc<AtomicBool>)> = Vec::new();
    let mut ids = Vec::new();
    let watched: Vec<i32> = if tty {
        let mut all = vec![SIGWINCH];
        all.extend(FORWARDED);
        all
    } else {
        FORWARDED.to_vec()
    };
    for signal in watched {
        let flag = Arc::new(AtomicBool::new(false));
        ids.push(signal_hook::flag::register(signal, Arc::clone(&flag))?);
        ids.push(signal_hook::low_level::pipe::register(
            signal,
            rustix::io::dup(&wake_write)?,
        )?);
        flags.push((signal, flag));
    }
    let _raw = if tty {
        Some(super::terminal::RawMode::enter()?)
    } else {
        None
    };
    if tty {
        send_size(&mut session);
    }
    let mut on_signal = |session: &mut Session| {
        let mut drained = [0u8; 64];
        let _ = rustix::io::read(&wake_read, &mut drained);
        for (signal, flag) in &flags {
            if !flag.swap(false, Ordering::SeqCst) {
                continue;
            }
            if *signal == SIGWINCH {
                send_size(session);
            } else {
                let _ = session.send(&Request::Kill {
                    signal: signal.to_string(),
                });
            }
        }
    };
    let stdin_fd = std::io::stdin();
    let ended = session.pump(
        stdin.then(|| stdin_fd.as_fd()),
        Some((wake_read.as_fd(), &mut on_signal)),
        &mut StdOutput,
    );
    for id in ids {
        signal_hook::low_level::unregister(id);
    }
    Ok(ended?)
}
