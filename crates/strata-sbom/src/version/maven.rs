//! Maven's `ComparableVersion` (as in Maven 3.8): a version is a list of
//! numbers and qualifiers, `-` (or a switch between digits and letters)
//! opening a sub-list; trailing "null" items (0, "", `ga`, `final`,
//! `release`) are dropped.

use std::cmp::Ordering;

/// Qualifiers in order; the empty one is a release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE: &str = "5";

#[derive(Debug)]
enum Item {
    /// A number: its width class (int, long, big integer: a wider class
    /// always compares greater, as in Maven) and digits.
    Number(u8, Vec<u8>),
    /// A qualifier, as its comparable form (an index or `7-name`).
    Text(String),
    List(Vec<Item>),
}

pub(super) fn compare(a: &str, b: &str) -> Ordering {
    Item::List(parse(a)).cmp_with(Some(&Item::List(parse(b))))
}

pub(super) fn parse_ok(v: &str) -> bool {
    !v.is_empty() && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Item::Number(_, digits) => digits.iter().all(|&d| d == b'0'),
            Item::Text(q) => q == RELEASE,
            Item::List(items) => items.is_empty(),
        }
    }

    /// `compareTo`; `None` is a missing item (the other list ran out).
    fn cmp_with(&self, other: Option<&Item>) -> Ordering {
        use Item::{List, Number, Text};
        match (self, other) {
            (Number(..), None) => {
                if self.is_null() {
                    Ordering::Equal
                } else {
                    Ordering::Greater
                }
            }
            (Number(w, x), Some(Number(v, y))) => w.cmp(v).then_with(|| super::cmp_digits(x, y)),
            (Number(..), Some(_)) => Ordering::Greater,
            (Text(q), None) => q.as_str().cmp(RELEASE),
            (Text(q), Some(Text(r))) => q.cmp(r),
            (Text(_), Some(_)) => Ordering::Less,
            (List(items), None) => items
                .iter()
                .map(|i| i.cmp_with(None))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal),
            (List(_), Some(Number(..))) => Ordering::Less,
            (List(_), Some(Text(_))) => Ordering::Greater,
            (List(x), Some(List(y))) => (0..x.len().max(y.len()))
                .map(|i| match (x.get(i), y.get(i)) {
                    (Some(l), r) => l.cmp_with(r),
                    (None, Some(r)) => r.cmp_with(None).reverse(),
                    (None, None) => Ordering::Equal,
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal),
        }
    }
}

fn number(digits: &str) -> Item {
    let stripped = digits.trim_start_matches('0');
    // Maven keeps an all-zero run whole, which sets its width class.
    let kept = if stripped.is_empty() {
        digits
    } else {
        stripped
    };
    let width = match kept.len() {
        0..=9 => 0,
        10..=18 => 1,
        _ => 2,
    };
    Item::Number(width, kept.as_bytes().to_vec())
}

fn text(value: &str, followed_by_digit: bool) -> Item {
    let value = match value {
        "a" if followed_by_digit => "alpha",
        "b" if followed_by_digit => "beta",
        "m" if followed_by_digit => "milestone",
        "ga" | "final" | "release" => "",
        "cr" => "rc",
        v => v,
    };
    Item::Text(match QUALIFIERS.iter().position(|q| *q == value) {
        Some(i) => i.to_string(),
        None => format!("{}-{value}", QUALIFIERS.len()),
    })
}

fn item(is_digit: bool, s: &str) -> Item {
    if is_digit { number(s) } else { text(s, false) }
}

/// The lists being filled: each new list is the last item of the one
/// before, and only the newest is ever added to.
struct Chain(Vec<Vec<Item>>);

impl Chain {
    fn push(&mut self, item: Item) {
        if let Some(list) = self.0.last_mut() {
            list.push(item);
        }
    }

    fn open(&mut self) {
        self.0.push(Vec::new());
    }

    fn current_empty(&self) -> bool {
        self.0.last().is_none_or(Vec::is_empty)
    }

    /// Closes the lists innermost first, dropping trailing null items.
    fn close(mut self) -> Vec<Item> {
        let mut inner: Option<Vec<Item>> = None;
        while let Some(mut list) = self.0.pop() {
            if let Some(child) = inner.take() {
                list.push(Item::List(child));
            }
            normalize(&mut list);
            inner = Some(list);
        }
        inner.unwrap_or_default()
    }
}

/// Drops null items from the end, looking past non-null lists.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

fn parse(v: &str) -> Vec<Item> {
    let v = v.to_lowercase();
    let mut chain = Chain(vec![Vec::new()]);
    let (mut start, mut is_digit) = (0, false);
    for (i, c) in v.char_indices() {
        match c {
            '.' | '-' => {
                chain.push(if i == start {
                    number("0")
                } else {
                    item(is_digit, &v[start..i])
                });
                start = i + 1;
                if c == '-' {
                    chain.open();
                }
            }
            '0'..='9' => {
                if !is_digit && i > start {
                    if !chain.current_empty() {
                        chain.open();
                    }
                    chain.push(text(&v[start..i], true));
                    start = i;
                    chain.open();
                }
                is_digit = true;
            }
            _ => {
                if is_digit && i > start {
                    chain.push(number(&v[start..i]));
                    start = i;
                    chain.open();
                }
                is_digit = false;
            }
        }
    }
    if v.len() > start {
        if !is_digit && !chain.current_empty() {
            chain.open();
        }
        chain.push(item(is_digit, &v[start..]));
    }
    chain.close()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tricky_orders() {
        let chain = [
            "1-alpha1",
            "1-alpha-2",
            "1-beta",
            "1-m1",
            "1-rc1",
            "1-snapshot",
            "1",
            "1-sp",
            "1-abc",
            "1-1",
            "1.0.1",
            "1.1",
            "1.10",
            "2.0.0-b1",
        ];
        crate::version::known::ascending(compare, &chain);
        let same = [
            ("1", "1.0.0"),
            ("1-ga", "1.0"),
            ("1.final", "1-release"),
            ("1-cr1", "1-rc-1"),
            ("1.0-alpha", "1-ALPHA"),
            ("1a1", "1-alpha-1"),
        ];
        crate::version::known::equal(compare, &same);
    }
}
