//! COPY/ADD source selection over a scanned context, keyed the way BuildKit's
//! content hash keys a file-op selector (`contenthash.Checksum` with
//! wildcard, follow-links, include and exclude patterns).

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use strata_oci::Digest;

use crate::Error;
use crate::context::{Context, EntryKind};
use crate::pattern::{MatchInfo, PatternError, PatternMatcher};
use crate::tarsum;
use strata_go::path as gopath;

/// BuildKit's limit on symlinks followed while resolving one path.
const MAX_SYMLINKS: usize = 255;

/// One COPY/ADD source as BuildKit's file op sees it. Build it with
/// [`CopySource::dockerfile`] for a Dockerfile source, or field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopySource {
    /// The source path relative to the context root (`/` and `.` are the root).
    pub path: String,
    /// Whether `*`, `?` and `[` in `path` are wildcards (default true).
    pub wildcard: bool,
    /// Whether a symlink named by the path itself is followed (default true,
    /// as Dockerfile COPY does); symlinks below it are never followed.
    pub follow_links: bool,
    /// Include patterns, relative to each matched source (`--parents`).
    pub include: Vec<String>,
    /// Exclude patterns, relative to each matched source (`--exclude`).
    pub exclude: Vec<String>,
    /// Paths (relative to the root) that must be selected, or the selection
    /// is [`Error::NotFound`]: a `--parents` source without wildcards.
    pub required: Vec<String>,
}

impl CopySource {
    /// A plain source path: wildcards on, symlink followed, no patterns.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            wildcard: true,
            follow_links: true,
            include: Vec::new(),
            exclude: Vec::new(),
            required: Vec::new(),
        }
    }

    /// A Dockerfile COPY/ADD source as BuildKit lowers it: `--exclude`
    /// patterns as excludes; with `--parents` the path is split at `/./`
    /// (the pivot, or the root when there is none) and the rest becomes an
    /// include pattern, so parent directories are kept.
    pub fn dockerfile(source: &str, exclude: &[String], parents: bool) -> Self {
        let mut copy = Self::new(source);
        copy.exclude = exclude.to_vec();
        if parents {
            let (pivot, pattern) = match source.split_once("/./") {
                Some((pivot, pattern)) => (pivot.to_owned(), pattern),
                None => ("/".to_owned(), source),
            };
            let joined = gopath::clean(format!("/{pattern}").as_bytes());
            let pattern = String::from_utf8_lossy(&joined)
                .trim_start_matches('/')
                .to_owned();
            if !contains_wildcards(pivot.as_bytes()) && !contains_wildcards(pattern.as_bytes()) {
                let required = gopath::clean(format!("/{pivot}/{pattern}").as_bytes());
                copy.required = vec![String::from_utf8_lossy(&required).into_owned()];
            }
            copy.include = vec![pattern];
            copy.path = pivot;
        }
        copy
    }

    /// Adds exclude patterns.
    pub fn with_exclude<S: Into<String>>(mut self, patterns: impl IntoIterator<Item = S>) -> Self {
        self.exclude.extend(patterns.into_iter().map(Into::into));
        self
    }

    /// Adds include patterns.
    pub fn with_include<S: Into<String>>(mut self, patterns: impl IntoIterator<Item = S>) -> Self {
        self.include.extend(patterns.into_iter().map(Into::into));
        self
    }
}

/// One entry a selection copies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedEntry {
    /// Index into [`Context::entries`].
    pub index: usize,
    /// The path relative to the matched source root (empty for the root
    /// itself): where it goes below the destination.
    pub relative: PathBuf,
}

/// One path a source matched (the path itself, or each wildcard match), with
/// what is copied from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedRoot {
    /// The matched path relative to the context root, as named (before
    /// symlinks in it are resolved); empty for the context root.
    pub path: PathBuf,
    /// Index of the entry the path resolves to; `None` for the context root.
    pub index: Option<usize>,
    /// The entries copied, in order; a directory's contents follow it.
    pub entries: Vec<SelectedEntry>,
}

/// What a COPY/ADD source selects, and the digest its cache key covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// BuildKit's checksum of the selector: equal digests mean equal selected
    /// bytes and metadata.
    pub digest: Digest,
    /// The matched roots in order; empty when nothing matched.
    pub roots: Vec<SelectedRoot>,
}

