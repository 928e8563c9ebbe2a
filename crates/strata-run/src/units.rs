//! Docker's value parsers: sizes (`-m 512m`) and CPU counts (`--cpus 1.5`),
//! with Docker's and Go's error texts. Go durations (`--health-interval
//! 1m30s`) are [`strata_go::time`]'s.

use crate::error::{Error, Result};

/// Bytes in a size as go-units' `RAMInBytes` reads it: `512m`, `1.5g`, `64k`,
/// `512mb`, `2GiB`, `100` (bytes); units are binary and case-insensitive.
pub fn parse_memory(value: &str) -> Result<u64> {
    let invalid = || Error::InvalidSize {
        value: value.to_owned(),
    };
    let (number, unit) = split_size(value).ok_or_else(invalid)?;
    // `(\.\d+)*` lets "1.2.3" through the pattern; ParseFloat then refuses it.
    if number.matches('.').count() > 1 {
        return Err(Error::InvalidSizeNumber {
            value: number.to_owned(),
        });
    }
    let number: f64 = number.parse().map_err(|_| Error::InvalidSizeNumber {
        value: number.to_owned(),
    })?;
    let multiplier = match unit {
        Some(letter) => 1024f64.powi(unit_power(letter)),
        None => 1.0,
    };
    let bytes = number * multiplier;
    if bytes >= 2f64.powi(63) {
        return Err(invalid());
    }
    // Go truncates the float, as `int64(size)` does.
    Ok(bytes as u64)
}

/// go-units' pattern `^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`, by hand:
/// the number and the unit letter.
fn split_size(value: &str) -> Option<(&str, Option<u8>)> {
    let bytes = value.as_bytes();
    let mut end = 0;
    loop {
        let digits = bytes[end..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        end += digits;
        if bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit) {
            end += 1;
            continue;
        }
        break;
    }
    let (number, mut rest) = value.split_at(end);
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    let mut unit = None;
    if let Some(&first) = rest.as_bytes().first()
        && b"kKmMgGtTpP".contains(&first)
    {
        unit = Some(first.to_ascii_lowercase());
        rest = &rest[1..];
    }
    rest = rest.strip_prefix(['i', 'I']).unwrap_or(rest);
    rest = rest.strip_prefix(['b', 'B']).unwrap_or(rest);
    rest.is_empty().then_some((number, unit))
}

fn unit_power(letter: u8) -> i32 {
    match letter {
        b'k' => 1,
        b'm' => 2,
        b'g' => 3,
        b't' => 4,
        _ => 5,
    }
}

/// `--cpus` in billionths of a CPU (Docker's `NanoCPUs`), read as Go's
/// `big.Rat` reads a decimal number: `1.5`, `3/2`, `2e-1`, `-1` (its `0x`,
/// `0o`, `0b` forms are refused); more than nine decimals is "value is too
/// precise". Range checks are [`check_cpus`]'s.
pub fn parse_cpus(value: &str) -> Result<i64> {
    let not_rational = || Error::InvalidCpus {
        value: value.to_owned(),
    };
    let rational = parse_rational(value).ok_or_else(not_rational)?;
    rational.nanos().ok_or_else(|| Error::CpusTooPrecise {
        value: value.to_owned(),
    })
}

/// The daemon's range check of `NanoCPUs` against the CPUs this process may
/// use (`sched_getaffinity`): 0 means unset, negative or more than the CPUs
/// is Docker's "Range of CPUs ..." error.
pub fn check_cpus(nano_cpus: i64) -> Result<()> {
    let available = available_cpus();
    let limit = i64::try_from(available)
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000_000);
    if nano_cpus < 0 || nano_cpus > limit {
        return Err(Error::CpusOutOfRange { available });
    }
    Ok(())
}

/// CPUs this process may run on (`sched_getaffinity`), as Docker's `sysinfo.NumCPU`.
pub fn available_cpus() -> usize {
    match rustix::thread::sched_getaffinity(None) {
        Ok(set) if set.count() > 0 => set.count() as usize,
        _ => std::thread::available_parallelism().map_or(1, usize::from),
    }
}

/// A rational number as sign, numerator digits and a power of ten:
/// `numerator * 10^exponent / denominator`.
struct Rational {
    negative: bool,
    numerator: u128,
    exponent: i64,
    denominator: u128,
}

impl Rational {
    /// `self * 10^9` when it is a whole number that fits an i64.
    fn nanos(&self) -> Option<i64> {
        let exponent = self.exponent + 9;
        let mut value = self.numerator;
        let mut denominator = self.denominator;
        if exponent >= 0 {
            for _ in 0..exponent {
                if value == 0 {
                    break;
                }
                value = value.checked_mul(10)?;
            }
        } else {
            for _ in 0..exponent.unsigned_abs() {
                denominator = denominator.checked_mul(10)?;
            }
        }
        if !value.is_multiple_of(denominator) {
            return None;
        }
        let magnitude = i64::try_from(value / denominator).ok()?;
        Some(if self.negative { -magnitude } else { magnitude })
    }
}

