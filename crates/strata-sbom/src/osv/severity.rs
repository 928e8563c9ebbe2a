//! Severity levels (grype's) and CVSS base scores (v3.0/v3.1 and v2, from
//! FIRST's specifications), and how an advisory's severity is chosen.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use super::advisory::{Advisory, Affected, SeverityScore};

/// How bad a vulnerability is, in grype's levels; ordered least to worst,
/// `Unknown` lowest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// No level is known.
    Unknown,
    /// The distribution judged it unimportant.
    Negligible,
    /// CVSS 0.1–3.9.
    Low,
    /// CVSS 4.0–6.9.
    Medium,
    /// CVSS 7.0–8.9.
    High,
    /// CVSS 9.0–10.0.
    Critical,
}

impl Severity {
    /// Every level, worst first.
    pub const ALL: [Severity; 6] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Negligible,
        Severity::Unknown,
    ];

    /// The name grype shows: `Critical`, `High` ... `Unknown`.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Unknown => "Unknown",
            Severity::Negligible => "Negligible",
            Severity::Low => "Low",
            Severity::Medium => "Medium",
            Severity::High => "High",
            Severity::Critical => "Critical",
        }
    }

    /// The level of a CVSS v3 base score (the specification's rating scale).
    pub fn of_score(score: f64) -> Severity {
        if score >= 9.0 {
            Severity::Critical
        } else if score >= 7.0 {
            Severity::High
        } else if score >= 4.0 {
            Severity::Medium
        } else if score > 0.0 {
            Severity::Low
        } else {
            Severity::Negligible
        }
    }

    /// A level as advisories spell it: grype's names, GHSA's `MODERATE`,
    /// Debian's and Ubuntu's `unimportant`/`negligible`; case-insensitive.
    fn parse(text: &str) -> Option<Severity> {
        Some(match text.trim().to_ascii_lowercase().as_str() {
            "unknown" => Severity::Unknown,
            "negligible" | "unimportant" => Severity::Negligible,
            "low" => Severity::Low,
            "medium" | "moderate" => Severity::Medium,
            "high" | "important" => Severity::High,
            "critical" => Severity::Critical,
            _ => return None,
        })
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A word that is not a severity level.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {0:?} (expected negligible, low, medium, high or critical)")]
pub struct ParseSeverityError(String);

impl FromStr for Severity {
    type Err = ParseSeverityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Severity::parse(text).ok_or_else(|| ParseSeverityError(text.to_string()))
    }
}

/// A CVSS vector and the base score computed from it.
#[derive(Clone, Debug, PartialEq)]
pub struct Cvss {
    /// `3.1`, `3.0` or `2.0`.
    pub version: String,
    /// The vector as the advisory gives it.
    pub vector: String,
    /// The base score, 0.0–10.0.
    pub score: f64,
}

/// The base score of a CVSS v3.0 or v3.1 vector (`CVSS:3.1/AV:N/...`);
/// `None` when a base metric is missing or unknown.
pub fn cvss3_score(vector: &str) -> Option<f64> {
    let mut parts = vector.split('/');
    let v31 = match parts.next()? {
        "CVSS:3.1" => true,
        "CVSS:3.0" => false,
        _ => return None,
    };
    let metric = |name: &str| {
        vector
            .split('/')
            .skip(1)
            .find_map(|part| part.strip_prefix(name)?.strip_prefix(':'))
    };
    let changed = match metric("S")? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let av = pick(
        metric("AV")?,
        &[("N", 0.85), ("A", 0.62), ("L", 0.55), ("P", 0.2)],
    )?;
    let ac = pick(metric("AC")?, &[("L", 0.77), ("H", 0.44)])?;
    let pr = if changed {
        pick(metric("PR")?, &[("N", 0.85), ("L", 0.68), ("H", 0.5)])?
    } else {
        pick(metric("PR")?, &[("N", 0.85), ("L", 0.62), ("H", 0.27)])?
    };
    let ui = pick(metric("UI")?, &[("N", 0.85), ("R", 0.62)])?;
    let cia = [("H", 0.56), ("L", 0.22), ("N", 0.0)];
    let (c, i, a) = (
        pick(metric("C")?, &cia)?,
        pick(metric("I")?, &cia)?,
        pick(metric("A")?, &cia)?,
    );
    let iss = 1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let sum = if changed {
        1.08 * (impact + exploitability)
    } else {
        impact + exploitability
    };
    let roundup = if v31 { roundup_31 } else { roundup_30 };
    Some(roundup(sum.min(10.0)))
}

/// v3.1's Roundup: the smallest one-decimal number ≥ x, computed on
/// integers so that float noise (e.g. 4.000000001) does not round up.
fn roundup_31(x: f64) -> f64 {
    let scaled = (x * 100_000.0).round() as i64;
    if scaled % 10_000 == 0 {
        scaled as f64 / 100_000.0
    } else {
        ((scaled / 10_000) + 1) as f64 / 10.0
    }
}

/// v3.0's Roundup: plain ceiling to one decimal.
fn roundup_30(x: f64) -> f64 {
    (x * 10.0).ceil() / 10.0
}

