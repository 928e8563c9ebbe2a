//! go-units' humanized sizes (`HumanSizeWithPrecision(size, 3)`: decimal
//! units, three significant digits) and durations (`HumanDuration`).

use jiff::Timestamp;

const DECIMAL_UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/// `4.26MB`, `712B`, `1e+03kB`: go-units' `HumanSizeWithPrecision(size, 3)`.
pub(crate) fn size(bytes: u64) -> String {
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < DECIMAL_UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    format!("{}{}", go_g(value, 3), DECIMAL_UNITS[unit])
}

/// Go's `%.{precision}g`: shortest of fixed or exponent form, trailing zeros trimmed.
pub(crate) fn go_g(value: f64, precision: usize) -> String {
    if value == 0.0 {
        return "0".to_owned();
    }
    let precision = precision.max(1);
    // Round to `precision` significant digits through Rust's exponent formatting.
    let scientific = format!("{:.*e}", precision - 1, value);
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i32 {
        let mantissa = trim_zeros(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
    trim_zeros(&format!("{value:.decimals$}"))
}

fn trim_zeros(text: &str) -> String {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text.to_owned()
    }
}

/// go-units' `HumanDuration`.
pub(crate) fn duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let minutes = seconds / 60;
    // Go rounds to the nearest hour here.
    let hours = (seconds + 1800) / 3600;
    if seconds < 1 {
        "Less than a second".to_owned()
    } else if seconds == 1 {
        "1 second".to_owned()
    } else if seconds < 60 {
        format!("{seconds} seconds")
    } else if minutes == 1 {
        "About a minute".to_owned()
    } else if minutes < 60 {
        format!("{minutes} minutes")
    } else if hours == 1 {
        "About an hour".to_owned()
    } else if hours < 48 {
        format!("{hours} hours")
    } else if hours < 24 * 7 * 2 {
        format!("{} days", hours / 24)
    } else if hours < 24 * 30 * 2 {
        format!("{} weeks", hours / 24 / 7)
    } else if hours < 24 * 365 * 2 {
        format!("{} months", hours / 24 / 30)
    } else {
        format!("{} years", seconds / 3600 / 24 / 365)
    }
}

/// `2 months ago` for an RFC 3339 time, `N/A` when absent or unparsable.
pub(crate) fn since(created: Option<&str>, now: Timestamp) -> String {
    match created.and_then(|text| text.parse::<Timestamp>().ok()) {
        Some(created) => format!("{} ago", duration(now.as_second() - created.as_second())),
        None => "N/A".to_owned(),
    }
}

/// Go's `time.Time.String()` in UTC: `2024-01-02 03:04:05 +0000 UTC`.
pub(crate) fn go_time(created: Option<&str>) -> String {
    match created.and_then(|text| text.parse::<Timestamp>().ok()) {
        Some(time) => time.strftime("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
        None => "0001-01-01 00:00:00 +0000 UTC".to_owned(),
    }
}

/// RFC 3339 to the second in UTC (`docker history`'s CreatedAt).
pub(crate) fn rfc3339(created: Option<&str>) -> String {
    match created.and_then(|text| text.parse::<Timestamp>().ok()) {
        Some(time) => time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        None => "0001-01-01T00:00:00Z".to_owned(),
    }
}

/// Truncates to `width` characters with a trailing `…` (docker's `Ellipsis`).
pub(crate) fn ellipsis(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_go_units() {
        for (bytes, text) in [
            (0, "0B"),
            (712, "712B"),
            (1000, "1kB"),
            (4_261_550, "4.26MB"),
            (999_900, "1e+03kB"),
            (1_234_567_890, "1.23GB"),
            (10_500, "10.5kB"),
            (100_000, "100kB"),
        ] {
            assert_eq!(size(bytes), text, "{bytes}");
        }
    }

    #[test]
    fn durations_like_go_units() {
        for (seconds, text) in [
            (0, "Less than a second"),
            (1, "1 second"),
            (45, "45 seconds"),
            (90, "About a minute"),
            (600, "10 minutes"),
            (3600, "About an hour"),
            (5 * 3600, "5 hours"),
            (3 * 86400, "3 days"),
            (20 * 86400, "2 weeks"),
            (70 * 86400, "2 months"),
            (800 * 86400, "2 years"),
        ] {
            assert_eq!(duration(seconds), text, "{seconds}");
        }
    }

    #[test]
    fn times_and_ellipsis() {
        assert_eq!(
            go_time(Some("2024-01-02T03:04:05.5Z")),
            "2024-01-02 03:04:05 +0000 UTC"
        );
        assert_eq!(
            rfc3339(Some("2024-01-02T03:04:05.5Z")),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(ellipsis("abcdef", 4), "abc…");
        assert_eq!(ellipsis("abc", 4), "abc");
    }
}
