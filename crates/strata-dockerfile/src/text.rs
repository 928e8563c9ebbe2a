//! Byte-string helpers that behave like Go's `strings`, `unicode` and `utf8`
//! packages, because BuildKit's parser works on Go strings: bytes that are
//! usually, but not always, UTF-8. An invalid byte decodes as U+FFFD with width 1.

use std::borrow::Cow;

use unicode_general_category::{GeneralCategory, get_general_category};

/// The replacement character Go decodes an invalid byte to.
pub(crate) const REPLACEMENT: char = '\u{FFFD}';

/// Decodes the rune at `position` like Go's `utf8.DecodeRune`: `(U+FFFD, 1)` for
/// an invalid or truncated sequence, `(U+FFFD, 0)` at the end.
#[inline]
pub(crate) fn decode_rune(bytes: &[u8], position: usize) -> (char, usize) {
    let Some(&first) = bytes.get(position) else {
        return (REPLACEMENT, 0);
    };
    if first < 0x80 {
        return (char::from(first), 1);
    }
    let width = match first {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return (REPLACEMENT, 1),
    };
    let Some(sequence) = bytes.get(position..position + width) else {
        return (REPLACEMENT, 1);
    };
    match std::str::from_utf8(sequence) {
        Ok(text) => match text.chars().next() {
            Some(character) => (character, width),
            None => (REPLACEMENT, 1),
        },
        Err(_) => (REPLACEMENT, 1),
    }
}

/// Decodes the last rune before `end` like Go's `utf8.DecodeLastRune`.
pub(crate) fn decode_last_rune(bytes: &[u8], end: usize) -> (char, usize) {
    if end == 0 {
        return (REPLACEMENT, 0);
    }
    let last = bytes[end - 1];
    if last < 0x80 {
        return (char::from(last), 1);
    }
    let lowest = end.saturating_sub(4);
    let mut start = end - 1;
    while start > lowest && (bytes[start] & 0xC0) == 0x80 {
        start -= 1;
    }
    let (character, width) = decode_rune(&bytes[..end], start);
    if start + width == end && width > 0 {
        (character, width)
    } else {
        (REPLACEMENT, 1)
    }
}

/// Converts Go string bytes to a Rust string, each invalid byte becoming U+FFFD
/// (what Go's `json.Marshal` and `strings.Builder.WriteRune(DecodeRune(..))` do).
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    let mut position = 0;
    while position < bytes.len() {
        match std::str::from_utf8(&bytes[position..]) {
            Ok(text) => {
                out.push_str(text);
                break;
            }
            Err(error) => {
                let valid = error.valid_up_to();
                out.push_str(&String::from_utf8_lossy(&bytes[position..position + valid]));
                position += valid;
                let (character, width) = decode_rune(bytes, position);
                out.push(character);
                position += width.max(1);
            }
        }
    }
    Cow::Owned(out)
}

