//! The `created_by` texts of image history, formatted exactly as docker's
//! BuildKit writes them (Go's `%q` and `%v` of slices and durations).

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

/// BuildKit's `runCommandString`: `|2 A=1 B= /bin/sh -c make` (the build
/// arguments declared in the stage, each once, in the place of its first
/// declaration, with the value the step sees).
pub(crate) fn run_command(args: &[String], declared: &[(String, String)]) -> String {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (key, value) in declared {
        match pairs.iter_mut().find(|(known, _)| known == key) {
            Some(pair) => pair.1 = value,
            None => pairs.push((key, value)),
        }
    }
    let mut parts: Vec<String> = Vec::new();
    if !pairs.is_empty() {
        parts.push(format!("|{}", pairs.len()));
        parts.extend(pairs.iter().map(|(key, value)| format!("{key}={value}")));
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
    fn lists() {
        let items = vec![
            "/bin/sh".to_owned(),
            "-c".to_owned(),
            "echo \"hi\"".to_owned(),
        ];
        assert_eq!(quoted_list(&items), r#"["/bin/sh" "-c" "echo \"hi\""]"#);
        assert_eq!(plain_list(&items[..2]), "[/bin/sh -c]");
        assert_eq!(
            run_command(
                &items[..2],
                &[("A".into(), "1".into()), ("B".into(), String::new())]
            ),
            "|2 A=1 B= /bin/sh -c"
        );
        let twice = [
            ("A".into(), "1".into()),
            ("B".into(), "b".into()),
            ("A".into(), "2".into()),
        ];
        assert_eq!(run_command(&items[..1], &twice), "|2 A=2 B=b /bin/sh");
    }
}
