//! OSV matching end to end: advisories written in OSV's published format
//! (modelled on real DSA, DLA, GHSA, PYSEC and GO entries) in a directory,
//! in per-ecosystem zips and served over HTTP, matched against a catalogue
//! built in code, and the three reports read back.

use std::path::Path;
use std::process::Command;

use strata_oci::Digest;
use strata_sbom::osv::{self, Database, FixState, MatchedBy, Severity};
use strata_sbom::{Catalog, Distro, Kind, Location, Origin, Package, Subject};

const DSA_5532_1: &str = r#"{
  "id": "DSA-5532-1",
  "summary": "openssl - security update",
  "details": "\nSeveral vulnerabilities were discovered in OpenSSL, a Secure Sockets Layer toolkit.\n",
  "aliases": ["CVE-2023-5363", "CVE-2023-5678"],
  "modified": "2024-03-01T05:08:30.432948Z",
  "published": "2023-10-24T00:00:00Z",
  "affected": [{
    "package": {"ecosystem": "Debian:12", "name": "openssl", "purl": "pkg:deb/debian/openssl?arch=source"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}],
    "versions": ["3.0.9-1", "3.0.11-1~deb12u1"]
  }],
  "references": [{"type": "ADVISORY", "url": "https://www.debian.org/security/2023/dsa-5532"}]
}"#;

// The same vulnerability in Debian 11: never applies to a Debian 12 image.
const DLA_3530_1: &str = r#"{
  "id": "DLA-3530-1",
  "summary": "openssl - security update",
  "aliases": ["CVE-2023-2650"],
  "modified": "2024-01-01T00:00:00Z",
  "affected": [{
    "package": {"ecosystem": "Debian:11", "name": "openssl"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.1.1v-0~deb11u1"}]}]
  }]
}"#;

// A Debian tracker entry rated unimportant, with no fix.
const DEBIAN_CVE: &str = r#"{
  "id": "DEBIAN-CVE-2022-3219",
  "details": "GnuPG can be made to spin on a relatively small input by crafting a public key with thousands of signatures attached.",
  "aliases": ["CVE-2022-3219"],
  "modified": "2024-09-18T03:22:03Z",
  "affected": [{
    "package": {"ecosystem": "Debian:12", "name": "gnupg2"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
    "ecosystem_specific": {"urgency": "unimportant"}
  }]
}"#;

const GHSA_SEMVER: &str = r#"{
  "schema_version": "1.4.0",
  "id": "GHSA-c2qf-rxjj-qqgw",
  "modified": "2024-06-21T21:33:53Z",
  "published": "2023-06-21T06:30:28Z",
  "aliases": ["CVE-2022-25883"],
  "summary": "semver vulnerable to Regular Expression Denial of Service",
  "details": "Versions of the package semver before 7.5.2 are vulnerable to Regular Expression Denial of Service (ReDoS) via the function new Range.",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
  "affected": [{
    "package": {"ecosystem": "npm", "name": "semver"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "7.0.0"}, {"fixed": "7.5.2"}]}]
  }, {
    "package": {"ecosystem": "npm", "name": "semver"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "6.0.0"}, {"fixed": "6.3.1"}]}]
  }],
  "references": [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2022-25883"}],
  "database_specific": {"cwe_ids": ["CWE-1333"], "severity": "MODERATE", "github_reviewed": true}
}"#;

const GHSA_LOG4SHELL: &str = r#"{
  "id": "GHSA-jfh8-c2jp-5v3q",
  "modified": "2024-02-16T08:19:11Z",
  "published": "2021-12-10T00:40:56Z",
  "aliases": ["CVE-2021-44228"],
  "summary": "Remote code injection in Log4j",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"}],
  "affected": [{
    "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]
  }, {
    "package": {"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.12.2"}]}]
  }],
  "database_specific": {"severity": "CRITICAL"}
}"#;

