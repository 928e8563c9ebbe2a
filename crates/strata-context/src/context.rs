//! A scanned build context: the entries that survive the ignore rules, in
//! BuildKit's order, with their metadata and digests.

use std::ffi::OsStr;
use std::fs::File;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use strata_oci::Digest;

use crate::Error;
use crate::cache::{MetadataCache, Stamp};
use crate::filter::{Decision, Filter, FilterState};
use crate::listing::{self, Listings};
use crate::pattern::PatternMatcher;
use crate::tarsum::{self, Header};
use crate::usage::{Usage, UsageBuilder};

/// The kind of a selected entry. Sockets, FIFOs and devices are never
/// selected (they are reported as [`Warning::SkippedSpecial`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link (never followed by the scan).
    Symlink,
}

/// One selected file, directory or symlink.
#[derive(Debug, Clone)]
pub struct Entry {
    path: PathBuf,
    kind: EntryKind,
    mode: u32,
    uid: u32,
    gid: u32,
    size: u64,
    link_target: Option<PathBuf>,
    digest: Option<Digest>,
    directory_digest: Option<Digest>,
    stamp: Stamp,
}

impl Entry {
    /// The path relative to the context root, without `./` or a trailing `/`.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The path's bytes (`/`-separated).
    pub fn path_bytes(&self) -> &[u8] {
        self.path.as_os_str().as_bytes()
    }

    /// File, directory or symlink.
    pub fn kind(&self) -> EntryKind {
        self.kind
    }

    /// Permission bits with setuid, setgid and sticky (`st_mode & 0o7777`).
    pub fn mode(&self) -> u32 {
        self.mode
    }

    /// The owner's user id on disk.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The owner's group id on disk.
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// The size in bytes of a regular file; 0 for directories and symlinks.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The target of a symlink, exactly as stored.
    pub fn link_target(&self) -> Option<&Path> {
        self.link_target.as_deref()
    }

    /// BuildKit's digest of this entry: content and metadata for a file, the
    /// metadata (and target) for a symlink, the header for a directory.
    /// `None` when the scan did not compute digests.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// For a directory, the digest of its header and everything below it
    /// (BuildKit's directory record, what `COPY dir/` keys on).
    pub fn directory_digest(&self) -> Option<&Digest> {
        self.directory_digest.as_ref()
    }

    /// The digest a COPY of this entry alone keys on: the directory digest for
    /// a directory, the entry digest otherwise.
    pub fn content_digest(&self) -> Option<&Digest> {
        match self.kind {
            EntryKind::Directory => self.directory_digest.as_ref(),
            _ => self.digest.as_ref(),
        }
    }

    /// The modification time (seconds, nanoseconds); not part of any digest.
    pub fn mtime(&self) -> (i64, u32) {
        self.stamp.mtime
    }
}

/// Something the scan left out and the user should hear about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A socket, FIFO or device file that the rules selected; it is not sent.
    SkippedSpecial {
        /// The path relative to the context root.
        path: PathBuf,
        /// "socket", "fifo", "character device" or "block device".
        kind: &'static str,
    },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::SkippedSpecial { path, kind } => {
                write!(
                    f,
                    "skipping {kind} {} (only files, directories and symlinks are sent)",
                    path.display()
                )
            }
        }
    }
}

/// What a scan did: the counter a rescan of an unchanged context keeps at 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Entries selected.
    pub entries: u64,
    /// Regular files whose content was read and hashed.
    pub files_hashed: u64,
    /// Bytes read for hashing.
    pub bytes_hashed: u64,
    /// Entries whose digest came from the metadata cache.
    pub cache_hits: u64,
    /// Whether the metadata cache file was rewritten.
    pub cache_written: bool,
    /// Whether the directory digests came from the metadata cache (nothing
    /// changed since it was written).
    pub trees_cached: bool,
}

/// How to scan a context. The default selects everything, computes digests
/// and uses no cache.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    exclude: Option<PatternMatcher>,
    include: Option<PatternMatcher>,
    digests: bool,
    cache_directory: Option<PathBuf>,
    reset_owner: bool,
    account_ignored: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        Self {
            exclude: None,
            include: None,
            digests: true,
            cache_directory: None,
            reset_owner: false,
            account_ignored: false,
        }
    }
}

