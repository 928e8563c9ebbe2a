//! Suppressions: BuildKit's `# check=skip=...;error=true` directive (and the
//! same in the comments just above an instruction), hadolint's
//! `# hadolint ignore=DL3008` (line above) and `# hadolint global ignore=`,
//! and strata's `# strata:ignore=RuleName` on the line above.

use std::collections::{BTreeMap, BTreeSet};

use strata_dockerfile::Dockerfile;
use strata_go::strconv;

/// BuildKit's check options (`linter.ParseLintOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CheckOptions {
    pub(crate) skip_all: bool,
    pub(crate) skip: BTreeSet<String>,
    pub(crate) experimental_all: bool,
    pub(crate) experimental: BTreeSet<String>,
    pub(crate) error: bool,
}

impl CheckOptions {
    /// Parses `skip=A,B;error=true;experimental=all` with BuildKit's messages.
    pub(crate) fn parse(text: &str) -> Result<CheckOptions, String> {
        let text = text.trim();
        let mut options = CheckOptions::default();
        if text.is_empty() {
            return Ok(options);
        }
        for part in text.splitn(3, ';') {
            let Some((key, value)) = part.split_once('=') else {
                return Err(format!("invalid check option {}", strconv::quote(part)));
            };
            match key.trim() {
                "skip" => {
                    let value = value.trim();
                    if value == "all" {
                        options.skip_all = true;
                    } else {
                        options
                            .skip
                            .extend(value.split(',').map(|rule| rule.trim().to_string()));
                    }
                }
                "experimental" => {
                    let value = value.trim();
                    if value == "all" {
                        options.experimental_all = true;
                    } else {
                        options
                            .experimental
                            .extend(value.split(',').map(|rule| rule.trim().to_string()));
                    }
                }
                "error" => {
                    options.error = strconv::parse_bool(value.trim()).ok_or_else(|| {
                        format!(
                            "failed to parse check option {}: strconv.ParseBool: parsing {}: invalid syntax",
                            strconv::quote(part),
                            strconv::quote(value.trim())
                        )
                    })?;
                }
                other => return Err(format!("invalid check option {}", strconv::quote(other))),
            }
        }
        Ok(options)
    }

    fn merge(&self, other: &CheckOptions) -> CheckOptions {
        let mut merged = self.clone();
        merged.skip_all |= other.skip_all;
        merged.skip.extend(other.skip.iter().cloned());
        merged.experimental_all |= other.experimental_all;
        merged
            .experimental
            .extend(other.experimental.iter().cloned());
        merged
    }

    fn skips(&self, names: &[&str]) -> bool {
        self.skip_all
            || self
                .skip
                .iter()
                .any(|skipped| names.iter().any(|name| name.eq_ignore_ascii_case(skipped)))
    }
}

/// Reads a `check=...` comment the way BuildKit's `WithMergedConfigFromComments`
/// does: a directive line without the `#`, its value up to the first space.
fn comment_check_options(comment: &str) -> Option<Result<CheckOptions, String>> {
    let (name, value) = comment.split_once('=')?;
    let name = name.trim();
    let mut characters = name.chars();
    let valid_name = characters.next().is_some_and(|c| c.is_ascii_alphabetic())
        && characters.all(|c| c.is_ascii_alphanumeric());
    if !valid_name || !name.eq_ignore_ascii_case("check") {
        return None;
    }
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let value = value.split(' ').next().unwrap_or(value);
    Some(CheckOptions::parse(value))
}

/// Reads `hadolint [global ]ignore=A,B` or `strata:ignore=A,B` (the comment
/// text without `#`): the names and whether the ignore is file-wide.
fn ignore_comment(comment: &str) -> Option<(Vec<String>, bool)> {
    let text = comment.trim();
    let (rest, global) = if let Some(rest) = text.strip_prefix("hadolint") {
        let rest = rest.trim_start_matches([' ', '\t']);
        if rest.len() == text.len() - "hadolint".len() {
            // `hadolint` must be followed by blanks.
            return None;
        }
        match rest.strip_prefix("global") {
            Some(after) if after.starts_with([' ', '\t']) => {
                (after.trim_start_matches([' ', '\t']), true)
            }
            _ => (rest, false),
        }
    } else if let Some(rest) = text.strip_prefix("strata:") {
        (rest, false)
    } else {
        return None;
    };
    let rest = rest.strip_prefix("ignore")?;
    let rest = rest.trim_start_matches([' ', '\t']).strip_prefix('=')?;
    let list = rest.split('#').next().unwrap_or(rest);
    let names: Vec<String> = list
        .split(',')
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .collect();
    (!names.is_empty()).then_some((names, global))
}

