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
use crate::pattern::{MatchInfo, PatternMatcher};
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
            let (digest, index) = self.record_digest(&key, source.follow_links)?;
            let mut entries = Vec::new();
            if let Some(index) = index {
                entries.push(SelectedEntry {
                    index,
                    relative: PathBuf::new(),
                });
            }
            let is_directory =
                index.is_none_or(|i| self.entries()[i].kind() == EntryKind::Directory);
            if is_directory {
                entries.extend(self.descendants(index));
            }
            return Ok(Selection {
                digest,
                roots: vec![SelectedRoot {
                    path: PathBuf::from(OsStr::from_bytes(relative_of(&key))),
                    index,
                    entries,
                }],
            });
        }
        let to_error = |source| Error::Pattern {
            path: PathBuf::from("COPY source patterns"),
            source,
        };
        let include = if source.include.is_empty() {
            None
        } else {
            Some(PatternMatcher::new(&source.include).map_err(to_error)?)
        };
        let exclude = if source.exclude.is_empty() {
            None
        } else {
            Some(PatternMatcher::new(&source.exclude).map_err(to_error)?)
        };
        let (prefix, resolved_prefix, start) = if wildcard {
            let (prefix, rest) = split_wildcards(&key);
            if prefix.is_empty() {
                (Vec::new(), Vec::new(), Some(None))
            } else {
                let (resolved, index) = self.resolve(&prefix, !rest.is_empty())?;
                let start = index.map(Some);
                (prefix, resolved, start)
            }
        } else {
            let (resolved, index) = self.resolve(&key, false)?;
            if resolved.is_empty() {
                (Vec::new(), Vec::new(), Some(None))
            } else {
                // The deliberate difference: a plain non-directory source.
                if let Some(i) = index.filter(|&i| self.entries()[i].kind() != EntryKind::Directory)
                {
                    let follow =
                        source.follow_links && self.entries()[i].kind() == EntryKind::Symlink;
                    let (digest, resolved_index) = if follow {
                        self.record_digest(&key, true)?
                    } else {
                        (
                            *self.entries()[i].content_digest().ok_or(Error::NoDigests)?,
                            Some(i),
                        )
                    };
                    return Ok(Selection {
                        digest,
                        roots: vec![SelectedRoot {
                            path: PathBuf::from(OsStr::from_bytes(relative_of(&key))),
                            index: resolved_index,
                            entries: resolved_index
                                .map(|index| SelectedEntry {
                                    index,
                                    relative: PathBuf::new(),
                                })
                                .into_iter()
                                .collect(),
                        }],
                    });
                }
                (key.clone(), resolved, index.map(Some))
            }
        };
        // `start`: None = the prefix does not exist (nothing is selected);
        // Some(None) = walk from the root; Some(Some(i)) = from entry i.
        let Some(start) = start else {
            return Ok(Selection {
                digest: Digest::of(b""),
                roots: Vec::new(),
            });
        };
        let mut candidates: Vec<Candidate> = Vec::new();
        let mut parents: Vec<usize> = Vec::new();
        let mut included: Vec<usize> = Vec::new();
        let mut last_matched: Vec<u8> = Vec::new();
        // The walk: the start's header (or the root header), then everything
        // after it in key order.
        let first = match start {
            Some(index) if self.entries()[index].kind() == EntryKind::Directory => Some(index),
            Some(index) => {
                // A wildcard prefix that is not a directory: only entries
                // after it in key order, none of which are below it.
                let _ = index;
                None
            }
            None => None,
        };
        let walk: Box<dyn Iterator<Item = Option<usize>>> = match (start, first) {
            (None, _) => Box::new(std::iter::once(None).chain((0..self.entries().len()).map(Some))),
            (Some(_), Some(dir)) => Box::new((dir..self.entries().len()).map(Some)),
            (Some(index), None) => Box::new((index + 1..self.entries().len()).map(Some)),
        };
        for item in walk {
            let mut path = match item {
                None => Vec::new(),
                Some(index) => {
                    let mut p = b"/".to_vec();
                    p.extend_from_slice(self.entries()[index].path_bytes());
                    p
                }
            };
            if !resolved_prefix.is_empty()
                && let Some(after) = path.strip_prefix(resolved_prefix.as_slice())
                && (after.is_empty() || after[0] == b'/')
            {
                let mut renamed = prefix.clone();
                renamed.extend_from_slice(after);
                path = renamed;
            }
            while let Some(&last) = parents.last() {
                let mut dir = candidates[last].path.clone();
                dir.push(b'/');
                if path.starts_with(&dir) {
                    break;
                }
                parents.pop();
            }
            let parent = parents.last().copied();
            let is_directory =
                item.is_none_or(|i| self.entries()[i].kind() == EntryKind::Directory);
            let candidate_path;
            if wildcard {
                let mut dir = last_matched.clone();
                dir.push(b'/');
                if !key.is_empty() && (last_matched.is_empty() || !path.starts_with(&dir)) {
                    let matched = gopath::path_match(&key, &path).map_err(|_| Error::Pattern {
                        path: PathBuf::from(OsStr::from_bytes(&key)),
                        source: crate::pattern::PatternError::BadPattern {
                            pattern: String::from_utf8_lossy(&key).into_owned(),
                        },
                    })?;
                    if !matched {
                        continue;
                    }
                    last_matched = path.clone();
                }
                candidate_path = strip_relative(&path, &last_matched);
            } else {
                let mut with_slash = path.clone();
                with_slash.push(b'/');
                let mut prefix_slash = prefix.clone();
                prefix_slash.push(b'/');
                if !with_slash.starts_with(&prefix_slash) {
                    break;
                }
                candidate_path = strip_relative(&path, &prefix);
            }
            let mut candidate = Candidate {
                path: path.clone(),
                index: item,
                include_info: MatchInfo::default(),
                exclude_info: MatchInfo::default(),
                included: false,
                follow_links: parent.is_none() && source.follow_links,
            };
            let parent_ref = parent.map(|p| &candidates[p]);
            let mut keep = true;
            if let Some(include) = &include {
                let info = parent_ref
                    .map(|p| p.include_info.clone())
                    .unwrap_or_default();
                let (matched, info) = include
                    .matches_using_parent_results(&candidate_path, &info)
                    .map_err(to_error)?;
                candidate.include_info = info;
                keep = matched;
            }
            if keep && let Some(exclude) = &exclude {
                let info = parent_ref
                    .map(|p| p.exclude_info.clone())
                    .unwrap_or_default();
                let (matched, info) = exclude
                    .matches_using_parent_results(&candidate_path, &info)
                    .map_err(to_error)?;
                candidate.exclude_info = info;
                keep = !matched;
            }
            if !keep && !is_directory {
                continue;
            }
            let position = candidates.len();
            candidates.push(candidate);
            if keep {
                for &parent in &parents {
                    if !candidates[parent].included {
                        candidates[parent].included = true;
                        included.push(parent);
                    }
                }
                candidates[position].included = true;
                included.push(position);
            }
            if is_directory {
                parents.push(position);
            }
        }
        // Digests, with a followed symlink replaced by its target's digest.
        let mut items: Vec<(Vec<u8>, Digest)> = Vec::with_capacity(included.len());
        for &position in &included {
            let candidate = &candidates[position];
            let digest = match candidate.index {
                None => Digest::of(b""),
                Some(index) => {
                    let entry = &self.entries()[index];
                    if candidate.follow_links && entry.kind() == EntryKind::Symlink {
                        self.record_digest(&candidate.path, true)?.0
                    } else {
                        *entry.digest().ok_or(Error::NoDigests)?
                    }
                }
            };
            items.push((candidate.path.clone(), digest));
        }
        let digest = if items.is_empty() {
            Digest::of(b"")
        } else if items.len() == 1 && base_of(&key) == base_of(&items[0].0) {
            items[0].1
        } else {
            tarsum::list_digest(items.iter().map(|(path, digest)| {
                let trimmed = path.strip_prefix(prefix.as_slice()).unwrap_or(path);
                let mut k: Vec<u8> = trimmed
                    .iter()
                    .map(|&b| if b == b'/' { 0 } else { b })
                    .collect();
                if k.is_empty() {
                    k.push(0);
                }
                (k, digest)
            }))
        };
        for required in &source.required {
            let required = key_path(required.as_bytes());
            if !items.iter().any(|(path, _)| path.starts_with(&required)) {
                return Err(Error::NotFound {
                    path: String::from_utf8_lossy(relative_of(&required)).into_owned(),
                });
            }
        }
        let roots = self.group_roots(wildcard, &key, &candidates, &included);
        Ok(Selection { digest, roots })
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
