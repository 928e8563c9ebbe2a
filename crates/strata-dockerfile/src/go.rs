//! Small Go standard-library parsers whose exact acceptance BuildKit's
//! instructions inherit: `time.ParseDuration`, `strconv.ParseBool`,
//! `strconv.ParseUint`/`ParseInt`.

/// Go's `time` package quoting of a value in an error message.
fn time_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for character in text.chars() {
        if !character.is_ascii() || character < ' ' {
            let mut buffer = [0u8; 4];
            for byte in character.encode_utf8(&mut buffer).bytes() {
                out.push_str(&format!("\\x{byte:02x}"));
            }
        } else {
            if character == '"' || character == '\\' {
                out.push('\\');
            }
            out.push(character);
        }
    }
    out.push('"');
    out
}

const MAXIMUM: u64 = 1 << 63;

/// Go's `time.ParseDuration`, in nanoseconds; the error is Go's message.
pub(crate) fn parse_duration(text: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", time_quote(text));
    let mut rest = text;
    let mut negative = false;
    if let Some(first @ ('-' | '+')) = rest.chars().next() {
        negative = first == '-';
        rest = &rest[1..];
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        let bytes = rest.as_bytes();
        if !(bytes[0] == b'.' || bytes[0].is_ascii_digit()) {
            return Err(invalid());
        }
        // Leading integer.
        let mut value: u64 = 0;
        let mut index = 0;
        while index < bytes.len() && bytes[index].is_ascii_digit() {
            if value > MAXIMUM / 10 {
                return Err(invalid());
            }
            value = value * 10 + u64::from(bytes[index] - b'0');
            if value > MAXIMUM {
                return Err(invalid());
            }
            index += 1;
        }
        let before_period = index > 0;
        let mut fraction: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut after_period = false;
        if index < bytes.len() && bytes[index] == b'.' {
            index += 1;
            let fraction_start = index;
            let mut overflow = false;
            while index < bytes.len() && bytes[index].is_ascii_digit() {
                if !overflow {
                    if fraction > (MAXIMUM - 1) / 10 {
                        overflow = true;
                    } else {
                        let next = fraction * 10 + u64::from(bytes[index] - b'0');
                        if next > MAXIMUM {
                            overflow = true;
                        } else {
                            fraction = next;
                            scale *= 10.0;
                        }
                    }
                }
                index += 1;
            }
            after_period = index > fraction_start;
        }
        if !before_period && !after_period {
            return Err(invalid());
        }
        let unit_start = index;
        while index < bytes.len() && !(bytes[index] == b'.' || bytes[index].is_ascii_digit()) {
            index += 1;
        }
        if index == unit_start {
            return Err(format!(
                "time: missing unit in duration {}",
                time_quote(text)
            ));
        }
        let unit_text = &rest[unit_start..index];
        let unit: u64 = match unit_text {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    time_quote(unit_text),
                    time_quote(text)
                ));
            }
        };
        rest = &rest[index..];
        if value > MAXIMUM / unit {
            return Err(invalid());
        }
        value *= unit;
        if fraction > 0 {
            value += (fraction as f64 * (unit as f64 / scale)) as u64;
            if value > MAXIMUM {
                return Err(invalid());
            }
        }
        total += value;
        if total > MAXIMUM {
            return Err(invalid());
        }
    }
    if negative {
        return Ok((total as i64).wrapping_neg());
    }
    if total > MAXIMUM - 1 {
        return Err(invalid());
    }
    Ok(total as i64)
}