// PYSEC and its GHSA twin: PYSEC gives no severity, the GHSA does.
const PYSEC_PYYAML: &str = r#"{
  "id": "PYSEC-2021-142",
  "details": "A vulnerability was discovered in the PyYAML library in versions before 5.4, where it is susceptible to arbitrary code execution when it processes untrusted YAML files through the full_load method or with the FullLoader loader.",
  "aliases": ["CVE-2020-14343", "GHSA-8q59-q68h-6hv4"],
  "modified": "2021-08-27T03:22:11.975541Z",
  "published": "2021-02-09T21:15:00Z",
  "affected": [{
    "package": {"name": "pyyaml", "ecosystem": "PyPI", "purl": "pkg:pypi/pyyaml"},
    "ranges": [{"type": "GIT", "repo": "https://github.com/yaml/pyyaml", "events": [{"introduced": "0"}, {"fixed": "a001f2782501ad2d24986959f0239a354675f9dc"}]},
               {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.4"}]}],
    "versions": ["3.10", "3.11", "5.3", "5.3.1"]
  }]
}"#;

const GHSA_PYYAML: &str = r#"{
  "id": "GHSA-8q59-q68h-6hv4",
  "aliases": ["CVE-2020-14343"],
  "summary": "Improper Input Validation in PyYAML",
  "modified": "2023-11-01T04:58:20Z",
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
  "affected": [{
    "package": {"ecosystem": "PyPI", "name": "PyYAML"},
    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.4"}]}]
  }],
  "database_specific": {"severity": "CRITICAL"}
}"#;

// A withdrawn advisory against the same package.
const GHSA_WITHDRAWN: &str = r#"{
  "id": "GHSA-xxxx-withdrawn",
  "withdrawn": "2022-01-01T00:00:00Z",
  "modified": "2022-01-01T00:00:00Z",
  "affected": [{"package": {"ecosystem": "PyPI", "name": "pyyaml"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
  "database_specific": {"severity": "HIGH"}
}"#;

const GO_2024_2687: &str = r#"{
  "schema_version": "1.3.1",
  "id": "GO-2024-2687",
  "modified": "2024-05-20T16:03:47Z",
  "published": "2024-04-03T21:12:01Z",
  "aliases": ["CVE-2023-45288", "GHSA-4v7x-pqxf-cx7m"],
  "summary": "HTTP/2 CONTINUATION flood in net/http",
  "affected": [{
    "package": {"name": "stdlib", "ecosystem": "Go"},
    "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.21.9"}, {"introduced": "1.22.0-0"}, {"fixed": "1.22.2"}]}],
    "ecosystem_specific": {"imports": [{"path": "net/http"}]}
  }],
  "references": [{"type": "REPORT", "url": "https://go.dev/issue/65051"}]
}"#;

fn layer(n: u8) -> Digest {
    Digest::of(&[n])
}

fn package(kind: Kind, name: &str, version: &str, path: &str, layer_n: u8) -> Package {
    let mut package = Package::new(kind, name, version);
    package.locations.push(Location {
        path: path.to_string(),
        layer: Some(layer(layer_n)),
    });
    package
}

fn catalog() -> Catalog {
    let mut libssl = package(
        Kind::Deb,
        "libssl3",
        "3.0.11-1~deb12u1",
        "/var/lib/dpkg/status",
        1,
    );
    libssl.origin = Some(Origin {
        name: "openssl".to_string(),
        version: None,
    });
    libssl.arch = Some("amd64".to_string());
    let mut gpgv = package(Kind::Deb, "gpgv", "2.2.40-1.1", "/var/lib/dpkg/status", 1);
    gpgv.origin = Some(Origin {
        name: "gnupg2".to_string(),
        version: None,
    });
    let mut log4j = package(
        Kind::JavaArchive,
        "log4j-core",
        "2.14.1",
        "/app/lib/log4j-core-2.14.1.jar",
        3,
    );
    log4j.namespace = Some("org.apache.logging.log4j".to_string());
    Catalog {
        subject: Subject::Image {
            name: "example.org/app:1".to_string(),
            id: Digest::of(b"config"),
            manifest: Digest::of(b"manifest"),
            layers: vec![layer(1), layer(2), layer(3)],
        },
        distro: Some(Distro {
            id: "debian".to_string(),
            version_id: Some("12".to_string()),
            codename: Some("bookworm".to_string()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".to_string()),
        }),
        packages: vec![
            libssl,
            gpgv,
            package(Kind::Deb, "bash", "5.2.15-2+b2", "/var/lib/dpkg/status", 1),
            package(
                Kind::Python,
                "pyyaml",
                "5.3.1",
                "/usr/lib/python3/dist-packages/PyYAML-5.3.1.dist-info/METADATA",
                2,
            ),
            package(
                Kind::Npm,
                "semver",
                "7.5.1",
                "/app/node_modules/semver/package.json",
                3,
            ),
            // Not affected: 7.5.2 is the fix.
            package(
                Kind::Npm,
                "semver",
                "7.5.2",
                "/app/node_modules/x/node_modules/semver/package.json",
                3,
            ),
            package(
                Kind::GoModule,
                "stdlib",
                "go1.22.1",
                "/usr/local/bin/app",
                3,
            ),
            log4j,
        ],
    }
}

fn all_advisories() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Debian", DSA_5532_1),
        ("Debian", DLA_3530_1),
        ("Debian", DEBIAN_CVE),
        ("npm", GHSA_SEMVER),
        ("Maven", GHSA_LOG4SHELL),
        ("PyPI", PYSEC_PYYAML),
        ("PyPI", GHSA_PYYAML),
        ("PyPI", GHSA_WITHDRAWN),
        ("Go", GO_2024_2687),
    ]
}

