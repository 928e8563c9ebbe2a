//! python packages.

use crate::package::Package;
use crate::tree::Tree;

pub(super) fn wants(path: &str) -> bool {
    let _ = path;
    false
}

pub(super) fn catalog(tree: &Tree) -> Vec<Package> {
    let _ = tree;
    Vec::new()
}
