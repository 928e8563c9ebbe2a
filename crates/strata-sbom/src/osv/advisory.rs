//! The OSV schema (ossf.github.io/osv-schema), as far as matching and
//! reports need it; unknown fields are ignored, `null` reads as empty.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// One OSV advisory.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Advisory {
    /// `DSA-5532-1`, `GHSA-xxxx-xxxx-xxxx`, `PYSEC-2023-74`, `CVE-...`.
    pub id: String,
    /// When it last changed (RFC 3339).
    #[serde(default)]
    pub modified: Option<String>,
    /// When it was first published.
    #[serde(default)]
    pub published: Option<String>,
    /// When it was withdrawn; withdrawn advisories are never applied.
    #[serde(default)]
    pub withdrawn: Option<String>,
    /// Other ids of the same vulnerability.
    #[serde(default, deserialize_with = "nullable")]
    pub aliases: Vec<String>,
    /// Ids of closely related vulnerabilities.
    #[serde(default, deserialize_with = "nullable")]
    pub related: Vec<String>,
    /// A one-line summary.
    #[serde(default)]
    pub summary: Option<String>,
    /// The full description (Markdown).
    #[serde(default)]
    pub details: Option<String>,
    /// Scores: `CVSS_V3`, `CVSS_V2`, `CVSS_V4`, `Ubuntu`.
    #[serde(default, deserialize_with = "nullable")]
    pub severity: Vec<SeverityScore>,
    /// The packages and versions it affects.
    #[serde(default, deserialize_with = "nullable")]
    pub affected: Vec<Affected>,
    /// Links.
    #[serde(default, deserialize_with = "nullable")]
    pub references: Vec<Reference>,
    /// The database's own fields (GHSA's `severity` ...).
    #[serde(default)]
    pub database_specific: Option<Value>,
}

/// A severity score: its type and the vector or word.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct SeverityScore {
    /// `CVSS_V3`, `CVSS_V2`, `CVSS_V4`, `Ubuntu`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The vector (`CVSS:3.1/AV:N/...`) or word (`medium`).
    pub score: String,
}

/// One affected package and its versions.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Affected {
    /// The package; absent in some advisories (then nothing matches).
    #[serde(default)]
    pub package: Option<AffectedPackage>,
    /// Scores specific to this package.
    #[serde(default, deserialize_with = "nullable")]
    pub severity: Vec<SeverityScore>,
    /// Version ranges.
    #[serde(default, deserialize_with = "nullable")]
    pub ranges: Vec<Range>,
    /// Affected versions, listed.
    #[serde(default, deserialize_with = "nullable")]
    pub versions: Vec<String>,
    /// The ecosystem's fields (Debian's `urgency` ...).
    #[serde(default)]
    pub ecosystem_specific: Option<Value>,
    /// The database's fields.
    #[serde(default)]
    pub database_specific: Option<Value>,
}

/// Which package: ecosystem and name (and perhaps a purl).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct AffectedPackage {
    /// `Debian:12`, `PyPI`, `Ubuntu:22.04:LTS` ...
    pub ecosystem: String,
    /// The name in the ecosystem (a source package for distributions).
    pub name: String,
    /// A purl, when given.
    #[serde(default)]
    pub purl: Option<String>,
}

/// A version range: a type and sorted-or-not events.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Range {
    /// How its versions are ordered.
    #[serde(rename = "type")]
    pub kind: RangeKind,
    /// The repository, for `GIT` ranges.
    #[serde(default)]
    pub repo: Option<String>,
    /// The events.
    #[serde(default, deserialize_with = "nullable")]
    pub events: Vec<Event>,
}

/// A range's version order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    /// The ecosystem's own order.
    Ecosystem,
    /// Semantic Versioning 2.0.
    Semver,
    /// Git commits (not evaluated: images hold versions, not commits).
    Git,
    /// A type this reader does not know.
    #[serde(other)]
    Other,
}

/// One event of a range; exactly one field is set in valid advisories.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub struct Event {
    /// Versions from here on are affected (`0`: from the first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced: Option<String>,
    /// Versions from here on are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Versions after this one are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_affected: Option<String>,
    /// An upper bound of the whole range (`*`: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// A link.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct Reference {
    /// `ADVISORY`, `WEB`, `FIX`, `PACKAGE` ...
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The URL.
    pub url: String,
}

/// Reads a JSON document holding one advisory or an array of them.
pub(crate) fn parse_document(bytes: &[u8]) -> serde_json::Result<Vec<Advisory>> {
    // Deciding by the first byte parses once; serde's untagged enums
    // buffer every document and parse it twice.
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => serde_json::from_slice(bytes),
        _ => serde_json::from_slice(bytes).map(|one: Advisory| vec![one]),
    }
}

fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_advisory_or_an_array_and_tolerates_nulls() {
        let one = br#"{"id": "GHSA-1", "modified": "2024-01-01T00:00:00Z", "aliases": null,
            "affected": [{"package": {"ecosystem": "npm", "name": "x"},
              "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.1"}]},
                         {"type": "GIT", "repo": "https://x", "events": [{"introduced": "abc"}]},
                         {"type": "SOMETHING_NEW", "events": []}]}]}"#;
        let advisories = parse_document(one).unwrap();
        assert_eq!(advisories.len(), 1);
        let ranges = &advisories[0].affected[0].ranges;
        assert_eq!(ranges[0].kind, RangeKind::Semver);
        assert_eq!(ranges[0].events[1].fixed.as_deref(), Some("1.0.1"));
        assert_eq!(ranges[1].kind, RangeKind::Git);
        assert_eq!(ranges[2].kind, RangeKind::Other);
        assert!(advisories[0].aliases.is_empty());
        let many = br#"[{"id": "A"}, {"id": "B", "withdrawn": "2024-02-02T00:00:00Z"}]"#;
        let advisories = parse_document(many).unwrap();
        assert_eq!(
            advisories[1].withdrawn.as_deref(),
            Some("2024-02-02T00:00:00Z")
        );
        assert!(parse_document(b"{\"no\": \"id\"}").is_err());
    }
}
