//! Compiler-style reports of Dockerfile errors and warnings:
//!
//! ```text
//! Dockerfile:3:1: unknown instruction: RUNN (did you mean RUN?)
//!    |
//!  3 | RUNN echo hi
//!    | ^^^^^^^^^^^^
//! ```
//!
//! Every command that reads a Dockerfile reports through here. Colour only
//! when stderr is a terminal and `NO_COLOR` is unset.

use std::fmt::Write as _;
use std::io::IsTerminal;

use strata_dockerfile::{Source, Span};

/// A diagnostic already rendered for the terminal; `main` prints it as is.
#[derive(Debug)]
pub(crate) struct Rendered(pub(crate) String);

impl std::fmt::Display for Rendered {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.0.trim_end())
    }
}

impl std::error::Error for Rendered {}

/// Whether stderr should get ANSI colours.
pub(crate) fn colour_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::io::stderr().is_terminal()
}

/// Whether stdout should get ANSI colours.
pub(crate) fn colour_stdout() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
        && std::io::stdout().is_terminal()
}

/// How bad a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Severity {
    Error,
    Warning,
    Info,
    Style,
}

/// Renders `message` about `span` of `source` (in `file`) with the source
/// lines and a caret under the span.
pub(crate) fn render(
    file: &str,
    source: &Source,
    span: Span,
    severity: Severity,
    message: &str,
    colour: bool,
) -> String {
    render_with_code(file, source, span, severity, None, message, colour)
}

/// [`render`] with a code after the severity: `warning[UndefinedVar]: ...`.
pub(crate) fn render_with_code(
    file: &str,
    source: &Source,
    span: Span,
    severity: Severity,
    code: Option<&str>,
    message: &str,
    colour: bool,
) -> String {
    render_full(file, source, span, severity, code, message, colour, 0)
}

/// [`render`], with up to `context` lines of the source before and after
/// the span's lines.
pub(crate) fn render_in_context(
    file: &str,
    source: &Source,
    span: Span,
    severity: Severity,
    message: &str,
    colour: bool,
    context: usize,
) -> String {
    render_full(file, source, span, severity, None, message, colour, context)
}

#[allow(clippy::too_many_arguments)]
fn render_full(
    file: &str,
    source: &Source,
    span: Span,
    severity: Severity,
    code: Option<&str>,
    message: &str,
    colour: bool,
    context: usize,
) -> String {
    let (bold, red, yellow, blue, reset) = if colour {
        ("\x1b[1m", "\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[0m")
    } else {
        ("", "", "", "", "")
    };
    let start = source.position(span.start);
    let label = match severity {
        Severity::Error => format!("{red}error{reset}"),
        Severity::Warning => format!("{yellow}warning{reset}"),
        Severity::Info => format!("{blue}info{reset}"),
        Severity::Style => format!("{blue}style{reset}"),
    };
    let label = match code {
        Some(code) => format!("{label}[{code}]"),
        None => label,
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{bold}{file}:{}:{}:{reset} {label}: {bold}{message}{reset}",
        start.line, start.column
    );

    let Some(first_line) = source.line_span(start.line) else {
        return out;
    };
    let end_offset = span.end.max(span.start);
    // The line of the span's last byte (an end at a line start belongs before it).
    let end = source.position(if span.end > span.start {
        span.end - 1
    } else {
        span.start
    });
    // Show at most three lines of a long span.
    let last_line = end.line.max(start.line);
    let shown_last = last_line.min(start.line + 2);
    let after_last = if shown_last == last_line {
        (shown_last + 1..=shown_last + context)
            .take_while(|line| source.line_span(*line).is_some())
            .last()
            .unwrap_or(shown_last)
    } else {
        shown_last
    };
    // A last line that is empty (the newline ending the file) says nothing.
    let after_last = (shown_last..=after_last)
        .rev()
        .find(|line| {
            *line == shown_last
                || source
                    .line_span(*line)
                    .is_some_and(|span| !source.slice(span).trim().is_empty())
        })
        .unwrap_or(shown_last);
    let width = after_last.to_string().len();
    let _ = writeln!(out, "{blue}{:width$} |{reset}", "");
    for line in start.line.saturating_sub(context).max(1)..start.line {
        if let Some(line_span) = source.line_span(line) {
            let text = expand_tabs(&source.slice(line_span));
            let _ = writeln!(out, "{blue}{line:>width$} |{reset} {text}");
        }
    }
    for line in start.line..=shown_last {
        let Some(line_span) = source.line_span(line) else {
            break;
        };
        let text = expand_tabs(&source.slice(line_span));
        let _ = writeln!(out, "{blue}{line:>width$} |{reset} {text}");
        // The caret covers the span's part of this line (at least one column).
        let line_start_column = if line == start.line { start.column } else { 1 };
        let line_end_column = if line == last_line && end_offset <= line_span.end {
            source.position(end_offset).column
        } else {
            source.slice(line_span).chars().count() + 1
        };
        let prefix: String = source
            .slice(Span::new(line_span.start, line_span.end))
            .chars()
            .take(line_start_column - 1)
            .collect();
        let indent = expand_tabs(&prefix).chars().count();
        let marked: String = source
            .slice(line_span)
            .chars()
            .skip(line_start_column - 1)
            .take(line_end_column.saturating_sub(line_start_column))
            .collect();
        let carets = expand_tabs(&marked).chars().count().max(1);
        let colour_on = match severity {
            Severity::Error => red,
            Severity::Warning => yellow,
            Severity::Info | Severity::Style => blue,
        };
        let _ = writeln!(
            out,
            "{blue}{:width$} |{reset} {}{colour_on}{}{reset}",
            "",
            " ".repeat(indent),
            "^".repeat(carets)
        );
        if line == start.line && first_line.is_empty() {
            break;
        }
    }
    for line in shown_last + 1..=after_last {
        if let Some(line_span) = source.line_span(line) {
            let text = expand_tabs(&source.slice(line_span));
            let _ = writeln!(out, "{blue}{line:>width$} |{reset} {text}");
        }
    }
    if last_line > shown_last {
        let more = last_line - shown_last;
        let plural = if more == 1 { "" } else { "s" };
        let _ = writeln!(
            out,
            "{blue}{:width$} |{reset} ... ({more} more line{plural})",
            ""
        );
    }
    out
}