/// The base score of a CVSS v2 vector (`AV:N/AC:L/Au:N/C:P/I:P/A:P`,
/// optionally in parentheses or prefixed `CVSS:2.0/`).
pub fn cvss2_score(vector: &str) -> Option<f64> {
    let vector = vector.trim_matches(|c| c == '(' || c == ')');
    let vector = vector.strip_prefix("CVSS:2.0/").unwrap_or(vector);
    let metric = |name: &str| {
        vector
            .split('/')
            .find_map(|part| part.strip_prefix(name)?.strip_prefix(':'))
    };
    let av = pick(metric("AV")?, &[("L", 0.395), ("A", 0.646), ("N", 1.0)])?;
    let ac = pick(metric("AC")?, &[("H", 0.35), ("M", 0.61), ("L", 0.71)])?;
    let au = pick(metric("Au")?, &[("M", 0.45), ("S", 0.56), ("N", 0.704)])?;
    let cia = [("N", 0.0), ("P", 0.275), ("C", 0.660)];
    let (c, i, a) = (
        pick(metric("C")?, &cia)?,
        pick(metric("I")?, &cia)?,
        pick(metric("A")?, &cia)?,
    );
    let impact = 10.41 * (1.0 - (1.0 - c) * (1.0 - i) * (1.0 - a));
    let exploitability = 20.0 * av * ac * au;
    let f = if impact == 0.0 { 0.0 } else { 1.176 };
    let score = (0.6 * impact + 0.4 * exploitability - 1.5) * f;
    Some((score * 10.0).round() / 10.0)
}

fn pick(value: &str, table: &[(&str, f64)]) -> Option<f64> {
    table
        .iter()
        .find(|(name, _)| *name == value)
        .map(|(_, weight)| *weight)
}

/// The level of a CVSS v2 score (NVD's v2 scale has no Critical).
fn of_v2_score(score: f64) -> Severity {
    if score >= 7.0 {
        Severity::High
    } else if score >= 4.0 {
        Severity::Medium
    } else if score > 0.0 {
        Severity::Low
    } else {
        Severity::Negligible
    }
}

/// The CVSS scores an advisory (and its affected entry) gives, v3 first.
pub(crate) fn cvss_scores(advisory: &Advisory, affected: &Affected) -> Vec<Cvss> {
    let mut scores = Vec::new();
    for entry in affected.severity.iter().chain(&advisory.severity) {
        if let Some(cvss) = score_of(entry)
            && !scores.contains(&cvss)
        {
            scores.push(cvss);
        }
    }
    scores.sort_by(|a, b| b.version.cmp(&a.version));
    scores
}

fn score_of(entry: &SeverityScore) -> Option<Cvss> {
    let (version, score) = match entry.kind.as_str() {
        "CVSS_V3" => {
            let version = entry.score.get(5..8).unwrap_or("3.1").to_string();
            (version, cvss3_score(&entry.score)?)
        }
        "CVSS_V2" => ("2.0".to_string(), cvss2_score(&entry.score)?),
        // CVSS v4's score needs its large macro-vector table; not computed.
        _ => return None,
    };
    Some(Cvss {
        version,
        vector: entry.score.clone(),
        score,
    })
}

/// The level of an advisory for one affected entry: the distribution's own
/// (Debian urgency, Ubuntu priority) first, as it judges its build; then
/// the database's (GHSA's); then CVSS v3, then v2; else `Unknown`.
pub(crate) fn rate(advisory: &Advisory, affected: &Affected, cvss: &[Cvss]) -> Severity {
    distro_level(advisory, affected)
        .or_else(|| database_level(advisory, affected))
        .or_else(|| {
            let v3 = cvss.iter().find(|c| c.version.starts_with('3'))?;
            Some(Severity::of_score(v3.score))
        })
        .or_else(|| {
            let v2 = cvss.iter().find(|c| c.version == "2.0")?;
            Some(of_v2_score(v2.score))
        })
        .unwrap_or(Severity::Unknown)
}

fn distro_level(advisory: &Advisory, affected: &Affected) -> Option<Severity> {
    let ubuntu = affected
        .severity
        .iter()
        .chain(&advisory.severity)
        .filter(|entry| entry.kind == "Ubuntu")
        .find_map(|entry| Severity::parse(&entry.score));
    ubuntu.or_else(|| {
        [&affected.ecosystem_specific, &affected.database_specific]
            .into_iter()
            .find_map(|value| text_field(value.as_ref()?, "urgency"))
            .and_then(|urgency| Severity::parse(urgency.trim_end_matches('*')))
    })
}

fn database_level(advisory: &Advisory, affected: &Affected) -> Option<Severity> {
    [&affected.database_specific, &advisory.database_specific]
        .into_iter()
        .find_map(|value| text_field(value.as_ref()?, "severity"))
        .and_then(Severity::parse)
        .filter(|level| *level != Severity::Unknown)
}

fn text_field<'a>(value: &'a Value, name: &str) -> Option<&'a str> {
    value.get(name)?.as_str()
}

