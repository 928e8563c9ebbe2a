//! Semantic Versioning 2.0 (npm's `semver.compare`, crates.io) and Go's
//! module versions (`golang.org/x/mod/semver`), which are semver with a `v`.

use std::cmp::Ordering;

/// A parsed version; build metadata is dropped (it never orders).
struct Version<'a> {
    core: [&'a [u8]; 3],
    pre: Vec<&'a [u8]>,
}

pub(super) fn compare(a: &str, b: &str) -> Ordering {
    super::either((a, parse(a)), (b, parse(b)), order)
}

pub(super) fn parse_ok(v: &str) -> bool {
    parse(v).is_some()
}

pub(super) fn compare_go(a: &str, b: &str) -> Ordering {
    let (x, y) = (go_form(a), go_form(b));
    super::either(
        (a, x.as_deref().and_then(parse_go)),
        (b, y.as_deref().and_then(parse_go)),
        order,
    )
}

pub(super) fn parse_ok_go(v: &str) -> bool {
    go_form(v).as_deref().and_then(parse_go).is_some()
}

fn order(x: &Version<'_>, y: &Version<'_>) -> Ordering {
    let core = x
        .core
        .iter()
        .zip(&y.core)
        .map(|(m, n)| super::cmp_digits(m, n));
    core.fold(Ordering::Equal, Ordering::then)
        .then_with(|| prerelease(&x.pre, &y.pre))
}

/// A release sorts after its pre-releases; identifiers compare one by one,
/// numeric ones numerically and before alphanumeric ones.
fn prerelease(x: &[&[u8]], y: &[&[u8]]) -> Ordering {
    match (x.is_empty(), y.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    for (m, n) in x.iter().zip(y) {
        let ord = match (numeric(m), numeric(n)) {
            (true, true) => super::cmp_digits(m, n),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => m.cmp(n),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    x.len().cmp(&y.len())
}

fn numeric(id: &[u8]) -> bool {
    id.iter().all(u8::is_ascii_digit)
}

/// A number without leading zeros.
fn number(s: &[u8]) -> bool {
    !s.is_empty() && numeric(s) && (s == b"0" || s[0] != b'0')
}

fn identifiers(s: &[u8]) -> Option<Vec<&[u8]>> {
    let ids: Vec<&[u8]> = s.split(|&c| c == b'.').collect();
    let ok =
        |id: &&[u8]| !id.is_empty() && id.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-');
    ids.iter().all(ok).then_some(ids)
}

/// Pre-release identifiers: numeric ones have no leading zeros.
fn pre_identifiers(s: &[u8]) -> Option<Vec<&[u8]>> {
    let ids = identifiers(s)?;
    ids.iter()
        .all(|id| !numeric(id) || number(id))
        .then_some(ids)
}

/// Splits `core[-pre][+build]`, checking the pre-release and build parts.
fn split_tail(s: &[u8]) -> Option<(&[u8], Vec<&[u8]>)> {
    let (rest, build) = match s.iter().position(|&c| c == b'+') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if let Some(build) = build {
        identifiers(build)?;
    }
    match rest.iter().position(|&c| c == b'-') {
        Some(i) => Some((&rest[..i], pre_identifiers(&rest[i + 1..])?)),
        None => Some((rest, Vec::new())),
    }
}

/// npm's strict form: optional `v`, surrounding whitespace, at most 256
/// characters.
fn parse(v: &str) -> Option<Version<'_>> {
    if v.len() > 256 {
        return None;
    }
    let v = v.trim();
    let v = v.strip_prefix('v').unwrap_or(v).as_bytes();
    let (core, pre) = split_tail(v)?;
    let mut parts = core.split(|&c| c == b'.');
    let core = [parts.next()?, parts.next()?, parts.next()?];
    (parts.next().is_none() && core.iter().all(|n| number(n))).then_some(Version { core, pre })
}

/// Go's form: `vMAJOR[.MINOR[.PATCH[-pre][+build]]]`, the short forms only
/// without pre-release or build.
fn parse_go(v: &str) -> Option<Version<'_>> {
    let v = v.strip_prefix('v')?.as_bytes();
    let (core, pre) = split_tail(v)?;
    let parts: Vec<&[u8]> = core.split(|&c| c == b'.').collect();
    if !parts.iter().all(|n| number(n)) || parts.len() > 3 {
        return None;
    }
    if parts.len() < 3 && core.len() != v.len() {
        return None;
    }
    let get = |i: usize| parts.get(i).copied().unwrap_or(b"0");
    Some(Version {
        core: [get(0), get(1), get(2)],
        pre,
    })
}

/// Go versions as OSV and toolchains spell them: a `v` is added when
/// missing, and the toolchain's `go1.21rc1` becomes `v1.21.0-rc.1`.
fn go_form(v: &str) -> Option<String> {
    if v.starts_with('v') {
        return Some(v.to_owned());
    }
    let v = v.strip_prefix("go").unwrap_or(v);
    let cut = v.find(|c: char| c.is_ascii_lowercase()).unwrap_or(v.len());
    let (release, pre) = v.split_at(cut);
    if pre.is_empty() || v.contains(['-', '+']) {
        return Some(format!("v{v}"));
    }
    let digits = pre.find(|c: char| c.is_ascii_digit())?;
    let (word, n) = pre.split_at(digits);
    let release = match release.matches('.').count() {
        1 => format!("{release}.0"),
        _ => release.to_owned(),
    };
    Some(format!("v{release}-{word}.{n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semver_orders() {
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.10.0",
            "2.0.0",
        ];
        crate::version::known::ascending(compare, &chain);
        assert_eq!(compare("1.0.0+build.1", "v1.0.0+other"), Ordering::Equal);
        assert_eq!(compare("1.0.0-1a", "1.0.0-2"), Ordering::Greater);
        for bad in [
            "1.0",
            "01.0.0",
            "1.0.0-01",
            "1.0.0-",
            "1.0.0+",
            "=1.0.0",
            "1.0.0-a..b",
            "V1.0.0",
        ] {
            assert!(!parse_ok(bad), "{bad}");
        }
    }

    #[test]
    fn go_orders() {
        let chain = [
            "v0.0.0-20230101000000-abcdef123456",
            "v0.1.0",
            "v1",
            "v1.2.3-pre",
            "v1.2.3",
            "go1.20rc1",
            "1.20.0",
            "go1.20.1",
            "go1.21.0-rc.2",
            "v1.21.0",
            "v2.0.0+incompatible",
        ];
        crate::version::known::ascending(compare_go, &chain);
        assert_eq!(compare_go("v1.2", "1.2.0"), Ordering::Equal);
        assert_eq!(compare_go("v2.0.0+incompatible", "v2.0.0"), Ordering::Equal);
        for bad in ["v1.2-pre", "v01.0.0", "vx", "", "go", "v1.2.3.4"] {
            assert!(!parse_ok_go(bad), "{bad}");
        }
    }
}