impl ScanOptions {
    /// Default options: everything selected, digests on, no cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// Exclude patterns (the `.dockerignore`), applied as fsutil does.
    pub fn exclude(mut self, matcher: PatternMatcher) -> Self {
        self.exclude = Some(matcher);
        self
    }

    /// Include patterns (BuildKit local-source include patterns).
    pub fn include(mut self, matcher: PatternMatcher) -> Self {
        self.include = Some(matcher);
        self
    }

    /// Whether to compute digests (default true); `ls`/`du`-style scans may
    /// skip them.
    pub fn digests(mut self, digests: bool) -> Self {
        self.digests = digests;
        self
    }

    /// Where the metadata cache lives (`strata build` and `strata context`
    /// use the store's `areas/context-cache`); `None` (default) hashes every file.
    pub fn cache_directory(mut self, directory: Option<PathBuf>) -> Self {
        self.cache_directory = directory;
        self
    }

    /// Digest every entry with owner 0:0, as the docker CLI and buildx send
    /// context files (`resetUIDAndGID`); default false: the real owner is
    /// covered. Entries still report their real owner.
    pub fn reset_owner(mut self, reset: bool) -> Self {
        self.reset_owner = reset;
        self
    }

    /// Also walk ignored directories to count what is left out, and total
    /// each directory (for `context du`); default false: ignored subtrees are
    /// never entered and only the overall totals are kept.
    pub fn account_ignored(mut self, account: bool) -> Self {
        self.account_ignored = account;
        self
    }
}

/// A scanned context: the selected entries in BuildKit's key order (a
/// directory's children right after it, names compared bytewise), the
/// digest of the whole context, warnings, counters and (optionally) what was
/// ignored.
#[derive(Debug)]
pub struct Context {
    root: PathBuf,
    entries: Vec<Entry>,
    root_digest: Option<Digest>,
    warnings: Vec<Warning>,
    stats: ScanStats,
    usage: Usage,
    reset_owner: bool,
}

/// The digest of the context root's header: BuildKit fakes it for local
/// sources as the digest of nothing, so the root's own mode never matters.
fn root_header_digest() -> Digest {
    Digest::of(b"")
}

fn tar_mode(kind: EntryKind, mode: u32) -> u32 {
    let bits = mode & 0o7777;
    match kind {
        EntryKind::Symlink => bits | 0o777,
        _ => bits,
    }
}

fn typeflag(kind: EntryKind) -> u8 {
    match kind {
        EntryKind::File => b'0',
        EntryKind::Directory => b'5',
        EntryKind::Symlink => b'2',
    }
}

/// Opens a context file for reading without following a symlink that may
/// have replaced it since the scan.
pub(crate) fn open_no_follow(path: &Path) -> Result<File, strata_fs::Error> {
    std::fs::OpenOptions::new()
        .read(true)
        // Non-blocking so that a FIFO swapped in after the scan cannot hang us.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| strata_fs::Error::new("open", path, e))
}

struct Walker<'a> {
    root: &'a Path,
    filter: Filter,
    listings: Listings,
    account_ignored: bool,
    entries: Vec<Entry>,
    warnings: Vec<Warning>,
    usage: UsageBuilder,
}

/// A directory on the walk's stack that has not been emitted yet.
struct Pending {
    entry: Option<Entry>,
}

