//! The build context: everything between "the user named a directory" and
//! "these exact files, with these digests, go into the build".
//!
//! - [`ignorefile`]: `.dockerignore` text to patterns, and which ignore file a
//!   build uses ([`IgnoreFile::for_build`]: `<Dockerfile>.dockerignore` wins).
//! - [`PatternMatcher`]: Docker's pattern semantics (moby's patternmatcher,
//!   not gitignore's), and [`Filter`]: include/exclude lists applied the way
//!   fsutil's walk applies them.
//! - [`Context::scan`]: the selected entries with mode, owner, symlink target
//!   and BuildKit's content digests, hashed in parallel and remembered in a
//!   metadata cache so an unchanged rescan hashes nothing.
//! - [`Context::select`]: what a COPY/ADD source selects and the digest its
//!   cache key covers, as BuildKit's `contenthash.Checksum` computes it.
//! - [`source`]: contexts from stdin tar archives, git URLs and remote URLs.
//! - [`ContextFacts`] for lint; [`Usage`] for `context du`.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cache;
mod context;
mod error;
mod facts;
mod filter;
mod goregex;
pub mod ignorefile;
mod listing;
mod pattern;
mod select;
pub mod source;
mod tarsum;
mod usage;

pub use context::{Context, Entry, EntryKind, ScanOptions, ScanStats, Warning};
pub use error::Error;
pub use facts::{ContextFacts, NOTABLE_NAMES, NotablePath};
pub use filter::{Decision, Filter, FilterState};
pub use ignorefile::IgnoreFile;
pub use pattern::{MatchInfo, Pattern, PatternError, PatternMatcher};
pub use select::{CopySource, SelectedEntry, SelectedRoot, Selection};
pub use source::{ContextSpec, ResolveOptions, ResolvedContext};
pub use usage::{DirectoryUsage, Totals, Usage};
