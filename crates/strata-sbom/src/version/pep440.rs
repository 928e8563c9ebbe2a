//! PEP 440 (Python packages), ordered as `packaging.version.Version`.

use std::cmp::Ordering;

/// A pre-release's phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Alpha,
    Beta,
    Rc,
}

/// A local version's part: letters sort before numbers.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Local {
    Text(String),
    Number(Num),
}

/// A number of any size: its digits without leading zeros.
#[derive(Debug, Default, PartialEq, Eq, Clone)]
struct Num(Vec<u8>);

impl Num {
    fn new(digits: &[u8]) -> Self {
        Num(super::trim_zeros(digits).to_vec())
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> Ordering {
        super::cmp_digits(&self.0, &other.0)
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug, Default)]
struct Version {
    epoch: Num,
    release: Vec<Num>,
    pre: Option<(Phase, Num)>,
    post: Option<Num>,
    dev: Option<Num>,
    local: Option<Vec<Local>>,
}

pub(super) fn compare(a: &str, b: &str) -> Ordering {
    super::either((a, parse(a)), (b, parse(b)), |x, y| key(x).cmp(&key(y)))
}

pub(super) fn parse_ok(v: &str) -> bool {
    parse(v).is_some()
}

/// Epoch, release, pre-release, post-release, dev release, local version.
type Key<'a> = (
    &'a Num,
    &'a [Num],
    (u8, Option<&'a (Phase, Num)>),
    Option<&'a Num>,
    (bool, Option<&'a Num>),
    Option<&'a [Local]>,
);

/// `packaging`'s sort key. `Option`s order `None` first; a missing
/// pre-release sorts after every pre-release unless the version is only a
/// dev release (`1.0.dev0 < 1.0a0`); a missing dev release sorts last.
fn key(v: &Version) -> Key<'_> {
    let release = &v.release[..v
        .release
        .iter()
        .rposition(|n| !n.0.is_empty())
        .map_or(0, |i| i + 1)];
    let pre = match (&v.pre, &v.post, &v.dev) {
        (None, None, Some(_)) => (0, None),
        (None, ..) => (2, None),
        (Some(pre), ..) => (1, Some(pre)),
    };
    let dev = (v.dev.is_none(), v.dev.as_ref());
    (
        &v.epoch,
        release,
        pre,
        v.post.as_ref(),
        dev,
        v.local.as_deref(),
    )
}

/// A cursor over the lowercased version.
struct Reader<'a> {
    s: &'a [u8],
}

impl Reader<'_> {
    fn eat(&mut self, word: &str) -> bool {
        let hit = self.s.starts_with(word.as_bytes());
        if hit {
            self.s = &self.s[word.len()..];
        }
        hit
    }

    fn sep(&mut self) -> bool {
        self.eat(".") || self.eat("-") || self.eat("_")
    }

    fn number(&mut self) -> Option<Num> {
        let n = self.s.iter().take_while(|c| c.is_ascii_digit()).count();
        let (digits, rest) = self.s.split_at(n);
        self.s = rest;
        (n > 0).then(|| Num::new(digits))
    }

    /// Tries `[sep]word[sep][number]` for the first matching word; restores
    /// the cursor when none matches.
    fn labelled(&mut self, words: &[&str]) -> Option<(usize, Option<Num>)> {
        let start = self.s;
        self.sep();
        let Some(i) = words.iter().position(|w| self.eat(w)) else {
            self.s = start;
            return None;
        };
        // Like the regex, keep a separator after the word even when no
        // number follows ("1.0a-" is 1.0a0).
        self.sep();
        Some((i, self.number()))
    }
}

/// Reads `v` as `packaging`'s `VERSION_PATTERN` does (case-insensitive,
/// surrounding whitespace and a leading `v` allowed).
fn parse(v: &str) -> Option<Version> {
    // Python's `\s` also counts the separators U+001C..U+001F.
    let lower = v
        .trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
        .to_ascii_lowercase();
    let mut r = Reader {
        s: lower.strip_prefix('v').unwrap_or(&lower).as_bytes(),
    };
    let mut out = Version::default();
    let first = r.number()?;
    if r.eat("!") {
        out.epoch = first;
        out.release.push(r.number()?);
    } else {
        out.release.push(first);
    }
    while r.s.first() == Some(&b'.') && r.s.get(1).is_some_and(u8::is_ascii_digit) {
        r.eat(".");
        out.release.push(r.number()?);
    }
    const PRE: [&str; 8] = ["alpha", "a", "beta", "b", "preview", "pre", "c", "rc"];
    out.pre = r.labelled(&PRE).map(|(i, n)| {
        let phase = match i {
            0 | 1 => Phase::Alpha,
            2 | 3 => Phase::Beta,
            _ => Phase::Rc,
        };
        (phase, n.unwrap_or_default())
    });
    out.post = post(&mut r);
    out.dev = r.labelled(&["dev"]).map(|(_, n)| n.unwrap_or_default());
    if r.eat("+") {
        out.local = Some(local(&mut r)?);
    }
    r.s.is_empty().then_some(out)
}

/// `-N` or `[sep](post|rev|r)[sep][N]`.
fn post(r: &mut Reader<'_>) -> Option<Num> {
    let start = r.s;
    if r.eat("-")
        && let Some(n) = r.number()
    {
        return Some(n);
    }
    r.s = start;
    r.labelled(&["post", "rev", "r"])
        .map(|(_, n)| n.unwrap_or_default())
}

/// `[a-z0-9]+([-_.][a-z0-9]+)*`.
fn local(r: &mut Reader<'_>) -> Option<Vec<Local>> {
    let mut parts = Vec::new();
    loop {
        let n = r.s.iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        if n == 0 {
            return None;
        }
        let (part, rest) = r.s.split_at(n);
        r.s = rest;
        parts.push(if part.iter().all(u8::is_ascii_digit) {
            Local::Number(Num::new(part))
        } else {
            Local::Text(String::from_utf8_lossy(part).into_owned())
        });
        if r.s.is_empty() {
            return Some(parts);
        }
        if !r.sep() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tricky_orders() {
        let chain = [
            "1.0.dev0",
            "1.0a1.dev1",
            "1.0a1",
            "1.0a1.post1.dev1",
            "1.0a1.post1",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0+abc",
            "1.0+abc.1",
            "1.0+1",
            "1.0.post1.dev0",
            "1.0.post1",
            "1.0.1",
            "1!0.1",
        ];
        crate::version::known::ascending(compare, &chain);
        let same = [
            ("1.0", "1.0.0"),
            ("v1.0", "1.0"),
            ("1.0-1", "1.0.post1"),
            ("1.0alpha1", "1.0a1"),
            ("1.0c1", "1.0rc1"),
            ("1.0-preview_2", "1.0rc2"),
            ("1.0.post", "1.0-r0"),
            ("1.0a-", "1.0a0"),
            ("1.0a--1", "1.0a0.post1"),
            ("1.0.DEV", "1.0dev0"),
            ("1.0+ABC-1", "1.0+abc.01"),
            (" 1.0 ", "1.0"),
        ];
        crate::version::known::equal(compare, &same);
    }

    #[test]
    fn syntax() {
        for bad in [
            "", "1.0-", "1.0.", "1..0", "1.0+", "1.0+a..b", "x1", "1.0 beta", "1.0+a+b",
        ] {
            assert!(!parse_ok(bad), "{bad}");
        }
    }
}
