//! Go's `time` package: `ParseDuration`, `Duration.String` and the quoting of
//! its error messages.

use std::fmt;

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000;
const MILLISECOND: u64 = 1_000_000;
const SECOND: u64 = 1_000_000_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
/// The largest magnitude a duration's parts may reach (`-1 << 63` is valid).
const LIMIT: u64 = 1 << 63;

/// A duration `time.ParseDuration` refuses; `Display` is Go's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationError {
    /// The text as given.
    pub text: String,
    /// What is wrong with it.
    pub problem: DurationProblem,
}

/// What is wrong with a Go duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationProblem {
    /// Not a duration at all, or out of range.
    Invalid,
    /// A number without a unit (`10`).
    MissingUnit,
    /// A unit Go does not know (`1x`).
    UnknownUnit(String),
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = quote(&self.text);
        match &self.problem {
            DurationProblem::Invalid => write!(f, "time: invalid duration {text}"),
            DurationProblem::MissingUnit => write!(f, "time: missing unit in duration {text}"),
            DurationProblem::UnknownUnit(unit) => {
                write!(f, "time: unknown unit {} in duration {text}", quote(unit))
            }
        }
    }
}

impl std::error::Error for DurationError {}

/// Go's `time.ParseDuration`, in nanoseconds: `[-+]` then one or more
/// `number[.fraction]unit` with units ns, us, µs, ms, s, m, h (`1m30s`,
/// `1.5h`, `-2s`); `0` alone needs no unit.
pub fn parse_duration(text: &str) -> Result<i64, DurationError> {
    let fail = |problem| DurationError {
        text: text.to_owned(),
        problem,
    };
    let (negative, mut rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(fail(DurationProblem::Invalid));
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let (nanoseconds, after) = component(rest).map_err(fail)?;
        total = total
            .checked_add(nanoseconds)
            .filter(|total| *total <= LIMIT)
            .ok_or(fail(DurationProblem::Invalid))?;
        rest = after;
    }
    let signed = if negative {
        0i64.checked_sub_unsigned(total)
    } else {
        i64::try_from(total).ok()
    };
    signed.ok_or(fail(DurationProblem::Invalid))
}

/// One `number[.fraction]unit` of a duration, in nanoseconds, and what follows.
fn component(text: &str) -> Result<(u64, &str), DurationProblem> {
    let integer_digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if integer_digits == 0 && !text.starts_with('.') {
        return Err(DurationProblem::Invalid);
    }
    let integer = leading_integer(&text[..integer_digits])?;
    let mut rest = &text[integer_digits..];
    let (mut fraction, mut scale, mut fraction_digits) = (0u64, 1f64, 0);
    if let Some(after_point) = rest.strip_prefix('.') {
        fraction_digits = after_point.bytes().take_while(u8::is_ascii_digit).count();
        (fraction, scale) = leading_fraction(&after_point[..fraction_digits]);
        rest = &after_point[fraction_digits..];
    }
    if integer_digits == 0 && fraction_digits == 0 {
        return Err(DurationProblem::Invalid);
    }
    let unit_length = rest
        .find(|c: char| c == '.' || c.is_ascii_digit())
        .unwrap_or(rest.len());
    if unit_length == 0 {
        return Err(DurationProblem::MissingUnit);
    }
    let (unit_text, rest) = rest.split_at(unit_length);
    let unit = unit(unit_text).ok_or_else(|| DurationProblem::UnknownUnit(unit_text.to_owned()))?;
    if integer > LIMIT / unit {
        return Err(DurationProblem::Invalid);
    }
    let mut nanoseconds = integer * unit;
    if fraction > 0 {
        // Go computes the fraction in float64, nanosecond-accurate up to hours.
        nanoseconds += (fraction as f64 * (unit as f64 / scale)) as u64;
        if nanoseconds > LIMIT {
            return Err(DurationProblem::Invalid);
        }
    }
    Ok((nanoseconds, rest))
}

/// The nanoseconds in one of Go's duration units.
fn unit(text: &str) -> Option<u64> {
    Some(match text {
        "ns" => NANOSECOND,
        "us" | "\u{b5}s" | "\u{3bc}s" => MICROSECOND,
        "ms" => MILLISECOND,
        "s" => SECOND,
        "m" => MINUTE,
        "h" => HOUR,
        _ => return None,
    })
}

/// Go's `leadingInt`: past `1 << 63` is an error.
fn leading_integer(digits: &str) -> Result<u64, DurationProblem> {
    let mut value: u64 = 0;
    for digit in digits.bytes() {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(digit - b'0')))
            .filter(|v| *v <= LIMIT)
            .ok_or(DurationProblem::Invalid)?;
    }
    Ok(value)
}

/// Go's `leadingFraction`: digits past what fits are dropped, not an error.
fn leading_fraction(digits: &str) -> (u64, f64) {
    let (mut value, mut scale, mut overflow) = (0u64, 1f64, false);
    for digit in digits.bytes() {
        if overflow {
            continue;
        }
        if value > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let next = value * 10 + u64::from(digit - b'0');
        if next > LIMIT {
            overflow = true;
            continue;
        }
        value = next;
        scale *= 10.0;
    }
    (value, scale)
}