/// Every suppression in a Dockerfile.
pub(crate) struct Suppressions {
    file: CheckOptions,
    /// Per instruction: its `# check=` comment, merged over the file's.
    instructions: BTreeMap<usize, CheckOptions>,
    /// Line -> names ignored on it (from a comment on the line above).
    lines: BTreeMap<usize, Vec<String>>,
    global: Vec<String>,
}

impl Suppressions {
    pub(crate) fn new(dockerfile: &Dockerfile, file: CheckOptions) -> Suppressions {
        let mut instructions = BTreeMap::new();
        for (index, instruction) in dockerfile.instructions.iter().enumerate() {
            for comment in &instruction.comments {
                if let Some(result) = comment_check_options(comment) {
                    // BuildKit keeps the file's options when the comment is invalid.
                    if let Ok(options) = result {
                        instructions.insert(index, file.merge(&options));
                    }
                    break;
                }
            }
        }
        let mut lines: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let mut global = Vec::new();
        for comment in &dockerfile.comments {
            if let Some((names, is_global)) = ignore_comment(&comment.text) {
                if is_global {
                    global.extend(names);
                } else {
                    lines.entry(comment.line + 1).or_default().extend(names);
                }
            }
        }
        Suppressions {
            file,
            instructions,
            lines,
            global,
        }
    }

    /// Whether a finding named `names` at `line`, about instruction
    /// `comments_of`, is suppressed.
    pub(crate) fn suppressed(
        &self,
        names: &[&str],
        line: usize,
        comments_of: Option<usize>,
    ) -> bool {
        let options = comments_of
            .and_then(|index| self.instructions.get(&index))
            .unwrap_or(&self.file);
        if options.skips(names) {
            return true;
        }
        let listed = |list: &[String]| {
            list.iter()
                .any(|ignored| names.iter().any(|name| name.eq_ignore_ascii_case(ignored)))
        };
        listed(&self.global) || self.lines.get(&line).is_some_and(|list| listed(list))
    }

    /// Whether the experimental rule `name` was turned on by a directive.
    pub(crate) fn experimental_enabled(&self, name: &str, comments_of: Option<usize>) -> bool {
        let options = comments_of
            .and_then(|index| self.instructions.get(&index))
            .unwrap_or(&self.file);
        options.experimental_all
            || options
                .experimental
                .iter()
                .any(|rule| rule.eq_ignore_ascii_case(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_options_like_buildkit() {
        let options = CheckOptions::parse("skip=A, B;error=true").unwrap();
        assert!(options.error);
        assert!(options.skip.contains("A") && options.skip.contains("B"));
        assert!(CheckOptions::parse("skip=all").unwrap().skip_all);
        assert_eq!(
            CheckOptions::parse("foo=bar"),
            Err("invalid check option \"foo\"".to_string())
        );
        assert_eq!(
            CheckOptions::parse("skip"),
            Err("invalid check option \"skip\"".to_string())
        );
        assert!(CheckOptions::parse("error=maybe").is_err());
    }

    #[test]
    fn ignore_comments() {
        assert_eq!(
            ignore_comment("hadolint ignore=DL3008,DL3015"),
            Some((vec!["DL3008".into(), "DL3015".into()], false))
        );
        assert_eq!(
            ignore_comment("hadolint global ignore=DL3059"),
            Some((vec!["DL3059".into()], true))
        );
        assert_eq!(
            ignore_comment("strata:ignore=RunsAsRoot # reason"),
            Some((vec!["RunsAsRoot".into()], false))
        );
        assert_eq!(ignore_comment("hadolintignore=DL1"), None);
        assert_eq!(ignore_comment("just a comment"), None);
    }

    #[test]
    fn comment_directives() {
        assert!(comment_check_options("check=skip=UndefinedVar trailing").is_some());
        assert!(comment_check_options("checks=skip=x").is_none());
        assert!(comment_check_options("some text").is_none());
    }
}
