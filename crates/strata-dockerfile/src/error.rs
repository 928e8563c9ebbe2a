//! The error every stage of the frontend returns: BuildKit's message plus where
//! in the Dockerfile it happened.

use std::path::{Path, PathBuf};

use crate::source::{Source, Span};

/// What kind of problem an [`Error`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A parser directive is repeated or invalid (`# escape=x`).
    Directive,
    /// An exec-form array holds something other than strings.
    Json,
    /// An instruction's text cannot be read (ENV without value, bad heredoc, ...).
    Syntax,
    /// A heredoc has no terminator line.
    UnterminatedHeredoc,
    /// The file holds no instruction.
    Empty,
    /// A physical line is longer than BuildKit's 64 KiB scanner allows.
    LineTooLong,
    /// An instruction name BuildKit does not know.
    UnknownInstruction,
    /// A flag the instruction does not take, repeated, or with a bad value.
    Flag,
    /// Too many, too few or malformed arguments.
    Arguments,
    /// Variable expansion failed.
    Expansion,
    /// An instruction is outside a stage, or a stage reference is wrong.
    Stage,
}

/// A Dockerfile error: BuildKit's message, the byte span it is about, and the
/// line and column (1-based, columns in characters) where that span starts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// What kind of problem it is.
    pub kind: ErrorKind,
    /// BuildKit's message, e.g. `unknown instruction: RUNN (did you mean RUN?)`.
    pub message: String,
    /// The bytes it is about (an instruction, a flag, an argument).
    pub span: Span,
    /// The line of `span.start`, from 1.
    pub line: usize,
    /// The column of `span.start`, from 1, in characters.
    pub column: usize,
    /// The last line the problem covers (an instruction's last line).
    pub end_line: usize,
    /// The file, when the caller named it (see [`Error::with_file`]).
    pub file: Option<PathBuf>,
}

impl Error {
    /// An error about `span` of `source`.
    pub fn new(kind: ErrorKind, message: impl Into<String>, source: &Source, span: Span) -> Error {
        let start = source.position(span.start);
        let end = source.position(span.end.saturating_sub(1).max(span.start));
        Error {
            kind,
            message: message.into(),
            span,
            line: start.line,
            column: start.column,
            end_line: end.line.max(start.line),
            file: None,
        }
    }

    /// The same error, naming the file it came from.
    pub fn with_file(mut self, file: impl AsRef<Path>) -> Error {
        self.file = Some(file.as_ref().to_path_buf());
        self
    }
}
