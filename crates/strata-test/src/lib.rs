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
#![allow(clippy::print_stderr, clippy::panic)]

mod data;
pub mod http;
mod privileged;

pub use data::{conformance_dir, shared_dir, workspace_root};
pub use privileged::{is_root, should_run, should_run_as_root};