fn id_of(json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value["id"].as_str().unwrap().to_string()
}

/// The expected matches: (advisory, package, version, severity, fixes).
fn expected() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    Severity,
    Vec<&'static str>,
)> {
    vec![
        (
            "GHSA-jfh8-c2jp-5v3q",
            "log4j-core",
            "2.14.1",
            Severity::Critical,
            vec!["2.15.0"],
        ),
        (
            "GHSA-8q59-q68h-6hv4",
            "pyyaml",
            "5.3.1",
            Severity::Critical,
            vec!["5.4"],
        ),
        (
            "GHSA-c2qf-rxjj-qqgw",
            "semver",
            "7.5.1",
            Severity::Medium,
            vec!["7.5.2"],
        ),
        (
            "DEBIAN-CVE-2022-3219",
            "gpgv",
            "2.2.40-1.1",
            Severity::Negligible,
            vec![],
        ),
        (
            "DSA-5532-1",
            "libssl3",
            "3.0.11-1~deb12u1",
            Severity::Unknown,
            vec!["3.0.11-1~deb12u2"],
        ),
        (
            "PYSEC-2021-142",
            "pyyaml",
            "5.3.1",
            Severity::Unknown,
            vec!["5.4"],
        ),
        (
            "GO-2024-2687",
            "stdlib",
            "go1.22.1",
            Severity::Unknown,
            vec!["1.22.2"],
        ),
    ]
}

fn check_report(report: &osv::Report) {
    let got: Vec<_> = report
        .matches
        .iter()
        .map(|m| {
            (
                m.id.as_str(),
                m.package.name.as_str(),
                m.package.version.as_str(),
                m.severity,
                m.fixed_in.iter().map(String::as_str).collect::<Vec<_>>(),
            )
        })
        .collect();
    assert_eq!(got, expected());
    let dsa = report
        .matches
        .iter()
        .find(|m| m.id == "DSA-5532-1")
        .unwrap();
    assert_eq!(dsa.ecosystem, "Debian:12");
    assert_eq!(dsa.fix_state, FixState::Fixed);
    assert_eq!(dsa.aliases, ["CVE-2023-5363", "CVE-2023-5678"]);
    assert_eq!(dsa.summary, "openssl - security update");
    assert_eq!(
        dsa.matched_by,
        MatchedBy::Source {
            name: "openssl".to_string(),
            version: "3.0.11-1~deb12u1".to_string()
        }
    );
    assert_eq!(dsa.purl, dsa.package.purl(catalog().distro.as_ref()));
    assert!(
        dsa.purl
            .starts_with("pkg:deb/debian/libssl3@3.0.11-1~deb12u1?")
    );
    assert_eq!(dsa.package.layer(), Some(&layer(1)));
    let gnupg = report
        .matches
        .iter()
        .find(|m| m.id.starts_with("DEBIAN-CVE"))
        .unwrap();
    assert_eq!(gnupg.fix_state, FixState::NotFixed);
    assert!(gnupg.summary.starts_with("GnuPG can be made to spin"));
    let log4j = report
        .matches
        .iter()
        .find(|m| m.package.name == "log4j-core")
        .unwrap();
    assert_eq!(log4j.cvss[0].score, 10.0);
    assert_eq!(log4j.matched_by, MatchedBy::Direct);
    let semver = report
        .matches
        .iter()
        .find(|m| m.package.name == "semver")
        .unwrap();
    // GHSA's own "MODERATE" wins over the CVSS vector's 7.5 (High).
    assert_eq!(semver.cvss[0].score, 7.5);
    assert_eq!(semver.severity, Severity::Medium);
}

fn write_dir(dir: &Path) {
    let nested = dir.join("nested/deeper");
    std::fs::create_dir_all(&nested).unwrap();
    for (n, (_, json)) in all_advisories().into_iter().enumerate() {
        let at = if n % 2 == 0 {
            dir.to_path_buf()
        } else {
            nested.clone()
        };
        std::fs::write(at.join(format!("{}.json", id_of(json))), json).unwrap();
    }
    std::fs::write(dir.join("README.txt"), "not an advisory").unwrap();
}

