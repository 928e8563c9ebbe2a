//! Matching a catalogue against the database: which advisories affect which
//! package, under the ecosystem's version order.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::advisory::{Advisory, Affected, Event, Range, RangeKind};
use super::database::Database;
use super::ecosystem::{Target, normalize_ecosystem, normalize_name, normalize_version, target};
use super::severity::{Cvss, Severity, cvss_scores, rate};
use crate::package::{Catalog, Package};
use crate::version::{Scheme, compare};

/// Whether a fix is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FixState {
    /// A fixed version exists.
    Fixed,
    /// No fixed version is known.
    NotFixed,
}

impl FixState {
    /// grype's word: `fixed`, `not-fixed`.
    pub fn name(self) -> &'static str {
        match self {
            FixState::Fixed => "fixed",
            FixState::NotFixed => "not-fixed",
        }
    }
}

/// How a package was found affected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MatchedBy {
    /// By its own name and version.
    Direct,
    /// Through the source package it was built from.
    Source {
        /// The source package's name.
        name: String,
        /// The version compared.
        version: String,
    },
}

/// One advisory affecting one package.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// The advisory's id.
    pub id: String,
    /// Its aliases (CVE ids ...).
    pub aliases: Vec<String>,
    /// Its level for this package.
    pub severity: Severity,
    /// The CVSS scores it gives, v3 first.
    pub cvss: Vec<Cvss>,
    /// Its summary (or the first line of its details).
    pub summary: String,
    /// Its details.
    pub details: String,
    /// Its reference links.
    pub urls: Vec<String>,
    /// Versions that fix it, from the ranges the version fell in.
    pub fixed_in: Vec<String>,
    /// Whether a fix is known.
    pub fix_state: FixState,
    /// The package affected.
    pub package: Package,
    /// Its purl.
    pub purl: String,
    /// The OSV ecosystem it was looked up in (`Debian:12` ...).
    pub ecosystem: String,
    /// How it matched.
    pub matched_by: MatchedBy,
}

/// The matches of a scan, sorted by severity (worst first), package, id.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// The matches.
    pub matches: Vec<Match>,
}

/// Matches every package of `catalog` against `db`: one match per
/// (advisory, package).
pub fn scan(catalog: &Catalog, db: &Database) -> Report {
    let distro = catalog.distro.as_ref();
    let mut matches = Vec::new();
    let mut seen = HashSet::new();
    for package in &catalog.packages {
        let Some(target) = target(package, distro) else {
            continue;
        };
        for advisory in db.lookup(&target.ecosystem, &target.name) {
            let key = (
                advisory.id.clone(),
                package.kind,
                package.name.clone(),
                package.version.clone(),
                package.locations.first().map(|l| l.path.clone()),
            );
            if seen.contains(&key) {
                continue;
            }
            if let Some(found) = match_advisory(advisory, package, &target, catalog) {
                seen.insert(key);
                matches.push(found);
            }
        }
    }
    matches.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
            .then_with(|| a.id.cmp(&b.id))
    });
    Report { matches }
}

fn match_advisory(
    advisory: &Advisory,
    package: &Package,
    target: &Target,
    catalog: &Catalog,
) -> Option<Match> {
    let mut fixes: Vec<String> = Vec::new();
    let mut hit: Option<&Affected> = None;
    for affected in advisory.affected.iter().filter(|a| names(a, target)) {
        if let Some(found) = affects(affected, &target.ecosystem, &target.version, target.scheme) {
            hit.get_or_insert(affected);
            for fix in found {
                if !fixes.contains(&fix) {
                    fixes.push(fix);
                }
            }
        }
    }
    let affected = hit?;
    let cvss = cvss_scores(advisory, affected);
    let severity = rate(advisory, affected, &cvss);
    Some(Match {
        id: advisory.id.clone(),
        aliases: advisory.aliases.clone(),
        severity,
        cvss,
        summary: summary(advisory),
        details: advisory.details.clone().unwrap_or_default(),
        urls: advisory.references.iter().map(|r| r.url.clone()).collect(),
        fix_state: if fixes.is_empty() {
            FixState::NotFixed
        } else {
            FixState::Fixed
        },
        fixed_in: fixes,
        package: package.clone(),
        purl: package.purl(catalog.distro.as_ref()),
        ecosystem: target.ecosystem.clone(),
        matched_by: if target.via_source {
            MatchedBy::Source {
                name: target.name.clone(),
                version: target.version.clone(),
            }
        } else {
            MatchedBy::Direct
        },
    })
}

