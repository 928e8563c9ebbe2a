//! Go standard-library, moby and BuildKit semantics strata must reproduce.
//!
//! BuildKit, Docker, fsutil and containerd are Go programs working on Go strings
//! (bytes that are usually, but not always, UTF-8); where their answers depend
//! on Go's library, strata computes them here, once:
//!
//! - [`utf8`]: `utf8.DecodeRune`/`DecodeLastRune` (an invalid byte is U+FFFD
//!   of width 1), ranging over a string, and Go string bytes as a Rust string.
//! - [`strings`]: `unicode.IsSpace`, `strings.TrimSpace`/`TrimLeftFunc` over
//!   bytes, `strings.ToLower`/`ToUpper` (Go's simple case mapping).
//! - [`unicode`]: `IsLetter`, `IsDigit`, `IsPrint`.
//! - [`strconv`]: `Quote`, `ParseBool`, `ParseUint`, `ParseInt`.
//! - [`time`]: `ParseDuration`, `Duration.String` and the package's quoting.
//! - [`syscall`]: `Errno`'s texts, as Go prints a failed system call.
//! - [`signal`]: moby's Linux signal names and `ParseSignal`.
//! - [`path`]: `path.Clean` and `path.Match` (also `filepath`'s on Unix).
//! - [`suggest`]: BuildKit's `util/suggest`, the "did you mean" search.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod path;
pub mod signal;
pub mod strconv;
pub mod strings;
pub mod suggest;
pub mod syscall;
pub mod time;
pub mod unicode;
pub mod utf8;
