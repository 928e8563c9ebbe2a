//! Alpine packages: apk's database of installed packages.

use crate::catalog::database_packages;
use crate::package::{Kind, Origin, Package};
use crate::tree::Tree;

/// apk's database.
pub(super) const INSTALLED: &str = "/lib/apk/db/installed";

pub(super) fn wants(path: &str) -> bool {
    path == INSTALLED
}

/// The packages apk installed.
pub(super) fn catalog(tree: &Tree) -> Vec<Package> {
    database_packages(tree, INSTALLED, parse)
}

/// Paragraphs of one-letter fields: `P:` name, `V:` version, `A:` arch,
/// `L:` licence, `o:` origin (the source package).
fn parse(bytes: &[u8]) -> Vec<Package> {
    let text = String::from_utf8_lossy(bytes);
    text.split("\n\n").filter_map(paragraph).collect()
}

fn paragraph(text: &str) -> Option<Package> {
    let field = |key: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
            .map(str::trim)
    };
    let mut package = Package::new(Kind::Apk, field("P")?, field("V")?);
    package.arch = field("A").map(str::to_string);
    package.licenses = field("L")
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .into_iter()
        .collect();
    package.origin = field("o").map(|name| Origin {
        name: name.to_string(),
        version: None,
    });
    Some(package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_installed_paragraphs() {
        let db = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\nF:lib\nR:libc.musl-x86_64.so.1\n\nC:Q1def=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\nL:Apache-2.0\no:openssl\n";
        let packages = parse(db.as_bytes());
        assert_eq!(packages.len(), 2);
        assert_eq!(
            (packages[1].name.as_str(), packages[1].version.as_str()),
            ("libcrypto3", "3.1.4-r5")
        );
        assert_eq!(
            packages[1].origin.as_ref().map(|o| o.name.as_str()),
            Some("openssl")
        );
        assert_eq!(packages[0].licenses, ["MIT"]);
    }
}