/// Go's `unicode.IsSpace`.
#[inline]
pub(crate) fn is_space(character: char) -> bool {
    matches!(
        character,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{85}' | '\u{A0}'
    ) || (character > '\u{FF}' && character.is_whitespace())
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

/// Go's `unicode.IsLetter` (general category L).
pub(crate) fn is_letter(character: char) -> bool {
    if character.is_ascii() {
        return character.is_ascii_alphabetic();
    }
    matches!(
        get_general_category(character),
        GeneralCategory::UppercaseLetter
            | GeneralCategory::LowercaseLetter
            | GeneralCategory::TitlecaseLetter
            | GeneralCategory::ModifierLetter
            | GeneralCategory::OtherLetter
    )
}

/// Go's `unicode.IsDigit` (general category Nd).
pub(crate) fn is_digit(character: char) -> bool {
    if character.is_ascii() {
        return character.is_ascii_digit();
    }
    get_general_category(character) == GeneralCategory::DecimalNumber
}

/// Go's `unicode.IsPrint`: letters, marks, numbers, punctuation, symbols and
/// the ASCII space.
pub(crate) fn is_print(character: char) -> bool {
    if character == ' ' {
        return true;
    }
    use GeneralCategory as C;
    matches!(
        get_general_category(character),
        C::UppercaseLetter
            | C::LowercaseLetter
            | C::TitlecaseLetter
            | C::ModifierLetter
            | C::OtherLetter
            | C::NonspacingMark
            | C::SpacingMark
            | C::EnclosingMark
            | C::DecimalNumber
            | C::LetterNumber
            | C::OtherNumber
            | C::ConnectorPunctuation
            | C::DashPunctuation
            | C::OpenPunctuation
            | C::ClosePunctuation
            | C::InitialPunctuation
            | C::FinalPunctuation
            | C::OtherPunctuation
            | C::MathSymbol
            | C::CurrencySymbol
            | C::ModifierSymbol
            | C::OtherSymbol
    )
}

/// Go's `unicode.ToLower` for one rune (the simple mapping).
pub(crate) fn to_lower_rune(character: char) -> char {
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
pub(crate) fn to_upper_rune(character: char) -> char {
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
pub(crate) fn go_to_lower(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    text.chars().map(to_lower_rune).collect()
}

/// Go's `strings.ToUpper`.
pub(crate) fn go_to_upper(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_uppercase();
    }
    text.chars().map(to_upper_rune).collect()
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

/// Go's `strings.TrimSpace` on bytes: the trimmed range.
pub(crate) fn trim_space_range(bytes: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end {
        let (character, width) = decode_rune(&bytes[..end], start);
        if !is_space(character) || width == 0 {
            break;
        }
        start += width;
    }
    while end > start {
        let (character, width) = decode_last_rune(&bytes[start..end], end - start);
        if !is_space(character) || width == 0 {
            break;
        }
        end -= width;
    }
    (start, end)
}

/// Go's `strings.TrimLeftFunc(s, unicode.IsSpace)` on bytes: the new start.
pub(crate) fn trim_left_space(bytes: &[u8], mut start: usize, end: usize) -> usize {
    while start < end {
        let (character, width) = decode_rune(&bytes[..end], start);
        if !is_space(character) || width == 0 {
            break;
        }
        start += width;
    }
    start
}

/// Go's `strconv.Quote`.
pub fn go_quote(text: &str) -> String {
    go_quote_bytes(text.as_bytes())
}

/// Go's `strconv.Quote` of a byte string (invalid bytes as `\xNN`).
pub(crate) fn go_quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    let mut position = 0;
    while position < bytes.len() {
        let (character, width) = decode_rune(bytes, position);
        if width == 1 && character == REPLACEMENT {
            out.push_str(&format!("\\x{:02x}", bytes[position]));
            position += 1;
            continue;
        }
        position += width;
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if is_print(c) => out.push(c),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if c < ' ' || c == '\u{7F}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_replaces_each_invalid_byte() {
        assert_eq!(lossy(b"a\xE2\x82b"), "a\u{FFFD}\u{FFFD}b");
        assert_eq!(lossy(b"\xFFok"), "\u{FFFD}ok");
        assert_eq!(lossy("héllo".as_bytes()), "héllo");
    }

    #[test]
    fn decode_last_rune_handles_truncation() {
        assert_eq!(decode_last_rune("é".as_bytes(), 2), ('é', 2));
        assert_eq!(decode_last_rune(b"a\xC3", 2), (REPLACEMENT, 1));
    }

    #[test]
    fn quote_matches_go() {
        assert_eq!(go_quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(go_quote("\u{0}"), r#""\x00""#);
        assert_eq!(go_quote("♥☃"), "\"♥☃\"");
        assert_eq!(go_quote("\u{A0}"), r#""\u00a0""#);
        assert_eq!(go_quote_bytes(b"\xFF"), r#""\xff""#);
    }

    #[test]
    fn case_mapping_follows_go() {
        assert_eq!(go_to_lower("RUN"), "run");
        assert_eq!(go_to_lower("ENTRYPO\u{130}NT"), "entrypoint");
        assert_eq!(go_to_upper("stra\u{DF}e"), "STRA\u{DF}E");
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
