//! Mechanical fixes, each a set of byte edits that leaves every other byte of
//! the Dockerfile as it was, and [`apply_fixes`] to apply them.
//!
//! A fix is offered only when it is exact: the rewritten instruction means
//! what the original meant (a shell-form CMD becomes exec form only when the
//! shell would have passed the same words; a legacy `ENV k v` becomes
//! `k=v` only when the value reads the same), and never across a comment.

use strata_dockerfile::{Dockerfile, Instruction, Span, split_words};

use crate::diagnostic::{Diagnostic, Edit, Fix};

/// A fix replacing `span` with `text`.
pub(crate) fn replace(span: Span, text: String, description: &str) -> Option<Fix> {
    Some(Fix {
        description: description.to_string(),
        edits: vec![Edit {
            span,
            replacement: text,
        }],
    })
}

/// Whether a comment line lies inside `span` (a continuation's comment would
/// be lost by replacing the span).
fn has_comment_inside(dockerfile: &Dockerfile, span: Span) -> bool {
    dockerfile
        .comments
        .iter()
        .any(|comment| comment.span.start >= span.start && comment.span.start < span.end)
}

fn source_text(dockerfile: &Dockerfile, span: Span) -> String {
    dockerfile.source.slice(span).into_owned()
}

/// Removes a flag and the blanks after it (`FROM --platform=$TARGETPLATFORM x`).
pub(crate) fn remove_flag(dockerfile: &Dockerfile, span: Span) -> Option<Fix> {
    let bytes = dockerfile.source.bytes();
    let mut end = span.end;
    while end < bytes.len() && matches!(bytes[end], b' ' | b'\t') {
        end += 1;
    }
    if end < bytes.len() && matches!(bytes[end], b'\r' | b'\n') {
        return None;
    }
    replace(Span::new(span.start, end), String::new(), "remove the flag")
}

/// The keyword `name` in the case `like` is written in.
fn keyword_like(like: &str, name: &str) -> String {
    if like == like.to_lowercase() {
        name.to_lowercase()
    } else {
        name.to_uppercase()
    }
}

/// Double-quotes `value` for a LABEL or ENV value, escaping what BuildKit's
/// lexer would otherwise read inside double quotes.
fn double_quote(value: &str, escape: char) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for character in value.chars() {
        if character == '"' || character == '$' || character == escape {
            quoted.push(escape);
        }
        quoted.push(character);
    }
    quoted.push('"');
    quoted
}

/// `MAINTAINER x` to `LABEL org.opencontainers.image.authors="x"`.
pub(crate) fn maintainer_to_label(
    dockerfile: &Dockerfile,
    instruction: &Instruction,
) -> Option<Fix> {
    let argument = instruction.arguments.first()?;
    if has_comment_inside(dockerfile, instruction.span) || argument.text.contains('\n') {
        return None;
    }
    let span = Span::new(instruction.keyword.span.start, argument.span.end);
    let text = format!(
        "{} org.opencontainers.image.authors={}",
        keyword_like(&instruction.keyword.text, "LABEL"),
        double_quote(&argument.text, dockerfile.escape)
    );
    replace(span, text, "use the org.opencontainers.image.authors label")
}

/// Legacy `ENV k v` to `ENV k=v` (quoted when the value has blanks).
pub(crate) fn legacy_key_value(
    dockerfile: &Dockerfile,
    instruction: &Instruction,
    position: usize,
) -> Option<Fix> {
    let pairs = instruction.key_values();
    let pair = pairs.get(position)?;
    let between = Span::new(pair.key.span.end, pair.value.span.start);
    let gap = source_text(dockerfile, between);
    if gap.is_empty() || !gap.chars().all(|c| c == ' ' || c == '\t') {
        return None;
    }
    let value = &pair.value.text;
    let words = split_words(value, dockerfile.escape);
    if words.len() == 1 && words[0] == *value {
        return replace(between, "=".to_string(), "use key=value");
    }
    if value.contains(['"', '\'', dockerfile.escape]) || value.contains('\n') {
        return None;
    }
    Some(Fix {
        description: "use key=\"value\"".to_string(),
        edits: vec![
            Edit {
                span: between,
                replacement: "=\"".to_string(),
            },
            Edit {
                span: Span::empty(pair.value.span.end),
                replacement: "\"".to_string(),
            },
        ],
    })
}

