//! Include and exclude pattern lists applied during a walk, exactly as
//! fsutil's filtered walk applies them (the build context's `.dockerignore`
//! is an exclude list; `COPY --exclude` and `--parents` use both).

use crate::pattern::{MatchInfo, Pattern, PatternError, PatternMatcher};

/// What the walk does with one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The path is selected (and, for a directory, walked into).
    Keep,
    /// The path is not selected; a directory is still walked into because
    /// something below it may be selected (it then appears as a parent).
    Skip,
    /// The path is not selected and nothing below it can be.
    SkipDirectory,
}

/// Per-directory state handed to its children.
#[derive(Debug, Clone, Default)]
pub struct FilterState {
    include: MatchInfo,
    exclude: MatchInfo,
}

/// Include and exclude lists with fsutil's walk semantics: a path is kept
/// when the include list (if any) matches it or a parent and the exclude list
/// does not; a skipped directory is walked into unless its patterns prove
/// nothing below it can be kept.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    include: Option<PatternMatcher>,
    exclude: Option<PatternMatcher>,
    only_prefix_includes: bool,
    only_prefix_exclude_exceptions: bool,
}

/// The characters that make a pattern more than a literal path prefix.
const PATTERN_CHARACTERS: &[u8] = b"*[]?^\\";

/// The pattern without a trailing `/**` or `/*`.
fn without_trailing_glob(pattern: &Pattern) -> &[u8] {
    let text = pattern.text();
    let text = text.strip_suffix(b"/**").unwrap_or(text);
    text.strip_suffix(b"/*").unwrap_or(text)
}

fn is_literal(text: &[u8]) -> bool {
    !text.iter().any(|b| PATTERN_CHARACTERS.contains(b))
}

/// Whether some (non-)exclusion pattern names a path below `directory`.
fn names_below(matcher: &PatternMatcher, exclusions: bool, directory: &[u8]) -> bool {
    matcher
        .patterns()
        .iter()
        .filter(|p| p.is_exclusion() == exclusions)
        .any(|p| {
            let text = without_trailing_glob(p);
            text.len() > directory.len()
                && text.starts_with(directory)
                && text[directory.len()] == b'/'
                || text == directory
        })
}

impl Filter {
    /// A filter from include and exclude lists; an empty list is no list.
    pub fn new<S: AsRef<[u8]>>(include: &[S], exclude: &[S]) -> Result<Self, PatternError> {
        let include = if include.is_empty() {
            None
        } else {
            Some(PatternMatcher::new(include)?)
        };
        let exclude = if exclude.is_empty() {
            None
        } else {
            Some(PatternMatcher::new(exclude)?)
        };
        Ok(Self::from_matchers(include, exclude))
    }

    /// A filter from compiled lists.
    pub fn from_matchers(include: Option<PatternMatcher>, exclude: Option<PatternMatcher>) -> Self {
        let include = include.filter(|m| !m.is_empty());
        let exclude = exclude.filter(|m| !m.is_empty());
        let only_prefix_includes = include.as_ref().is_none_or(|m| {
            m.patterns()
                .iter()
                .filter(|p| !p.is_exclusion())
                .all(|p| is_literal(without_trailing_glob(p)))
        });
        let only_prefix_exclude_exceptions = exclude.as_ref().is_none_or(|m| {
            m.patterns()
                .iter()
                .filter(|p| p.is_exclusion())
                .all(|p| is_literal(without_trailing_glob(p)))
        });
        Self {
            include,
            exclude,
            only_prefix_includes,
            only_prefix_exclude_exceptions,
        }
    }

    /// Whether the filter selects everything.
    pub fn is_empty(&self) -> bool {
        self.include.is_none() && self.exclude.is_none()
    }

    /// Whether fsutil's filtered file system opens `path` directly: the
    /// include list (if any) matches it or a parent and the exclude list does
    /// not (single queries, `MatchesOrParentMatches`).
    pub fn opens(&self, path: &[u8]) -> Result<bool, PatternError> {
        if let Some(include) = &self.include
            && !include.matches_or_parent_matches(path)?
        {
            return Ok(false);
        }
        if let Some(exclude) = &self.exclude
            && exclude.matches_or_parent_matches(path)?
        {
            return Ok(false);
        }
        Ok(true)
    }

    /// Decides one path (relative, slash-separated) given its parent's state;
    /// the state returned is for the path's children when it is a directory.
    pub fn decide(
        &self,
        path: &[u8],
        is_directory: bool,
        parent: &FilterState,
    ) -> Result<(Decision, FilterState), PatternError> {
        let mut state = FilterState::default();
        let mut skip = false;
        if let Some(include) = &self.include {
            let (matched, info) = include.matches_using_parent_results(path, &parent.include)?;
            state.include = info;
            if !matched {
                if is_directory && self.only_prefix_includes && !names_below(include, false, path) {
                    return Ok((Decision::SkipDirectory, state));
                }
                skip = true;
            }
        }
        if let Some(exclude) = &self.exclude {
            let (matched, info) = exclude.matches_using_parent_results(path, &parent.exclude)?;
            state.exclude = info;
            if matched {
                if is_directory
                    && self.only_prefix_exclude_exceptions
                    && (!exclude.has_exclusions() || !names_below(exclude, true, path))
                {
                    return Ok((Decision::SkipDirectory, state));
                }
                skip = true;
            }
        }
        let decision = if skip { Decision::Skip } else { Decision::Keep };
        Ok((decision, state))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_exclude_skips_directory() {
        let filter = Filter::new::<&str>(&[], &["node_modules"]).unwrap();
        let (decision, _) = filter
            .decide(b"node_modules", true, &FilterState::default())
            .unwrap();
        assert_eq!(decision, Decision::SkipDirectory);
    }

    #[test]
    fn exception_below_keeps_walking() {
        let filter = Filter::new::<&str>(&[], &["foo", "!foo/bar"]).unwrap();
        let (decision, state) = filter
            .decide(b"foo", true, &FilterState::default())
            .unwrap();
        assert_eq!(decision, Decision::Skip);
        let (decision, _) = filter.decide(b"foo/bar", false, &state).unwrap();
        assert_eq!(decision, Decision::Keep);
    }
}