/// Tabs as four spaces, so carets line up.
fn expand_tabs(text: &str) -> String {
    text.replace('\t', "    ")
}

fn lint_severity(severity: strata_lint::Severity) -> Severity {
    match severity {
        strata_lint::Severity::Error => Severity::Error,
        strata_lint::Severity::Warning => Severity::Warning,
        strata_lint::Severity::Info => Severity::Info,
        strata_lint::Severity::Style => Severity::Style,
    }
}

/// The text report: each diagnostic with its source lines and caret, then
/// why it matters, its hadolint ids, its fix and its documentation.
pub(crate) fn render_lint(
    file: &str,
    source: &Source,
    diagnostics: &[strata_lint::Diagnostic],
    colour: bool,
) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        out.push_str(&render_with_code(
            file,
            source,
            diagnostic.span,
            lint_severity(diagnostic.severity),
            Some(diagnostic.rule.name),
            &diagnostic.message,
            colour,
        ));
        let _ = writeln!(out, "  = why: {}", diagnostic.rule.why);
        if !diagnostic.aliases.is_empty() {
            let _ = writeln!(out, "  = hadolint: {}", diagnostic.aliases.join(", "));
        }
        if let Some(fix) = &diagnostic.fix {
            let _ = writeln!(out, "  = fix: {} (strata lint --fix)", fix.description);
        }
        if let Some(url) = diagnostic.rule.url {
            let _ = writeln!(out, "  = see: {url}");
        }
        out.push('\n');
    }
    out
}

/// Renders a Dockerfile error.
pub(crate) fn render_error(
    file: &str,
    source: &Source,
    error: &strata_dockerfile::Error,
    colour: bool,
) -> String {
    render(
        file,
        source,
        error.span,
        Severity::Error,
        &error.message,
        colour,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_under_the_span() {
        let source = Source::new("FROM a\n\tRUNN x\n");
        let text = render(
            "Dockerfile",
            &source,
            Span::new(8, 12),
            Severity::Error,
            "unknown",
            false,
        );
        assert_eq!(
            text,
            "Dockerfile:2:2: error: unknown\n  |\n2 |     RUNN x\n  |     ^^^^\n"
        );
    }

    #[test]
    fn long_spans_are_cut() {
        let source = Source::new("RUN a \\\n b \\\n c \\\n d \\\n e\n");
        let text = render(
            "D",
            &source,
            Span::new(0, 26),
            Severity::Warning,
            "w",
            false,
        );
        assert!(text.contains("... (2 more lines)"), "{text}");
    }
}
