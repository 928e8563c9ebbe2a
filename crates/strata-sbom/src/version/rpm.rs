//! rpm's order: `[epoch:]version[-release]`, each part by `rpmvercmp`, as
//! rpm 4.18's `rpmverCmp` (a missing release sorts before any release).

use std::cmp::Ordering;

struct Evr<'a> {
    epoch: &'a [u8],
    version: &'a [u8],
    release: Option<&'a [u8]>,
}

pub(super) fn compare(a: &str, b: &str) -> Ordering {
    super::either((a, parse(a)), (b, parse(b)), |x, y| {
        rpmvercmp(x.epoch, y.epoch)
            .then_with(|| rpmvercmp(x.version, y.version))
            .then_with(|| match (x.release, y.release) {
                (Some(r), Some(s)) => rpmvercmp(r, s),
                (r, s) => r.is_some().cmp(&s.is_some()),
            })
    })
}

pub(super) fn parse_ok(v: &str) -> bool {
    !v.is_empty() && v.bytes().all(|c| c.is_ascii_graphic())
}

/// rpm's `parseEVR`: an epoch is the leading digits before a `:`; the
/// release follows the last `-` after them.
fn parse(v: &str) -> Option<Evr<'_>> {
    // rpm reads C strings: a NUL ends the version.
    let v = v.as_bytes().split(|&c| c == 0).next().unwrap_or_default();
    if v.is_empty() {
        return None;
    }
    let digits = v.iter().take_while(|c| c.is_ascii_digit()).count();
    let (epoch, rest): (&[u8], &[u8]) = match v.get(digits) {
        Some(b':') if digits == 0 => (b"0", &v[1..]),
        Some(b':') => (&v[..digits], &v[digits + 1..]),
        _ => (b"0", v),
    };
    let dash = v[digits..].iter().rposition(|&c| c == b'-');
    let (version, release) = match dash {
        Some(i) => {
            let at = digits + i - (v.len() - rest.len());
            (&rest[..at], Some(&rest[at + 1..]))
        }
        None => (rest, None),
    };
    Some(Evr {
        epoch,
        version,
        release,
    })
}

/// `rpmvercmp`: alphanumeric segments, digits numerically and above
/// letters; `~` sorts before everything, `^` after the end but before
/// anything else.
fn rpmvercmp(a: &[u8], b: &[u8]) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let sep = |c: &u8| !c.is_ascii_alphanumeric() && *c != b'~' && *c != b'^';
    let (mut one, mut two) = (a, b);
    loop {
        one = &one[one.iter().take_while(|c| sep(c)).count()..];
        two = &two[two.iter().take_while(|c| sep(c)).count()..];
        let (x, y) = (one.first().copied(), two.first().copied());
        if x.is_none() && y.is_none() {
            return Ordering::Equal;
        }
        if x == Some(b'~') || y == Some(b'~') {
            if x != Some(b'~') {
                return Ordering::Greater;
            }
            if y != Some(b'~') {
                return Ordering::Less;
            }
        } else if x == Some(b'^') || y == Some(b'^') {
            match (x, y) {
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(b'^'), Some(b'^')) => {}
                (_, Some(b'^')) => return Ordering::Greater,
                _ => return Ordering::Less,
            }
        } else if x.is_none() || y.is_none() {
            return x.is_some().cmp(&y.is_some());
        } else {
            match segment(one, two) {
                (Ordering::Equal, i, j) => {
                    (one, two) = (&one[i..], &two[j..]);
                    continue;
                }
                (ord, ..) => return ord,
            }
        }
        (one, two) = (&one[1..], &two[1..]);
    }
}

/// Compares the leading segments (digits, or else letters) of `one` and
/// `two`; on equality also gives their lengths.
fn segment(one: &[u8], two: &[u8]) -> (Ordering, usize, usize) {
    let numeric = one[0].is_ascii_digit();
    let class = |c: &&u8| {
        if numeric {
            c.is_ascii_digit()
        } else {
            c.is_ascii_alphabetic()
        }
    };
    let i = one.iter().take_while(class).count();
    let j = two.iter().take_while(class).count();
    if j == 0 {
        // Digits beat letters.
        let ord = if numeric {
            Ordering::Greater
        } else {
            Ordering::Less
        };
        return (ord, i, j);
    }
    let ord = if numeric {
        super::cmp_digits(&one[..i], &two[..j])
    } else {
        one[..i].cmp(&two[..j])
    };
    (ord, i, j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tricky_orders() {
        let less = [
            ("1.0~rc1", "1.0"),
            ("1.0~rc1", "1.0~rc2"),
            ("1.0", "1.0^git1"),
            ("1.0^git1", "1.0.1"),
            ("1.0a", "1.0.1"),
            ("1.0", "1.0a"),
            ("1.0", "1.0-1"),
            ("1.0-1", "1.0-2"),
            ("2.0", "1:1.0"),
            ("1.9", "1.10"),
            ("a", "1"),
            ("1.0-1.el9", "1.0-1.el9_1"),
        ];
        crate::version::known::ascending_pairs(compare, &less);
        crate::version::known::equal(
            compare,
            &[
                ("1.0", "1_0"),
                ("0:1.0", "1.0"),
                ("1.01", "1.1"),
                ("1..0", "1.0"),
            ],
        );
    }
}
