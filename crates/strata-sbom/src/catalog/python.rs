//! Python distributions: `*.dist-info/METADATA` (wheels, pip) and
//! `*.egg-info` (`PKG-INFO` inside, or the file itself).

use crate::catalog::located;
use crate::package::{Kind, Package};
use crate::tree::Tree;

pub(super) fn wants(path: &str) -> bool {
    path.ends_with(".dist-info/METADATA")
        || path.ends_with(".egg-info/PKG-INFO")
        || path.ends_with(".egg-info")
}

/// One package per metadata file.
pub(super) fn catalog(tree: &Tree) -> Vec<Package> {
    tree.files()
        .filter(|(path, _)| wants(path))
        .filter_map(|(path, _)| {
            let (bytes, _) = tree.bytes(path)?;
            let mut package = metadata(&String::from_utf8_lossy(bytes))?;
            package.locations.push(located(tree, path));
            Some(package)
        })
        .collect()
}

/// Core metadata (an RFC 822 header block): `Name`, `Version`, and the
/// licence from `License-Expression` (metadata 2.4) or a one-line `License`.
fn metadata(text: &str) -> Option<Package> {
    let headers = text.split("\n\n").next().unwrap_or("");
    let field = |name: &str| {
        headers.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
        })
    };
    let mut package = Package::new(Kind::Python, normalise(field("Name")?), field("Version")?);
    let license = field("License-Expression")
        .or_else(|| {
            field("License").filter(|l| l.len() <= 100 && !l.eq_ignore_ascii_case("UNKNOWN"))
        })
        .filter(|l| !l.is_empty());
    package.licenses = license.map(str::to_string).into_iter().collect();
    Some(package)
}

/// PEP 503: lower case, every run of `-`, `_` and `.` one `-`.
pub(crate) fn normalise(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_names() {
        assert_eq!(normalise("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalise("FRIENDLY._.bard"), "friendly-bard");
        assert_eq!(normalise("zope.interface"), "zope-interface");
    }

    #[test]
    fn metadata_licence() {
        let text = "Metadata-Version: 2.4\nName: Flask_Login\nVersion: 0.6.3\nLicense-Expression: MIT\n\nLong text";
        let package = metadata(text).unwrap();
        assert_eq!(
            (package.name.as_str(), package.licenses.as_slice()),
            ("flask-login", &["MIT".to_string()][..])
        );
    }
}
