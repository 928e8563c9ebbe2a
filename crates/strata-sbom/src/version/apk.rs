//! apk-tools' order (Alpine): `digits{.digits}[letter]{_suffix[n]}[~hash][-rN]`.
//!
//! Versions are read token by token; two versions compare token by token
//! while their token kinds agree, as apk-tools 3 does (including its answer
//! for malformed versions, which it also compares).

use std::cmp::Ordering;

/// Token kinds, in apk's order: where two versions part, the one whose next
/// token kind is greater is the older (so the end sorts after a suffix
/// number but before nothing else that is valid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffixes: before [`NONE`] are pre-releases.
const SUFFIXES: [&str; 10] = [
    "alpha", "beta", "pre", "rc", "", "cvs", "svn", "git", "hg", "p",
];
const NONE: usize = 4;

#[derive(Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    text: &'a [u8],
    number: u64,
    suffix: usize,
}

struct Tokens<'a> {
    rest: &'a [u8],
    token: Token<'a>,
}

impl<'a> Tokens<'a> {
    fn new(v: &'a str) -> Self {
        let token = Token {
            kind: Kind::InitialDigit,
            text: &[],
            number: 0,
            suffix: NONE,
        };
        let mut tokens = Tokens {
            rest: v.as_bytes(),
            token,
        };
        tokens.digits();
        tokens
    }

    fn digits(&mut self) {
        let n = self.rest.iter().take_while(|c| c.is_ascii_digit()).count();
        let (text, rest) = self.rest.split_at(n);
        // apk-tools accumulates in a u64 and lets it wrap.
        let number = text.iter().fold(0u64, |acc, d| {
            acc.wrapping_mul(10).wrapping_add(u64::from(d - b'0'))
        });
        self.token.text = text;
        self.token.number = number;
        self.rest = rest;
        if text.is_empty() {
            self.token.kind = Kind::Invalid;
        }
    }

    /// Moves to the next token, checking that it may follow this one.
    fn advance(&mut self) {
        let prev = self.token.kind;
        let Some(&c) = self.rest.first() else {
            self.token.kind = Kind::End;
            return;
        };
        let kind = match c {
            b'a'..=b'z' if prev <= Kind::Digit => {
                self.token.text = &self.rest[..1];
                self.rest = &self.rest[1..];
                Kind::Letter
            }
            b'.' if prev <= Kind::Digit => {
                self.rest = &self.rest[1..];
                self.token.kind = Kind::Digit;
                return self.digits();
            }
            b'0'..=b'9' if prev == Kind::Suffix => {
                self.token.kind = Kind::SuffixNo;
                return self.digits();
            }
            b'_' if prev <= Kind::SuffixNo => return self.suffix(),
            b'~' if prev < Kind::CommitHash => return self.hash(),
            b'-' if prev < Kind::RevisionNo && self.rest.starts_with(b"-r") => {
                self.rest = &self.rest[2..];
                self.token.kind = Kind::RevisionNo;
                return self.digits();
            }
            _ => Kind::Invalid,
        };
        self.token.kind = kind;
    }

    fn suffix(&mut self) {
        let n = self.rest[1..]
            .iter()
            .take_while(|c| c.is_ascii_lowercase())
            .count();
        let name = &self.rest[1..1 + n];
        self.rest = &self.rest[1 + n..];
        self.token.text = name;
        match SUFFIXES
            .iter()
            .position(|s| !s.is_empty() && s.as_bytes() == name)
        {
            Some(i) => {
                self.token.kind = Kind::Suffix;
                self.token.suffix = i;
            }
            None => self.token.kind = Kind::Invalid,
        }
    }

    fn hash(&mut self) {
        let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
        let n = self.rest[1..].iter().take_while(|c| hex(c)).count();
        self.token.text = &self.rest[1..1 + n];
        self.rest = &self.rest[1 + n..];
        self.token.kind = if n == 0 {
            Kind::Invalid
        } else {
            Kind::CommitHash
        };
    }
}

/// Two tokens of the same kind.
fn token_cmp(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    let leading_zero = a.text.first() == Some(&b'0') || b.text.first() == Some(&b'0');
    match a.kind {
        // A leading zero makes a component a string (as in Gentoo's rule).
        Kind::Digit if leading_zero => a.text.cmp(b.text),
        Kind::Digit | Kind::InitialDigit | Kind::SuffixNo | Kind::RevisionNo => {
            a.number.cmp(&b.number)
        }
        Kind::Letter => a.text.cmp(b.text),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        _ => a.text.cmp(b.text),
    }
}

pub(super) fn compare(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (Tokens::new(a), Tokens::new(b));
    while x.token.kind == y.token.kind && x.token.kind < Kind::End {
        let ord = token_cmp(&x.token, &y.token);
        if ord.is_ne() {
            return ord;
        }
        x.advance();
        y.advance();
    }
    let (s, t) = (x.token, y.token);
    if s.kind == t.kind {
        return Ordering::Equal;
    }
    if s.kind == Kind::Suffix && s.suffix < NONE {
        return Ordering::Less;
    }
    if t.kind == Kind::Suffix && t.suffix < NONE {
        return Ordering::Greater;
    }
    t.kind.cmp(&s.kind)
}

pub(super) fn parse_ok(v: &str) -> bool {
    let mut tokens = Tokens::new(v);
    while tokens.token.kind < Kind::End {
        tokens.advance();
    }
    tokens.token.kind == Kind::End
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tricky_orders() {
        let less = [
            ("1.0_alpha", "1.0_beta"),
            ("1.0_beta2", "1.0_pre1"),
            ("1.0_rc1", "1.0"),
            ("1.0", "1.0_p1"),
            ("1.0_cvs", "1.0_svn"),
            ("1.0_hg", "1.0_p"),
            ("1.0", "1.0a"),
            ("1.0a", "1.0b"),
            ("1.0-r1", "1.0-r2"),
            ("1.0-r9", "1.0-r10"),
            ("1.0", "1.0-r1"),
            ("1.0.9", "1.0.10"),
            ("1.2", "1.2.1"),
            ("1.0_p1-r9", "1.0a"),
            ("1.01", "1.1"),
            ("1.0", "1.0~abc"),
        ];
        crate::version::known::ascending_pairs(compare, &less);
        assert_eq!(compare("1.0-r0", "1.0-r0"), Ordering::Equal);
    }

    #[test]
    fn syntax() {
        for ok in [
            "1",
            "1.2.3a_rc1_p2-r4",
            "2.4_git20230101~abcdef-r0",
            "0.1_alpha",
        ] {
            assert!(parse_ok(ok), "{ok}");
        }
        for bad in [
            "", "a1", "1.0bc", "1.0_foo", "1..2", "1.0-r", "1.0-1", "1.0_", "1a.2", "1.0~",
        ] {
            assert!(!parse_ok(bad), "{bad}");
        }
    }
}
