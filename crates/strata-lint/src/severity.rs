//! How serious a finding is: a rule's default and a diagnostic's severity.

use serde::Serialize;

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
