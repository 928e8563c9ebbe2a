//! Byte-string helpers the parser needs beside [`strata_go`]'s: positional
//! forms of its decoding and trimming, Go's `unicode` classes and
//! `strconv.Quote`, because BuildKit's parser works on Go strings: bytes that
//! are usually, but not always, UTF-8. An invalid byte decodes as U+FFFD with width 1.

use std::borrow::Cow;

use unicode_general_category::{GeneralCategory, get_general_category};

pub(crate) use strata_go::utf8::REPLACEMENT;

/// Go's `utf8.DecodeRune` of the bytes from `position` (see
/// [`strata_go::utf8::decode_rune`]); `(U+FFFD, 0)` at or past the end.
#[inline]
pub(crate) fn decode_rune(bytes: &[u8], position: usize) -> (char, usize) {
    strata_go::utf8::decode_rune(bytes.get(position..).unwrap_or_default())
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
    fn quote_matches_go() {
        assert_eq!(go_quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(go_quote("\u{0}"), r#""\x00""#);
        assert_eq!(go_quote("♥☃"), "\"♥☃\"");
        assert_eq!(go_quote("\u{A0}"), r#""\u00a0""#);
        assert_eq!(go_quote_bytes(b"\xFF"), r#""\xff""#);
    }

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
