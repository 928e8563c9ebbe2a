//! The Dockerfile language as BuildKit's current frontend reads it.
//!
//! - [`parse`] turns bytes into a [`Dockerfile`]: parser directives, line
//!   continuations, comments, heredocs, exec and shell forms, flags, each
//!   instruction with byte spans and lines, exactly as BuildKit's parser splits
//!   it (see [`dump`] and [`compat_commands`] for BuildKit's and the PyPI
//!   `dockerfile` package's views of the result).
//! - [`Lexer`] is BuildKit's shell-word expansion (`$v`, `${v:-w}`, `${v#p}`,
//!   quotes, escapes), reporting the variables used and missing.
//! - [`parse_instruction`] and [`Stages::parse`] type each instruction the way
//!   BuildKit's `instructions` package does (flags, argument counts, errors)
//!   and group them into stages; [`Command::expand`] knows which fields
//!   BuildKit's dispatcher expands; [`GlobalScope`] and [`StageScope`] are the
//!   ARG scoping model a builder drives with `--build-arg` values.
//! - [`targets`] and [`outline`] answer BuildKit's `frontend.targets` and
//!   `frontend.outline` subrequests: the stages with their doc comments, and
//!   the build arguments, secrets and SSH ids a target needs.
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
mod instructions;
mod json;
mod lexer;
mod mount;
mod outline;
mod parser;
mod pattern;
mod source;
mod stages;
mod text;
mod values;

pub use ast::{
    Comment, Dockerfile, Flag, Heredoc, Instruction, KeyValueWords, Kind, Warning, Word,
};
pub use directive::{Directive, Frontend};
pub use dump::{CompatCommand, CompatHeredoc, compat_commands, dump};
pub use error::{Error, ErrorKind};
pub use heredoc::{HeredocMarker, chomp, heredocs_from_line, parse_heredoc};
pub use instructions::{
    Add, Arg, ArgDefinition, Cmd, Command, CommandError, CommandLine, Copy, Entrypoint, Env,
    Expander, ExpansionRule, Expose, From, Healthcheck, InlineFile, KeyValue, Label, Location,
    Maintainer, Network, Onbuild, Run, Security, Shell, SourceContent, StopSignal, Typed, User,
    Volume, Workdir, check_chmod, check_signal, parse_instruction, parse_trigger,
};
pub use lexer::{EmptyEnvironment, Environment, EnvironmentList, ExpandError, Expansion, Lexer};
pub use mount::{Device, Mount, MountType, Sharing, csv_fields};
pub use outline::{Outline, OutlineArg, OutlineMount, Target, outline, targets};
pub use parser::{parse, split_words};
pub use source::{Position, Source, Span};
pub use stages::{
    ArgInfo, DeclaredArgs, ExpandedFrom, FrontendOptions, GlobalScope, ProxyEnvironment, Stage,
    StageScope, StageWarning, Stages, allowed_before_from, default_args, proxy_environment,
};
pub use values::{Chmod, PortSpec, SymbolicMode, parse_port, parse_signal, parse_size};
