//! The `created_by` texts of image history, formatted exactly as docker's
//! BuildKit writes them (Go's `%q` and `%v` of slices; durations are
//! [`strata_go::time::format_duration`]'s).

use strata_go::strconv;

/// Go's `fmt.Sprintf("%q", slice)`: `["a" "b"]`.
pub(crate) fn quoted_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| strconv::quote(item)).collect();
    format!("[{}]", quoted.join(" "))
}

/// Go's `fmt.Sprintf("%v", slice)`: `[a b]`.
pub(crate) fn plain_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
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