/// BuildKit's `path.Join("/", p)` then "/" → "".
fn key_path(path: &[u8]) -> Vec<u8> {
    let mut joined = b"/".to_vec();
    joined.extend_from_slice(path);
    let cleaned = gopath::clean(&joined);
    if cleaned == b"/" { Vec::new() } else { cleaned }
}

/// Splits a key path at its first path element holding a wildcard.
fn split_wildcards(path: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut prefix = Vec::new();
    let mut rest: Vec<&[u8]> = Vec::new();
    let mut found = false;
    for element in path.split(|&b| b == b'/').skip(1) {
        if !found && contains_wildcards(element) {
            found = true;
        }
        if found {
            rest.push(element);
        } else {
            prefix.push(b'/');
            prefix.extend_from_slice(element);
        }
    }
    (prefix, rest.join(&b'/'))
}

fn relative_of(key: &[u8]) -> &[u8] {
    key.strip_prefix(b"/").unwrap_or(key)
}

fn base_of(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(index) => &path[index + 1..],
        None => path,
    }
}

/// A path visited by the selection walk.
struct Candidate {
    /// Key path (`/a/b`), as named.
    path: Vec<u8>,
    /// The entry; `None` for the context root's header.
    index: Option<usize>,
    include_info: MatchInfo,
    exclude_info: MatchInfo,
    included: bool,
    follow_links: bool,
}

