use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use super::*;
use crate::package::Location;

/// Two source packages: one with an epoch, a subpackage and a description
/// long enough for its header to spill onto overflow pages; one without.
const SPECS: [&str; 2] = [
    "Name: strata-demo\nEpoch: 2\nVersion: 1.2.3\nRelease: 4\nSummary: demo\nLicense: MIT AND (Apache-2.0 OR BSD-3-Clause)\nBuildArch: noarch\n\n%description\nDESCRIPTION\n\n%package -n strata-extra\nSummary: extra\nLicense: GPL-2.0-or-later\n%description -n strata-extra\nextra\n\n%files\n%files -n strata-extra\n",
    "Name: strata-plain\nVersion: 0.9~rc1\nRelease: 7.fc40\nSummary: plain\nLicense: BSD-2-Clause\nBuildArch: noarch\n\n%description\nplain\n\n%files\n",
];

fn rpm(args: &[&str], dbpath: &Path) -> String {
    let output = Command::new("rpm")
        .args(["--define", "_db_backend sqlite", "--dbpath"])
        .arg(dbpath)
        .args(args)
        .output()
        .unwrap();
    assert!(output.status.success(), "rpm {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Builds the specs' rpms and installs them into an rpmdb under `dir`.
fn rpmdb(dir: &Path) -> std::path::PathBuf {
    let top = dir.join("top");
    let mut rpms = Vec::new();
    for (i, spec) in SPECS.iter().enumerate() {
        let spec_path = dir.join(format!("{i}.spec"));
        let description = "A description long enough to overflow. ".repeat(400);
        std::fs::write(&spec_path, spec.replace("DESCRIPTION", &description)).unwrap();
        let output = Command::new("rpmbuild")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .arg("-bb")
            .arg(&spec_path)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
    }
    for entry in std::fs::read_dir(top.join("RPMS/noarch")).unwrap() {
        rpms.push(entry.unwrap().path());
    }
    let db = dir.join("root/var/lib/rpm");
    std::fs::create_dir_all(&db).unwrap();
    rpm(&["--initdb"], &db);
    let mut install = vec!["-i", "--justdb", "--nodeps", "--noscripts"];
    install.extend(rpms.iter().map(|p| p.to_str().unwrap()));
    rpm(&install, &db);
    db
}

#[test]
fn an_rpmdb_made_by_rpm_matches_rpm_qa() {
    if !strata_test::should_run(
        "an_rpmdb_made_by_rpm_matches_rpm_qa",
        Path::new("/usr/bin/rpmbuild").exists(),
        "rpmbuild (the rpm package)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = rpmdb(dir.path());
    let reference = rpm(
        &[
            "-qa",
            "--qf",
            "%{NAME}|%{EPOCH}|%{VERSION}|%{RELEASE}|%{ARCH}|%{LICENSE}|%{SOURCERPM}\n",
        ],
        &db,
    );
    let expected: BTreeSet<_> = reference
        .lines()
        .map(|line| {
            let f: Vec<&str> = line.split('|').collect();
            let epoch = if f[1] == "(none)" {
                String::new()
            } else {
                format!("{}:", f[1])
            };
            let source = f[6].strip_suffix(".src.rpm").unwrap();
            let (source_name, _) = source.rsplitn(3, '-').nth(2).map(|n| (n, ())).unwrap();
            (
                f[0].to_string(),
                format!("{epoch}{}-{}", f[2], f[3]),
                f[4].to_string(),
                f[5].to_string(),
                source_name.to_string(),
            )
        })
        .collect();
    assert_eq!(expected.len(), 3, "{reference}");

    let tree = Tree::from_directory(&dir.path().join("root")).unwrap();
    let packages = catalog(&tree);
    let found: BTreeSet<_> = packages
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                p.version.clone(),
                p.arch.clone().unwrap(),
                p.licenses.join(" "),
                p.origin.as_ref().unwrap().name.clone(),
            )
        })
        .collect();
    assert_eq!(found, expected);
    let demo = packages.iter().find(|p| p.name == "strata-demo").unwrap();
    assert_eq!(demo.version, "2:1.2.3-4");
    // The source rpm has no epoch, so its version differs from the binary's.
    assert_eq!(
        demo.origin.as_ref().unwrap().version.as_deref(),
        Some("1.2.3-4")
    );
    let plain = packages.iter().find(|p| p.name == "strata-plain").unwrap();
    assert_eq!(plain.version, "0.9~rc1-7.fc40");
    assert_eq!(plain.origin.as_ref().unwrap().version, None);
    assert!(packages.iter().all(|p| p.locations
        == [Location {
            path: "/var/lib/rpm/rpmdb.sqlite".into(),
            layer: None
        }]));
}

