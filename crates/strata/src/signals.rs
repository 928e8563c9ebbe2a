//! Ctrl-C and SIGTERM cancel a build cleanly: the builder stops starting
//! steps and kills the running ones; mounts and temporary snapshots go away
//! with them. A second signal ends the process at once, as its default
//! action would (the build's mounts die with its private mount namespace,
//! and the next command removes its work directories).

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

/// Cancels `cancel` on the first SIGINT or SIGTERM; a second one ends
/// the process.
pub(crate) fn cancel_on_interrupt(cancel: Cancel) -> anyhow::Result<Listener> {
    let mut signals = Signals::new([SIGINT, SIGTERM])?;
    let handle = signals.handle();
    std::thread::spawn(move || {
        let mut received = signals.forever();
        if received.next().is_some() {
            eprintln!("cancelling the build (interrupt again to stop at once)");
            cancel.cancel();
        }
        if let Some(signal) = received.next() {
            let _ = signal_hook::low_level::emulate_default_handler(signal);
        }
    });
    Ok(Listener { handle })
}
