//! File-system calls whose errors name the path they were about.
//!
//! Every function here is a thin wrapper over `std::fs` that turns an
//! [`std::io::Error`] into an [`Error`] carrying the operation and the path, so
//! that no caller has to remember to add them. [`write_atomic`] is the one way the
//! project writes a file that must never be seen half-written; [`write_replace`]
//! the same for files a crash may lose.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod atomic;
mod error;
mod ops;
mod userns;

pub use atomic::{write_atomic, write_atomic_with, write_replace};
pub use error::{Error, Result};
pub use ops::{
    create_dir_all, metadata, open, read, read_dir, read_link, read_to_string, remove_dir_all,
    remove_file, rename, symlink_metadata, tree_size,
};
pub use userns::in_user_namespace;