impl Context {
    /// Resolves `key` (a key path) through the context's symlinks: every
    /// intermediate symlink, and the last one when `follow_trailing`; links
    /// cannot leave the root. Returns the resolved key path and its entry.
    pub(crate) fn resolve(
        &self,
        key: &[u8],
        follow_trailing: bool,
    ) -> Result<(Vec<u8>, Option<usize>), Error> {
        let mut current: Vec<u8> = Vec::new();
        let mut remaining: VecDeque<Vec<u8>> = key
            .split(|&b| b == b'/')
            .filter(|e| !e.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        let mut links = 0;
        while let Some(part) = remaining.pop_front() {
            let mut joined = current.clone();
            joined.push(b'/');
            joined.extend_from_slice(&part);
            let next = key_path(&joined);
            let index = self.index_of(relative_of(&next));
            let entry = index.map(|i| &self.entries()[i]);
            if let Some(entry) = entry.filter(|e| e.kind() == EntryKind::Symlink)
                && (follow_trailing || !remaining.is_empty())
            {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Error::TooManyLinks {
                        path: String::from_utf8_lossy(key).into_owned(),
                    });
                }
                let target = entry
                    .link_target()
                    .map(|t| t.as_os_str().as_bytes().to_vec())
                    .unwrap_or_default();
                if target.first() == Some(&b'/') {
                    current.clear();
                }
                for element in target.split(|&b| b == b'/').rev() {
                    if !element.is_empty() {
                        remaining.push_front(element.to_vec());
                    }
                }
                continue;
            }
            current = next;
        }
        let index = if current.is_empty() {
            None
        } else {
            self.index_of(relative_of(&current))
        };
        Ok((current, index))
    }

    /// The digest BuildKit keys `key` on when no patterns or wildcards apply:
    /// the directory record of a directory (the root's for ""), the entry
    /// digest otherwise.
    fn record_digest(
        &self,
        key: &[u8],
        follow_links: bool,
    ) -> Result<(Digest, Option<usize>), Error> {
        let (resolved, index) = self.resolve(key, follow_links)?;
        if resolved.is_empty() {
            return Ok((*self.root_digest().ok_or(Error::NoDigests)?, None));
        }
        let index = index.ok_or_else(|| Error::NotFound {
            path: String::from_utf8_lossy(relative_of(key)).into_owned(),
        })?;
        let digest = self.entries()[index]
            .content_digest()
            .copied()
            .ok_or(Error::NoDigests)?;
        Ok((digest, Some(index)))
    }

    /// Entries below the directory at `index` (`None`: the root), in order,
    /// with their paths relative to it.
    fn descendants(&self, index: Option<usize>) -> Vec<SelectedEntry> {
        let (start, prefix) = match index {
            Some(index) => (index + 1, {
                let mut p = self.entries()[index].path_bytes().to_vec();
                p.push(b'/');
                p
            }),
            None => (0, Vec::new()),
        };
        self.entries()[start..]
            .iter()
            .enumerate()
            .take_while(|(_, e)| e.path_bytes().starts_with(&prefix))
            .map(|(offset, e)| SelectedEntry {
                index: start + offset,
                relative: PathBuf::from(OsStr::from_bytes(&e.path_bytes()[prefix.len()..])),
            })
            .collect()
    }

    /// What `source` selects and the digest its cache key covers, computed as
    /// BuildKit's `contenthash.Checksum` does. A missing path without
    /// wildcards or patterns is [`Error::NotFound`]; with them it selects
    /// nothing (digest of nothing), as in BuildKit.
    ///
    /// One deliberate difference: a plain file named with `--exclude` keys on
    /// its own digest, where BuildKit's walk skips it and keys on nothing (so
    /// its cache would miss a change to the file).
    pub fn select(&self, source: &CopySource) -> Result<Selection, Error> {
        if self.root_digest().is_none() {
            return Err(Error::NoDigests);
        }
        let key = key_path(source.path.as_bytes());
        let wildcard = source.wildcard && contains_wildcards(&key);
        if !wildcard && source.include.is_empty() && source.exclude.is_empty() {
            return self.select_plain(&key, source.follow_links);
        }
        let include = compile_patterns(&source.include)?;
        let exclude = compile_patterns(&source.exclude)?;
        let (prefix, resolved_prefix, start) =
            match self.walk_start(&key, wildcard, source.follow_links)? {
                WalkStart::Decided(selection) => return Ok(selection),
                WalkStart::Missing => {
                    return Ok(Selection {
                        digest: Digest::of(b""),
                        roots: Vec::new(),
                    });
                }
                WalkStart::From {
                    prefix,
                    resolved,
                    start,
                } => (prefix, resolved, start),
            };
        let mut walk = Walk {
            context: self,
            key,
            wildcard,
            follow_links: source.follow_links,
            include,
            exclude,
            prefix,
            resolved_prefix,
            candidates: Vec::new(),
            parents: Vec::new(),
            included: Vec::new(),
            last_matched: Vec::new(),
        };
        walk.run(self.walk_order(start))?;
        let items = walk.included_digests()?;
        let digest = selection_digest(&walk.key, &walk.prefix, &items);
        check_required(&source.required, &items)?;
        let roots = self.group_roots(wildcard, &walk.key, &walk.candidates, &walk.included);
        Ok(Selection { digest, roots })
    }

    /// The selection of a source without wildcards or patterns: the path
    /// itself and, for a directory (or the root), everything below it.
    fn select_plain(&self, key: &[u8], follow_links: bool) -> Result<Selection, Error> {
        let (digest, index) = self.record_digest(key, follow_links)?;
        let mut entries = Vec::new();
        if let Some(index) = index {
            entries.push(SelectedEntry {
                index,
                relative: PathBuf::new(),
            });
        }
        let is_directory = index.is_none_or(|i| self.entries()[i].kind() == EntryKind::Directory);
        if is_directory {
            entries.extend(self.descendants(index));
        }
        Ok(Selection {
            digest,
            roots: vec![SelectedRoot {
                path: PathBuf::from(OsStr::from_bytes(relative_of(key))),
                index,
                entries,
            }],
        })
    }

    /// Where a pattern or wildcard walk over `key` begins: the part before
    /// the first wildcard (all of `key` without one), as named and resolved.
    fn walk_start(
        &self,
        key: &[u8],
        wildcard: bool,
        follow_links: bool,
    ) -> Result<WalkStart, Error> {
        if wildcard {
            let (prefix, rest) = split_wildcards(key);
            if prefix.is_empty() {
                return Ok(WalkStart::root());
            }
            let (resolved, index) = self.resolve(&prefix, !rest.is_empty())?;
            return Ok(WalkStart::at(prefix, resolved, index));
        }
        let (resolved, index) = self.resolve(key, false)?;
        if resolved.is_empty() {
            return Ok(WalkStart::root());
        }
        // The deliberate difference: a plain non-directory source.
        if let Some(i) = index.filter(|&i| self.entries()[i].kind() != EntryKind::Directory) {
            let selection = self.select_non_directory(key, i, follow_links)?;
            return Ok(WalkStart::Decided(selection));
        }
        Ok(WalkStart::at(key.to_vec(), resolved, index))
    }

    /// A non-directory source with patterns, keyed on its own digest (its
    /// target's when the symlink is followed) rather than BuildKit's walk.
    fn select_non_directory(
        &self,
        key: &[u8],
        index: usize,
        follow_links: bool,
    ) -> Result<Selection, Error> {
        let follow = follow_links && self.entries()[index].kind() == EntryKind::Symlink;
        let (digest, resolved_index) = if follow {
            self.record_digest(key, true)?
        } else {
            (
                *self.entries()[index]
                    .content_digest()
                    .ok_or(Error::NoDigests)?,
                Some(index),
            )
        };
        Ok(Selection {
            digest,
            roots: vec![SelectedRoot {
                path: PathBuf::from(OsStr::from_bytes(relative_of(key))),
                index: resolved_index,
                entries: resolved_index
                    .map(|index| SelectedEntry {
                        index,
                        relative: PathBuf::new(),
                    })
                    .into_iter()
                    .collect(),
            }],
        })
    }

    /// The entries a walk from `start` visits (`None`: the root's header):
    /// the start's header, then everything after it in key order.
    fn walk_order(&self, start: Option<usize>) -> impl Iterator<Item = Option<usize>> + use<> {
        let (root, first) = match start {
            None => (true, 0),
            Some(index) if self.entries()[index].kind() == EntryKind::Directory => (false, index),
            // A wildcard prefix that is not a directory: only entries after
            // it in key order, none of which are below it.
            Some(index) => (false, index + 1),
        };
        let all = (first..self.entries().len()).map(Some);
        root.then_some(None).into_iter().chain(all)
    }

    /// Groups included candidates under the source roots they belong to.
    fn group_roots(
        &self,
        wildcard: bool,
        key: &[u8],
        candidates: &[Candidate],
        included: &[usize],
    ) -> Vec<SelectedRoot> {
        let mut roots: Vec<SelectedRoot> = Vec::new();
        for &position in included {
            let candidate = &candidates[position];
            let root_path: Vec<u8> = if wildcard {
                // The wildcard match this candidate is (or is below).
                let depth = key.split(|&b| b == b'/').count();
                candidate
                    .path
                    .split(|&b| b == b'/')
                    .take(depth)
                    .collect::<Vec<_>>()
                    .join(&b'/')
            } else {
                key.to_vec()
            };
            let relative = strip_relative(&candidate.path, &root_path);
            let needs_new = roots
                .last()
                .is_none_or(|r| r.path.as_os_str().as_bytes() != relative_of(&root_path));
            if needs_new {
                let index = if root_path.is_empty() {
                    None
                } else {
                    self.resolve(&root_path, true).ok().and_then(|(_, i)| i)
                };
                roots.push(SelectedRoot {
                    path: PathBuf::from(OsStr::from_bytes(relative_of(&root_path))),
                    index,
                    entries: Vec::new(),
                });
            }
            if let (Some(index), Some(root)) = (candidate.index, roots.last_mut()) {
                root.entries.push(SelectedEntry {
                    index,
                    relative: PathBuf::from(OsStr::from_bytes(&relative)),
                });
            }
        }
        roots
    }
}

