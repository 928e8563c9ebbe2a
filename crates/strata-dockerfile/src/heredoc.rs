//! Here-document markers (`<<EOF`, `<<-'EOF'`, `3<<EOF`) found the way
//! BuildKit finds them: the whole instruction line is split into words by the
//! shell lexer, and each word that is entirely a marker counts.

use crate::lexer::{EmptyEnvironment, ExpandError, Lexer};

/// A marker read from one word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeredocMarker {
    /// The delimiter with quotes removed.
    pub name: String,
    /// The number before `<<`, or 0 (saturates like Go's `ParseUint`).
    pub file_descriptor: u64,
    /// False when part of the delimiter was quoted.
    pub expand: bool,
    /// True for `<<-`.
    pub chomp: bool,
}

/// Reads `word` as a heredoc marker (BuildKit's `ParseHeredoc`): `Ok(None)`
/// when it is not one, an error when its quotes do not balance.
pub fn parse_heredoc(word: &str) -> Result<Option<HeredocMarker>, ExpandError> {
    // ^(\d*)<<(-?)\s*([^<]*)$
    let digits_end = word.bytes().take_while(u8::is_ascii_digit).count();
    let Some(after) = word[digits_end..].strip_prefix("<<") else {
        return Ok(None);
    };
    if after.contains('<') {
        return Ok(None);
    }
    let (chomp, after) = match after.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, after),
    };
    let rest = after.trim_start_matches(['\t', '\n', '\u{0C}', '\r', ' ']);
    if rest.is_empty() {
        return Ok(None);
    }
    let digits = &word[..digits_end];
    let file_descriptor = if digits.is_empty() {
        0
    } else {
        digits.parse().unwrap_or(u64::MAX)
    };

    let mut lexer = Lexer::new('\\');
    lexer.skip_unset_env = true;
    let words = lexer.expand_words(rest, &EmptyEnvironment)?;
    if words.len() != 1 {
        return Ok(None);
    }
    lexer.raw_quotes = true;
    let raw_words = lexer.expand_words(rest, &EmptyEnvironment)?;
    if raw_words.len() != words.len() {
        return Err(ExpandError {
            input: rest.to_string(),
            reason: format!("internal lexing of heredoc produced inconsistent results: {rest}"),
        });
    }
    let quotes = |text: &str| text.chars().filter(|c| *c == '\'' || *c == '"').count();
    let name = words.into_iter().next().unwrap_or_default();
    let expand = quotes(&name) == quotes(&raw_words[0]);
    Ok(Some(HeredocMarker {
        name,
        file_descriptor,
        expand,
        chomp,
    }))
}

/// The markers in a whole instruction line, in order (BuildKit's
/// `heredocsFromLine`). A line the lexer cannot split has none.
pub fn heredocs_from_line(line: &str) -> Result<Vec<HeredocMarker>, ExpandError> {
    let mut lexer = Lexer::new('\\');
    lexer.raw_quotes = true;
    lexer.raw_escapes = true;
    lexer.skip_unset_env = true;
    let words = lexer
        .expand_words(line, &EmptyEnvironment)
        .unwrap_or_default();
    let mut markers = Vec::new();
    for word in words {
        if let Some(marker) = parse_heredoc(&word)? {
            markers.push(marker);
        }
    }
    Ok(markers)
}

/// Removes the leading tabs of every line, as `<<-` asks (BuildKit's
/// `ChompHeredocContent`).
pub fn chomp(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    for line in content.split_inclusive('\n') {
        out.push_str(line.trim_start_matches('\t'));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers() {
        let marker = parse_heredoc("3<<-'E O'").unwrap().unwrap();
        assert_eq!(
            marker,
            HeredocMarker {
                name: "E O".into(),
                file_descriptor: 3,
                expand: false,
                chomp: true
            }
        );
        assert_eq!(parse_heredoc("<<EOF sh").unwrap(), None);
        assert_eq!(parse_heredoc("<<").unwrap(), None);
        assert!(parse_heredoc("<<'EOF").is_err());
        assert_eq!(
            parse_heredoc("99999999999999999999999<<X")
                .unwrap()
                .unwrap()
                .file_descriptor,
            u64::MAX
        );
    }

    #[test]
    fn chomp_removes_leading_tabs() {
        assert_eq!(chomp("\thello\n\t\tworld\n x\t\n"), "hello\nworld\n x\t\n");
    }

    #[test]
    fn line_markers() {
        let names = |line: &str| {
            heredocs_from_line(line)
                .unwrap()
                .into_iter()
                .map(|m| m.name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names("RUN <<EOF <<-EOF2 cat"), ["EOF", "EOF2"]);
        assert_eq!(names("RUN '<<EOF'"), Vec::<String>::new());
        assert_eq!(names("RUN <<- EOF"), Vec::<String>::new());
        assert_eq!(names("RUN << -EOF"), ["-EOF"]);
    }
}
