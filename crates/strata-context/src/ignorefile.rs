//! Reading a `.dockerignore` into a pattern list (moby's `ignorefile.ReadAll`),
//! and choosing which ignore file applies to a build (BuildKit's dockerui).

use std::path::{Path, PathBuf};

use crate::Error;
use crate::pattern::{PatternError, PatternMatcher};
use strata_go::path as gopath;
use strata_go::strings::trim_space;

/// The longest line `bufio.Scanner` accepts by default (64 KiB).
const MAX_LINE: usize = 64 * 1024;

/// The name of the context's ignore file.
pub const DOCKERIGNORE: &str = ".dockerignore";

/// Reads ignore-file text into patterns: a UTF-8 BOM dropped from the first
/// line, `\r\n` line ends, `#` in column 1 a comment, lines trimmed, blank
/// lines skipped, each pattern path-cleaned with one leading `/` removed and a
/// leading `!` kept. A lone `!` is kept (the compile step rejects it).
/// `Err(line)` when a line is longer than 64 KiB, as Go's scanner refuses.
pub fn read_patterns(contents: &[u8]) -> Result<Vec<Vec<u8>>, usize> {
    let mut patterns = Vec::new();
    let mut rest = contents;
    let mut line_number = 0;
    while !rest.is_empty() {
        let (mut line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        rest = next;
        if let Some(stripped) = line.strip_suffix(b"\r") {
            line = stripped;
        }
        line_number += 1;
        if line.len() > MAX_LINE {
            return Err(line_number);
        }
        if line_number == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.first() == Some(&b'#') {
            continue;
        }
        let mut pattern = trim_space(line);
        if pattern.is_empty() {
            continue;
        }
        let invert = pattern[0] == b'!';
        if invert {
            pattern = trim_space(&pattern[1..]);
        }
        let mut out = Vec::with_capacity(pattern.len() + 1);
        if invert {
            out.push(b'!');
        }
        if !pattern.is_empty() {
            let cleaned = gopath::clean(pattern);
            if cleaned.len() > 1 && cleaned[0] == b'/' {
                out.extend_from_slice(&cleaned[1..]);
            } else {
                out.extend_from_slice(&cleaned);
            }
        }
        patterns.push(out);
    }
    Ok(patterns)
}

/// The ignore rules of a build: which file they came from (if any), its
/// patterns, and the compiled matcher.
#[derive(Debug, Clone, Default)]
pub struct IgnoreFile {
    path: Option<PathBuf>,
    patterns: Vec<Vec<u8>>,
    matcher: PatternMatcher,
}

impl IgnoreFile {
    /// No ignore file: nothing is ignored.
    pub fn none() -> Self {
        Self::default()
    }

    /// Rules from ignore-file text; `path` names the file in errors.
    pub fn parse(path: Option<PathBuf>, contents: &[u8]) -> Result<Self, Error> {
        let shown = path.clone().unwrap_or_else(|| PathBuf::from(DOCKERIGNORE));
        let patterns = read_patterns(contents).map_err(|line| Error::IgnoreFile {
            path: shown.clone(),
            line,
            reason: "line longer than 64 KiB".into(),
        })?;
        let matcher = PatternMatcher::new(&patterns).map_err(|source| Error::Pattern {
            path: shown,
            source,
        })?;
        Ok(Self {
            path,
            patterns,
            matcher,
        })
    }

    /// The ignore file a build uses, as BuildKit chooses it:
    /// `<Dockerfile>.dockerignore` beside the Dockerfile wins over the
    /// context's `.dockerignore`; neither is no rules. An ignore file that
    /// cannot be read as a file (a directory, say) counts as absent.
    pub fn for_build(context: &Path, dockerfile: Option<&Path>) -> Result<Self, Error> {
        let mut candidates = Vec::new();
        if let Some(dockerfile) = dockerfile {
            let mut name = dockerfile.as_os_str().to_owned();
            name.push(".dockerignore");
            candidates.push(PathBuf::from(name));
        }
        candidates.push(context.join(DOCKERIGNORE));
        for candidate in candidates {
            match std::fs::read(&candidate) {
                Ok(contents) => return Self::parse(Some(candidate), &contents),
                Err(error)
                    if matches!(
                        error.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
                    ) =>
                {
                    continue;
                }
                Err(error) => {
                    return Err(Error::Io(strata_fs::Error::new("read", candidate, error)));
                }
            }
        }
        Ok(Self::none())
    }

    /// The file the rules came from, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The patterns as read (cleaned, `!` kept), in file order.
    pub fn patterns(&self) -> &[Vec<u8>] {
        &self.patterns
    }

    /// The compiled patterns.
    pub fn matcher(&self) -> &PatternMatcher {
        &self.matcher
    }

    /// Whether `path` (relative, slash-separated) is ignored when asked as a
    /// single query (the path or a parent matches, exceptions applied).
    pub fn is_ignored(&self, path: &[u8]) -> Result<bool, PatternError> {
        self.matcher.matches_or_parent_matches(path)
    }

    /// BuildKit's `CopyIgnoredFile` check for one COPY/ADD source: true when
    /// the lint would fire. It never fires without an ignore file or when the
    /// file has `!` exceptions; `.` and `/` fire only when a pattern ignores
    /// every root entry (`*`, `**`, `**/*`).
    pub fn copy_source_ignored(&self, source: &str) -> Result<bool, PatternError> {
        if self.matcher.is_empty() || self.matcher.has_exclusions() {
            return Ok(false);
        }
        let cleaned = gopath::clean(source.as_bytes());
        if cleaned == b"." || cleaned == b"/" {
            let root_ignored = self
                .matcher
                .patterns()
                .iter()
                .any(|p| !p.is_exclusion() && matches!(p.text(), b"*" | b"**" | b"**/*"));
            if !root_ignored {
                return Ok(false);
            }
        }
        self.matcher.matches_or_parent_matches(&cleaned)
    }
}