impl Walker<'_> {
    fn walk_directory(
        &mut self,
        relative: &[u8],
        state: &FilterState,
        pending: &mut Vec<Pending>,
    ) -> Result<(), Error> {
        let listing = match self.listings.take(relative) {
            Some(listing) => listing,
            None => listing::list(&self.absolute(relative)),
        };
        let children = match listing {
            Ok(children) => children,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => {
                let absolute = self.absolute(relative);
                return Err(strata_fs::Error::new("list directory", absolute, error).into());
            }
        };
        for (name, stamp) in children {
            let mut path = Vec::with_capacity(relative.len() + 1 + name.len());
            if !relative.is_empty() {
                path.extend_from_slice(relative);
                path.push(b'/');
            }
            path.extend_from_slice(name.as_bytes());
            let stamp = match stamp {
                Ok(stamp) => stamp,
                // Removed while we walked: as fsutil, carry on.
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => {
                    return Err(strata_fs::Error::new("stat", self.absolute(&path), error).into());
                }
            };
            self.visit(path, stamp, state, pending)?;
        }
        Ok(())
    }

    fn absolute(&self, relative: &[u8]) -> PathBuf {
        if relative.is_empty() {
            self.root.to_path_buf()
        } else {
            self.root.join(OsStr::from_bytes(relative))
        }
    }

    fn visit(
        &mut self,
        path: Vec<u8>,
        stamp: Stamp,
        parent: &FilterState,
        pending: &mut Vec<Pending>,
    ) -> Result<(), Error> {
        let format = stamp.format();
        let is_directory = format == libc::S_IFDIR;
        let (decision, state) =
            self.filter
                .decide(&path, is_directory, parent)
                .map_err(|source| Error::Pattern {
                    path: PathBuf::from(OsStr::from_bytes(&path)),
                    source,
                })?;
        if decision != Decision::Keep {
            if is_directory {
                if decision == Decision::SkipDirectory {
                    if self.account_ignored {
                        self.usage.ignored_directory(&path);
                        self.count_ignored_tree(&path)?;
                    }
                    return Ok(());
                }
                self.usage.ignored_directory(&path);
                pending.push(Pending {
                    entry: Some(self.entry(path.clone(), EntryKind::Directory, &stamp)?),
                });
                let result = self.walk_directory(&path, &state, pending);
                pending.pop();
                return result;
            }
            if format == libc::S_IFREG {
                self.usage.ignored_file(&path, stamp.size);
            }
            return Ok(());
        }
        let kind = if is_directory {
            EntryKind::Directory
        } else if format == libc::S_IFLNK {
            EntryKind::Symlink
        } else if format == libc::S_IFREG {
            EntryKind::File
        } else {
            let kind = match format {
                libc::S_IFSOCK => "socket",
                libc::S_IFIFO => "fifo",
                libc::S_IFCHR => "character device",
                _ => "block device",
            };
            self.warnings.push(Warning::SkippedSpecial {
                path: PathBuf::from(OsStr::from_bytes(&path)),
                kind,
            });
            return Ok(());
        };
        // A kept entry brings along the directories above it not yet sent.
        for ancestor in pending.iter_mut() {
            if let Some(entry) = ancestor.entry.take() {
                self.entries.push(entry);
            }
        }
        if kind == EntryKind::File {
            self.usage.sent_file(&path, stamp.size);
        }
        if !is_directory {
            let entry = self.entry(path, kind, &stamp)?;
            self.entries.push(entry);
        } else {
            let entry = self.entry(path.clone(), kind, &stamp)?;
            self.entries.push(entry);
            pending.push(Pending { entry: None });
            let result = self.walk_directory(&path, &state, pending);
            pending.pop();
            result?;
        }
        Ok(())
    }

    fn entry(&self, path: Vec<u8>, kind: EntryKind, stamp: &Stamp) -> Result<Entry, Error> {
        let link_target = if kind == EntryKind::Symlink {
            let absolute = self.absolute(&path);
            Some(strata_fs::read_link(&absolute)?)
        } else {
            None
        };
        Ok(Entry {
            path: PathBuf::from(std::ffi::OsString::from_vec(path)),
            kind,
            mode: stamp.mode & 0o7777,
            uid: stamp.uid,
            gid: stamp.gid,
            size: if kind == EntryKind::File {
                stamp.size
            } else {
                0
            },
            link_target,
            digest: None,
            directory_digest: None,
            stamp: *stamp,
        })
    }

    /// Counts the files and bytes of an ignored subtree (for `du`).
    fn count_ignored_tree(&mut self, relative: &[u8]) -> Result<(), Error> {
        let absolute = self.absolute(relative);
        let reader = match std::fs::read_dir(&absolute) {
            Ok(reader) => reader,
            // An unreadable ignored directory is not an error (as fsutil).
            Err(_) => return Ok(()),
        };
        for child in reader.flatten() {
            let mut path = relative.to_vec();
            path.push(b'/');
            path.extend_from_slice(child.file_name().as_bytes());
            let Ok(metadata) = child.metadata() else {
                continue;
            };
            if metadata.is_dir() {
                self.count_ignored_tree(&path)?;
            } else if metadata.is_file() {
                self.usage.ignored_file(&path, metadata.len());
            }
        }
        Ok(())
    }
}

