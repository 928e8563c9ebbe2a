//! pivot_root into the sandbox's root, the old root detached: nothing of the
//! host's file system stays reachable.

use super::syscalls::Syscalls;
use super::{Failure, setup};

/// Makes the root `/` and drops the old one.
pub(crate) fn pivot_root(sys: &impl Syscalls) -> Result<(), Failure> {
    sys.pivot_root().map_err(setup("pivot_root"))
}
