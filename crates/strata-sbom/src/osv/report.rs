//! A scan's reports: a table, grype's JSON, SARIF 2.1.0; and `--fail-on`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::matching::{Match, MatchedBy, Report};
use super::severity::Severity;
use crate::package::{Catalog, Kind, Subject};

/// Whether any match is at or above `at_or_above` (`Unknown` counts only
/// when asking for `Unknown`).
pub fn fails(report: &Report, at_or_above: Severity) -> bool {
    report.matches.iter().any(|m| m.severity >= at_or_above)
}

/// A table (PACKAGE, INSTALLED, FIXED IN, ADVISORY, SEVERITY) and a summary
/// line: `3 vulnerabilities in 2 packages: 1 critical, 2 high`.
pub fn table(report: &Report) -> String {
    let header = ["PACKAGE", "INSTALLED", "FIXED IN", "ADVISORY", "SEVERITY"];
    let rows: Vec<[String; 5]> = report
        .matches
        .iter()
        .map(|m| {
            [
                m.package.name.clone(),
                m.package.version.clone(),
                if m.fixed_in.is_empty() {
                    "(not fixed)".to_string()
                } else {
                    m.fixed_in.join(", ")
                },
                m.id.clone(),
                m.severity.to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(str::to_string);
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (cell, width) in row.iter().zip(widths) {
            let _ = write!(line, "{cell:<width$}  ");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

fn summary_line(report: &Report) -> String {
    let packages: BTreeSet<_> = report
        .matches
        .iter()
        .map(|m| (&m.package.name, &m.package.version, m.package.kind))
        .collect();
    let count = report.matches.len();
    let mut line = format!(
        "{count} {} in {} {}",
        plural(count, "vulnerability", "vulnerabilities"),
        packages.len(),
        plural(packages.len(), "package", "packages"),
    );
    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|level| {
            let n = report
                .matches
                .iter()
                .filter(|m| m.severity == *level)
                .count();
            (n > 0).then(|| format!("{n} {}", level.name().to_lowercase()))
        })
        .collect();
    if !counts.is_empty() {
        line.push_str(": ");
        line.push_str(&counts.join(", "));
    }
    line
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 { one } else { many }
}

/// The report in grype's JSON shape (`grype -o json`): `matches`,
/// `source`, `distro`, `descriptor`.
pub fn grype_json(report: &Report, catalog: &Catalog) -> String {
    let matches: Vec<Value> = report
        .matches
        .iter()
        .map(|m| grype_match(m, catalog))
        .collect();
    let distro = catalog.distro.as_ref().map_or_else(
        || json!({"name": "", "version": "", "idLike": []}),
        |d| json!({"name": d.id, "version": d.version_id.clone().unwrap_or_default(), "idLike": []}),
    );
    let document = json!({
        "matches": matches,
        "source": grype_source(&catalog.subject),
        "distro": distro,
        "descriptor": {"name": "strata", "version": env!("CARGO_PKG_VERSION")},
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

fn grype_source(subject: &Subject) -> Value {
    match subject {
        Subject::Image {
            name,
            id,
            manifest,
            layers,
        } => json!({
            "type": "image",
            "target": {
                "userInput": name,
                "imageID": id.to_string(),
                "manifestDigest": manifest.to_string(),
                "tags": [],
                "repoDigests": [],
                "layers": layers.iter().map(|l| json!({"digest": l.to_string()})).collect::<Vec<_>>(),
            },
        }),
        Subject::Directory { path } => json!({"type": "directory", "target": path}),
    }
}

fn grype_match(m: &Match, catalog: &Catalog) -> Value {
    let cvss: Vec<Value> = m
        .cvss
        .iter()
        .map(|c| json!({"version": c.version, "vector": c.vector, "metrics": {"baseScore": c.score}, "vendorMetadata": {}}))
        .collect();
    let namespace = format!("osv:{}", m.ecosystem);
    let related: Vec<Value> = m
        .aliases
        .iter()
        .map(|alias| json!({"id": alias, "dataSource": data_source(alias), "namespace": namespace}))
        .collect();
    let (kind, upstreams) = match &m.matched_by {
        MatchedBy::Direct => ("exact-direct-match", json!([])),
        MatchedBy::Source { name, version } => (
            "exact-indirect-match",
            json!([{"name": name, "version": version}]),
        ),
    };
    let searched_version = match &m.matched_by {
        MatchedBy::Source { version, .. } => version.clone(),
        MatchedBy::Direct => m.package.version.clone(),
    };
    let mut searched_by = json!({
        "namespace": namespace,
        "package": {"name": searched_name(m), "version": searched_version},
    });
    if let Some(distro) = &catalog.distro {
        searched_by["distro"] = json!({"type": distro.id, "version": distro.version_id});
    }
    json!({
        "vulnerability": {
            "id": m.id,
            "dataSource": data_source(&m.id),
            "namespace": namespace,
            "severity": m.severity.name(),
            "urls": m.urls,
            "description": if m.details.is_empty() { &m.summary } else { &m.details },
            "cvss": cvss,
            "fix": {"versions": m.fixed_in, "state": m.fix_state.name()},
            "advisories": [],
        },
        "relatedVulnerabilities": related,
        "matchDetails": [{
            "type": kind,
            "matcher": matcher(m.package.kind),
            "searchedBy": searched_by,
            "found": {"vulnerabilityID": m.id, "versionConstraint": constraint(m)},
        }],
        "artifact": {
            "id": artifact_id(m),
            "name": m.package.name,
            "version": m.package.version,
            "type": m.package.kind.name(),
            "locations": m.package.locations.iter().map(|l| json!({
                "path": l.path,
                "layerID": l.layer.as_ref().map(ToString::to_string),
            })).collect::<Vec<_>>(),
            "language": language(m.package.kind),
            "licenses": m.package.licenses,
            "cpes": [],
            "purl": m.purl,
            "upstreams": upstreams,
        },
    })
}

fn searched_name(m: &Match) -> &str {
    match &m.matched_by {
        MatchedBy::Source { name, .. } => name,
        MatchedBy::Direct => &m.package.name,
    }
}

fn constraint(m: &Match) -> String {
    if m.fixed_in.is_empty() {
        "(no fixed version)".to_string()
    } else {
        let bounds: Vec<String> = m.fixed_in.iter().map(|f| format!("< {f}")).collect();
        bounds.join(" || ")
    }
}

/// The advisory's page: OSV's for everything.
fn data_source(id: &str) -> String {
    format!("https://osv.dev/vulnerability/{id}")
}

fn matcher(kind: Kind) -> &'static str {
    match kind {
        Kind::Deb => "dpkg-matcher",
        Kind::Apk => "apk-matcher",
        Kind::Rpm => "rpm-matcher",
        Kind::Python => "python-matcher",
        Kind::Npm => "javascript-matcher",
        Kind::GoModule => "go-module-matcher",
        Kind::RustCrate => "rust-matcher",
        Kind::JavaArchive => "java-matcher",
    }
}

fn language(kind: Kind) -> &'static str {
    match kind {
        Kind::Deb | Kind::Apk | Kind::Rpm => "",
        Kind::Python => "python",
        Kind::Npm => "javascript",
        Kind::GoModule => "go",
        Kind::RustCrate => "rust",
        Kind::JavaArchive => "java",
    }
}

/// A stable id for a package: FNV-1a of its purl and first location.
fn artifact_id(m: &Match) -> String {
    let location = m.package.locations.first().map_or("", |l| l.path.as_str());
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in m.purl.bytes().chain([0]).chain(location.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// The report as SARIF 2.1.0: a rule per advisory, a result per match.
pub fn sarif(report: &Report, catalog: &Catalog) -> String {
    let mut rules: BTreeMap<&str, Value> = BTreeMap::new();
    for m in &report.matches {
        rules.entry(&m.id).or_insert_with(|| sarif_rule(m));
    }
    let results: Vec<Value> = report
        .matches
        .iter()
        .map(|m| sarif_result(m, catalog))
        .collect();
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "strata",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://osv.dev",
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "results": results,
        }],
    });
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

fn sarif_rule(m: &Match) -> Value {
    let full = if m.details.is_empty() {
        &m.summary
    } else {
        &m.details
    };
    json!({
        "id": m.id,
        "name": m.id,
        "shortDescription": {"text": if m.summary.is_empty() { &m.id } else { &m.summary }},
        "fullDescription": {"text": if full.is_empty() { &m.id } else { full }},
        "helpUri": data_source(&m.id),
        "properties": {
            "security-severity": security_severity(m),
            "tags": ["security", "vulnerability", m.severity.name().to_lowercase()],
        },
    })
}

/// The CVSS score when known; else a score inside the level's CVSS band,
/// so that code-scanning tools rank it by its level.
fn security_severity(m: &Match) -> String {
    if let Some(cvss) = m.cvss.first() {
        return format!("{:.1}", cvss.score);
    }
    let score = match m.severity {
        Severity::Critical => 9.0,
        Severity::High => 7.0,
        Severity::Medium => 4.0,
        Severity::Low => 0.1,
        Severity::Negligible | Severity::Unknown => 0.0,
    };
    format!("{score:.1}")
}

fn sarif_result(m: &Match, catalog: &Catalog) -> Value {
    let level = match m.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    };
    let fix = if m.fixed_in.is_empty() {
        "no fixed version is known".to_string()
    } else {
        format!("fixed in {}", m.fixed_in.join(", "))
    };
    let text = format!(
        "{} {} {} is affected by {} ({}): {fix}",
        m.package.kind.name(),
        m.package.name,
        m.package.version,
        m.id,
        m.severity.name().to_lowercase(),
    );
    let locations: Vec<Value> = m
        .package
        .locations
        .iter()
        .map(|l| {
            json!({
                "physicalLocation": {"artifactLocation": {"uri": l.path.trim_start_matches('/')}},
                "logicalLocations": [{"name": catalog.subject.name(), "kind": "image"}],
            })
        })
        .collect();
    json!({
        "ruleId": m.id,
        "level": level,
        "message": {"text": text},
        "locations": locations,
        "partialFingerprints": {"packagePurl": m.purl},
    })
}