/// Where a pattern or wildcard walk begins.
enum WalkStart {
    /// No walk is needed: the selection is decided (a plain non-directory
    /// source).
    Decided(Selection),
    /// The walk's starting path does not exist: nothing is selected.
    Missing,
    /// Walk from entry `start` (`None`: the context root); paths below
    /// `resolved` (the prefix with its symlinks resolved) are named below
    /// `prefix`.
    From {
        prefix: Vec<u8>,
        resolved: Vec<u8>,
        start: Option<usize>,
    },
}

impl WalkStart {
    /// A walk over the whole context.
    fn root() -> Self {
        WalkStart::From {
            prefix: Vec::new(),
            resolved: Vec::new(),
            start: None,
        }
    }

    /// A walk from `prefix`, resolved to `resolved` and entry `index`.
    fn at(prefix: Vec<u8>, resolved: Vec<u8>, index: Option<usize>) -> Self {
        match index {
            None => WalkStart::Missing,
            Some(index) => WalkStart::From {
                prefix,
                resolved,
                start: Some(index),
            },
        }
    }
}

/// What the walk does with one path.
enum Step {
    /// Filter it through the patterns, with this path relative to its
    /// wildcard match or the prefix.
    Visit(Vec<u8>),
    /// Pass over it (no wildcard match).
    Skip,
    /// End the walk (past the prefix's subtree).
    Stop,
}