/// The words a POSIX shell would pass for `text`, when that is certain: no
/// expansion, glob, redirection, operator or escape; simple quotes allowed.
pub(crate) fn exact_words(text: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut current: Option<String> = None;
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            ' ' | '\t' => {
                if let Some(word) = current.take() {
                    words.push(word);
                }
            }
            '\'' => {
                let word = current.get_or_insert_with(String::new);
                loop {
                    match characters.next()? {
                        '\'' => break,
                        '\n' => return None,
                        inner => word.push(inner),
                    }
                }
            }
            '"' => {
                let word = current.get_or_insert_with(String::new);
                loop {
                    match characters.next()? {
                        '"' => break,
                        '$' | '`' | '\\' | '!' | '\n' => return None,
                        inner => word.push(inner),
                    }
                }
            }
            '$' | '`' | '\\' | '|' | '&' | ';' | '<' | '>' | '(' | ')' | '{' | '}' | '*' | '?'
            | '[' | ']' | '\n' | '\r' | '!' => return None,
            '~' | '#' if current.is_none() => return None,
            other => current.get_or_insert_with(String::new).push(other),
        }
    }
    if let Some(word) = current.take() {
        words.push(word);
    }
    let first = words.first()?;
    if let Some((name, _)) = first.split_once('=')
        && !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    Some(words)
}

/// Shell-form CMD/ENTRYPOINT to exec form, when exact.
pub(crate) fn exec_form(dockerfile: &Dockerfile, instruction: &Instruction) -> Option<Fix> {
    if instruction.json || instruction.arguments.len() != 1 {
        return None;
    }
    exec_form_of(dockerfile, &instruction.arguments[0])
}

/// `HEALTHCHECK CMD x y` to `HEALTHCHECK CMD ["x", "y"]`, when exact.
pub(crate) fn healthcheck_exec_form(
    dockerfile: &Dockerfile,
    instruction: &Instruction,
) -> Option<Fix> {
    if instruction.json || instruction.arguments.len() != 2 {
        return None;
    }
    exec_form_of(dockerfile, &instruction.arguments[1])
}

fn exec_form_of(dockerfile: &Dockerfile, argument: &strata_dockerfile::Word) -> Option<Fix> {
    if has_comment_inside(dockerfile, argument.span) {
        return None;
    }
    let raw = source_text(dockerfile, argument.span);
    if raw.contains(dockerfile.escape) {
        return None;
    }
    let words = exact_words(&argument.text)?;
    let json: Vec<String> = words
        .iter()
        .map(|word| serde_json::to_string(word).unwrap_or_default())
        .collect();
    replace(
        argument.span,
        format!("[{}]", json.join(", ")),
        "use exec form",
    )
}

/// `EXPOSE 80/TCP` to `EXPOSE 80/tcp` (only a word written without variables).
pub(crate) fn lowercase_protocol(instruction: &Instruction, port: &str) -> Option<Fix> {
    let word = instruction
        .arguments
        .iter()
        .find(|word| word.text == port && !word.text.contains('$'))?;
    let (number, protocol) = word.text.rsplit_once('/')?;
    replace(
        word.span,
        format!("{number}/{}", protocol.to_lowercase()),
        "lower-case the protocol",
    )
}

/// `ADD` to `COPY`, in the keyword's case.
pub(crate) fn add_to_copy(instruction: &Instruction) -> Option<Fix> {
    replace(
        instruction.keyword.span,
        keyword_like(&instruction.keyword.text, "COPY"),
        "use COPY",
    )
}

