//! Range evaluation and matching. Versions here are chosen so that their
//! order is the same under the ecosystem's order and plain string order,
//! except in the test marked as needing the real orders.

use super::*;
use crate::package::{Distro, Kind, Origin, Subject};

fn affected(json: &str) -> Affected {
    serde_json::from_str(json).unwrap()
}

fn check(entry: &Affected, version: &str) -> Option<Vec<String>> {
    affects(entry, "PyPI", version, Scheme::Pep440)
}

#[test]
fn introduced_and_fixed() {
    let entry = affected(
        r#"{"package": {"ecosystem": "PyPI", "name": "x"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.2.0"}, {"fixed": "1.4.0"}]}]}"#,
    );
    assert_eq!(check(&entry, "1.1.0"), None);
    assert_eq!(check(&entry, "1.2.0"), Some(vec!["1.4.0".to_string()]));
    assert_eq!(check(&entry, "1.3.5"), Some(vec!["1.4.0".to_string()]));
    assert_eq!(check(&entry, "1.4.0"), None);
    assert_eq!(check(&entry, "2.0.0"), None);
}

#[test]
fn introduced_zero_means_every_version_and_unordered_events_are_sorted() {
    let entry = affected(
        r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"fixed": "2.0.0"}, {"introduced": "0"}]}]}"#,
    );
    assert_eq!(check(&entry, "0.0.1"), Some(vec!["2.0.0".to_string()]));
    assert_eq!(check(&entry, "2.0.0"), None);
}

#[test]
fn last_affected_and_no_fix() {
    let entry = affected(
        r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"last_affected": "3.1.0"}]}]}"#,
    );
    assert_eq!(check(&entry, "3.1.0"), Some(vec![]));
    assert_eq!(check(&entry, "3.0.0"), Some(vec![]));
    assert_eq!(check(&entry, "3.2.0"), None);
    let open =
        affected(r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "5.0"}]}]}"#);
    assert_eq!(check(&open, "4.9"), None);
    assert_eq!(check(&open, "5.1"), Some(vec![]));
}

#[test]
fn limit_bounds_the_range() {
    let entry = affected(
        r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"limit": "2.0.0"}]}]}"#,
    );
    assert_eq!(check(&entry, "1.0.0"), Some(vec![]));
    assert_eq!(check(&entry, "2.0.0"), None);
    assert_eq!(check(&entry, "3.0.0"), None);
    let star = affected(
        r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"limit": "*"}]}]}"#,
    );
    assert_eq!(check(&star, "9.0"), Some(vec![]));
}

#[test]
fn several_intervals_and_several_ranges() {
    // Two branches fixed separately, as GHSA writes them.
    let entry = affected(
        r#"{"ranges": [
             {"type": "ECOSYSTEM", "events": [{"introduced": "1.0.0"}, {"fixed": "1.5.2"},
                                               {"introduced": "2.0.0"}, {"fixed": "2.3.1"}]},
             {"type": "ECOSYSTEM", "events": [{"introduced": "4.0.0"}, {"fixed": "4.0.2"}]}]}"#,
    );
    assert_eq!(check(&entry, "0.9.0"), None);
    assert_eq!(check(&entry, "1.5.1"), Some(vec!["1.5.2".to_string()]));
    assert_eq!(check(&entry, "1.6.0"), None);
    assert_eq!(check(&entry, "2.2.0"), Some(vec!["2.3.1".to_string()]));
    assert_eq!(check(&entry, "3.0.0"), None);
    assert_eq!(check(&entry, "4.0.1"), Some(vec!["4.0.2".to_string()]));
}

#[test]
fn listed_versions_and_git_ranges() {
    let entry = affected(
        r#"{"versions": ["1.0.1", "1.0.3"],
            "ranges": [{"type": "GIT", "repo": "https://example.org/x.git",
                        "events": [{"introduced": "0"}, {"fixed": "abcdef"}]}]}"#,
    );
    assert_eq!(check(&entry, "1.0.1"), Some(vec![]));
    assert_eq!(check(&entry, "1.0.2"), None, "a GIT range is not evaluated");
    assert_eq!(check(&entry, "1.0.3"), Some(vec![]));
}

#[test]
fn go_versions_are_compared_without_their_prefixes() {
    let entry = affected(
        r#"{"ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.2.3"}]}],
            "versions": ["1.0.0"]}"#,
    );
    assert_eq!(
        affects(&entry, "Go", "v1.1.0", Scheme::Go),
        Some(vec!["1.2.3".to_string()]),
        "the fix as the advisory writes it"
    );
    assert_eq!(affects(&entry, "Go", "v1.2.3", Scheme::Go), None);
}

// Under a plain string order "1.10.0" < "1.9.0" and "1.0.0~rc1" > "1.0.0".
#[test]
fn ranges_use_the_ecosystems_order() {
    let entry = affected(
        r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.10.0"}]}]}"#,
    );
    assert!(affects(&entry, "npm", "1.9.0", Scheme::Semver).is_some());
    let deb = affected(
        r#"{"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}]}]}"#,
    );
    assert!(affects(&deb, "Debian:12", "1.0.0~rc1", Scheme::Dpkg).is_some());
    assert!(affects(&deb, "Debian:12", "1:0.5", Scheme::Dpkg).is_none());
}

