//! Version orders, one per ecosystem: an advisory's "fixed in 1:2.3-4" means
//! something only under the ecosystem's own order.
//!
//! Each order follows its ecosystem's reference tool (`dpkg
//! --compare-versions`, apk-tools, rpm, Python's `packaging`, npm's `semver`,
//! Go's `x/mod/semver`, Maven's `ComparableVersion`); the tests compare
//! against those tools where they are installed. [`compare`] never panics:
//! a version its scheme cannot read sorts before every readable one, and two
//! unreadable ones by their bytes, so the order stays total.

use std::cmp::Ordering;

mod apk;
mod dpkg;
mod maven;
mod pep440;
mod rpm;
mod semver;

/// A version order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// dpkg's (Debian, Ubuntu): epochs, `~` before everything.
    Dpkg,
    /// apk's (Alpine): `_alpha` ... `_p` suffixes, `-rN` revisions.
    Apk,
    /// rpm's `rpmvercmp` with epochs and releases.
    Rpm,
    /// PEP 440 (PyPI).
    Pep440,
    /// Semantic Versioning 2.0 (npm, crates.io).
    Semver,
    /// Go's module versions: semver with a `v`; `+incompatible` is build
    /// metadata; the toolchain's `go1.21.3`, `1.21rc1` also read.
    Go,
    /// Maven's `ComparableVersion`.
    Maven,
}

/// Compares `a` and `b` under `scheme`.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Ordering {
    match scheme {
        Scheme::Dpkg => dpkg::compare(a, b),
        Scheme::Apk => apk::compare(a, b),
        Scheme::Rpm => rpm::compare(a, b),
        Scheme::Pep440 => pep440::compare(a, b),
        Scheme::Semver => semver::compare(a, b),
        Scheme::Go => semver::compare_go(a, b),
        Scheme::Maven => maven::compare(a, b),
    }
}

/// Whether `v` is a well-formed version under `scheme` (one its reference
/// tool accepts without complaint).
pub fn parse_ok(scheme: Scheme, v: &str) -> bool {
    match scheme {
        Scheme::Dpkg => dpkg::parse_ok(v),
        Scheme::Apk => apk::parse_ok(v),
        Scheme::Rpm => rpm::parse_ok(v),
        Scheme::Pep440 => pep440::parse_ok(v),
        Scheme::Semver => semver::parse_ok(v),
        Scheme::Go => semver::parse_ok_go(v),
        Scheme::Maven => maven::parse_ok(v),
    }
}

/// Compares two runs of ASCII digits as numbers of any size.
fn cmp_digits(a: &[u8], b: &[u8]) -> Ordering {
    let a = trim_zeros(a);
    let b = trim_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let start = digits.iter().take_while(|&&d| d == b'0').count();
    &digits[start..]
}

/// The order of two parse results: unreadable versions first, by bytes.
fn either<T>(
    a: (&str, Option<T>),
    b: (&str, Option<T>),
    order: impl FnOnce(&T, &T) -> Ordering,
) -> Ordering {
    match (a.1, b.1) {
        (Some(x), Some(y)) => order(&x, &y),
        (Some(_), None) => Ordering::Greater,
        (None, Some(_)) => Ordering::Less,
        (None, None) => a.0.cmp(b.0),
    }
}

/// Test support: each order's tables of known answers, checked both ways.
#[cfg(test)]
mod known {
    use std::cmp::Ordering;

    /// Each pair is (lower, higher).
    pub(super) fn ascending_pairs(
        compare: impl Fn(&str, &str) -> Ordering,
        pairs: &[(&str, &str)],
    ) {
        for (a, b) in pairs {
            assert_eq!(compare(a, b), Ordering::Less, "{a} < {b}");
            assert_eq!(compare(b, a), Ordering::Greater, "{b} > {a}");
        }
    }

    /// Each version lower than the next.
    pub(super) fn ascending(compare: impl Fn(&str, &str) -> Ordering, chain: &[&str]) {
        for w in chain.windows(2) {
            ascending_pairs(&compare, &[(w[0], w[1])]);
        }
    }

    /// Each pair the same version, spelt two ways.
    pub(super) fn equal(compare: impl Fn(&str, &str) -> Ordering, pairs: &[(&str, &str)]) {
        for (a, b) in pairs {
            assert_eq!(compare(a, b), Ordering::Equal, "{a} = {b}");
        }
    }
}
