//! BuildKit's `util/suggest`: the "did you mean" hint of an error about a
//! name, found by Levenshtein distance.

use crate::strings::{to_lower, to_upper};

/// BuildKit's `suggest.Search`: the option closest to `value` by Levenshtein
/// distance (runes), if the distance is below 3; `None` when `value` is itself
/// an option. Options are tried in the order given and the first of equally
/// close ones wins, as over a Go slice (sort first where BuildKit ranges over a
/// map). Without `case_sensitive` the comparison is in lower case and the
/// answer takes the value's case when that is all lower or all upper.
pub fn search(value: &str, options: &[&str], case_sensitive: bool) -> Option<String> {
    let fold = |text: &str| {
        if case_sensitive {
            text.to_string()
        } else {
            to_lower(text)
        }
    };
    let wanted = fold(value);
    let mut best: Option<String> = None;
    let mut best_distance = 3;
    for option in options {
        let candidate = fold(option);
        if candidate == wanted {
            return None;
        }
        let distance = strsim::levenshtein(&wanted, &candidate);
        if distance < best_distance {
            best_distance = distance;
            best = Some(if case_sensitive {
                candidate
            } else {
                match_case(&candidate, value)
            });
        }
    }
    best
}

/// BuildKit's `matchCase`: `candidate` in lower or upper case when `original` is.
fn match_case(candidate: &str, original: &str) -> String {
    if original == to_lower(original) {
        to_lower(candidate)
    } else if original == to_upper(original) {
        to_upper(candidate)
    } else {
        candidate.to_string()
    }
}

/// BuildKit's `suggest.WrapError` message: `message (did you mean X?)` when
/// [`search`] finds an X, else `message` unchanged.
pub fn with_suggestion(
    message: String,
    value: &str,
    options: &[&str],
    case_sensitive: bool,
) -> String {
    match search(value, options, case_sensitive) {
        Some(suggestion) => format!("{message} (did you mean {suggestion}?)"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_insensitive_suggestions_take_the_value_case() {
        assert_eq!(
            search("RUNN", &["RUN", "CMD"], false).as_deref(),
            Some("RUN")
        );
        assert_eq!(
            search("runn", &["RUN", "CMD"], false).as_deref(),
            Some("run")
        );
        assert_eq!(
            search("Runn", &["RUN", "CMD"], false).as_deref(),
            Some("run")
        );
        assert_eq!(search("xyzzy", &["RUN"], false), None);
    }

    #[test]
    fn case_sensitive_suggestions() {
        assert_eq!(
            search("fro", &["from", "chown"], true).as_deref(),
            Some("from")
        );
        assert_eq!(
            search("VERSON", &["VERSION", "PATH"], true),
            Some("VERSION".into())
        );
        assert_eq!(search("VERSION", &["VERSION"], true), None);
        assert_eq!(search("XYZABC", &["VERSION"], true), None);
    }

    #[test]
    fn the_first_of_equally_close_options_wins() {
        assert_eq!(search("ab", &["abc", "abd"], true).as_deref(), Some("abc"));
        assert_eq!(search("ab", &["abd", "abc"], true).as_deref(), Some("abd"));
    }

    #[test]
    fn wrapped_messages() {
        assert_eq!(
            with_suggestion("unknown flag: --frm".into(), "frm", &["from"], true),
            "unknown flag: --frm (did you mean from?)"
        );
        assert_eq!(with_suggestion("x".into(), "zzzz", &["from"], true), "x");
    }
}
