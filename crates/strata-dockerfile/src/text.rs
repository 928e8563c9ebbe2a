//! Byte-string helpers the parser needs beside [`strata_go`]'s: positional
//! forms of its decoding and trimming and Go's byte classes, because
//! BuildKit's parser works on Go strings: bytes that are usually, but not
//! always, UTF-8. An invalid byte decodes as U+FFFD with width 1.

/// Go's `utf8.DecodeRune` of the bytes from `position` (see
/// [`strata_go::utf8::decode_rune`]); `(U+FFFD, 0)` at or past the end.
#[inline]
pub(crate) fn decode_rune(bytes: &[u8], position: usize) -> (char, usize) {
    strata_go::utf8::decode_rune(bytes.get(position..).unwrap_or_default())
}

/// Go's `unicode.IsSpace(rune(b))` applied to a single byte (Latin-1), which
/// BuildKit's flag splitter and HEALTHCHECK parser do.
#[inline]
pub(crate) fn is_space_byte(byte: u8) -> bool {
    matches!(
        byte,
        b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ' | 0x85 | 0xA0
    )
}

/// The bytes of BuildKit's `reWhitespace` (`[\t\v\f\r ]`).
#[inline]
pub(crate) fn is_regex_whitespace(byte: u8) -> bool {
    matches!(byte, b'\t' | 0x0B | 0x0C | b'\r' | b' ')
}

/// Go's `strings.EqualFold` against an ASCII `target` (Unicode simple folding:
/// the Kelvin sign folds to `k`, the long s to `s`).
pub(crate) fn equal_fold_ascii(text: &str, target: &str) -> bool {
    let mut characters = text.chars();
    for expected in target.chars() {
        let Some(character) = characters.next() else {
            return false;
        };
        let folded = match character {
            '\u{212A}' => 'k',
            '\u{17F}' => 's',
            other => other.to_ascii_lowercase(),
        };
        if folded != expected.to_ascii_lowercase() {
            return false;
        }
    }
    characters.next().is_none()
}

/// Go's `strings.TrimSpace` of `bytes[start..end]`: the trimmed range.
pub(crate) fn trim_space_range(bytes: &[u8], start: usize, end: usize) -> (usize, usize) {
    let (left, right) = strata_go::strings::trim_space_bounds(&bytes[start..end]);
    (start + left, start + right)
}

/// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)` of `bytes[start..end]`:
/// the new start.
pub(crate) fn trim_left_space(bytes: &[u8], start: usize, end: usize) -> usize {
    start + strata_go::strings::trim_left_space(&bytes[start..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_fold_follows_go() {
        assert!(equal_fold_ascii("AS", "as"));
        assert!(equal_fold_ascii("a\u{17F}", "as"));
        assert!(!equal_fold_ascii("asx", "as"));
    }

    #[test]
    fn trim_space_uses_unicode_spaces() {
        let text = "\u{A0} a b \u{3000}".as_bytes();
        let (start, end) = trim_space_range(text, 0, text.len());
        assert_eq!(&text[start..end], b"a b");
    }
}
