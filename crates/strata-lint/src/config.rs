//! What to check and how strictly: rules ignored, severities overridden,
//! trusted registries and the failure threshold, from `.strata-lint.toml`.
//!
//! ```toml
//! ignored = ["DL3008", "UndefinedVar"]
//! trusted-registries = ["docker.io", "*.example.com"]
//! failure-threshold = "error"
//!
//! [severity]
//! ConsecutiveRunInstructions = "style"
//! ```

use std::collections::{BTreeMap, BTreeSet};

use crate::rules::{Origin, Rule, find_rule};
use crate::severity::Severity;

/// The default name of the configuration file.
pub const CONFIG_FILE: &str = ".strata-lint.toml";

/// Which rules run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RuleSet {
    /// Every rule (what `strata lint` runs).
    #[default]
    All,
    /// Only the findings BuildKit's build reports (what `strata build` prints).
    BuildKit,
}

/// Lint configuration. The default runs every non-experimental rule, with
/// each rule's own severity, and fails at `warning`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Rules (names or hadolint ids) never reported.
    pub ignored: BTreeSet<String>,
    /// Severity overrides by rule name or hadolint id.
    pub severities: BTreeMap<String, Severity>,
    /// Registries FROM images may come from (empty: any). `*` globs at either end.
    pub trusted_registries: Vec<String>,
    /// Findings at or above this severity make the lint fail (default: warning).
    pub failure_threshold: Severity,
    /// Which rules run.
    pub rule_set: RuleSet,
    /// Experimental rules turned on (BuildKit's `experimental=` check option).
    pub experimental: BTreeSet<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            ignored: BTreeSet::new(),
            severities: BTreeMap::new(),
            trusted_registries: Vec::new(),
            failure_threshold: Severity::Warning,
            rule_set: RuleSet::All,
            experimental: BTreeSet::new(),
        }
    }
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// Not valid TOML, or a field of the wrong type.
    #[error("{message}")]
    Syntax {
        /// The parser's message (with line and column).
        message: String,
    },
    /// A rule name that names no rule.
    #[error("unknown rule {name:?} in `{field}`")]
    UnknownRule {
        /// The field it was in.
        field: String,
        /// The name.
        name: String,
    },
    /// A severity other than error, warning, info or style.
    #[error("invalid severity {value:?} in `{field}` (expected error, warning, info or style)")]
    Severity {
        /// The field it was in.
        field: String,
        /// The value.
        value: String,
    },
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct File {
    #[serde(default)]
    ignored: Vec<String>,
    #[serde(default)]
    trusted_registries: Vec<String>,
    failure_threshold: Option<String>,
    #[serde(default)]
    severity: BTreeMap<String, String>,
    #[serde(default)]
    experimental: Vec<String>,
}

impl Config {
    /// The configuration `strata build` uses: BuildKit's findings only.
    pub fn buildkit() -> Config {
        Config {
            rule_set: RuleSet::BuildKit,
            ..Config::default()
        }
    }

    /// Reads `.strata-lint.toml` text.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let file: File = toml::from_str(text).map_err(|error| ConfigError::Syntax {
            message: error.to_string().trim_end().to_string(),
        })?;
        let mut config = Config::default();
        for name in file.ignored {
            check_rule("ignored", &name)?;
            config.ignored.insert(name);
        }
        for name in file.experimental {
            check_rule("experimental", &name)?;
            config.experimental.insert(name);
        }
        config.trusted_registries = file.trusted_registries;
        if let Some(value) = file.failure_threshold {
            config.failure_threshold =
                Severity::parse(&value).ok_or_else(|| ConfigError::Severity {
                    field: "failure-threshold".into(),
                    value: value.clone(),
                })?;
        }
        for (name, value) in file.severity {
            check_rule("severity", &name)?;
            let severity = Severity::parse(&value).ok_or_else(|| ConfigError::Severity {
                field: format!("severity.{name}"),
                value: value.clone(),
            })?;
            config.severities.insert(name, severity);
        }
        Ok(config)
    }

    /// Whether `name` (a rule name or alias) is ignored.
    pub fn is_ignored(&self, names: &[&str]) -> bool {
        self.ignored
            .iter()
            .any(|ignored| names.iter().any(|name| name.eq_ignore_ascii_case(ignored)))
    }

    /// The severity override for a finding named `names`, if any (the rule's
    /// name wins over an alias).
    pub fn severity_for(&self, names: &[&str]) -> Option<Severity> {
        names.iter().find_map(|name| {
            self.severities
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, severity)| *severity)
        })
    }

    /// Whether an experimental rule was turned on.
    pub fn experimental_enabled(&self, rule: &Rule) -> bool {
        self.experimental.contains("all")
            || self
                .experimental
                .iter()
                .any(|name| name.eq_ignore_ascii_case(rule.name))
    }

    /// Whether the rule set includes `rule` at all.
    pub fn runs(&self, rule: &Rule) -> bool {
        match self.rule_set {
            RuleSet::All => true,
            RuleSet::BuildKit => rule.origin == Origin::BuildKit,
        }
    }
}

fn check_rule(field: &str, name: &str) -> Result<(), ConfigError> {
    if name == "all" && field == "experimental" || find_rule(name).is_some() {
        return Ok(());
    }
    Err(ConfigError::UnknownRule {
        field: field.to_string(),
        name: name.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_field() {
        let config = Config::from_toml(
            "ignored = [\"DL3008\", \"UndefinedVar\"]\ntrusted-registries = [\"docker.io\"]\nfailure-threshold = \"error\"\n[severity]\nDL3059 = \"style\"\n",
        )
        .unwrap();
        assert!(config.is_ignored(&["PinAptGetVersions", "DL3008"]));
        assert!(config.is_ignored(&["undefinedvar"]));
        assert_eq!(config.failure_threshold, Severity::Error);
        assert_eq!(config.trusted_registries, ["docker.io"]);
        assert_eq!(
            config.severity_for(&["ConsecutiveRunInstructions", "DL3059"]),
            Some(Severity::Style)
        );
    }

    #[test]
    fn rejects_unknown_rules_and_fields() {
        assert_eq!(
            Config::from_toml("ignored = [\"Nope\"]"),
            Err(ConfigError::UnknownRule {
                field: "ignored".into(),
                name: "Nope".into()
            })
        );
        assert!(matches!(
            Config::from_toml("ignore = []"),
            Err(ConfigError::Syntax { .. })
        ));
        assert!(matches!(
            Config::from_toml("failure-threshold = \"loud\""),
            Err(ConfigError::Severity { .. })
        ));
    }
}
