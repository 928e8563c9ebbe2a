//! OCI tar layers: what a build step changed, written as a compressed layer
//! with its digests, and a layer applied to a directory without ever writing
//! outside it.
//!
//! - [`Change`]: one path that a step added, modified, deleted or made opaque;
//!   the snapshotter produces them, [`write_layer`] turns them into a tar.
//! - [`write_layer`]: sorted, PAX headers for long names and xattrs, hardlinks
//!   kept, whiteouts; the diff id and the blob digest come out of the same pass
//!   as the compression ([`Compression`]: block-parallel gzip or multi-threaded
//!   zstd, on every core).
//! - [`apply_layer`]: whiteouts, opaque directories, hardlinks, symlinks,
//!   device nodes, xattrs and ownership, through directory file descriptors
//!   that never follow a symlink; a hostile entry is refused with
//!   [`Error::UnsafeEntry`] naming it.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod apply;
mod change;
mod compress;
mod error;
mod gzip;
mod header;
mod write;

pub use apply::{ApplyOptions, ApplyReport, WhiteoutMode, apply_layer};
pub use change::{Change, ChangeKind, OPAQUE_MARKER, WHITEOUT_PREFIX};
pub use compress::{Compression, compress, decompressor, detect_compression};
pub use error::{Error, Result};
pub use write::{LayerDigests, LayerOptions, layer_xattrs, write_layer};

/// The xattr overlayfs reads as "this directory hides the lower ones":
/// `trusted.overlay.opaque`, or in a user namespace (rootless, where
/// overlayfs is mounted with `userxattr`) `user.overlay.opaque`.
pub fn opaque_xattr() -> &'static str {
    if strata_fs::in_user_namespace() {
        "user.overlay.opaque"
    } else {
        "trusted.overlay.opaque"
    }
}
