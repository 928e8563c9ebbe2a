//! Go's `unicode/utf8` decoding: each byte of an invalid sequence is one
//! U+FFFD of width 1; [`lossy`] makes a Rust string of Go string bytes.

use std::borrow::Cow;

/// U+FFFD, what Go decodes an invalid byte to.
pub const REPLACEMENT: char = '\u{FFFD}';

/// Go's `utf8.DecodeRune`: the first rune of `bytes` and its width;
/// `(U+FFFD, 1)` for an invalid or truncated sequence, `(U+FFFD, 0)` for empty input.
#[inline]
pub fn decode_rune(bytes: &[u8]) -> (char, usize) {
    let Some(&first) = bytes.first() else {
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
    let Some(sequence) = bytes.get(..width) else {
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

/// Go's `utf8.DecodeLastRune`: the last rune of `bytes` and its width, with
/// [`decode_rune`]'s answers for invalid and empty input.
pub fn decode_last_rune(bytes: &[u8]) -> (char, usize) {
    let end = bytes.len();
    let Some(&last) = bytes.last() else {
        return (REPLACEMENT, 0);
    };
    if last < 0x80 {
        return (char::from(last), 1);
    }
    let lowest = end.saturating_sub(4);
    let mut start = end - 1;
    while start > lowest && (bytes[start] & 0xC0) == 0x80 {
        start -= 1;
    }
    let (character, width) = decode_rune(&bytes[start..]);
    if start + width == end && width > 0 {
        (character, width)
    } else {
        (REPLACEMENT, 1)
    }
}

/// Go string bytes as a Rust string, each invalid byte becoming U+FFFD
/// (what Go's `json.Marshal` and `strings.Builder.WriteRune(DecodeRune(..))` do).
pub fn lossy(bytes: &[u8]) -> Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                out.push_str(text);
                break;
            }
            Err(error) => {
                let (valid, after) = rest.split_at(error.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                let (character, width) = decode_rune(after);
                out.push(character);
                rest = &after[width.max(1)..];
            }
        }
    }
    Cow::Owned(out)
}

/// Whether a decoded `(rune, width)` stands for an invalid byte rather than a
/// U+FFFD written in the text.
#[inline]
pub fn is_invalid(rune: char, width: usize) -> bool {
    rune == REPLACEMENT && width == 1
}

/// The code points of `bytes` the way Go ranges over a string: each byte of
/// an invalid sequence becomes one U+FFFD.
pub fn runes(bytes: &[u8]) -> Vec<u32> {
    let mut out = Vec::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.extend(chunk.valid().chars().map(u32::from));
        out.extend(std::iter::repeat_n(
            u32::from(REPLACEMENT),
            chunk.invalid().len(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lossy_replaces_each_invalid_byte() {
        assert_eq!(lossy(b"a\xE2\x82b"), "a\u{FFFD}\u{FFFD}b");
        assert_eq!(lossy(b"\xFFok"), "\u{FFFD}ok");
        assert_eq!(lossy(b"ok\xF0"), "ok\u{FFFD}");
        assert_eq!(lossy("h\u{e9}llo".as_bytes()), "h\u{e9}llo");
    }

    #[test]
    fn decode_rune_handles_invalid_and_empty_input() {
        assert_eq!(decode_rune("é".as_bytes()), ('é', 2));
        assert_eq!(decode_rune(b"\xC3"), (REPLACEMENT, 1));
        assert_eq!(decode_rune(b"\xFF"), (REPLACEMENT, 1));
        assert_eq!(decode_rune(b""), (REPLACEMENT, 0));
    }

    #[test]
    fn decode_last_rune_handles_truncation() {
        assert_eq!(decode_last_rune("é".as_bytes()), ('é', 2));
        assert_eq!(decode_last_rune(b"a\xC3"), (REPLACEMENT, 1));
    }

    #[test]
    fn runes_split_invalid_bytes() {
        let replacement = u32::from(REPLACEMENT);
        assert_eq!(runes(b"a\xe2\x82A"), vec![97, replacement, replacement, 65]);
        assert_eq!(runes("☺".as_bytes()), vec![0x263A]);
    }
}
