//! A private mount namespace for the calling process, so that what it
//! mounts (snapshots attached for a COPY, stages bound into a RUN) is seen by
//! no other process and vanishes with it, even when it is killed.

use rustix::mount::MountPropagationFlags;
use rustix::thread::UnshareFlags;

use crate::{Error, Result};

/// Moves the calling process into a mount namespace of its own: a private
/// copy of the current one, whose mounts die with the process (SIGKILL
/// included). Call it before the process starts any thread: a thread started
/// earlier would stay in the old namespace, so a multi-threaded caller gets
/// an error. `Ok(false)` (nothing done) without root, where nothing is
/// mounted anyway.
pub fn private_mount_namespace() -> Result<bool> {
    if !rustix::process::geteuid().is_root() {
        return Ok(false);
    }
    crate::process::namespaces::ensure_single_threaded("a private mount namespace")?;
    // SAFETY: the process is single-threaded (checked above), so no other
    // thread shares the file-system attributes this unshares, and FILES is
    // not among the flags (no descriptor table is split under anyone).
    unsafe { rustix::thread::unshare_unsafe(UnshareFlags::NEWNS) }.map_err(|e| Error::Setup {
        message: format!("unshare the mount namespace: {e}"),
    })?;
    // Nothing mounted here propagates back to the namespace we came from.
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )
    .map_err(|e| Error::Setup {
        message: format!("make / private: {e}"),
    })?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_multi_threaded_process() {
        // The test harness runs tests on threads of its own.
        let _other = std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_secs(1)));
        match private_mount_namespace() {
            Ok(done) => assert!(!done && !rustix::process::geteuid().is_root()),
            Err(error) => assert!(error.to_string().contains("single-threaded"), "{error}"),
        }
    }
}
