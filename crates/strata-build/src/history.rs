//! The `created_by` texts of image history, formatted exactly as docker's
//! BuildKit writes them (Go's `%q` and `%v` of slices, maps and durations).

use std::fmt::Write as _;

use strata_dockerfile::go_quote;

/// Go's `fmt.Sprintf("%q", slice)`: `["a" "b"]`.
pub(crate) fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| go_quote(item)).collect();
    format!("[{}]", quoted.join(" "))
}

/// Go's `fmt.Sprintf("%v", slice)`: `[a b]`.
pub(crate) fn plain_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// Go's `%v` of a `map[string]struct{}`: `map[a:{} b:{}]`, keys sorted.
pub(crate) fn set_map(keys: &[String]) -> String {
    let mut keys: Vec<&String> = keys.iter().collect();
    keys.sort();
    keys.dedup();
    let entries: Vec<String> = keys.iter().map(|key| format!("{key}:{{}}")).collect();
    format!("map[{}]", entries.join(" "))
}

/// Go's `time.Duration.String()` for nanoseconds: `1h2m3.5s`, `1.5ms`, `0s`.
pub(crate) fn go_duration(nanoseconds: i64) -> String {
    if nanoseconds == 0 {
        return "0s".to_owned();
    }
    let negative = nanoseconds < 0;
    let total = nanoseconds.unsigned_abs();
    let mut out = String::new();
    if total < 1_000_000_000 {
        // Sub-second: the largest unit that keeps the number at least 1.
        let (unit, scale) = if total < 1_000 {
            ("ns", 1)
        } else if total < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        out.push_str(&fraction(total, scale));
        out.push_str(unit);
    } else {
        let seconds_part = total % 60_000_000_000;
        let minutes = total / 60_000_000_000;
        let hours = minutes / 60;
        let minutes = minutes % 60;
        if hours > 0 {
            let _ = write!(out, "{hours}h");
        }
        if hours > 0 || minutes > 0 {
            let _ = write!(out, "{minutes}m");
        }
        out.push_str(&fraction(seconds_part, 1_000_000_000));
        out.push('s');
    }
    if negative { format!("-{out}") } else { out }
}

/// `value / scale` with the fraction's trailing zeros dropped.
fn fraction(value: u64, scale: u64) -> String {
    let whole = value / scale;
    let rest = value % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let digits = scale.to_string().len() - 1;
    let mut fraction = format!("{rest:0digits$}");
    while fraction.ends_with('0') {
        fraction.pop();
    }
    format!("{whole}.{fraction}")
}

/// Go's `%q` of an integer: a quoted character literal (`'\x02'`, `'A'`).
pub(crate) fn go_quote_rune(value: i64) -> String {
    let Some(character) = u32::try_from(value).ok().and_then(char::from_u32) else {
        return "'\u{fffd}'".to_owned();
    };
    let inner = match character {
        '\'' => "\\'".to_owned(),
        '\\' => "\\\\".to_owned(),
        '\u{7}' => "\\a".to_owned(),
        '\u{8}' => "\\b".to_owned(),
        '\u{c}' => "\\f".to_owned(),
        '\n' => "\\n".to_owned(),
        '\r' => "\\r".to_owned(),
        '\t' => "\\t".to_owned(),
        '\u{b}' => "\\v".to_owned(),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => format!("\\x{:02x}", c as u32),
        c if (c as u32) < 0x80 => c.to_string(),
        c if c.is_control() => {
            if (c as u32) < 0x10000 {
                format!("\\u{:04x}", c as u32)
            } else {
                format!("\\U{:08x}", c as u32)
            }
        }
        c => c.to_string(),
    };
    format!("'{inner}'")
}

/// BuildKit's `runCommandString`: `|2 A=1 B= /bin/sh -c make` (the build
/// arguments declared in the stage, with the value the step sees).
pub(crate) fn run_command(args: &[String], declared: &[(String, String)]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !declared.is_empty() {
        parts.push(format!("|{}", declared.len()));
        parts.extend(declared.iter().map(|(key, value)| format!("{key}={value}")));
    }
    parts.extend(args.iter().cloned());
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_go() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(5_000_000_000), "5s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(3_600_000_000_000), "1h0m0s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(1_500_000), "1.5ms");
        assert_eq!(go_duration(2_000), "2µs");
        assert_eq!(go_duration(999), "999ns");
        assert_eq!(go_duration(3_723_000_000_000), "1h2m3s");
    }

    #[test]
    fn runes_quote_like_go() {
        assert_eq!(go_quote_rune(2), "'\\x02'");
        assert_eq!(go_quote_rune(0), "'\\x00'");
        assert_eq!(go_quote_rune(65), "'A'");
        assert_eq!(go_quote_rune(10), "'\\n'");
        assert_eq!(go_quote_rune(39), "'\\''");
    }

    #[test]
    fn lists_and_maps() {
        let items = vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            "echo \"hi\"".to_owned(),
        ];
        assert_eq!(quoted_list(&items), r#"["/bin/sh" "-c" "echo \"hi\""]"#);
        assert_eq!(plain_list(&items[..2]), "[/bin/sh -c]");
        assert_eq!(
            set_map(&["8080/tcp".to_owned(), "53/udp".to_owned()]),
            "map[53/udp:{} 8080/tcp:{}]"
        );
        assert_eq!(
            run_command(
                &items[..2],
                &[("A".into(), "1".into()), ("B".into(), String::new())]
            ),
            "|2 A=1 B= /bin/sh -c"
        );
    }
}