/// Go's `Rat.SetString` for decimal text: `[+-]a/b` with integers, or
/// `[+-]digits[.digits][e[+-]digits]`.
fn parse_rational(text: &str) -> Option<Rational> {
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if let Some((numerator, denominator)) = unsigned.split_once('/') {
        let numerator = parse_digits(numerator)?;
        let denominator = parse_digits(denominator)?;
        if denominator == 0 {
            return None;
        }
        return Some(Rational {
            negative,
            numerator,
            exponent: 0,
            denominator,
        });
    }
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => (&unsigned[..at], parse_exponent(&unsigned[at + 1..])?),
        None => (unsigned, 0),
    };
    let (integer, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if integer.is_empty() && fraction.is_empty() {
        return None;
    }
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(integer) || !all_digits(fraction) {
        return None;
    }
    let digits = format!("{integer}{fraction}");
    let significant = digits.trim_start_matches('0');
    let numerator = if significant.is_empty() {
        0
    } else {
        significant.parse().ok()?
    };
    let fraction_length = i64::try_from(fraction.len()).ok()?;
    Some(Rational {
        negative,
        numerator,
        exponent: exponent.checked_sub(fraction_length)?,
        denominator: 1,
    })
}

fn parse_digits(text: &str) -> Option<u128> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = text.trim_start_matches('0');
    if significant.is_empty() {
        return Some(0);
    }
    significant.parse().ok()
}

fn parse_exponent(text: &str) -> Option<i64> {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 6 {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_sizes_read_as_go_units_does() {
        let table: &[(&str, u64)] = &[
            ("512m", 512 << 20),
            ("512M", 512 << 20),
            ("512mb", 512 << 20),
            ("512MiB", 512 << 20),
            ("1g", 1 << 30),
            ("1.5g", 3 << 29),
            ("64k", 64 << 10),
            ("100", 100),
            ("100b", 100),
            ("32 m", 32 << 20),
            ("2t", 2 << 40),
            ("1p", 1 << 50),
            ("0", 0),
            ("0.5k", 512),
            ("1 ", 1),
            ("7i", 7),
            ("1.0000001k", 1024),
        ];
        for (text, bytes) in table {
            assert_eq!(parse_memory(text).unwrap(), *bytes, "{text}");
        }
    }

    #[test]
    fn bad_memory_sizes_get_dockers_messages() {
        for text in [
            "x", "", "-1", "1x", "1kk", "m", "1.k", ".5m", " 1", "1  m", "1e3",
        ] {
            assert_eq!(
                parse_memory(text).unwrap_err().to_string(),
                format!("invalid size: '{text}'"),
            );
        }
        assert_eq!(
            parse_memory("1.2.3m").unwrap_err().to_string(),
            r#"strconv.ParseFloat: parsing "1.2.3": invalid syntax"#
        );
        assert!(parse_memory("9000000p").is_err());
    }

    #[test]
    fn cpus_read_as_big_rat_does() {
        let table: &[(&str, i64)] = &[
            ("1.5", 1_500_000_000),
            ("2", 2_000_000_000),
            ("0.01", 10_000_000),
            ("3/2", 1_500_000_000),
            ("1e-3", 1_000_000),
            ("1.5E1", 15_000_000_000),
            ("-1", -1_000_000_000),
            ("+.5", 500_000_000),
            ("0.000000001", 1),
            ("0", 0),
            ("007", 7_000_000_000),
        ];
        for (text, nanos) in table {
            assert_eq!(parse_cpus(text).unwrap(), *nanos, "{text}");
        }
    }

    #[test]
    fn bad_cpus_get_dockers_messages() {
        for text in [
            "1.5x", "", "x", "1/0", ".", "1..2", "1/", "1e", "1/-2", "--1",
        ] {
            assert_eq!(
                parse_cpus(text).unwrap_err().to_string(),
                format!("failed to parse {text} as a rational number"),
            );
        }
        assert_eq!(
            parse_cpus("0.0000000001").unwrap_err().to_string(),
            "value is too precise"
        );
        assert_eq!(
            parse_cpus("1/3").unwrap_err().to_string(),
            "value is too precise"
        );
    }

    #[test]
    fn cpus_beyond_this_machine_are_refused() {
        let available = available_cpus();
        let all = i64::try_from(available).unwrap() * 1_000_000_000;
        assert!(check_cpus(all).is_ok());
        assert!(check_cpus(0).is_ok());
        assert_eq!(
            check_cpus(all + 1).unwrap_err().to_string(),
            format!(
                "Range of CPUs is from 0.01 to {available}.00, as there are only {available} CPUs available"
            )
        );
        assert!(check_cpus(-1).is_err());
    }
}