/// Go's `Duration.String` of nanoseconds: `1m30s`, `1h0m0s`, `500ms`,
/// `1.5µs`, `0s`.
pub fn format_duration(nanoseconds: i64) -> String {
    let magnitude = nanoseconds.unsigned_abs();
    let mut text = if magnitude == 0 {
        "0s".to_owned()
    } else if magnitude < SECOND {
        let (unit, precision) = if magnitude < MICROSECOND {
            ("ns", 0)
        } else if magnitude < MILLISECOND {
            ("\u{b5}s", 3)
        } else {
            ("ms", 6)
        };
        format!("{}{unit}", decimal(magnitude, precision))
    } else {
        let seconds = magnitude / SECOND;
        let (hours, minutes) = (seconds / 3600, seconds / 60 % 60);
        let mut text = String::new();
        if hours > 0 {
            text.push_str(&format!("{hours}h"));
        }
        if seconds >= 60 {
            text.push_str(&format!("{minutes}m"));
        }
        text.push_str(&format!("{}s", decimal(magnitude % MINUTE, 9)));
        text
    };
    if nanoseconds < 0 {
        text.insert(0, '-');
    }
    text
}

/// `value / 10^precision` with the fraction's trailing zeros (and a bare
/// point) dropped, as Go's `fmtFrac`.
fn decimal(value: u64, precision: u32) -> String {
    let divisor = 10u64.pow(precision);
    let (integer, fraction) = (value / divisor, value % divisor);
    if fraction == 0 {
        return integer.to_string();
    }
    let digits = format!("{fraction:0width$}", width = precision as usize);
    format!("{integer}.{}", digits.trim_end_matches('0'))
}

/// The `time` package's quoting of a value in an error message: `"` and `\`
/// escaped, each byte of a non-ASCII or control character as `\xNN`
/// (simpler than `strconv.Quote`).
pub fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for character in text.chars() {
        if character.is_ascii() && character >= ' ' {
            if character == '"' || character == '\\' {
                quoted.push('\\');
            }
            quoted.push(character);
        } else {
            let mut buffer = [0; 4];
            for byte in character.encode_utf8(&mut buffer).bytes() {
                quoted.push_str(&format!("\\x{byte:02x}"));
            }
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_go_does() {
        let table: &[(&str, i64)] = &[
            ("0", 0),
            ("-0", 0),
            ("30s", 30_000_000_000),
            ("1m30s", 90_000_000_000),
            ("1.5h", 5_400_000_000_000),
            ("500ms", 500_000_000),
            ("10us", 10_000),
            ("10\u{b5}s", 10_000),
            ("10\u{3bc}s", 10_000),
            ("7ns", 7),
            ("-2s", -2_000_000_000),
            ("-1ms", -1_000_000),
            ("+3m", 180_000_000_000),
            (".5s", 500_000_000),
            ("1.s", 1_000_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("0s", 0),
            ("2562047h47m16.854775807s", i64::MAX),
            ("-2562047h47m16.854775808s", i64::MIN),
        ];
        for (text, nanoseconds) in table {
            assert_eq!(parse_duration(text), Ok(*nanoseconds), "{text}");
        }
    }

    #[test]
    fn bad_durations_get_gos_messages() {
        let table = [
            ("1x", r#"time: unknown unit "x" in duration "1x""#),
            ("1", r#"time: missing unit in duration "1""#),
            ("10", r#"time: missing unit in duration "10""#),
            ("", r#"time: invalid duration """#),
            ("-", r#"time: invalid duration "-""#),
            ("s", r#"time: invalid duration "s""#),
            ("abc", r#"time: invalid duration "abc""#),
            (".s", r#"time: invalid duration ".s""#),
            ("1s-2s", r#"time: unknown unit "s-" in duration "1s-2s""#),
            ("1s.", r#"time: invalid duration "1s.""#),
            ("3000000h", r#"time: invalid duration "3000000h""#),
            ("9999999999h", r#"time: invalid duration "9999999999h""#),
            (
                "2562047h47m16.854775808s",
                r#"time: invalid duration "2562047h47m16.854775808s""#,
            ),
            (
                "1é",
                "time: unknown unit \"\\xc3\\xa9\" in duration \"1\\xc3\\xa9\"",
            ),
            (
                "1\"s",
                "time: unknown unit \"\\\"s\" in duration \"1\\\"s\"",
            ),
            (
                "1\u{7f}",
                "time: unknown unit \"\u{7f}\" in duration \"1\u{7f}\"",
            ),
            (
                "1\ts",
                "time: unknown unit \"\\x09s\" in duration \"1\\x09s\"",
            ),
        ];
        for (text, message) in table {
            assert_eq!(
                parse_duration(text).unwrap_err().to_string(),
                message,
                "{text}"
            );
        }
    }

    #[test]
    fn durations_print_as_go_does() {
        let table: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (999, "999ns"),
            (2_000, "2\u{b5}s"),
            (1_100, "1.1\u{b5}s"),
            (1_500_000, "1.5ms"),
            (2_200_000, "2.2ms"),
            (500_000_000, "500ms"),
            (1_000_000_000, "1s"),
            (1_500_000_000, "1.5s"),
            (90_000_000_000, "1m30s"),
            (3_600_000_000_000, "1h0m0s"),
            (3_723_000_000_000, "1h2m3s"),
            (3_723_004_005_006, "1h2m3.004005006s"),
            (-90_000_000_000, "-1m30s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ];
        for (nanoseconds, text) in table {
            assert_eq!(format_duration(*nanoseconds), *text);
        }
    }
}
