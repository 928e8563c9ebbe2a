//! Package URLs (github.com/package-url/purl-spec): `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS`.

use std::fmt;

use crate::package::{Distro, Kind, Package};

/// A package URL, built from a package; its `Display` is the canonical string.
pub(crate) struct Purl {
    kind: &'static str,
    namespace: Vec<String>,
    name: String,
    version: String,
    /// Sorted by key, as the spec's canonical form wants.
    qualifiers: Vec<(&'static str, String)>,
}

impl Purl {
    pub(crate) fn of(package: &Package, distro: Option<&Distro>) -> Purl {
        let (kind, namespace, name) = match package.kind {
            Kind::Deb | Kind::Apk | Kind::Rpm => {
                let kind = match package.kind {
                    Kind::Deb => "deb",
                    Kind::Apk => "apk",
                    _ => "rpm",
                };
                let vendor = distro.map_or(default_vendor(package.kind), |d| d.id.as_str());
                (kind, vec![vendor.to_string()], package.name.clone())
            }
            Kind::Python => ("pypi", Vec::new(), package.name.clone()),
            Kind::Npm => match package.name.split_once('/') {
                Some((scope, name)) => ("npm", vec![scope.to_string()], name.to_string()),
                None => ("npm", Vec::new(), package.name.clone()),
            },
            Kind::GoModule => match package.name.rsplit_once('/') {
                Some((path, name)) => (
                    "golang",
                    path.split('/').map(str::to_string).collect(),
                    name.to_string(),
                ),
                None => ("golang", Vec::new(), package.name.clone()),
            },
            Kind::RustCrate => ("cargo", Vec::new(), package.name.clone()),
            Kind::JavaArchive => (
                "maven",
                package.namespace.iter().cloned().collect(),
                package.name.clone(),
            ),
        };
        let version = match package.kind {
            // Go's standard library is versioned `go1.22.1`; its purl says `1.22.1`.
            Kind::GoModule if package.name == "stdlib" => {
                package.version.trim_start_matches("go").to_string()
            }
            _ => package.version.clone(),
        };
        Purl {
            kind,
            namespace,
            name,
            version,
            qualifiers: qualifiers(package, distro),
        }
    }
}

fn default_vendor(kind: Kind) -> &'static str {
    match kind {
        Kind::Deb => "debian",
        Kind::Apk => "alpine",
        _ => "redhat",
    }
}

fn qualifiers(package: &Package, distro: Option<&Distro>) -> Vec<(&'static str, String)> {
    if !matches!(package.kind, Kind::Deb | Kind::Apk | Kind::Rpm) {
        return Vec::new();
    }
    let mut qualifiers = Vec::new();
    if let Some(arch) = &package.arch {
        qualifiers.push(("arch", arch.clone()));
    }
    if let Some(distro) = distro {
        let version = distro.version_id.as_deref().unwrap_or("");
        qualifiers.push(("distro", format!("{}-{version}", distro.id)));
    }
    if let Some(origin) = &package.origin {
        let upstream = match &origin.version {
            Some(version) => format!("{}@{version}", origin.name),
            None => origin.name.clone(),
        };
        qualifiers.push(("upstream", upstream));
    }
    qualifiers.sort();
    qualifiers
}

impl fmt::Display for Purl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "pkg:{}/", self.kind)?;
        for segment in &self.namespace {
            write!(f, "{}/", encode(segment))?;
        }
        write!(f, "{}", encode(&self.name))?;
        if !self.version.is_empty() {
            write!(f, "@{}", encode(&self.version))?;
        }
        for (i, (key, value)) in self.qualifiers.iter().enumerate() {
            let separator = if i == 0 { '?' } else { '&' };
            write!(f, "{separator}{key}={}", encode(value))?;
        }
        Ok(())
    }
}

/// Percent-encodes all but the spec's unreserved characters (and `:`,
/// which the spec leaves unencoded).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_~:".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::package::Origin;

    #[test]
    fn deb_purl_has_sorted_qualifiers() {
        let mut package = Package::new(Kind::Deb, "libc6", "2.36-9+deb12u4");
        package.arch = Some("amd64".into());
        package.origin = Some(Origin {
            name: "glibc".into(),
            version: None,
        });
        let distro = Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            ..Distro::default()
        };
        assert_eq!(
            package.purl(Some(&distro)),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"
        );
    }

    #[test]
    fn npm_scope_and_go_path_are_namespaces() {
        assert_eq!(
            Package::new(Kind::Npm, "@babel/core", "7.24.0").purl(None),
            "pkg:npm/%40babel/core@7.24.0"
        );
        assert_eq!(
            Package::new(Kind::GoModule, "github.com/spf13/cobra", "v1.8.0").purl(None),
            "pkg:golang/github.com/spf13/cobra@v1.8.0"
        );
        assert_eq!(
            Package::new(Kind::GoModule, "stdlib", "go1.19.8").purl(None),
            "pkg:golang/stdlib@1.19.8"
        );
    }
}
