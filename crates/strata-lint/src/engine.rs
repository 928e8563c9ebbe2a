//! The lint run: the rule families over the [`Context`], then suppressions,
//! severities and ordering.

use std::collections::BTreeSet;

use strata_dockerfile::{Dockerfile, Span};

use crate::config::{Config, RuleSet};
use crate::context::Context;
use crate::diagnostic::Diagnostic;
use crate::facts::Facts;
use crate::suppress::{CheckOptions, Suppressions};
use crate::{buildkit, guide, hadolint};

/// What a lint run found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The findings, in source order.
    pub diagnostics: Vec<Diagnostic>,
    /// `# check=error=true`: any finding fails the build (BuildKit's semantics).
    pub error_on_warning: bool,
}

impl Report {
    /// BuildKit's error when `# check=error=true` and something was found:
    /// `lint violation found for rules: A, B` (rules sorted, each once).
    pub fn violation_error(&self) -> Option<String> {
        if !self.error_on_warning || self.diagnostics.is_empty() {
            return None;
        }
        let rules: BTreeSet<&str> = self
            .diagnostics
            .iter()
            .map(|diagnostic| diagnostic.rule.name)
            .collect();
        let rules: Vec<&str> = rules.into_iter().collect();
        Some(format!(
            "lint violation found for rules: {}",
            rules.join(", ")
        ))
    }

    /// Whether the lint fails: a finding at or above `threshold`, or any
    /// finding under `# check=error=true`.
    pub fn fails(&self, threshold: crate::Severity) -> bool {
        (self.error_on_warning && !self.diagnostics.is_empty())
            || self
                .diagnostics
                .iter()
                .any(|diagnostic| diagnostic.severity.at_least(threshold))
    }
}

/// The `# check=` directive is not one BuildKit accepts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("failed to parse check options: {message}")]
pub struct CheckDirectiveError {
    /// BuildKit's reason, e.g. `invalid check option "foo"`.
    pub message: String,
    /// The directive's value in the source.
    pub span: Span,
}

/// Lints `dockerfile` with `facts` about its context under `config`.
pub fn lint(
    dockerfile: &Dockerfile,
    facts: &dyn Facts,
    config: &Config,
) -> Result<Report, CheckDirectiveError> {
    let options = match dockerfile.directive("check") {
        Some(directive) => {
            CheckOptions::parse(&directive.value).map_err(|message| CheckDirectiveError {
                message,
                span: directive.value_span,
            })?
        }
        None => CheckOptions::default(),
    };
    let mut context = Context::new(dockerfile, facts, config);
    buildkit::check(&mut context);
    if config.rule_set == RuleSet::All {
        guide::check(&mut context);
        hadolint::check(&mut context);
    }
    let suppressions = Suppressions::new(dockerfile, options.clone());
    let mut diagnostics = Vec::new();
    let mut seen = BTreeSet::new();
    for finding in std::mem::take(&mut context.findings) {
        let mut diagnostic = finding.diagnostic;
        if config.rule_set == RuleSet::BuildKit && !finding.buildkit {
            continue;
        }
        let mut names = vec![diagnostic.rule.name];
        names.extend(diagnostic.aliases.iter().copied());
        if diagnostic.rule.experimental
            && !config.experimental_enabled(diagnostic.rule)
            && !suppressions.experimental_enabled(diagnostic.rule.name, finding.comments_of)
        {
            continue;
        }
        if config.is_ignored(&names)
            || suppressions.suppressed(&names, diagnostic.start.line, finding.comments_of)
        {
            continue;
        }
        if let Some(severity) = config.severity_for(&names) {
            diagnostic.severity = severity;
        }
        let key = (
            diagnostic.span,
            diagnostic.rule.name,
            diagnostic.message.clone(),
        );
        if !seen.insert(key) {
            continue;
        }
        diagnostics.push(diagnostic);
    }
    diagnostics.sort_by_key(|diagnostic| (diagnostic.start.line, diagnostic.span.start));
    Ok(Report {
        diagnostics,
        error_on_warning: options.error,
    })
}