fn advisory(json: &str) -> Advisory {
    serde_json::from_str(json).unwrap()
}

fn debian_catalog(version_id: &str, packages: Vec<Package>) -> Catalog {
    Catalog {
        subject: Subject::Directory {
            path: "/rootfs".to_string(),
        },
        distro: Some(Distro {
            id: "debian".to_string(),
            version_id: Some(version_id.to_string()),
            ..Distro::default()
        }),
        packages,
    }
}

fn libexpat(version: &str) -> Package {
    let mut package = Package::new(Kind::Deb, "libexpat1", version);
    package.origin = Some(Origin {
        name: "expat".to_string(),
        version: None,
    });
    package
}

const DEBIAN_11_ONLY: &str = r#"{"id": "DLA-3119-1", "aliases": ["CVE-2022-40674"],
    "affected": [{"package": {"ecosystem": "Debian:11", "name": "expat"},
      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.2.10-2+deb11u4"}]}]}]}"#;

#[test]
fn another_release_never_matches() {
    let db = Database::from_advisories(vec![advisory(DEBIAN_11_ONLY)]);
    let bookworm = debian_catalog("12", vec![libexpat("2.2.10-2")]);
    assert!(scan(&bookworm, &db).matches.is_empty());
    let bullseye = debian_catalog("11", vec![libexpat("2.2.10-2")]);
    let report = scan(&bullseye, &db);
    assert_eq!(report.matches.len(), 1);
    let found = &report.matches[0];
    assert_eq!(found.id, "DLA-3119-1");
    assert_eq!(found.fixed_in, ["2.2.10-2+deb11u4"]);
    assert_eq!(found.fix_state, FixState::Fixed);
    assert_eq!(
        found.matched_by,
        MatchedBy::Source {
            name: "expat".to_string(),
            version: "2.2.10-2".to_string()
        }
    );
    let ubuntu = Catalog {
        distro: Some(Distro {
            id: "ubuntu".to_string(),
            version_id: Some("11".to_string()),
            ..Distro::default()
        }),
        ..bullseye
    };
    assert!(
        scan(&ubuntu, &db).matches.is_empty(),
        "nor another distribution"
    );
}

#[test]
fn withdrawn_advisories_are_skipped_and_matches_are_deduplicated() {
    let withdrawn = DEBIAN_11_ONLY.replace(
        r#""id": "DLA-3119-1","#,
        r#""id": "DLA-3119-2", "withdrawn": "2023-01-01T00:00:00Z","#,
    );
    // The same package twice in one advisory (two ranges' entries) matches once.
    let twice = r#"{"id": "DSA-5236-1",
        "affected": [
          {"package": {"ecosystem": "Debian:11", "name": "expat"},
           "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.2.10-2+deb11u4"}]}]},
          {"package": {"ecosystem": "Debian:11", "name": "expat"}, "versions": ["2.2.10-2"]}]}"#;
    let db = Database::from_advisories(vec![advisory(&withdrawn), advisory(twice)]);
    assert_eq!(db.len(), 1);
    let report = scan(&debian_catalog("11", vec![libexpat("2.2.10-2")]), &db);
    let ids: Vec<_> = report.matches.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["DSA-5236-1"]);
    assert_eq!(report.matches[0].fixed_in, ["2.2.10-2+deb11u4"]);
}

#[test]
fn ubuntu_releases_match_with_or_without_lts_and_pro_does_not() {
    let lts = r#"{"id": "UBUNTU-CVE-2024-1", "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "expat"},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.4.7-1ubuntu0.3"}]}]}]}"#;
    let pro = lts
        .replace("Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS")
        .replace("-2024-1", "-2024-2");
    let other = lts
        .replace("Ubuntu:22.04:LTS", "Ubuntu:24.04:LTS")
        .replace("-2024-1", "-2024-3");
    let db = Database::from_advisories(vec![advisory(lts), advisory(&pro), advisory(&other)]);
    let mut catalog = debian_catalog("22.04", vec![libexpat("2.4.7-1ubuntu0.2")]);
    catalog.distro = Some(Distro {
        id: "ubuntu".to_string(),
        version_id: Some("22.04".to_string()),
        ..Distro::default()
    });
    let report = scan(&catalog, &db);
    let ids: Vec<_> = report.matches.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids, ["UBUNTU-CVE-2024-1"]);
    assert_eq!(report.matches[0].ecosystem, "Ubuntu:22.04");
}

#[test]
fn an_advisory_without_a_release_applies_to_every_debian_release() {
    let unscoped = DEBIAN_11_ONLY.replace("Debian:11", "Debian");
    let db = Database::from_advisories(vec![advisory(&unscoped)]);
    let report = scan(&debian_catalog("12", vec![libexpat("2.2.10-2")]), &db);
    assert_eq!(report.matches.len(), 1);
}