#[cfg(test)]
mod tests {
    use super::*;

    // The worked examples of FIRST's "CVSS v3.1 Examples" document.
    #[test]
    fn cvss31_scores_match_the_specification_examples() {
        let examples = [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5), // CVE-2014-0160
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8), // CVE-2014-6271
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1), // CVE-2013-1937
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4), // CVE-2013-0375
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1), // CVE-2014-3566
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9), // CVE-2012-1516
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8), // CVE-2012-0384
            ("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8), // CVE-2015-1098
            ("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8), // CVE-2014-2005
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8), // CVE-2010-0467
        ];
        for (vector, expected) in examples {
            assert_eq!(cvss3_score(vector), Some(expected), "{vector}");
        }
    }

    #[test]
    fn cvss_vectors_without_impact_or_with_bad_metrics() {
        assert_eq!(
            cvss3_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N"),
            Some(0.0)
        );
        assert_eq!(
            cvss3_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"),
            None
        );
        assert_eq!(cvss3_score("CVSS:3.1/AV:N/AC:L"), None);
        assert_eq!(cvss3_score("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"), None);
        assert_eq!(cvss3_score(""), None);
    }

    // NVD's published v2 base scores for these CVEs.
    #[test]
    fn cvss2_scores_match_published_ones() {
        assert_eq!(cvss2_score("AV:N/AC:L/Au:N/C:N/I:N/A:C"), Some(7.8)); // CVE-2002-0392
        assert_eq!(cvss2_score("AV:N/AC:L/Au:N/C:C/I:C/A:C"), Some(10.0)); // CVE-2003-0818
        assert_eq!(cvss2_score("AV:N/AC:L/Au:N/C:P/I:N/A:N"), Some(5.0)); // CVE-2014-0160
        assert_eq!(cvss2_score("AV:N/AC:L/Au:N/C:N/I:N/A:N"), Some(0.0));
    }

    #[test]
    fn severity_words_parse_case_insensitively() {
        assert_eq!("critical".parse(), Ok(Severity::Critical));
        assert_eq!("HIGH".parse(), Ok(Severity::High));
        assert_eq!("Moderate".parse(), Ok(Severity::Medium));
        assert_eq!("medium".parse(), Ok(Severity::Medium));
        assert_eq!("low".parse(), Ok(Severity::Low));
        assert_eq!("unimportant".parse(), Ok(Severity::Negligible));
        assert_eq!("Negligible".parse(), Ok(Severity::Negligible));
        assert!("severe".parse::<Severity>().is_err());
        assert!(Severity::Critical > Severity::High && Severity::Negligible > Severity::Unknown);
    }

    #[test]
    fn score_ratings() {
        assert_eq!(Severity::of_score(9.0), Severity::Critical);
        assert_eq!(Severity::of_score(8.9), Severity::High);
        assert_eq!(Severity::of_score(7.0), Severity::High);
        assert_eq!(Severity::of_score(6.9), Severity::Medium);
        assert_eq!(Severity::of_score(4.0), Severity::Medium);
        assert_eq!(Severity::of_score(3.9), Severity::Low);
        assert_eq!(Severity::of_score(0.1), Severity::Low);
    }

    fn rated(json: &str) -> Severity {
        let advisory: Advisory = serde_json::from_str(json).unwrap();
        let affected = &advisory.affected[0];
        rate(&advisory, affected, &cvss_scores(&advisory, affected))
    }

    #[test]
    fn which_source_of_severity_wins() {
        // Ubuntu's priority over the CVSS vector (9.8).
        let usn = r#"{"id": "UBUNTU-CVE-2023-1", "severity": [
            {"type": "Ubuntu", "score": "low"},
            {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "x"}}]}"#;
        assert_eq!(rated(usn), Severity::Low);
        // Debian's urgency, in either specific field.
        let debian =
            r#"{"id": "DEBIAN-CVE-1", "affected": [{"database_specific": {"urgency": "high"}}]}"#;
        assert_eq!(rated(debian), Severity::High);
        // CVSS v3 without a word; v2 when only v2; v4 alone is not computed.
        let v3 = r#"{"id": "A", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"}], "affected": [{}]}"#;
        assert_eq!(rated(v3), Severity::Low);
        let v2 = r#"{"id": "B", "severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:C/I:C/A:C"}], "affected": [{}]}"#;
        assert_eq!(rated(v2), Severity::High, "v2 has no Critical");
        let v4 = r#"{"id": "C", "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}], "affected": [{}]}"#;
        assert_eq!(rated(v4), Severity::Unknown);
        assert_eq!(rated(r#"{"id": "D", "affected": [{}]}"#), Severity::Unknown);
    }

    #[test]
    fn cvss30_rounds_up_plainly() {
        // The same vector under 3.0 and 3.1 (FIRST's CVE-2014-3566 example).
        let v30 = cvss3_score("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N");
        assert_eq!(v30, Some(3.1));
        assert_eq!(roundup_31(4.000_000_000_01), 4.0);
        assert_eq!(roundup_30(4.02), 4.1);
    }
}