use std::os::unix::ffi::OsStringExt;

impl Context {
    /// Scans the directory `root`: walks it with the options' patterns, keeps
    /// symlinks as symlinks (never followed), skips special files with a
    /// warning, and computes digests in parallel, reusing the metadata cache.
    /// An unreadable selected file is an error naming it.
    pub fn scan(root: &Path, options: &ScanOptions) -> Result<Context, Error> {
        let root =
            std::fs::canonicalize(root).map_err(|e| strata_fs::Error::new("resolve", root, e))?;
        let metadata = strata_fs::metadata(&root)?;
        if !metadata.is_dir() {
            return Err(Error::NotADirectory { path: root });
        }
        let filter = Filter::from_matchers(options.include.clone(), options.exclude.clone());
        let listings = Listings::prefetch(&root, &filter);
        let mut walker = Walker {
            root: &root,
            filter,
            listings,
            account_ignored: options.account_ignored,
            entries: Vec::new(),
            warnings: Vec::new(),
            usage: UsageBuilder::new(options.account_ignored),
        };
        let mut pending = Vec::new();
        walker.walk_directory(b"", &FilterState::default(), &mut pending)?;
        let Walker {
            mut entries,
            warnings,
            usage,
            ..
        } = walker;
        let mut stats = ScanStats {
            entries: entries.len() as u64,
            ..ScanStats::default()
        };
        let mut root_digest = None;
        if options.digests {
            let flavour = if options.reset_owner {
                "reset-owner"
            } else {
                "owner"
            };
            let cache = options
                .cache_directory
                .as_ref()
                .map(|directory| MetadataCache::open(directory, &root, flavour));
            compute_digests(
                &root,
                &mut entries,
                cache.as_ref(),
                options.reset_owner,
                &mut stats,
            )?;
            // Every entry from the cache, none missing: the trees are those
            // the cache was written with.
            let cached_trees = cache
                .as_ref()
                .filter(|_| stats.cache_hits == stats.entries)
                .and_then(|cache| {
                    cache.directory_digests(
                        entries
                            .iter()
                            .filter(|entry| entry.kind == EntryKind::Directory)
                            .map(Entry::path_bytes),
                        entries.len(),
                    )
                });
            let root = match cached_trees {
                Some((digests, root)) => {
                    stats.trees_cached = true;
                    let directories = entries
                        .iter_mut()
                        .filter(|entry| entry.kind == EntryKind::Directory);
                    for (entry, digest) in directories.zip(digests) {
                        entry.directory_digest = Some(digest);
                    }
                    root
                }
                None => fill_directory_digests(&mut entries),
            };
            root_digest = Some(root);
            if let Some(cache) = &cache {
                stats.cache_written = cache.store(
                    entries.iter().filter_map(|entry| {
                        entry.digest.as_ref().map(|digest| {
                            (
                                entry.path_bytes(),
                                &entry.stamp,
                                digest,
                                entry.directory_digest.as_ref(),
                            )
                        })
                    }),
                    &root,
                )?;
            }
        }
        Ok(Context {
            root,
            entries,
            root_digest,
            warnings,
            stats,
            usage: usage.finish(),
            reset_owner: options.reset_owner,
        })
    }

    /// The canonical context directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The selected entries, in BuildKit's key order (use
    /// [`Context::sorted_paths`] for plain bytewise order).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry at `path` (relative, `/`-separated), if selected.
    pub fn get(&self, path: &[u8]) -> Option<&Entry> {
        self.index_of(path).map(|index| &self.entries[index])
    }

    pub(crate) fn index_of(&self, path: &[u8]) -> Option<usize> {
        self.entries
            .binary_search_by(|entry| key_order(entry.path_bytes(), path))
            .ok()
    }

    /// The digest of the whole context (what `COPY . /` keys on).
    pub fn root_digest(&self) -> Option<&Digest> {
        self.root_digest.as_ref()
    }

    /// Special files that were left out.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// What the scan did (files hashed, cache hits).
    pub fn stats(&self) -> &ScanStats {
        &self.stats
    }