/// Joins `RUN apt-get update` with the RUN that follows it:
/// `RUN apt-get update && apt-get install ...`. Only when nothing but blank
/// lines separates them and both are plain shell-form RUNs.
pub(crate) fn join_runs(
    dockerfile: &Dockerfile,
    first: &Instruction,
    second: &Instruction,
) -> Option<Fix> {
    if first.json
        || second.json
        || !first.flags.is_empty()
        || !second.flags.is_empty()
        || !first.heredocs.is_empty()
        || !second.heredocs.is_empty()
    {
        return None;
    }
    let first_argument = first.arguments.first()?;
    let second_argument = second.arguments.first()?;
    let between = Span::new(first_argument.span.end, second_argument.span.start);
    if has_comment_inside(dockerfile, between) {
        return None;
    }
    let gap = source_text(dockerfile, between);
    // The gap is the end of the first line, blank lines, then `RUN `.
    let keyword_at = second.keyword.span.start;
    let before_keyword = source_text(dockerfile, Span::new(between.start, keyword_at));
    if !before_keyword.chars().all(char::is_whitespace) || !gap.contains('\n') {
        return None;
    }
    replace(
        between,
        " && ".to_string(),
        "join with the install that follows",
    )
}

/// Applies the fixes of `diagnostics` to `source`: every fix whose edits do
/// not overlap an already accepted fix's, in source order; every other byte
/// is kept as it was. Re-lint and apply again to reach the fixes left out.
pub fn apply_fixes(source: &[u8], diagnostics: &[Diagnostic]) -> Vec<u8> {
    let mut accepted: Vec<&Edit> = Vec::new();
    let mut fixes: Vec<&Fix> = diagnostics
        .iter()
        .filter_map(|diagnostic| diagnostic.fix.as_ref())
        .collect();
    fixes.sort_by_key(|fix| fix.edits.first().map(|edit| edit.span.start));
    for fix in fixes {
        let in_range = fix.edits.iter().all(|edit| edit.span.end <= source.len());
        let overlaps = fix.edits.iter().any(|edit| {
            accepted
                .iter()
                .any(|other| spans_overlap(edit.span, other.span))
        });
        if in_range && !overlaps {
            accepted.extend(fix.edits.iter());
        }
    }
    accepted.sort_by_key(|edit| (edit.span.start, edit.span.end));
    let mut out = Vec::with_capacity(source.len());
    let mut cursor = 0;
    for edit in accepted {
        out.extend_from_slice(&source[cursor..edit.span.start]);
        out.extend_from_slice(edit.replacement.as_bytes());
        cursor = edit.span.end;
    }
    out.extend_from_slice(&source[cursor..]);
    out
}

fn spans_overlap(a: Span, b: Span) -> bool {
    if a.is_empty() || b.is_empty() {
        // Two insertions at one place, or an insertion inside a replacement.
        return a.start == b.start
            || (a.start > b.start && a.start < b.end)
            || (b.start > a.start && b.start < a.end);
    }
    a.start < b.end && b.start < a.end
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_words_only_when_certain() {
        assert_eq!(
            exact_words("node server.js --port 80"),
            Some(vec![
                "node".into(),
                "server.js".into(),
                "--port".into(),
                "80".into()
            ])
        );
        assert_eq!(
            exact_words("echo 'a b' \"c d\""),
            Some(vec!["echo".into(), "a b".into(), "c d".into()])
        );
        for unsure in [
            "echo $HOME",
            "a && b",
            "ls *.txt",
            "FOO=1 app",
            "a > b",
            "echo \"$x\"",
            "~/bin/app",
            "echo 'open",
        ] {
            assert_eq!(exact_words(unsure), None, "{unsure}");
        }
    }

    #[test]
    fn overlap() {
        assert!(spans_overlap(Span::new(0, 4), Span::new(3, 5)));
        assert!(!spans_overlap(Span::new(0, 4), Span::new(4, 5)));
        assert!(spans_overlap(Span::empty(2), Span::new(0, 4)));
        assert!(!spans_overlap(Span::empty(4), Span::new(0, 4)));
    }
}
