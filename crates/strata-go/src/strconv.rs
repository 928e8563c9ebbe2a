//! Go's `strconv`: `Quote`, `ParseBool`, `ParseUint` and `ParseInt`, with
//! Go's error texts.

use crate::unicode::is_print;
use crate::utf8::{decode_rune, is_invalid};

/// Go's `strconv.Quote`.
pub fn quote(text: &str) -> String {
    quote_bytes(text.as_bytes())
}

/// Go's `strconv.Quote` of a byte string (invalid bytes as `\xNN`).
pub fn quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    let mut position = 0;
    while position < bytes.len() {
        let (character, width) = decode_rune(&bytes[position..]);
        if is_invalid(character, width) {
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

/// Go's `strconv.ParseBool`.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseUint(text, radix, bits)`: no sign, no prefix, no
/// underscores; the error is Go's message.
pub fn parse_uint(text: &str, radix: u32, bits: u32) -> Result<u64, String> {
    let error = |reason: &str| format!("strconv.ParseUint: parsing {}: {reason}", quote(text));
    if text.is_empty() || !text.chars().all(|c| c.is_digit(radix)) {
        return Err(error("invalid syntax"));
    }
    let maximum = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    match u64::from_str_radix(text, radix) {
        Ok(value) if value <= maximum => Ok(value),
        _ => Err(error("value out of range")),
    }
}

/// Go's `strconv.ParseInt(text, 10, bits)`: an optional sign, then digits;
/// the error is Go's message.
pub fn parse_int(text: &str, bits: u32) -> Result<i64, String> {
    let error = |reason: &str| format!("strconv.ParseInt: parsing {}: {reason}", quote(text));
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error("invalid syntax"));
    }
    let limit = 1i128 << (bits.clamp(1, 64) - 1);
    let magnitude: i128 = digits.parse().unwrap_or(i128::MAX);
    let value = if text.starts_with('-') {
        -magnitude
    } else {
        magnitude
    };
    if value < -limit || value >= limit {
        return Err(error("value out of range"));
    }
    i64::try_from(value).map_err(|_| error("value out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_matches_go() {
        assert_eq!(quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(quote("\u{0}"), r#""\x00""#);
        assert_eq!(quote("♥☃"), "\"♥☃\"");
        assert_eq!(quote("\u{A0}"), r#""\u00a0""#);
        assert_eq!(quote("\u{7F}"), r#""\x7f""#);
        assert_eq!(quote("\u{E0001}"), r#""\U000e0001""#);
        assert_eq!(quote_bytes(b"\xFF"), r#""\xff""#);
        assert_eq!(quote_bytes(b"a\xE2\x82"), r#""a\xe2\x82""#);
    }

    #[test]
    fn integers_and_booleans() {
        assert_eq!(parse_uint("755", 8, 32), Ok(0o755));
        assert!(parse_uint("8", 8, 32).is_err());
        assert!(parse_uint("+1", 10, 32).is_err());
        assert_eq!(
            parse_uint("4294967296", 10, 32),
            Err("strconv.ParseUint: parsing \"4294967296\": value out of range".into())
        );
        assert_eq!(parse_int("-3", 32), Ok(-3));
        assert_eq!(parse_int("+3", 64), Ok(3));
        assert_eq!(parse_int("-9223372036854775808", 64), Ok(i64::MIN));
        assert_eq!(
            parse_int("99999999999", 32),
            Err("strconv.ParseInt: parsing \"99999999999\": value out of range".into())
        );
        assert_eq!(
            parse_int("9223372036854775808", 64),
            Err("strconv.ParseInt: parsing \"9223372036854775808\": value out of range".into())
        );
        assert_eq!(
            parse_int("1_000", 64),
            Err("strconv.ParseInt: parsing \"1_000\": invalid syntax".into())
        );
        assert_eq!(parse_bool("T"), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("yes"), None);
        assert_eq!(parse_bool("tRUE"), None);
    }
}