    /// Sent and ignored totals (ignored subtrees counted only when the scan
    /// had `account_ignored`).
    pub fn usage(&self) -> &Usage {
        &self.usage
    }

    /// Whether digests were computed with owner 0:0.
    pub fn owner_reset(&self) -> bool {
        self.reset_owner
    }

    /// What `COPY . /` places in an image: every selected path, relative,
    /// directories ending in `/`, sorted bytewise.
    pub fn sorted_paths(&self) -> Vec<Vec<u8>> {
        let mut lines: Vec<Vec<u8>> = self
            .entries
            .iter()
            .map(|entry| {
                let mut line = entry.path_bytes().to_vec();
                if entry.kind == EntryKind::Directory {
                    line.push(b'/');
                }
                line
            })
            .collect();
        lines.sort();
        lines
    }

    /// The absolute path of an entry on disk.
    pub fn path_on_disk(&self, entry: &Entry) -> PathBuf {
        self.root.join(entry.path())
    }

    /// Opens a selected regular file for reading (never through a symlink
    /// that replaced it after the scan).
    pub fn open(&self, entry: &Entry) -> Result<File, Error> {
        Ok(open_no_follow(&self.path_on_disk(entry))?)
    }
}

/// BuildKit's key order: paths compared bytewise with `/` lower than any
/// other byte, so a directory's descendants follow it directly.
pub(crate) fn key_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let map = |byte: &u8| if *byte == b'/' { 0 } else { *byte };
    a.iter().map(map).cmp(b.iter().map(map))
}

/// Extended attributes as (name, value) pairs.
type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;

fn xattrs_of(path: &Path) -> Result<Xattrs, strata_fs::Error> {
    let names = match xattr::list(path) {
        Ok(names) => names,
        Err(error) if error.raw_os_error() == Some(libc::ENOTSUP) => return Ok(Vec::new()),
        Err(error) => {
            return Err(strata_fs::Error::new(
                "list extended attributes",
                path,
                error,
            ));
        }
    };
    let mut out = Vec::new();
    for name in names {
        let key = name.as_bytes().to_vec();
        if !tarsum::covers_xattr(&key) {
            continue;
        }
        if let Ok(Some(value)) = xattr::get(path, &name) {
            out.push((key, value));
        }
    }
    out.sort();
    Ok(out)
}

/// Below both, files are hashed on the calling thread.
const PARALLEL_MIN_FILES: usize = 64;
/// See [`PARALLEL_MIN_FILES`].
const PARALLEL_MIN_BYTES: u64 = 4 << 20;

fn compute_digests(
    root: &Path,
    entries: &mut [Entry],
    cache: Option<&MetadataCache>,
    reset_owner: bool,
    stats: &mut ScanStats,
) -> Result<(), Error> {
    let files_hashed = AtomicU64::new(0);
    let bytes_hashed = AtomicU64::new(0);
    // Cache hits first, on this thread: a rescan of an unchanged context
    // starts no thread at all (waking the pool cost more than the lookups).
    let mut cache_hits = 0;
    let mut misses: Vec<&mut Entry> = Vec::new();
    let mut cursor = 0;
    for entry in entries.iter_mut() {
        match cache.and_then(|c| c.lookup(entry.path_bytes(), &entry.stamp, &mut cursor)) {
            Some(digest) => {
                entry.digest = Some(digest);
                cache_hits += 1;
            }
            None => misses.push(entry),
        }
    }
    let hash = |buffer: &mut Vec<u8>, entry: &mut Entry| -> Result<(), Error> {
        let absolute = root.join(&entry.path);
        let xattrs = xattrs_of(&absolute)?;
        let link = entry
            .link_target
            .as_ref()
            .map(|target| target.as_os_str().as_bytes().to_vec())
            .unwrap_or_default();
        let header = Header {
            mode: tar_mode(entry.kind, entry.mode),
            uid: if reset_owner { 0 } else { entry.uid },
            gid: if reset_owner { 0 } else { entry.gid },
            size: entry.size,
            typeflag: typeflag(entry.kind),
            linkname: &link,
            xattrs: &xattrs,
        };
        if entry.kind != EntryKind::File {
            entry.digest = Some(header.digest());
            return Ok(());
        }
        let mut file = open_no_follow(&absolute)?;
        let opened = file
            .metadata()
            .map_err(|e| strata_fs::Error::new("stat", &absolute, e))?;
        if opened.dev() != entry.stamp.device || opened.ino() != entry.stamp.inode {
            return Err(Error::ChangedDuringScan { path: absolute });
        }
        let (digest, read) = header
            .digest_content(&mut file, buffer)
            .map_err(|e| strata_fs::Error::new("read", &absolute, e))?;
        if read != entry.size {
            return Err(Error::ChangedDuringScan { path: absolute });
        }
        entry.digest = Some(digest);
        files_hashed.fetch_add(1, Ordering::Relaxed);
        bytes_hashed.fetch_add(read, Ordering::Relaxed);
        Ok(())
    };
    let bytes: u64 = misses.iter().map(|entry| entry.size).sum();
    if misses.len() < PARALLEL_MIN_FILES && bytes < PARALLEL_MIN_BYTES {
        let mut buffer = vec![0u8; 64 * 1024];
        for entry in misses {
            hash(&mut buffer, entry)?;
        }
    } else {
        misses
            .par_iter_mut()
            .map_init(
                || vec![0u8; 256 * 1024],
                |buffer, entry| hash(buffer, entry),
            )
            .collect::<Result<(), Error>>()?;
    }
    stats.files_hashed = files_hashed.into_inner();
    stats.bytes_hashed = bytes_hashed.into_inner();
    stats.cache_hits = cache_hits;
    Ok(())
}

