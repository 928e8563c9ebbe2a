//! Snapshots: the unpacked layers of an image, each unpacked once per chain
//! id and shared, and writable snapshots over them whose diff becomes the next
//! layer.
//!
//! [`Snapshotter`] keeps committed snapshots under a directory the caller
//! gives, keyed by chain id ([`chain_id`]). Two kinds, chosen by
//! [`Snapshotter::open`] (overlay when the kernel can mount it there):
//! - overlay: each committed snapshot holds only its layer's files; an
//!   [`ActiveSnapshot`] is an overlayfs mount (built with the new mount API,
//!   one `lowerdir+` per layer, so deep chains never hit the 4 KB option
//!   limit) whose upper directory *is* the diff: committing costs what changed.
//! - copy: each committed snapshot is a whole tree; an active snapshot is a
//!   copy of its parent, and the diff is found by comparing the two.
//!
//! A [`ContainerLayer`] is the writable layer of a container: the same
//! mount over a chain, with directories the container owns.
//!
//! Both produce the same [`strata_layer::Change`]s for the same step. Commits
//! and unpacks are renames of complete directories: a crash never leaves a
//! half snapshot, and leftovers of a killed process are removed the next time
//! a snapshotter opens the directory.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod active;
mod container;
mod copy;
mod error;
mod overlay;
mod snapshotter;

pub use active::{ActiveSnapshot, Committed, Mounted};
pub use container::ContainerLayer;
pub use error::{Error, Result};
pub use snapshotter::{Kind, Snapshotter, chain_id, explain_choice};
