//! Docker's pattern lists (moby's patternmatcher): path-cleaned patterns with
//! `*`, `?`, `[...]`, `**` and `\`, `!` exceptions applied in order, where a
//! pattern that matches a directory matches everything below it.

use std::fmt;

use crate::goregex::Regex;
use strata_go::path::{self as gopath, BadPattern};
use strata_go::strings::trim_space;
use strata_go::utf8::runes;

/// Why a pattern list cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// A lone `!`, rejected when the list is compiled.
    #[error("illegal exclusion pattern: \"!\"")]
    LoneExclamation,
    /// The pattern is not valid `filepath.Match` syntax (checked when the list
    /// is compiled) or its regular expression is invalid (found at the first
    /// match, as Docker does).
    #[error("syntax error in pattern {pattern:?}")]
    BadPattern {
        /// The pattern as written in the list, without its `!`.
        pattern: String,
    },
}

/// How a pattern is matched; the same shortcuts patternmatcher takes, which
/// are part of its semantics (`**file` also matches `myfile`).
#[derive(Debug, Clone)]
enum Kind {
    Exact,
    /// The pattern minus its trailing `**`.
    Prefix(Vec<u8>),
    /// The pattern minus its leading `**`.
    Suffix(Vec<u8>),
    Regex(Regex),
    /// The expression did not compile: every match is an error.
    Invalid,
}

/// One compiled pattern of a [`PatternMatcher`].
#[derive(Debug, Clone)]
pub struct Pattern {
    cleaned: Vec<u8>,
    exclusion: bool,
    kind: Kind,
}

impl Pattern {
    /// The cleaned pattern text without its `!`.
    pub fn text(&self) -> &[u8] {
        &self.cleaned
    }

    /// Whether this is a `!` exception.
    pub fn is_exclusion(&self) -> bool {
        self.exclusion
    }

    fn error(&self) -> PatternError {
        PatternError::BadPattern {
            pattern: String::from_utf8_lossy(&self.cleaned).into_owned(),
        }
    }

    /// Whether the pattern matches `path` itself (not its parents).
    fn matches(&self, path: &[u8]) -> Result<bool, PatternError> {
        Ok(match &self.kind {
            Kind::Exact => path == self.cleaned.as_slice(),
            Kind::Prefix(prefix) => path.starts_with(prefix),
            Kind::Suffix(suffix) => {
                path.ends_with(suffix) || (suffix.first() == Some(&b'/') && path == &suffix[1..])
            }
            Kind::Regex(regex) => regex.is_match(&runes(path)),
            Kind::Invalid => return Err(self.error()),
        })
    }

    /// Whether the pattern matches `path` or one of its parent directories.
    fn matches_or_parent(&self, path: &[u8]) -> Result<bool, PatternError> {
        if self.matches(path)? {
            return Ok(true);
        }
        // Errors on parents are ignored, as patternmatcher does.
        let mut end = 0;
        while let Some(offset) = path[end..].iter().position(|&b| b == b'/') {
            end += offset;
            if self.matches(&path[..end]).unwrap_or(false) {
                return Ok(true);
            }
            end += 1;
        }
        Ok(false)
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.exclusion {
            f.write_str("!")?;
        }
        f.write_str(&String::from_utf8_lossy(&self.cleaned))
    }
}

/// Per-pattern results for a directory, handed down to its children so that
/// a pattern that matched a parent counts as matching the child
/// (patternmatcher's `MatchInfo`). Empty means "no information".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchInfo {
    parent_matched: Vec<bool>,
}

/// An ordered list of patterns where the last pattern that matches a path or
/// one of its parents decides (`!` patterns un-match).
#[derive(Debug, Clone, Default)]
pub struct PatternMatcher {
    patterns: Vec<Pattern>,
    exclusions: bool,
}

impl PatternMatcher {
    /// Compiles a pattern list as patternmatcher's `New` does: each item is
    /// trimmed, empty items are dropped, the item is path-cleaned and then a
    /// leading `!` taken off; the syntax is checked with `filepath.Match`.
    pub fn new<I, S>(patterns: I) -> Result<Self, PatternError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<[u8]>,
    {
        let mut matcher = PatternMatcher::default();
        for item in patterns {
            let trimmed = trim_space(item.as_ref());
            if trimmed.is_empty() {
                continue;
            }
            let mut cleaned = gopath::clean(trimmed);
            let mut exclusion = false;
            if cleaned[0] == b'!' {
                if cleaned.len() == 1 {
                    return Err(PatternError::LoneExclamation);
                }
                exclusion = true;
                cleaned.remove(0);
                matcher.exclusions = true;
            }
            if gopath::path_match(&cleaned, b".") == Err(BadPattern) {
                return Err(PatternError::BadPattern {
                    pattern: String::from_utf8_lossy(&cleaned).into_owned(),
                });
            }
            let kind = compile(&cleaned);
            matcher.patterns.push(Pattern {
                cleaned,
                exclusion,
                kind,
            });
        }
        Ok(matcher)
    }

    /// The compiled patterns, in order.
    pub fn patterns(&self) -> &[Pattern] {
        &self.patterns
    }

    /// Whether any pattern is a `!` exception.
    pub fn has_exclusions(&self) -> bool {
        self.exclusions
    }

    /// Whether the list has no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether `path` (slash-separated, relative) is matched: the last pattern
    /// matching it or a parent directory decides (`MatchesOrParentMatches`).
    pub fn matches_or_parent_matches(&self, path: &[u8]) -> Result<bool, PatternError> {
        let mut matched = false;
        for pattern in &self.patterns {
            // An inclusion cannot change a match, nor an exclusion a non-match.
            if pattern.exclusion != matched {
                continue;
            }
            if pattern.matches_or_parent(path)? {
                matched = !pattern.exclusion;
            }
        }
        Ok(matched)
    }