#[test]
fn mangled_rpmdbs_and_headers_are_skipped_not_panics() {
    if !strata_test::should_run(
        "mangled_rpmdbs_and_headers_are_skipped_not_panics",
        Path::new("/usr/bin/rpmbuild").exists(),
        "rpmbuild (the rpm package)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = rpmdb(dir.path());
    let data = std::fs::read(db.join("rpmdb.sqlite")).unwrap();
    assert_eq!(parse(&data).len(), 3);
    for cut in [0, 100, 4096, data.len() / 3, data.len() - 1] {
        let _ = parse(&data[..cut]);
    }
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..200 {
        let mut copy = data.clone();
        for _ in 0..16 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let at = (seed as usize) % copy.len();
            copy[at] = (seed >> 24) as u8;
        }
        let _ = parse(&copy);
    }
    // Headers: truncated, and with offsets and counts pointing anywhere.
    let blob = Database::open(&data).unwrap().table("Packages").unwrap()[0].1[1].clone();
    let Value::Blob(blob) = blob else { panic!() };
    for cut in 0..64.min(blob.len()) {
        let _ = package(&blob[..cut]);
    }
    for at in (8..blob.len().min(8 + 16 * 40)).step_by(3) {
        let mut copy = blob.clone();
        copy[at] ^= 0xff;
        let _ = package(&copy);
    }
}

#[test]
fn source_rpm_names() {
    let parsed = |source: &str, binary: &str| origin(source, binary).map(|o| (o.name, o.version));
    assert_eq!(
        parsed("glibc-2.34-100.el9_4.2.src.rpm", "2.34-100.el9_4.2"),
        Some(("glibc".into(), None))
    );
    assert_eq!(
        parsed("python-pip-21.3.1-1.fc40.src.rpm", "1:21.3.1-1.fc40"),
        Some(("python-pip".into(), Some("21.3.1-1.fc40".into())))
    );
    assert_eq!(parsed("(none)", "1-1"), None);
    assert_eq!(parsed("nodash.src.rpm", "1-1"), None);
}

#[test]
fn a_directory_with_an_rpmdb_a_go_binary_and_a_jar() {
    let present = [
        "/usr/bin/rpmbuild",
        "/usr/bin/docker-registry",
        "/usr/share/java/slf4j-api.jar",
    ]
    .iter()
    .all(|p| Path::new(p).exists());
    if !strata_test::should_run(
        "a_directory_with_an_rpmdb_a_go_binary_and_a_jar",
        present,
        "rpmbuild, /usr/bin/docker-registry and /usr/share/java/slf4j-api.jar (rpm, docker-registry, libslf4j-java)",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    rpmdb(dir.path());
    let root = dir.path().join("root");
    std::fs::create_dir_all(root.join("usr/bin")).unwrap();
    std::fs::create_dir_all(root.join("opt/app")).unwrap();
    std::fs::copy("/usr/bin/docker-registry", root.join("usr/bin/registry")).unwrap();
    std::fs::copy(
        "/usr/share/java/slf4j-api.jar",
        root.join("opt/app/slf4j.jar"),
    )
    .unwrap();
    let catalog = crate::catalog_directory(&root).unwrap();
    let found: BTreeSet<_> = catalog
        .packages
        .iter()
        .map(|p| (p.kind, p.name.as_str(), p.locations[0].path.as_str()))
        .collect();
    assert_eq!(
        found,
        BTreeSet::from([
            (Kind::Rpm, "strata-demo", "/var/lib/rpm/rpmdb.sqlite"),
            (Kind::Rpm, "strata-extra", "/var/lib/rpm/rpmdb.sqlite"),
            (Kind::Rpm, "strata-plain", "/var/lib/rpm/rpmdb.sqlite"),
            (Kind::GoModule, "stdlib", "/usr/bin/registry"),
            (Kind::JavaArchive, "slf4j-api", "/opt/app/slf4j.jar"),
        ])
    );
}
