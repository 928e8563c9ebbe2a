//! What a rule reports: a diagnostic with a severity, a place in the source,
//! and, for the mechanical problems, a fix made of byte edits.

use serde::Serialize;
use strata_dockerfile::{Position, Source, Span};

use crate::rules::Rule;

/// How serious a finding is, from the most to the least serious (the order
/// hadolint and `--failure-threshold` use).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Breaks or will break the build or the image.
    Error,
    /// A mistake worth fixing (BuildKit's checks are warnings).
    Warning,
    /// A suggestion.
    Info,
    /// Style only.
    Style,
}

impl Severity {
    /// Every severity, most serious first.
    pub const ALL: [Severity; 4] = [
        Severity::Error,
        Severity::Warning,
        Severity::Info,
        Severity::Style,
    ];

    /// The lower-case name (`warning`).
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Style => "style",
        }
    }

    /// Parses `error`, `warning`, `info` or `style` (any case).
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|severity| severity.name().eq_ignore_ascii_case(text.trim()))
    }

    /// Whether this is at least as serious as `threshold`.
    pub fn at_least(self, threshold: Severity) -> bool {
        self <= threshold
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.name())
    }
}

/// One replacement of source bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The bytes replaced (empty for an insertion).
    pub span: Span,
    /// The new text.
    pub replacement: String,
}

/// A mechanical fix: edits that, applied together, remove the finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    /// What the fix does, e.g. `use COPY`.
    pub description: String,
    /// Non-overlapping edits, in source order.
    pub edits: Vec<Edit>,
}

/// A finding of one rule at one place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The rule (its name, aliases, severity and why).
    pub rule: &'static Rule,
    /// The hadolint ids that name this finding (a subset of the rule's aliases).
    pub aliases: Vec<&'static str>,
    /// The severity after configuration.
    pub severity: Severity,
    /// What is wrong here.
    pub message: String,
    /// The source bytes concerned (an instruction, a word, a flag).
    pub span: Span,
    /// Where the span starts.
    pub start: Position,
    /// Where the span ends (the position after its last character).
    pub end: Position,
    /// The fix, when the problem is mechanical.
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// A diagnostic of `rule` over `span`, with the rule's severity and its
    /// alias when it has exactly one (a rule with several says which applies).
    pub fn new(rule: &'static Rule, source: &Source, span: Span, message: String) -> Diagnostic {
        Diagnostic {
            rule,
            aliases: if rule.aliases.len() == 1 {
                rule.aliases.to_vec()
            } else {
                Vec::new()
            },
            severity: rule.severity,
            message,
            span,
            start: source.position(span.start),
            end: source.position(span.end),
            fix: None,
        }
    }

    /// The rule's name.
    pub fn name(&self) -> &'static str {
        self.rule.name
    }

    /// Sets the aliases that apply to this finding.
    pub fn with_aliases(mut self, aliases: &[&'static str]) -> Diagnostic {
        self.aliases = aliases.to_vec();
        self
    }

    /// Attaches a fix.
    pub fn with_fix(mut self, fix: Option<Fix>) -> Diagnostic {
        self.fix = fix;
        self
    }

    /// BuildKit's one-line form (`LintFormatShort`), as `docker build` prints
    /// its warnings: `JSONArgsRecommended: JSON arguments ... (line 9)`.
    pub fn short(&self) -> String {
        format!(
            "{}: {} (line {})",
            self.rule.name, self.message, self.start.line
        )
    }

    /// Whether this diagnostic is named `name` (the rule's name or one of its
    /// aliases for this finding, compared case-insensitively).
    pub fn is_named(&self, name: &str) -> bool {
        self.rule.name.eq_ignore_ascii_case(name)
            || self
                .aliases
                .iter()
                .any(|alias| alias.eq_ignore_ascii_case(name))
    }
}
