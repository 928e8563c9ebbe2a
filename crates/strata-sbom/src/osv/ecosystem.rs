//! Which OSV ecosystem, name and version order a catalogued package is
//! looked up under.

use crate::package::{Distro, Kind, Package};
use crate::version::Scheme;

/// What a package is looked up as in the database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// The OSV ecosystem, release included: `Debian:12`, `Alpine:v3.19`,
    /// `Ubuntu:22.04` (OSV's `:LTS` suffix is dropped on both sides), `PyPI`.
    pub ecosystem: String,
    /// The name advisories use: the source package for distributions.
    pub name: String,
    /// The version compared: the source version for distributions.
    pub version: String,
    /// The version order.
    pub scheme: Scheme,
    /// Whether it is looked up through its source package.
    pub via_source: bool,
}

/// The lookup of `package` on `distro`, or `None` when OSV has no
/// ecosystem for it (an rpm on Fedora, a deb on an unknown distribution).
pub fn target(package: &Package, distro: Option<&Distro>) -> Option<Target> {
    let (ecosystem, scheme) = match package.kind {
        Kind::Deb | Kind::Apk | Kind::Rpm => return distro_target(package, distro?),
        Kind::Python => ("PyPI".to_string(), Scheme::Pep440),
        Kind::Npm => ("npm".to_string(), Scheme::Semver),
        Kind::GoModule => ("Go".to_string(), Scheme::Go),
        Kind::RustCrate => ("crates.io".to_string(), Scheme::Semver),
        Kind::JavaArchive => ("Maven".to_string(), Scheme::Maven),
    };
    let name = match (&package.kind, &package.namespace) {
        (Kind::JavaArchive, Some(group)) => format!("{group}:{}", package.name),
        _ => package.name.clone(),
    };
    Some(Target {
        name: normalize_name(&ecosystem, &name),
        version: normalize_version(&ecosystem, &package.version),
        ecosystem,
        scheme,
        via_source: false,
    })
}

fn distro_target(package: &Package, distro: &Distro) -> Option<Target> {
    let version_id = distro.version_id.as_deref()?;
    let major = version_id.split('.').next().unwrap_or(version_id);
    let (ecosystem, scheme) = match (package.kind, distro.id.as_str()) {
        (Kind::Deb, "debian") => (format!("Debian:{major}"), Scheme::Dpkg),
        (Kind::Deb, "ubuntu") => (format!("Ubuntu:{version_id}"), Scheme::Dpkg),
        (Kind::Apk, "alpine") => (format!("Alpine:v{}", major_minor(version_id)), Scheme::Apk),
        (Kind::Apk, "wolfi") => ("Wolfi".to_string(), Scheme::Apk),
        (Kind::Apk, "chainguard") => ("Chainguard".to_string(), Scheme::Apk),
        (Kind::Rpm, "almalinux") => (format!("AlmaLinux:{major}"), Scheme::Rpm),
        (Kind::Rpm, "rocky") => (format!("Rocky Linux:{major}"), Scheme::Rpm),
        _ => return None,
    };
    let origin = package.origin.as_ref();
    let name = origin.map_or(&package.name, |origin| &origin.name).clone();
    let version = match origin.and_then(|origin| origin.version.clone()) {
        Some(version) => version,
        None if package.kind == Kind::Deb => strip_binnmu(&package.version).to_string(),
        None => package.version.clone(),
    };
    Some(Target {
        via_source: name != package.name || version != package.version,
        ecosystem,
        name,
        version,
        scheme,
    })
}