#[test]
fn a_directory_of_advisories_matches_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path());
    let catalog = catalog();
    let wanted = osv::ecosystems(&catalog);
    assert_eq!(wanted, ["Debian:12", "Go", "Maven", "PyPI", "npm"]);
    let db = Database::open(dir.path(), &wanted).unwrap();
    // DLA-3530-1 (Debian:11) and the withdrawn GHSA are not kept.
    assert_eq!(db.len(), all_advisories().len() - 2);
    assert!(db.ages().is_empty());
    check_report(&osv::scan(&catalog, &db));
}

#[test]
fn a_json_array_file_and_a_malformed_file() {
    let dir = tempfile::tempdir().unwrap();
    let array = format!("[{DSA_5532_1}, {GHSA_SEMVER}]");
    std::fs::write(dir.path().join("several.json"), array).unwrap();
    let db = Database::open(dir.path(), &[]).unwrap();
    assert_eq!(db.len(), 2);
    std::fs::write(dir.path().join("broken.json"), "{\"id\": ").unwrap();
    let error = Database::open(dir.path(), &[]).unwrap_err().to_string();
    assert!(error.contains("broken.json"), "{error}");
    let missing = dir.path().join("nowhere");
    let error = Database::open(&missing, &[]).unwrap_err().to_string();
    assert!(error.contains("nowhere"), "{error}");
}

