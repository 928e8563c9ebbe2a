//! Go's `unicode.IsSpace` and the `strings` functions built on it, and Go's
//! case mapping; trimming works on bytes, where an invalid byte is never space.

use crate::utf8::{decode_last_rune, decode_rune};

/// Go's `unicode.IsSpace`.
#[inline]
pub fn is_space(character: char) -> bool {
    matches!(
        character,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    ) || (character > '\u{FF}' && character.is_whitespace())
}

/// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)`: how many leading bytes of
/// `bytes` are space.
pub fn trim_left_space(bytes: &[u8]) -> usize {
    let mut start = 0;
    while start < bytes.len() {
        let (character, width) = decode_rune(&bytes[start..]);
        if !is_space(character) || width == 0 {
            break;
        }
        start += width;
    }
    start
}

/// Go's `strings.TrimSpace`: the range of `bytes` it keeps.
pub fn trim_space_bounds(bytes: &[u8]) -> (usize, usize) {
    let start = trim_left_space(bytes);
    let mut end = bytes.len();
    while end > start {
        let (character, width) = decode_last_rune(&bytes[start..end]);
        if !is_space(character) || width == 0 {
            break;
        }
        end -= width;
    }
    (start, end)
}

/// Go's `strings.TrimSpace` over bytes.
pub fn trim_space(bytes: &[u8]) -> &[u8] {
    let (start, end) = trim_space_bounds(bytes);
    &bytes[start..end]
}

/// Go's `unicode.ToLower` for one rune (the simple mapping).
pub fn to_lower_rune(character: char) -> char {
    if character.is_ascii() {
        return character.to_ascii_lowercase();
    }
    if character == '\u{130}' {
        return 'i';
    }
    let mut lower = character.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(single), None) => single,
        _ => character,
    }
}

/// Go's `unicode.ToUpper` for one rune (the simple mapping, approximated by
/// Rust's full mapping where that is a single rune).
pub fn to_upper_rune(character: char) -> char {
    if character.is_ascii() {
        return character.to_ascii_uppercase();
    }
    let mut upper = character.to_uppercase();
    match (upper.next(), upper.next()) {
        (Some(single), None) => single,
        _ => character,
    }
}

/// Go's `strings.ToLower`.
pub fn to_lower(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.chars().map(to_lower_rune).collect()
}

/// Go's `strings.ToUpper`.
pub fn to_upper(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_uppercase();
    }
    text.chars().map(to_upper_rune).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_space_is_unicode_aware() {
        assert_eq!(trim_space(b"  foo \t"), b"foo");
        assert_eq!(trim_space("\u{a0}x\u{3000}".as_bytes()), b"x");
        assert_eq!(trim_space("\u{A0} a b \u{3000}".as_bytes()), b"a b");
        assert_eq!(trim_space(b"\xff "), b"\xff");
        assert_eq!(trim_space(b"   "), b"");
        assert_eq!(trim_left_space(b" \tx "), 2);
    }

    #[test]
    fn case_mapping_follows_go() {
        assert_eq!(to_lower("RUN"), "run");
        assert_eq!(to_lower("ENTRYPO\u{130}NT"), "entrypoint");
        assert_eq!(to_upper("stra\u{DF}e"), "STRA\u{DF}E");
    }
}
