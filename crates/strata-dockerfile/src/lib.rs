//! The Dockerfile language as BuildKit's current frontend reads it.
//!
//! - [`parse`] turns bytes into a [`Dockerfile`]: parser directives, line
//!   continuations, comments, heredocs, exec and shell forms, flags, each
//!   instruction with byte spans and lines, exactly as BuildKit's parser splits
//!   it (see [`dump`] and [`compat_commands`] for BuildKit's and the PyPI
//!   `dockerfile` package's views of the result).
//! - [`Lexer`] is BuildKit's shell-word expansion (`$v`, `${v:-w}`, `${v#p}`,
//!   quotes, escapes), reporting the variables used and missing.
//! - [`instructions`] types each instruction the way BuildKit's `instructions`
//!   package does (flags, argument counts, errors), groups them into stages,
//!   and knows which instruction fields BuildKit expands; [`args`] holds the
//!   ARG scoping model a builder drives with `--build-arg` values.
//!
//! No I/O and no async; nothing here panics on any input.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod ast;
mod directive;
mod dump;
mod error;
mod heredoc;
mod json;
mod lexer;
mod parser;
mod pattern;
mod source;
mod text;

pub use ast::{
    Comment, Dockerfile, Flag, Heredoc, Instruction, KeyValueWords, Kind, Warning, Word,
};
pub use directive::Directive;
pub use dump::{CompatCommand, CompatHeredoc, compat_commands, dump};
pub use error::{Error, ErrorKind};
pub use heredoc::{HeredocMarker, chomp, heredocs_from_line, parse_heredoc};
pub use lexer::{EmptyEnvironment, Environment, EnvironmentList, ExpandError, Expansion, Lexer};
pub use parser::{parse, split_words};
pub use source::{Position, Source, Span};
pub use text::{go_quote, lossy};