    /// Like [`Self::matches_or_parent_matches`], using the parent directory's
    /// [`MatchInfo`] instead of re-checking parents; the rule fsutil's walk and
    /// BuildKit's content hash apply (`MatchesUsingParentResults`). An empty
    /// `parent` means "no information": parents are checked by path.
    pub fn matches_using_parent_results(
        &self,
        path: &[u8],
        parent: &MatchInfo,
    ) -> Result<(bool, MatchInfo), PatternError> {
        let have_parent = !parent.parent_matched.is_empty();
        if have_parent && parent.parent_matched.len() != self.patterns.len() {
            return Err(PatternError::BadPattern {
                pattern: "wrong number of values in parent match information".into(),
            });
        }
        let mut matched = false;
        let mut info = MatchInfo {
            parent_matched: vec![false; self.patterns.len()],
        };
        for (index, pattern) in self.patterns.iter().enumerate() {
            let mut hit = have_parent && parent.parent_matched[index];
            if !hit {
                if pattern.exclusion != matched {
                    continue;
                }
                hit = if have_parent {
                    pattern.matches(path)?
                } else {
                    pattern.matches_or_parent(path)?
                };
            }
            info.parent_matched[index] = hit;
            if hit {
                matched = !pattern.exclusion;
            }
        }
        Ok((matched, info))
    }
}

/// Translates a cleaned pattern into patternmatcher's match kind: literal
/// text is exact; literal text then `**` a prefix; `**` then literal text a
/// suffix; anything else a Go regular expression built the same way.
fn compile(pattern: &[u8]) -> Kind {
    #[derive(PartialEq)]
    enum Detected {
        Exact,
        Prefix,
        Suffix,
        Regex,
    }
    let runes = runes(pattern);
    let mut expression: Vec<u32> = vec![u32::from(b'^')];
    let push_str = |expression: &mut Vec<u32>, text: &str| {
        expression.extend(text.chars().map(u32::from));
    };
    let mut detected = Detected::Exact;
    let star = u32::from(b'*');
    let slash = u32::from(b'/');
    let mut index = 0;
    let mut iteration = 0;
    while index < runes.len() {
        let c = runes[index];
        index += 1;
        if c == star {
            if runes.get(index) == Some(&star) {
                index += 1;
                // `**/` is `**`.
                if runes.get(index) == Some(&slash) {
                    index += 1;
                }
                if index == runes.len() {
                    if detected == Detected::Exact {
                        detected = Detected::Prefix;
                    } else {
                        push_str(&mut expression, ".*");
                        detected = Detected::Regex;
                    }
                } else {
                    push_str(&mut expression, "(.*/)?");
                    detected = Detected::Regex;
                }
                if iteration == 0 {
                    detected = Detected::Suffix;
                }
            } else {
                push_str(&mut expression, "[^/]*");
                detected = Detected::Regex;
            }
        } else if c == u32::from(b'?') {
            push_str(&mut expression, "[^/]");
            detected = Detected::Regex;
        } else if b".+()|{}$".iter().any(|&m| u32::from(m) == c) {
            expression.push(u32::from(b'\\'));
            expression.push(c);
        } else if c == u32::from(b'\\') {
            if let Some(&next) = runes.get(index) {
                index += 1;
                expression.push(u32::from(b'\\'));
                expression.push(next);
                detected = Detected::Regex;
            } else {
                expression.push(u32::from(b'\\'));
            }
        } else if c == u32::from(b'[') || c == u32::from(b']') {
            expression.push(c);
            detected = Detected::Regex;
        } else {
            expression.push(c);
        }
        iteration += 1;
    }
    match detected {
        Detected::Exact => Kind::Exact,
        Detected::Prefix => Kind::Prefix(pattern[..pattern.len() - 2].to_vec()),
        Detected::Suffix => Kind::Suffix(pattern[2..].to_vec()),
        Detected::Regex => {
            expression.push(u32::from(b'$'));
            match Regex::new(&expression) {
                Ok(regex) => Kind::Regex(regex),
                Err(_) => Kind::Invalid,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(patterns: &[&str]) -> PatternMatcher {
        PatternMatcher::new(patterns).unwrap()
    }

    #[test]
    fn walk_results_can_differ_from_or_parent() {
        // fsutil's walk does not re-check an exception against parents once
        // the parent was evaluated: `a/f` stays excluded in the walk.
        let m = matcher(&["a/f", "!a"]);
        assert!(!m.matches_or_parent_matches(b"a/f").unwrap());
        let (dir, info) = m
            .matches_using_parent_results(b"a", &MatchInfo::default())
            .unwrap();
        assert!(!dir);
        let (file, _) = m.matches_using_parent_results(b"a/f", &info).unwrap();
        assert!(file);
    }

    #[test]
    fn suffix_shortcut_is_lenient() {
        let m = matcher(&["**file"]);
        assert!(m.matches_or_parent_matches(b"myfile").unwrap());
        assert!(m.matches_or_parent_matches(b"a/b/file").unwrap());
    }

    #[test]
    fn class_with_star_follows_go_regex() {
        // `[*]` becomes `^[[^/]*]$`: Docker does not match a literal `*`.
        let m = matcher(&["[*]"]);
        assert!(!m.matches_or_parent_matches(b"*").unwrap());
        assert!(m.matches_or_parent_matches(b"]").unwrap());
    }

    #[test]
    fn invalid_regex_fails_at_match() {
        let m = matcher(&["[Local-Only]/"]);
        assert!(m.matches_or_parent_matches(b"x").is_err());
    }
}
