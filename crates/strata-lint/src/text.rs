//! Small text helpers shared by the rules: Go's `path.Clean` and BuildKit's
//! did-you-mean search.

/// Go's `path.Clean` over `/`-separated text ("" gives ".").
pub(crate) fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|last| *last != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// BuildKit's `suggest.Search`: the option closest to `value` by Levenshtein
/// distance, if closer than 3 and not equal; case kept like the value's.
pub(crate) fn suggest(value: &str, options: &[&str], case_sensitive: bool) -> Option<String> {
    let value_compared = if case_sensitive {
        value.to_string()
    } else {
        value.to_lowercase()
    };
    let mut best: Option<String> = None;
    let mut minimum = 3;
    for option in options {
        let option_compared = if case_sensitive {
            option.to_string()
        } else {
            option.to_lowercase()
        };
        if value_compared == option_compared {
            return None;
        }
        let distance = strsim::levenshtein(&value_compared, &option_compared);
        if distance < minimum {
            best = Some(if case_sensitive {
                option_compared
            } else if value == value.to_lowercase() {
                option_compared.to_lowercase()
            } else if value == value.to_uppercase() {
                option_compared.to_uppercase()
            } else {
                option_compared
            });
            minimum = distance;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean() {
        assert_eq!(clean_path("./a/../b/"), "b");
        assert_eq!(clean_path("/../x"), "/x");
        assert_eq!(clean_path("."), ".");
        assert_eq!(clean_path("./"), ".");
        assert_eq!(clean_path("../a"), "../a");
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("VERSON", &["VERSION", "PATH"], true),
            Some("VERSION".into())
        );
        assert_eq!(suggest("VERSION", &["VERSION"], true), None);
        assert_eq!(suggest("XYZABC", &["VERSION"], true), None);
    }
}
