//! Test support for strata's crates: where the shared test data lives, and how a
//! test that needs root, namespaces or overlayfs decides to run or to skip.
//!
//! Environment:
//! - `STRATA_CONFORMANCE_DIR`: the conformance data (default: `../shared/conformance`
//!   beside the workspace root). `STRATA_REQUIRE_CONFORMANCE=1` (set by CI) turns its
//!   absence into a failure.
//! - `STRATA_REQUIRE_PRIVILEGED=1` (set by CI) turns a privileged test's skip into a
//!   failure.
#![forbid(unsafe_code)]
#![allow(clippy::print_stderr, clippy::panic, clippy::expect_used)]

mod data;
pub mod http;
mod image;
mod port;
mod privileged;
mod registry;
mod rootfs;
mod token;
pub mod tree;

pub use data::{conformance_dir, shared_dir, test_tool, workspace_root};
pub use image::{TestImage, TestImageBuilder, gzip, layer_tar, push_index_with_skopeo};
pub use port::free_port;
pub use privileged::{is_root, should_run, should_run_as_root};
pub use registry::{REGISTRY_PROGRAM, Registry, RegistryAuth, find_program, needs_registry};
pub use rootfs::{
    BUSYBOX, BUSYBOX_GROUP, BUSYBOX_PASSWD, BusyboxCopy, busybox_rootfs, busybox_rootfs_copy,
    copy_tree, debian_rootfs, debian_rootfs_dir,
};
pub use token::TokenIssuer;
