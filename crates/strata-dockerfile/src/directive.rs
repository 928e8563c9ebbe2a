//! Parser directives (`# syntax=`, `# escape=`, `# check=`) as BuildKit's
//! `DirectiveParser` reads them: only at the top, before any other line, each
//! at most once; the first line that is not one ends the search.

use crate::source::Span;
use crate::text::trim_left_space;
use strata_go::strings;
use strata_go::utf8::lossy;

/// A parser directive at the top of a Dockerfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// The directive's name in lower case: `syntax`, `escape` or `check`.
    pub name: String,
    /// Its value with surrounding blanks removed, e.g. `docker/dockerfile:1`.
    pub value: String,
    /// The 1-based line it is on.
    pub line: usize,
    /// The whole line, `#` included.
    pub span: Span,
    /// The value alone.
    pub value_span: Span,
}

/// The frontend a `# syntax=` value (or the `BUILDKIT_SYNTAX` build
/// argument) asks for. Only its first word names it; the rest is arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frontend {
    /// `dockerfile.v0`: BuildKit's built-in frontend.
    BuiltIn,
    /// `docker/dockerfile` (or `docker/dockerfile-upstream`) at any tag or
    /// digest, with or without `docker.io/`: the frontend strata implements.
    Dockerfile,
    /// Any other image: a frontend strata cannot run.
    Other(String),
}

impl Frontend {
    /// Classifies a `# syntax=` value.
    pub fn of(value: &str) -> Frontend {
        let image = value.split_whitespace().next().unwrap_or_default();
        if image == "dockerfile.v0" {
            return Frontend::BuiltIn;
        }
        let name = image.split_once('@').map_or(image, |(name, _)| name);
        let name = match name.rsplit_once(':') {
            Some((repository, tag)) if !tag.contains('/') => repository,
            _ => name,
        };
        let name = ["docker.io/", "index.docker.io/", "registry-1.docker.io/"]
            .iter()
            .find_map(|host| name.strip_prefix(host))
            .unwrap_or(name);
        if matches!(name, "docker/dockerfile" | "docker/dockerfile-upstream") {
            Frontend::Dockerfile
        } else {
            Frontend::Other(image.to_string())
        }
    }
}

/// What one line means to the directive parser.
pub(crate) enum DirectiveLine {
    /// Not a directive (and perhaps the end of the directive block).
    None,
    /// A valid directive.
    Directive(Directive),
    /// A directive BuildKit rejects, with its message and the value's span.
    Error(String, Span),
}

#[derive(Default)]
pub(crate) struct DirectiveParser {
    done: bool,
    seen: Vec<String>,
}

const VALID: [&str; 3] = ["syntax", "escape", "check"];

/// Go's regexp `\s`.
fn is_perl_space(byte: u8) -> bool {
    matches!(byte, b'\t' | b'\n' | 0x0C | b'\r' | b' ')
}

impl DirectiveParser {
    /// Reads `bytes[start..end]` (a line without its newline, left-trimmed).
    pub(crate) fn parse_line(
        &mut self,
        bytes: &[u8],
        start: usize,
        end: usize,
        line: usize,
    ) -> DirectiveLine {
        if self.done {
            return DirectiveLine::None;
        }
        if bytes.get(start) != Some(&b'#') || start >= end {
            self.done = true;
            return DirectiveLine::None;
        }
        let body = trim_left_space(bytes, start + 1, end);
        // ^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$
        let mut cursor = body;
        if cursor >= end || !bytes[cursor].is_ascii_alphabetic() {
            self.done = true;
            return DirectiveLine::None;
        }
        while cursor < end && bytes[cursor].is_ascii_alphanumeric() {
            cursor += 1;
        }
        let key_end = cursor;
        while cursor < end && is_perl_space(bytes[cursor]) {
            cursor += 1;
        }
        if cursor >= end || bytes[cursor] != b'=' {
            self.done = true;
            return DirectiveLine::None;
        }
        cursor += 1;
        if cursor >= end {
            self.done = true;
            return DirectiveLine::None;
        }
        let mut value_start = cursor;
        while value_start < end && is_perl_space(bytes[value_start]) {
            value_start += 1;
        }
        let (value_start, value_end) = if value_start == end {
            // Only blanks after `=`: the lazy `(.+?)` takes the last one.
            (end - 1, end)
        } else {
            let mut value_end = end;
            while value_end > value_start + 1 && is_perl_space(bytes[value_end - 1]) {
                value_end -= 1;
            }
            (value_start, value_end)
        };
        let name = strings::to_lower(&lossy(&bytes[body..key_end]));
        if !VALID.contains(&name.as_str()) {
            self.done = true;
            return DirectiveLine::None;
        }
        let value_span = Span::new(value_start, value_end);
        if self.seen.contains(&name) {
            return DirectiveLine::Error(
                format!("only one {name} parser directive can be used"),
                value_span,
            );
        }
        self.seen.push(name.clone());
        let value = lossy(&bytes[value_start..value_end]).into_owned();
        if name == "escape" && value != "`" && value != "\\" {
            return DirectiveLine::Error(
                format!("invalid escape token '{value}' does not match ` or \\"),
                value_span,
            );
        }
        DirectiveLine::Directive(Directive {
            name,
            value,
            line,
            span: Span::new(start, end),
            value_span,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(lines: &[&str]) -> Vec<Result<(String, String), String>> {
        let mut parser = DirectiveParser::default();
        let mut out = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            match parser.parse_line(line.as_bytes(), 0, line.len(), index + 1) {
                DirectiveLine::None => {}
                DirectiveLine::Directive(d) => out.push(Ok((d.name, d.value))),
                DirectiveLine::Error(message, _) => out.push(Err(message)),
            }
        }
        out
    }

    #[test]
    fn reads_directives_until_another_line() {
        assert_eq!(
            parse(&[
                "# Syntax = docker/dockerfile:1  ",
                "#escape=`",
                "# check=skip=all",
                "# escape=\\"
            ]),
            vec![
                Ok(("syntax".into(), "docker/dockerfile:1".into())),
                Ok(("escape".into(), "`".into())),
                Ok(("check".into(), "skip=all".into())),
                Err("only one escape parser directive can be used".into()),
            ]
        );
        assert_eq!(parse(&["# comment", "# escape=`"]), vec![]);
        assert_eq!(parse(&["", "# escape=`"]), vec![]);
        assert_eq!(parse(&["# unknown=1", "# escape=`"]), vec![]);
    }

    #[test]
    fn invalid_escape() {
        assert_eq!(
            parse(&["# escape=x"]),
            vec![Err("invalid escape token 'x' does not match ` or \\".into())]
        );
    }

    #[test]
    fn frontends() {
        for value in [
            "docker/dockerfile:1",
            "docker.io/docker/dockerfile:1.7-labs",
            "docker/dockerfile:labs",
            "docker/dockerfile",
            "docker/dockerfile-upstream:master",
            "docker/dockerfile@sha256:ac85f380a63b13dfcefa89046420e1781752bab202122f8f50032edf31be0021",
            "docker/dockerfile:1.4 --some-arg",
        ] {
            assert_eq!(Frontend::of(value), Frontend::Dockerfile, "{value}");
        }
        assert_eq!(Frontend::of("dockerfile.v0"), Frontend::BuiltIn);
        for value in [
            "example.com/docker/dockerfile:1",
            "tonistiigi/dockerfile:1",
            "localhost:5000/front",
        ] {
            assert_eq!(
                Frontend::of(value),
                Frontend::Other(value.to_string()),
                "{value}"
            );
        }
    }
}