/// Writes a zip of `entries` with Python's zipfile (deflated, as OSV's are).
fn write_zip(path: &Path, entries: &[(String, String)]) {
    let listing = serde_json::to_string(entries).unwrap();
    let script = "import json, sys, zipfile\n\
        entries = json.loads(sys.stdin.read())\n\
        with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n\
        \x20   for name, text in entries: z.writestr(name, text)\n";
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(listing.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

fn write_store(dir: &Path) {
    for ecosystem in ["Debian", "npm", "Maven", "PyPI", "Go"] {
        let entries: Vec<(String, String)> = all_advisories()
            .into_iter()
            .filter(|(e, _)| *e == ecosystem)
            .map(|(_, json)| (format!("{}.json", id_of(json)), json.to_string()))
            .collect();
        std::fs::create_dir_all(dir.join(ecosystem)).unwrap();
        write_zip(&dir.join(ecosystem).join("all.zip"), &entries);
    }
}

#[test]
fn per_ecosystem_archives_are_read_only_when_needed() {
    let dir = tempfile::tempdir().unwrap();
    write_store(dir.path());
    // An archive no package needs, and unreadable: never opened.
    std::fs::create_dir_all(dir.path().join("crates.io")).unwrap();
    std::fs::write(dir.path().join("crates.io/all.zip"), "not a zip").unwrap();
    std::fs::write(
        dir.path().join("Debian/updated.json"),
        r#"{"updated": 1700000000}"#,
    )
    .unwrap();
    let catalog = catalog();
    let db = Database::open(dir.path(), &osv::ecosystems(&catalog)).unwrap();
    check_report(&osv::scan(&catalog, &db));
    let ages = db.ages();
    let names: Vec<_> = ages.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["Debian", "Go", "Maven", "PyPI", "npm"]);
    assert_eq!(ages[0].1, 1_700_000_000);
    let now = std::time::SystemTime::now();
    assert_eq!(db.stale(now), ["Debian"], "the others were just written");
    // Asking for everything opens the broken archive, and says which.
    let error = Database::open(dir.path(), &[]).unwrap_err().to_string();
    assert!(error.contains("crates.io"), "{error}");
}

#[test]
fn a_single_zip() {
    let dir = tempfile::tempdir().unwrap();
    let entries: Vec<(String, String)> = all_advisories()
        .into_iter()
        .map(|(_, json)| (format!("advisories/{}.json", id_of(json)), json.to_string()))
        .collect();
    let zip = dir.path().join("all.zip");
    write_zip(&zip, &entries);
    let catalog = catalog();
    let db = Database::open(&zip, &[]).unwrap();
    assert_eq!(
        db.len(),
        all_advisories().len() - 1,
        "all but the withdrawn one"
    );
    assert_eq!(db.ages().len(), 1);
    check_report(&osv::scan(&catalog, &db));
}

#[test]
fn update_downloads_each_ecosystems_archive_atomically() {
    let served = tempfile::tempdir().unwrap();
    write_store(served.path());
    let server = strata_test::http::StaticServer::serve(served.path()).unwrap();
    let store = tempfile::tempdir().unwrap();
    let catalog = catalog();
    let updated = osv::update(store.path(), &osv::ecosystems(&catalog), &server.url()).unwrap();
    let names: Vec<_> = updated.iter().map(|u| u.ecosystem.as_str()).collect();
    assert_eq!(names, ["Debian", "Go", "Maven", "PyPI", "npm"]);
    for u in &updated {
        let original = std::fs::read(served.path().join(&u.ecosystem).join("all.zip")).unwrap();
        assert_eq!(std::fs::read(&u.path).unwrap(), original);
        assert_eq!(u.bytes, original.len() as u64);
    }
    let leftovers: Vec<_> = std::fs::read_dir(store.path().join("Debian"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(
        leftovers.len(),
        2,
        "all.zip and updated.json only: {leftovers:?}"
    );
    let db = Database::open(store.path(), &osv::ecosystems(&catalog)).unwrap();
    check_report(&osv::scan(&catalog, &db));
    assert!(db.stale(std::time::SystemTime::now()).is_empty());

    // A missing archive is an error naming the URL, and keeps the old copy.
    let error = osv::update(store.path(), &["Alpine:v3.19".to_string()], &server.url())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("/Alpine/all.zip") && error.contains("404"),
        "{error}"
    );
    // A body that is not a zip does not replace a good archive.
    std::fs::write(served.path().join("PyPI/all.zip"), "<html>oops</html>").unwrap();
    assert!(osv::update(store.path(), &["PyPI".to_string()], &server.url()).is_err());
    assert!(Database::open(&store.path().join("PyPI/all.zip"), &[]).is_ok());
}

#[test]
fn reports() {
    let dir = tempfile::tempdir().unwrap();
    write_dir(dir.path());
    let catalog = catalog();
    let db = Database::open(dir.path(), &[]).unwrap();
    let report = osv::scan(&catalog, &db);

    let table = osv::table(&report);
    let lines: Vec<_> = table.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        [
            "PACKAGE",
            "INSTALLED",
            "FIXED",
            "IN",
            "ADVISORY",
            "SEVERITY"
        ]
    );
    assert_eq!(lines.len(), 1 + expected().len() + 1);
    assert!(lines[1].starts_with("log4j-core ") && lines[1].contains("GHSA-jfh8-c2jp-5v3q"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("gpgv") && l.contains("(not fixed)"))
    );
    assert_eq!(
        *lines.last().unwrap(),
        "7 vulnerabilities in 6 packages: 2 critical, 1 medium, 1 negligible, 3 unknown"
    );

    assert!(osv::fails(&report, Severity::Critical));
    assert!(osv::fails(&report, "high".parse().unwrap()));
    let mild = osv::Report {
        matches: report
            .matches
            .iter()
            .filter(|m| m.severity < Severity::Medium)
            .cloned()
            .collect(),
    };
    assert!(!osv::fails(&mild, Severity::Low));
    assert!(osv::fails(&mild, Severity::Negligible));

    let grype: serde_json::Value =
        serde_json::from_str(&osv::grype_json(&report, &catalog)).unwrap();
    assert_eq!(grype["descriptor"]["name"], "strata");
    assert_eq!(grype["distro"]["name"], "debian");
    assert_eq!(grype["distro"]["version"], "12");
    assert_eq!(grype["source"]["type"], "image");
    assert_eq!(grype["source"]["target"]["userInput"], "example.org/app:1");
    let matches = grype["matches"].as_array().unwrap();
    assert_eq!(matches.len(), expected().len());
    let dsa = matches
        .iter()
        .find(|m| m["vulnerability"]["id"] == "DSA-5532-1")
        .unwrap();
    assert_eq!(dsa["vulnerability"]["namespace"], "osv:Debian:12");
    assert_eq!(dsa["vulnerability"]["severity"], "Unknown");
    assert_eq!(dsa["vulnerability"]["fix"]["state"], "fixed");
    assert_eq!(
        dsa["vulnerability"]["fix"]["versions"][0],
        "3.0.11-1~deb12u2"
    );
    assert_eq!(
        dsa["vulnerability"]["urls"][0],
        "https://www.debian.org/security/2023/dsa-5532"
    );
    assert_eq!(dsa["relatedVulnerabilities"][0]["id"], "CVE-2023-5363");
    assert_eq!(dsa["matchDetails"][0]["type"], "exact-indirect-match");
    assert_eq!(dsa["matchDetails"][0]["matcher"], "dpkg-matcher");
    assert_eq!(
        dsa["matchDetails"][0]["searchedBy"]["package"]["name"],
        "openssl"
    );
    assert_eq!(
        dsa["matchDetails"][0]["found"]["vulnerabilityID"],
        "DSA-5532-1"
    );
    let artifact = &dsa["artifact"];
    assert_eq!(artifact["name"], "libssl3");
    assert_eq!(artifact["type"], "deb");
    assert_eq!(artifact["upstreams"][0]["name"], "openssl");
    assert_eq!(artifact["locations"][0]["path"], "/var/lib/dpkg/status");
    assert_eq!(artifact["locations"][0]["layerID"], layer(1).to_string());
    assert!(
        artifact["purl"]
            .as_str()
            .unwrap()
            .starts_with("pkg:deb/debian/libssl3@")
    );
    let log4j = matches
        .iter()
        .find(|m| m["artifact"]["name"] == "log4j-core")
        .unwrap();
    assert_eq!(log4j["matchDetails"][0]["type"], "exact-direct-match");
    assert_eq!(log4j["artifact"]["language"], "java");
    assert_eq!(
        log4j["vulnerability"]["cvss"][0]["metrics"]["baseScore"],
        10.0
    );
    assert_eq!(log4j["vulnerability"]["severity"], "Critical");

    let sarif: serde_json::Value = serde_json::from_str(&osv::sarif(&report, &catalog)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert!(sarif["$schema"].as_str().unwrap().contains("sarif"));
    let run = &sarif["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "strata");
    assert!(driver["version"].is_string() && driver["informationUri"].is_string());
    let rules = driver["rules"].as_array().unwrap();
    assert_eq!(rules.len(), expected().len());
    for rule in rules {
        for field in ["id", "name", "helpUri"] {
            assert!(rule[field].is_string(), "{field} in {rule}");
        }
        assert!(rule["shortDescription"]["text"].is_string());
        assert!(rule["fullDescription"]["text"].is_string());
        let score: f64 = rule["properties"]["security-severity"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((0.0..=10.0).contains(&score));
        assert!(rule["properties"]["tags"].is_array());
    }
    let log4j_rule = rules
        .iter()
        .find(|r| r["id"] == "GHSA-jfh8-c2jp-5v3q")
        .unwrap();
    assert_eq!(log4j_rule["properties"]["security-severity"], "10.0");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), expected().len());
    for result in results {
        let rule_id = result["ruleId"].as_str().unwrap();
        assert!(rules.iter().any(|r| r["id"] == rule_id));
        assert!(result["message"]["text"].is_string());
        let uri = &result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
        assert!(uri.is_string() && !uri.as_str().unwrap().starts_with('/'));
    }
    let levels: Vec<_> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["error", "error", "warning", "note", "note", "note", "note"]
    );
}

#[test]
fn many_advisories_are_parsed_on_several_threads_and_all_kept() {
    // 1500 advisories in the GHSA form, one per package: enough for several
    // parsing threads; each must land in the index.
    let entries: Vec<(String, String)> = (0..1500)
        .map(|n| {
            let json = GHSA_SEMVER
                .replace("GHSA-c2qf-rxjj-qqgw", &format!("GHSA-test-{n:04}"))
                .replace(r#""name": "semver""#, &format!(r#""name": "pkg-{n}""#));
            (format!("GHSA-test-{n:04}.json"), json)
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("npm.zip");
    write_zip(&zip, &entries);
    let db = Database::open(&zip, &["npm".to_string()]).unwrap();
    assert_eq!(db.len(), 1500);
    let catalog = Catalog {
        subject: Subject::Directory {
            path: "/src".to_string(),
        },
        distro: None,
        packages: (0..1500)
            .step_by(7)
            .map(|n| Package::new(Kind::Npm, format!("pkg-{n}"), "7.1.0"))
            .collect(),
    };
    let report = osv::scan(&catalog, &db);
    assert_eq!(report.matches.len(), 1500usize.div_ceil(7));
    assert!(report.matches.iter().all(|m| m.id
        == format!(
            "GHSA-test-{:04}",
            m.package.name[4..].parse::<u32>().unwrap()
        )));
    // Another ecosystem wanted: nothing kept.
    assert!(
        Database::open(&zip, &["PyPI".to_string()])
            .unwrap()
            .is_empty()
    );
}
