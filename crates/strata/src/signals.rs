//! Ctrl-C and SIGTERM cancel a build cleanly: the builder stops starting
//! steps and kills the running ones; mounts and temporary snapshots go away
//! with them. A second signal is left to its default action.

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use strata_build::Cancel;

/// Listens for SIGINT and SIGTERM until dropped.
pub(crate) struct Listener {
    handle: signal_hook::iterator::Handle,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.handle.close();
    }
}

/// Cancels `cancel` on the first SIGINT or SIGTERM.
pub(crate) fn cancel_on_interrupt(cancel: Cancel) -> anyhow::Result<Listener> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let handle = signals.handle();
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            eprintln!("cancelling the build");
            cancel.cancel();
        }
    });
    Ok(Listener { handle })
}