/// The state of a pattern or wildcard walk over a context's entries.
struct Walk<'a> {
    context: &'a Context,
    /// The source's key path.
    key: Vec<u8>,
    wildcard: bool,
    follow_links: bool,
    include: Option<PatternMatcher>,
    exclude: Option<PatternMatcher>,
    /// The walk's starting path as named by the source.
    prefix: Vec<u8>,
    /// `prefix` with its symlinks resolved: where the walk really is.
    resolved_prefix: Vec<u8>,
    /// Every path kept or walked through, in walk order.
    candidates: Vec<Candidate>,
    /// Positions in `candidates` of the directories enclosing the current path.
    parents: Vec<usize>,
    /// Positions in `candidates` that are selected, in order.
    included: Vec<usize>,
    /// The last path the wildcard matched.
    last_matched: Vec<u8>,
}

impl Walk<'_> {
    /// Visits the entries in `order`, recording candidates and selections.
    fn run(&mut self, order: impl Iterator<Item = Option<usize>>) -> Result<(), Error> {
        for item in order {
            let path = self.named_path(item);
            self.leave_parents(&path);
            let relative = match self.step(&path)? {
                Step::Visit(relative) => relative,
                Step::Skip => continue,
                Step::Stop => break,
            };
            self.visit(item, path, &relative)?;
        }
        Ok(())
    }

    /// The key path of `item` (`None`: the root) as the source names it: a
    /// path below the resolved prefix is renamed below the prefix.
    fn named_path(&self, item: Option<usize>) -> Vec<u8> {
        let Some(index) = item else {
            return Vec::new();
        };
        let mut path = b"/".to_vec();
        path.extend_from_slice(self.context.entries()[index].path_bytes());
        if !self.resolved_prefix.is_empty()
            && let Some(after) = path.strip_prefix(self.resolved_prefix.as_slice())
            && (after.is_empty() || after[0] == b'/')
        {
            let mut renamed = self.prefix.clone();
            renamed.extend_from_slice(after);
            return renamed;
        }
        path
    }

    /// Pops the enclosing directories that `path` is not below.
    fn leave_parents(&mut self, path: &[u8]) {
        while let Some(&last) = self.parents.last() {
            let mut directory = self.candidates[last].path.clone();
            directory.push(b'/');
            if path.starts_with(&directory) {
                break;
            }
            self.parents.pop();
        }
    }

    /// Whether `path` is visited: with a wildcard, it must match or be below
    /// the last match; without, it must be at or below the prefix.
    fn step(&mut self, path: &[u8]) -> Result<Step, Error> {
        if self.wildcard {
            let mut directory = self.last_matched.clone();
            directory.push(b'/');
            if !self.key.is_empty()
                && (self.last_matched.is_empty() || !path.starts_with(&directory))
            {
                if !wildcard_matches(&self.key, path)? {
                    return Ok(Step::Skip);
                }
                self.last_matched = path.to_vec();
            }
            return Ok(Step::Visit(strip_relative(path, &self.last_matched)));
        }
        let mut with_slash = path.to_vec();
        with_slash.push(b'/');
        let mut prefix_slash = self.prefix.clone();
        prefix_slash.push(b'/');
        if !with_slash.starts_with(&prefix_slash) {
            return Ok(Step::Stop);
        }
        Ok(Step::Visit(strip_relative(path, &self.prefix)))
    }

    /// Filters `path` through the patterns and records it: a kept path is
    /// selected with its parents; a directory is walked through even if not.
    fn visit(&mut self, item: Option<usize>, path: Vec<u8>, relative: &[u8]) -> Result<(), Error> {
        let parent = self.parents.last().copied();
        let is_directory =
            item.is_none_or(|i| self.context.entries()[i].kind() == EntryKind::Directory);
        let mut candidate = Candidate {
            path,
            index: item,
            include_info: MatchInfo::default(),
            exclude_info: MatchInfo::default(),
            included: false,
            follow_links: parent.is_none() && self.follow_links,
        };
        let keep = self.matches_patterns(&mut candidate, parent, relative)?;
        if !keep && !is_directory {
            return Ok(());
        }
        let position = self.candidates.len();
        self.candidates.push(candidate);
        if keep {
            self.include(position);
        }
        if is_directory {
            self.parents.push(position);
        }
        Ok(())
    }

    /// Whether the include patterns match `relative` and the exclude patterns
    /// do not, building on the parent's results; records the candidate's.
    fn matches_patterns(
        &self,
        candidate: &mut Candidate,
        parent: Option<usize>,
        relative: &[u8],
    ) -> Result<bool, Error> {
        let parent = parent.map(|p| &self.candidates[p]);
        let mut keep = true;
        if let Some(include) = &self.include {
            let info = parent.map(|p| p.include_info.clone()).unwrap_or_default();
            let (matched, info) = include
                .matches_using_parent_results(relative, &info)
                .map_err(pattern_error)?;
            candidate.include_info = info;
            keep = matched;
        }
        if keep && let Some(exclude) = &self.exclude {
            let info = parent.map(|p| p.exclude_info.clone()).unwrap_or_default();
            let (matched, info) = exclude
                .matches_using_parent_results(relative, &info)
                .map_err(pattern_error)?;
            candidate.exclude_info = info;
            keep = !matched;
        }
        Ok(keep)
    }

    /// Selects the candidate at `position` and its enclosing directories.
    fn include(&mut self, position: usize) {
        for &parent in &self.parents {
            if !self.candidates[parent].included {
                self.candidates[parent].included = true;
                self.included.push(parent);
            }
        }
        self.candidates[position].included = true;
        self.included.push(position);
    }

    /// The selected paths and digests, with a followed symlink replaced by
    /// its target's digest.
    fn included_digests(&self) -> Result<Vec<(Vec<u8>, Digest)>, Error> {
        let mut items = Vec::with_capacity(self.included.len());
        for &position in &self.included {
            let candidate = &self.candidates[position];
            let digest = match candidate.index {
                None => Digest::of(b""),
                Some(index) => {
                    let entry = &self.context.entries()[index];
                    if candidate.follow_links && entry.kind() == EntryKind::Symlink {
                        self.context.record_digest(&candidate.path, true)?.0
                    } else {
                        *entry.digest().ok_or(Error::NoDigests)?
                    }
                }
            };
            items.push((candidate.path.clone(), digest));
        }
        Ok(items)
    }
}

