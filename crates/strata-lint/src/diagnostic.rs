//! What a rule reports: a diagnostic with a severity, a place in the source,
//! and, for the mechanical problems, a fix made of byte edits.

use strata_dockerfile::{Position, Source, Span};

use crate::rules::Rule;
use crate::severity::Severity;

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