fn major_minor(version_id: &str) -> String {
    version_id.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// A binNMU (`+b1`) rebuilds the binary only; the source version lacks it.
fn strip_binnmu(version: &str) -> &str {
    match version.rsplit_once("+b") {
        Some((source, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => source,
        _ => version,
    }
}

/// An advisory's ecosystem as matched: Ubuntu's `:LTS` marker is dropped so
/// that `Ubuntu:22.04:LTS` and an image's `22.04` meet.
pub(crate) fn normalize_ecosystem(ecosystem: &str) -> String {
    match ecosystem.strip_prefix("Ubuntu:") {
        Some(rest) => format!("Ubuntu:{}", rest.strip_suffix(":LTS").unwrap_or(rest)),
        None => ecosystem.to_string(),
    }
}

/// Names as matched: PyPI's normalised per PEP 503 (advisories do not
/// always write them so).
pub(crate) fn normalize_name(ecosystem: &str, name: &str) -> String {
    if ecosystem != "PyPI" {
        return name.to_string();
    }
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Versions as compared: Go's `go1.22.1` (the standard library) and
/// `v1.2.3` (modules) both become `v1.22.1`/`v1.2.3` on both sides, since
/// OSV writes Go versions without a prefix.
pub(crate) fn normalize_version(ecosystem: &str, version: &str) -> String {
    if ecosystem == "Go" {
        let bare = version.strip_prefix("go").unwrap_or(version);
        let bare = bare.strip_prefix('v').unwrap_or(bare);
        format!("v{bare}")
    } else {
        version.to_string()
    }
}

/// The ecosystem an unscoped advisory of the same distribution is filed
/// under (`Debian` for `Debian:12`): OSV allows leaving the release out for
/// these ecosystems only.
pub(crate) fn unscoped(ecosystem: &str) -> Option<&str> {
    let (base, _) = ecosystem.split_once(':')?;
    matches!(base, "Debian" | "AlmaLinux" | "Rocky Linux").then_some(base)
}

/// The name of the database archive holding an ecosystem: its part before
/// the release (`Debian` for `Debian:12`), as OSV publishes `Debian/all.zip`.
pub fn archive_name(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Origin;

    fn distro(id: &str, version: &str) -> Distro {
        Distro {
            id: id.to_string(),
            version_id: Some(version.to_string()),
            ..Distro::default()
        }
    }

    fn with_origin(mut package: Package, name: &str, version: Option<&str>) -> Package {
        package.origin = Some(Origin {
            name: name.to_string(),
            version: version.map(str::to_string),
        });
        package
    }

    #[test]
    fn distribution_packages_are_looked_up_by_source_package_and_release() {
        let libssl = with_origin(
            Package::new(Kind::Deb, "libssl3", "3.0.11-1~deb12u2"),
            "openssl",
            None,
        );
        let target = target(&libssl, Some(&distro("debian", "12"))).unwrap();
        assert_eq!(target.ecosystem, "Debian:12");
        assert_eq!(target.name, "openssl");
        assert_eq!(target.version, "3.0.11-1~deb12u2");
        assert_eq!(target.scheme, Scheme::Dpkg);
        assert!(target.via_source);

        let binnmu = with_origin(Package::new(Kind::Deb, "libx", "1.2-3+b2"), "x", None);
        let t = super::target(&binnmu, Some(&distro("debian", "12"))).unwrap();
        assert_eq!(t.version, "1.2-3");
        let explicit = with_origin(
            Package::new(Kind::Deb, "liby", "2:1.0-1+b1"),
            "y",
            Some("1:0.9-4"),
        );
        let t = super::target(&explicit, Some(&distro("debian", "12"))).unwrap();
        assert_eq!((t.name.as_str(), t.version.as_str()), ("y", "1:0.9-4"));

        let bash = Package::new(Kind::Deb, "bash", "5.1-6ubuntu1");
        let t = super::target(&bash, Some(&distro("ubuntu", "22.04"))).unwrap();
        assert_eq!(t.ecosystem, "Ubuntu:22.04");
        assert!(!t.via_source);

        let busybox = with_origin(
            Package::new(Kind::Apk, "ssl_client", "1.36.1-r15"),
            "busybox",
            None,
        );
        let t = super::target(&busybox, Some(&distro("alpine", "3.19.1"))).unwrap();
        assert_eq!(
            (t.ecosystem.as_str(), t.name.as_str()),
            ("Alpine:v3.19", "busybox")
        );
        assert_eq!(t.scheme, Scheme::Apk);

        let rpm = Package::new(Kind::Rpm, "openssl-libs", "3.0.7-25.el9_3");
        let t = super::target(&rpm, Some(&distro("almalinux", "9.3"))).unwrap();
        assert_eq!(t.ecosystem, "AlmaLinux:9");
        let t = super::target(&rpm, Some(&distro("rocky", "9.3"))).unwrap();
        assert_eq!(t.ecosystem, "Rocky Linux:9");
        assert_eq!(super::target(&rpm, Some(&distro("fedora", "39"))), None);
        assert_eq!(super::target(&rpm, None), None);
    }

    #[test]
    fn language_packages() {
        let py = Package::new(Kind::Python, "pyyaml", "5.3.1");
        let t = target(&py, None).unwrap();
        assert_eq!((t.ecosystem.as_str(), t.scheme), ("PyPI", Scheme::Pep440));
        let mut jar = Package::new(Kind::JavaArchive, "log4j-core", "2.14.1");
        jar.namespace = Some("org.apache.logging.log4j".to_string());
        let t = target(&jar, None).unwrap();
        assert_eq!(t.name, "org.apache.logging.log4j:log4j-core");
        assert_eq!(t.ecosystem, "Maven");
        let go = Package::new(Kind::GoModule, "stdlib", "go1.21.4");
        let t = target(&go, None).unwrap();
        assert_eq!(
            (t.ecosystem.as_str(), t.version.as_str()),
            ("Go", "v1.21.4")
        );
        let module = Package::new(Kind::GoModule, "golang.org/x/net", "v0.17.0");
        assert_eq!(target(&module, None).unwrap().version, "v0.17.0");
        let rust = Package::new(Kind::RustCrate, "time", "0.1.45");
        assert_eq!(target(&rust, None).unwrap().ecosystem, "crates.io");
        let npm = Package::new(Kind::Npm, "@babel/traverse", "7.22.0");
        let t = target(&npm, None).unwrap();
        assert_eq!(
            (t.ecosystem.as_str(), t.name.as_str()),
            ("npm", "@babel/traverse")
        );
    }

    #[test]
    fn advisory_side_normalisation() {
        assert_eq!(normalize_ecosystem("Ubuntu:22.04:LTS"), "Ubuntu:22.04");
        assert_eq!(normalize_ecosystem("Ubuntu:23.10"), "Ubuntu:23.10");
        assert_eq!(
            normalize_ecosystem("Ubuntu:Pro:18.04:LTS"),
            "Ubuntu:Pro:18.04"
        );
        assert_eq!(normalize_ecosystem("Debian:12"), "Debian:12");
        assert_eq!(normalize_name("PyPI", "PyYAML"), "pyyaml");
        assert_eq!(
            normalize_name("PyPI", "zope.interface__x"),
            "zope-interface-x"
        );
        assert_eq!(normalize_name("npm", "PyYAML"), "PyYAML");
        assert_eq!(normalize_version("Go", "1.21.5"), "v1.21.5");
        assert_eq!(unscoped("Debian:12"), Some("Debian"));
        assert_eq!(unscoped("Alpine:v3.19"), None);
        assert_eq!(archive_name("Ubuntu:22.04"), "Ubuntu");
        assert_eq!(archive_name("PyPI"), "PyPI");
    }
}