/// Whether the affected entry names the target's package in its ecosystem
/// (or, for distributions, in the same distribution without a release).
fn names(affected: &Affected, target: &Target) -> bool {
    let Some(package) = &affected.package else {
        return false;
    };
    let ecosystem = normalize_ecosystem(&package.ecosystem);
    let same = ecosystem == target.ecosystem
        || super::ecosystem::unscoped(&target.ecosystem) == Some(ecosystem.as_str());
    same && normalize_name(&ecosystem, &package.name) == target.name
}

fn summary(advisory: &Advisory) -> String {
    let text = advisory
        .summary
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .or(advisory.details.as_deref())
        .unwrap_or("");
    text.lines().next().unwrap_or("").trim().to_string()
}

/// Whether `version` is affected by the entry; if so, the fixed versions of
/// the ranges it fell in (empty when none is known). `version` and the
/// advisory's versions are compared after [`normalize_version`].
pub(crate) fn affects(
    affected: &Affected,
    ecosystem: &str,
    version: &str,
    scheme: Scheme,
) -> Option<Vec<String>> {
    let listed = affected
        .versions
        .iter()
        .any(|v| normalize_version(ecosystem, v) == version);
    let mut hit = listed;
    let mut fixes = Vec::new();
    for range in &affected.ranges {
        if let Some(fix) = in_range(range, ecosystem, version, scheme) {
            hit = true;
            fixes.extend(fix);
        }
    }
    hit.then_some(fixes)
}

/// Evaluates one range: `Some(fix)` when `version` is in it, `fix` being the
/// first `fixed` event after the version. GIT and unknown ranges never hold.
fn in_range(
    range: &Range,
    ecosystem: &str,
    version: &str,
    scheme: Scheme,
) -> Option<Option<String>> {
    if !matches!(range.kind, RangeKind::Ecosystem | RangeKind::Semver) {
        return None;
    }
    let scheme = if range.kind == RangeKind::Semver && ecosystem != "Go" {
        Scheme::Semver
    } else {
        scheme
    };
    let cmp = |a: &str, b: &str| compare(scheme, a, b);
    let limited = range
        .events
        .iter()
        .filter_map(|e| e.limit.as_deref())
        .filter(|limit| *limit != "*")
        .any(|limit| cmp(version, &normalize_version(ecosystem, limit)) != Ordering::Less);
    if limited {
        return None;
    }
    let mut events: Vec<(Bound, String, &str)> = range
        .events
        .iter()
        .filter_map(|event| bound(event, ecosystem))
        .collect();
    events.sort_by(|a, b| order(a, b, &cmp));
    let mut affected = false;
    let mut fix = None;
    // The fix is shown as the advisory writes it (Go's `1.19.10`, not `v1.19.10`).
    for (kind, at, written) in &events {
        let versus = cmp(version, at);
        match kind {
            Bound::Introduced if at == ZERO || versus != Ordering::Less => affected = true,
            Bound::Fixed if versus != Ordering::Less => affected = false,
            Bound::Fixed if affected && fix.is_none() => fix = Some(written.to_string()),
            Bound::LastAffected if versus == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    affected.then_some(fix)
}

/// `introduced: "0"`: before every version.
const ZERO: &str = "0";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bound {
    Introduced,
    Fixed,
    LastAffected,
}

fn bound<'a>(event: &'a Event, ecosystem: &str) -> Option<(Bound, String, &'a str)> {
    let (kind, at) = if let Some(at) = &event.introduced {
        (Bound::Introduced, at)
    } else if let Some(at) = &event.fixed {
        (Bound::Fixed, at)
    } else {
        (Bound::LastAffected, event.last_affected.as_ref()?)
    };
    if kind == Bound::Introduced && at == ZERO {
        return Some((kind, ZERO.to_string(), at));
    }
    Some((kind, normalize_version(ecosystem, at), at))
}

/// Events by version, `introduced: 0` first.
fn order(
    a: &(Bound, String, &str),
    b: &(Bound, String, &str),
    cmp: &impl Fn(&str, &str) -> Ordering,
) -> Ordering {
    let zero = |e: &(Bound, String, &str)| e.0 == Bound::Introduced && e.1 == ZERO;
    match (zero(a), zero(b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => cmp(&a.1, &b.1),
    }
}

#[cfg(test)]
mod tests;