/// The digest a walk's selected `items` key on: nothing's when empty, a lone
/// match's own, else the list digest of the paths below `prefix`.
fn selection_digest(key: &[u8], prefix: &[u8], items: &[(Vec<u8>, Digest)]) -> Digest {
    if items.is_empty() {
        Digest::of(b"")
    } else if items.len() == 1 && base_of(key) == base_of(&items[0].0) {
        items[0].1
    } else {
        tarsum::list_digest(items.iter().map(|(path, digest)| {
            let trimmed = path.strip_prefix(prefix).unwrap_or(path);
            let mut k: Vec<u8> = trimmed
                .iter()
                .map(|&b| if b == b'/' { 0 } else { b })
                .collect();
            if k.is_empty() {
                k.push(0);
            }
            (k, digest)
        }))
    }
}

/// [`Error::NotFound`] for the first required path nothing selected is at or
/// below.
fn check_required(required: &[String], items: &[(Vec<u8>, Digest)]) -> Result<(), Error> {
    for required in required {
        let required = key_path(required.as_bytes());
        if !items.iter().any(|(path, _)| path.starts_with(&required)) {
            return Err(Error::NotFound {
                path: String::from_utf8_lossy(relative_of(&required)).into_owned(),
            });
        }
    }
    Ok(())
}

/// Compiles a COPY source's pattern list; `None` when it is empty.
fn compile_patterns(patterns: &[String]) -> Result<Option<PatternMatcher>, Error> {
    if patterns.is_empty() {
        return Ok(None);
    }
    PatternMatcher::new(patterns)
        .map(Some)
        .map_err(pattern_error)
}