/// Formats nanoseconds like Go's `Duration.String` (`1m30s`, `1.5s`, `300ms`, `0s`).
pub(crate) fn format_duration(nanoseconds: i64) -> String {
    if nanoseconds == 0 {
        return "0s".to_string();
    }
    let negative = nanoseconds < 0;
    let value = nanoseconds.unsigned_abs();
    let sign = if negative { "-" } else { "" };
    if value < 1_000_000_000 {
        let (unit, divisor) = if value < 1_000 {
            return format!("{sign}{value}ns");
        } else if value < 1_000_000 {
            ("\u{b5}s", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", fraction_text(value, divisor));
    }
    let seconds_total = value / 1_000_000_000;
    let hours = seconds_total / 3600;
    let minutes = (seconds_total / 60) % 60;
    let seconds = fraction_text(value % 60_000_000_000, 1_000_000_000);
    let mut out = sign.to_string();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if hours > 0 || minutes > 0 {
        out.push_str(&format!("{minutes}m"));
    }
    out.push_str(&format!("{seconds}s"));
    out
}

fn fraction_text(value: u64, divisor: u64) -> String {
    let whole = value / divisor;
    let remainder = value % divisor;
    if remainder == 0 {
        return whole.to_string();
    }
    let digits = divisor.to_string().len() - 1;
    let fraction = format!("{remainder:0digits$}");
    format!("{whole}.{}", fraction.trim_end_matches('0'))
}

/// Go's `strconv.ParseBool`.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// Go's `strconv.ParseUint(text, radix, bits)`: no sign, no prefix, no underscores.
pub(crate) fn parse_uint(text: &str, radix: u32, bits: u32) -> Result<u64, String> {
    let function = "strconv.ParseUint";
    if text.is_empty() || !text.chars().all(|c| c.is_digit(radix)) {
        return Err(format!(
            "{function}: parsing {}: invalid syntax",
            crate::text::go_quote(text)
        ));
    }
    let maximum = if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    match u64::from_str_radix(text, radix) {
        Ok(value) if value <= maximum => Ok(value),
        _ => Err(format!(
            "{function}: parsing {}: value out of range",
            crate::text::go_quote(text)
        )),
    }
}

/// Go's `strconv.ParseInt(text, 10, bits)`: an optional sign, then digits.
pub(crate) fn parse_int(text: &str, bits: u32) -> Result<i64, String> {
    let quoted = crate::text::go_quote(text);
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "strconv.ParseInt: parsing {quoted}: invalid syntax"
        ));
    }
    let limit = 1i128 << (bits - 1);
    let magnitude: i128 = digits.parse().unwrap_or(i128::MAX);
    let value = if text.starts_with('-') {
        -magnitude
    } else {
        magnitude
    };
    if value < -limit || value >= limit {
        return Err(format!(
            "strconv.ParseInt: parsing {quoted}: value out of range"
        ));
    }
    Ok(value as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(30_000_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_duration(".5s"), Ok(500_000_000));
        assert_eq!(parse_duration("-1ms"), Ok(-1_000_000));
        assert_eq!(parse_duration("0"), Ok(0));
        assert_eq!(parse_duration("1\u{b5}s"), Ok(1_000));
        assert_eq!(
            parse_duration("1"),
            Err("time: missing unit in duration \"1\"".into())
        );
        assert_eq!(
            parse_duration("1x"),
            Err("time: unknown unit \"x\" in duration \"1x\"".into())
        );
        assert_eq!(
            parse_duration("abc"),
            Err("time: invalid duration \"abc\"".into())
        );
        assert!(parse_duration("9999999999h").is_err());
        assert_eq!(format_duration(90_000_000_000), "1m30s");
        assert_eq!(format_duration(1_500_000_000), "1.5s");
        assert_eq!(format_duration(300_000_000), "300ms");
        assert_eq!(format_duration(3_600_000_000_000), "1h0m0s");
    }

    #[test]
    fn integers() {
        assert_eq!(parse_uint("755", 8, 32), Ok(0o755));
        assert!(parse_uint("8", 8, 32).is_err());
        assert!(parse_uint("+1", 10, 32).is_err());
        assert_eq!(parse_int("-3", 32), Ok(-3));
        assert_eq!(
            parse_int("99999999999", 32),
            Err("strconv.ParseInt: parsing \"99999999999\": value out of range".into())
        );
        assert_eq!(parse_bool("T"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }
}