/// Fills every directory's digest bottom-up; returns the root's.
fn fill_directory_digests(entries: &mut [Entry]) -> Digest {
    // Entries are in key order, so a directory's descendants follow it: keep
    // a stack of the open directories and the (name, digest) of each one's
    // children seen so far; a directory closes when an entry outside it comes.
    struct Frame<'a> {
        directory: &'a [u8],
        index: Option<usize>,
        children: Vec<(&'a [u8], Digest)>,
    }
    fn split(path: &[u8]) -> (&[u8], &[u8]) {
        match path.iter().rposition(|&b| b == b'/') {
            Some(index) => (&path[..index], &path[index + 1..]),
            None => (&[], path),
        }
    }
    let mut directory_digests: Vec<(usize, Digest)> = Vec::new();
    let root = {
        let entries: &[Entry] = entries;
        let mut close = |frame: Frame<'_>| -> Digest {
            let header = match frame.index {
                Some(index) => entries[index].digest.unwrap_or_else(root_header_digest),
                None => root_header_digest(),
            };
            let digest = tarsum::directory_digest(
                &header,
                frame.children.iter().map(|(name, digest)| (*name, digest)),
            );
            if let Some(index) = frame.index {
                directory_digests.push((index, digest));
            }
            digest
        };
        let mut stack = vec![Frame {
            directory: &[],
            index: None,
            children: Vec::new(),
        }];
        let close_top = |stack: &mut Vec<Frame<'_>>, close: &mut dyn FnMut(Frame<'_>) -> Digest| {
            if let Some(frame) = stack.pop() {
                let name = split(frame.directory).1;
                let digest = close(frame);
                if let Some(parent) = stack.last_mut() {
                    parent.children.push((name, digest));
                }
            }
        };
        for (index, entry) in entries.iter().enumerate() {
            let path = entry.path_bytes();
            let (parent, name) = split(path);
            // Close directories that are not ancestors of this entry.
            while stack.len() > 1 && stack.last().is_some_and(|frame| frame.directory != parent) {
                close_top(&mut stack, &mut close);
            }
            if entry.kind == EntryKind::Directory {
                stack.push(Frame {
                    directory: path,
                    index: Some(index),
                    children: Vec::new(),
                });
            } else if let (Some(digest), Some(frame)) = (entry.digest, stack.last_mut()) {
                frame.children.push((name, digest));
            }
        }
        while stack.len() > 1 {
            close_top(&mut stack, &mut close);
        }
        match stack.pop() {
            Some(root) => close(root),
            None => close(Frame {
                directory: &[],
                index: None,
                children: Vec::new(),
            }),
        }
    };
    for (index, digest) in directory_digests {
        entries[index].directory_digest = Some(digest);
    }
    root
}