/// A COPY source pattern list that does not compile or match.
fn pattern_error(source: PatternError) -> Error {
    Error::Pattern {
        path: PathBuf::from("COPY source patterns"),
        source,
    }
}

/// Whether `path` matches the wildcard source `key` (Go's `path.Match`).
fn wildcard_matches(key: &[u8], path: &[u8]) -> Result<bool, Error> {
    gopath::path_match(key, path).map_err(|_| Error::Pattern {
        path: PathBuf::from(OsStr::from_bytes(key)),
        source: PatternError::BadPattern {
            pattern: String::from_utf8_lossy(key).into_owned(),
        },
    })
}

/// `path` relative to `base` (both key paths), "" when equal.
fn strip_relative(path: &[u8], base: &[u8]) -> Vec<u8> {
    let mut with_slash = path.to_vec();
    with_slash.push(b'/');
    let mut base_slash = base.to_vec();
    base_slash.push(b'/');
    let trimmed = with_slash
        .strip_prefix(base_slash.as_slice())
        .unwrap_or(&with_slash);
    trimmed.strip_suffix(b"/").unwrap_or(trimmed).to_vec()
}

impl Selection {
    /// Copies the selection into `destination`: each root's entries below
    /// it (a root directory's contents, a root file as its own name).
    /// Files are streamed, symlinks recreated as symlinks, modes kept;
    /// owners are left to the caller.
    pub fn copy_into(&self, context: &Context, destination: &Path) -> Result<(), Error> {
        use std::os::unix::fs::PermissionsExt;
        strata_fs::create_dir_all(destination)?;
        for root in &self.roots {
            for selected in &root.entries {
                let entry = &context.entries()[selected.index];
                let target = if selected.relative.as_os_str().is_empty() {
                    if entry.kind() == EntryKind::Directory {
                        continue;
                    }
                    destination.join(entry.path().file_name().unwrap_or_default())
                } else {
                    destination.join(&selected.relative)
                };
                match entry.kind() {
                    EntryKind::Directory => {
                        strata_fs::create_dir_all(&target)?;
                    }
                    EntryKind::Symlink => {
                        let link = entry.link_target().unwrap_or(Path::new(""));
                        std::os::unix::fs::symlink(link, &target)
                            .map_err(|e| strata_fs::Error::new("create symlink", &target, e))?;
                        continue;
                    }
                    EntryKind::File => {
                        let mut reader = context.open(entry)?;
                        let mut writer = std::fs::File::create(&target)
                            .map_err(|e| strata_fs::Error::new("create", &target, e))?;
                        std::io::copy(&mut reader, &mut writer)
                            .map_err(|e| strata_fs::Error::new("copy to", &target, e))?;
                    }
                }
                std::fs::set_permissions(&target, std::fs::Permissions::from_mode(entry.mode()))
                    .map_err(|e| strata_fs::Error::new("chmod", &target, e))?;
            }
        }
        Ok(())
    }
}

/// Whether a path element holds a wildcard (`*`, `?`, `[`), skipping escaped
/// characters; BuildKit's `containsWildcards`.
pub(crate) fn contains_wildcards(name: &[u8]) -> bool {
    let mut index = 0;
    while index < name.len() {
        match name[index] {
            b'\\' => index += 1,
            b'*' | b'?' | b'[' => return true,
            _ => {}
        }
        index += 1;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_split_at_pivot() {
        let source = CopySource::dockerfile("app/./src/*.rs", &[], true);
        assert_eq!(source.path, "app");
        assert_eq!(source.include, vec!["src/*.rs".to_owned()]);
        assert!(source.required.is_empty());
        let source = CopySource::dockerfile("x/y", &[], true);
        assert_eq!(source.path, "/");
        assert_eq!(source.include, vec!["x/y".to_owned()]);
        assert_eq!(source.required, vec!["/x/y".to_owned()]);
    }

    #[test]
    fn wildcard_split() {
        assert_eq!(
            split_wildcards(b"/src/*.json"),
            (b"/src".to_vec(), b"*.json".to_vec())
        );
        assert_eq!(split_wildcards(b"/*/a"), (Vec::new(), b"*/a".to_vec()));
    }
}
