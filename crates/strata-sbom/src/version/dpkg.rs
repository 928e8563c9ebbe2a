//! dpkg's order: `[epoch:]upstream[-revision]`, compared as
//! `dpkg --compare-versions` does.

use std::cmp::Ordering;

/// A version split as dpkg's `parseversion` splits it.
struct Version<'a> {
    epoch: u32,
    upstream: &'a [u8],
    revision: &'a [u8],
    /// dpkg only warns about these (bad characters, no leading digit).
    warned: bool,
}

pub(super) fn compare(a: &str, b: &str) -> Ordering {
    super::either((a, parse(a)), (b, parse(b)), |x, y| {
        x.epoch
            .cmp(&y.epoch)
            .then_with(|| verrevcmp(x.upstream, y.upstream))
            .then_with(|| verrevcmp(x.revision, y.revision))
    })
}

pub(super) fn parse_ok(v: &str) -> bool {
    parse(v).is_some_and(|v| !v.warned)
}

/// `None` where dpkg refuses the version outright.
fn parse(v: &str) -> Option<Version<'_>> {
    let v = v.trim_matches(|c: char| c.is_ascii_whitespace());
    if v.is_empty() || v.bytes().any(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let (epoch, rest) = match v.split_once(':') {
        Some((epoch, rest)) => (parse_epoch(epoch)?, rest),
        None => (0, v),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return None,
        Some((upstream, revision)) => (upstream, revision),
        None => (rest, ""),
    };
    if upstream.is_empty() {
        return None;
    }
    let warned = !upstream.starts_with(|c: char| c.is_ascii_digit())
        || !upstream
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".-+~:".contains(&c))
        || !revision
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b".+~".contains(&c));
    Some(Version {
        epoch,
        upstream: upstream.as_bytes(),
        revision: revision.as_bytes(),
        warned,
    })
}

/// The epoch as `strtol` reads it: an optional `+`, digits, at most
/// `INT_MAX`; an empty epoch is 0.
fn parse_epoch(epoch: &str) -> Option<u32> {
    let digits = epoch.strip_prefix('+').unwrap_or(epoch);
    if digits.is_empty() && epoch.is_empty() {
        return Some(0);
    }
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u32>().ok().filter(|&e| e <= i32::MAX as u32)
}

/// A non-digit's weight: letters first, then `~` below everything (even
/// the end), then other characters above letters.
fn order(c: Option<u8>) -> i32 {
    match c {
        None => 0,
        Some(c) if c.is_ascii_digit() => 0,
        Some(c) if c.is_ascii_alphabetic() => i32::from(c),
        Some(b'~') => -1,
        Some(c) => i32::from(c) + 256,
    }
}

/// dpkg's `verrevcmp`: alternate non-digit runs (by [`order`]) and digit
/// runs (numerically).
fn verrevcmp(a: &[u8], b: &[u8]) -> Ordering {
    let (mut i, mut j) = (0, 0);
    let digit = |s: &[u8], k: usize| s.get(k).is_some_and(u8::is_ascii_digit);
    while i < a.len() || j < b.len() {
        while (i < a.len() && !digit(a, i)) || (j < b.len() && !digit(b, j)) {
            let (x, y) = (order(a.get(i).copied()), order(b.get(j).copied()));
            if x != y {
                return x.cmp(&y);
            }
            i += 1;
            j += 1;
        }
        let start = (i, j);
        while digit(a, i) {
            i += 1;
        }
        while digit(b, j) {
            j += 1;
        }
        let ord = super::cmp_digits(&a[start.0..i], &b[start.1..j]);
        if ord.is_ne() {
            return ord;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tricky_orders() {
        let less = [
            ("1.0~rc1", "1.0"),
            ("1.0~~", "1.0~"),
            ("1.0", "1.0a"),
            ("1.0a", "1.0+"),
            ("1.0-1", "1.0-1.1"),
            ("9.9", "1:0.1"),
            ("1.2.9", "1.2.10"),
            ("1.0", "1.0-0.1"),
            ("2.30-1", "2.30-1+deb12u1"),
        ];
        crate::version::known::ascending_pairs(compare, &less);
        crate::version::known::equal(
            compare,
            &[
                ("1.0", "0:1.0"),
                ("1.0", "1.0-0"),
                ("1.01", "1.1"),
                ("1.0-", "1.0-"),
            ],
        );
    }

    #[test]
    fn syntax() {
        assert!(parse_ok("1:2.3-4~deb12u1"));
        assert!(!parse_ok("1.0-"));
        assert!(!parse_ok("a:1.0"));
        assert!(!parse_ok("abc"));
        assert!(!parse_ok("1.0 2"));
        assert!(!parse_ok(""));
        // Unreadable versions sort first.
        assert_eq!(compare("1.0-", "0"), Ordering::Less);
    }
}
