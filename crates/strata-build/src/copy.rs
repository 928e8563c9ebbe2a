//! COPY and ADD into a mounted snapshot, with BuildKit's rules: a directory
//! source copies its contents; a file goes to `dest/name` when the
//! destination is a directory (it ends in `/`, several things are copied, or
//! it exists as one) and to `dest` itself otherwise; missing parents are
//! created (0755, owned like the copy); files from the context belong to
//! root unless `--chown` says otherwise, files from a stage keep their
//! owners; `--chmod` applies to everything copied.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use strata_context::{Context, EntryKind, MatchInfo, PatternMatcher};

use crate::error::{Error, Result};
use crate::plan::{CopyInput, CopyOperation};
use crate::rootfs::{Directory, Kind, Owner, Root, resolve_owner, set_times};

/// One thing to copy, found in a source.
enum Item<'a> {
    /// A context entry (and, for a directory, what is below it).
    Context {
        context: &'a Context,
        root: &'a strata_context::SelectedRoot,
    },
    /// A path in another stage's file system, and what below it is copied.
    Stage {
        root: &'a Root,
        path: String,
        filter: std::rc::Rc<Filter>,
    },
    /// A heredoc.
    Inline { name: &'a str, data: &'a str },
    /// A downloaded URL.
    Remote {
        downloaded: std::sync::Arc<crate::remote::Downloaded>,
        name: &'a str,
        unpack: bool,
    },
}

/// Copies `operation`'s sources into `destination_root`. `stage_root` gives
/// the mounted file system of a stage a source names.
pub(crate) fn copy(
    destination_root: &Root,
    operation: &CopyOperation,
    context: Option<&Context>,
    stage_roots: &HashMap<usize, Root>,
    epoch: Option<i64>,
) -> Result<()> {
    let chown = operation
        .chown
        .as_deref()
        .map(|spec| resolve_owner(destination_root, spec));
    let mut items: Vec<Item<'_>> = Vec::new();
    for source in &operation.sources {
        match source {
            CopyInput::Context { selection, named } => {
                let context = named
                    .as_deref()
                    .or(context)
                    .ok_or_else(|| copy_error("no build context"))?;
                items.extend(
                    selection
                        .roots
                        .iter()
                        .map(|root| Item::Context { context, root }),
                );
            }
            CopyInput::Stage {
                stage,
                source,
                include,
                exclude,
                required,
            } => {
                let root = stage_roots
                    .get(stage)
                    .ok_or_else(|| copy_error("the source stage is not mounted"))?;
                let not_found = |path: &str| copy_error(&not_found_message(path));
                let matches = match_paths(root, source)?;
                // A wildcard may match nothing (BuildKit's AllowEmptyWildcard).
                if matches.is_empty() && !has_wildcard(source) {
                    return Err(not_found(source));
                }
                for path in required {
                    if root.kind(path, false)?.is_none() {
                        return Err(not_found(path));
                    }
                }
                let filter = std::rc::Rc::new(Filter::new(include, exclude)?);
                items.extend(matches.into_iter().map(|path| Item::Stage {
                    root,
                    path,
                    filter: filter.clone(),
                }));
            }
            CopyInput::Inline { name, data } => items.push(Item::Inline { name, data }),
            CopyInput::Remote {
                url,
                name,
                checksum,
                unpack,
                downloads,
            } => items.push(Item::Remote {
                downloaded: downloads.fetch(url, checksum.as_ref())?,
                name,
                unpack: *unpack,
            }),
        }
    }
    let destination = operation.destination.as_str();
    // The destination's symlinks are followed, its last component's too: a
    // file copied onto a link to a file replaces the link's target.
    let target = destination_root.resolve(destination)?;
    let target = target.as_str();
    let mut copier = Copier {
        root: destination_root,
        chown,
        chmod: operation.chmod.as_ref(),
        epoch,
        directories: HashMap::new(),
        directory_times: Vec::new(),
        links: HashMap::new(),
    };
    // Each source is its own copy, as in BuildKit: whether the destination
    // is a directory is decided again for each (an earlier one may have
    // made it), so `COPY a b /dst` leaves /dst a file holding b.
    for item in &items {
        let into_directory = destination.ends_with('/')
            || destination_root.kind(target, true)? == Some(Kind::Directory);
        copier.links.clear();
        copier.item(item, target, into_directory, operation.unpack)?;
    }
    copier.finish()
}

/// Below this many files, a directory's files are copied on one thread.
const PARALLEL_MIN_FILES: usize = 64;

/// Files up to this size are copied through a buffer: `std::io::copy` first
/// tries `copy_file_range` (which fails across file systems, as from the
/// context into an overlay) and stats both files, five calls where a small
/// file needs a read and a write. Larger ones go through the kernel's copy.
const BUFFERED_COPY_MAX: u64 = 1 << 20;

/// Copies `source` (of `size` bytes when the copy began) to `destination`,
/// to the end of `source` whatever its size.
fn copy_contents(
    source: &mut std::fs::File,
    destination: &mut std::fs::File,
    size: u64,
    buffer: &mut Vec<u8>,
) -> std::io::Result<()> {
    if size > BUFFERED_COPY_MAX {
        std::io::copy(source, destination)?;
        return Ok(());
    }
    // Room for the whole file: a read, a write, and the read that ends it.
    let wanted = usize::try_from(size)
        .unwrap_or(0)
        .saturating_add(1)
        .max(8192);
    if buffer.len() < wanted {
        buffer.resize(wanted, 0);
    }
    loop {
        match source.read(buffer) {
            Ok(0) => return Ok(()),
            Ok(read) => destination.write_all(&buffer[..read])?,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
}

/// BuildKit's message for a COPY source that does not exist.
pub(crate) fn not_found_message(path: &str) -> String {
    format!(
        "failed to compute cache key: failed to calculate checksum: \"/{}\": not found",
        path.trim_start_matches('/')
    )
}

fn copy_error(message: &str) -> Error {
    Error::io(
        "copy",
        Path::new(""),
        std::io::Error::other(message.to_owned()),
    )
}

struct Copier<'a> {
    root: &'a Root,
    chown: Option<Owner>,
    chmod: Option<&'a strata_dockerfile::Chmod>,
    epoch: Option<i64>,
    /// Destination directories opened so far, by inner path.
    directories: HashMap<String, OwnedFd>,
    /// Directory times to set once their contents are in (inner path, seconds, nanos).
    directory_times: Vec<(String, i64, u32)>,
    /// Files of the current source with several links, by (device, inode):
    /// where the first was copied (parent, name). BuildKit keeps hardlinks
    /// within one source's tree, not across sources.
    links: HashMap<(u64, u64), (String, OsString)>,
}

fn join(parent: &str, name: &str) -> String {
    if parent == "/" {
        format!("/{name}")
    } else {
        format!("{parent}/{name}")
    }
}

fn split(inner: &str) -> (&str, &str) {
    match inner.rsplit_once('/') {
        Some(("", name)) => ("/", name),
        Some((parent, name)) => (parent, name),
        None => ("/", inner),
    }
}

impl Copier<'_> {
    fn mode(&self, mode: u32, is_directory: bool) -> u32 {
        match self.chmod {
            Some(chmod) => chmod.apply(mode, is_directory),
            None => mode,
        }
    }

    /// The owner of a created parent directory.
    fn created_owner(&self) -> Owner {
        self.chown.unwrap_or(Owner::ROOT)
    }

    /// Directory `inner` in the destination, created (with its parents) when missing.
    fn directory(&mut self, inner: &str) -> Result<&OwnedFd> {
        if !self.directories.contains_key(inner) {
            let fd = self
                .root
                .make_directories(inner, self.created_owner(), self.epoch)?;
            self.directories.insert(inner.to_owned(), fd);
        }
        self.directories
            .get(inner)
            .ok_or_else(|| copy_error("directory vanished"))
    }

    /// The directory a directory source is copied into: created like any
    /// parent, but with `--chmod` applied when this copy creates it (current
    /// BuildKit; the parents above it stay 0755, as the Dockerfile reference
    /// has it and moby/buildkit#5943 reports BuildKit does not).
    fn destination_directory(&mut self, inner: &str) -> Result<()> {
        let created = self.root.kind(inner, true)?.is_none();
        let mode = self.mode(0o755, true);
        let fd = self.directory(inner)?;
        if created && mode != 0o755 {
            rustix::fs::fchmod(fd, Mode::from_raw_mode(mode))
                .map_err(|e| Error::io("chmod", Path::new(inner), e.into()))?;
        }
        Ok(())
    }

    fn in_directory<T>(
        &mut self,
        parent: &str,
        work: impl FnOnce(&Directory<'_>) -> Result<T>,
    ) -> Result<T> {
        let path = self.root.path().join(parent.trim_start_matches('/'));
        let fd = self.directory(parent)?;
        work(&Directory { fd, path })
    }

    fn item(
        &mut self,
        item: &Item<'_>,
        target: &str,
        into_directory: bool,
        unpack: bool,
    ) -> Result<()> {
        match item {
            Item::Inline { name, data } => {
                let (parent, file) = if into_directory {
                    (target.to_owned(), (*name).to_owned())
                } else {
                    let (parent, file) = split(target);
                    (parent.to_owned(), file.to_owned())
                };
                let owner = self.created_owner();
                let mode = self.mode(0o644, false);
                self.in_directory(&parent, |directory| {
                    let mut file = directory.create_file(OsStr::new(&file), mode, owner)?;
                    file.write_all(data.as_bytes())
                        .map_err(|e| Error::io("write", &directory.path.join(name), e))
                })
            }
            Item::Context { context, root } => {
                self.context_item(context, root, target, into_directory, unpack)
            }
            Item::Stage { root, path, filter } => {
                self.stage_item(root, path, filter, target, into_directory)
            }
            Item::Remote {
                downloaded,
                name,
                unpack,
            } => self.remote_item(downloaded, name, target, into_directory, *unpack),
        }
    }

    fn context_item(
        &mut self,
        context: &Context,
        selected: &strata_context::SelectedRoot,
        target: &str,
        into_directory: bool,
        unpack: bool,
    ) -> Result<()> {
        let resolved = selected.index.map(|index| &context.entries()[index]);
        let is_directory = resolved.is_none_or(|e| e.kind() == EntryKind::Directory);
        if !is_directory {
            let Some(entry) = resolved else { return Ok(()) };
            let name = selected
                .path
                .file_name()
                .map(OsStr::to_os_string)
                .unwrap_or_else(|| OsString::from("file"));
            if unpack && entry.kind() == EntryKind::File {
                let file = context.open(entry)?;
                if let Some(reader) =
                    crate::archive::open_archive(file, &context.path_on_disk(entry))?
                {
                    return self.unpack(reader, target, &context.path_on_disk(entry));
                }
            }
            let (parent, file_name) = if into_directory {
                (target.to_owned(), name)
            } else {
                let (parent, file) = split(target);
                (parent.to_owned(), OsString::from(file))
            };
            return self.context_entry(context, entry, &parent, &file_name);
        }
        // A directory: its contents, in order (parents before children);
        // regular files after the directories, on several threads.
        self.destination_directory(target)?;
        let mut files: Vec<(String, OsString, &strata_context::Entry)> = Vec::new();
        for selected_entry in &selected.entries {
            if selected_entry.relative.as_os_str().is_empty() {
                continue;
            }
            let entry = &context.entries()[selected_entry.index];
            let relative = selected_entry.relative.to_string_lossy().into_owned();
            let inner = join(target, &relative);
            let (parent, name) = split(&inner);
            let (parent, name) = (parent.to_owned(), OsString::from(name));
            if entry.kind() == EntryKind::File {
                self.directory(&parent)?;
                files.push((parent, name, entry));
                continue;
            }
            self.context_entry(context, entry, &parent, &name)?;
        }
        // Files with other links wait for the rest and go in order, so that
        // the first of each becomes the file and the others its hardlinks.
        for index in self.context_files(context, &files)? {
            let (parent, name, entry) = &files[index];
            self.context_entry(context, entry, parent, name)?;
        }
        Ok(())
    }

    /// Copies context files into directories already open, on up to two
    /// threads when there are many (a COPY of a source tree is thousands of
    /// small files, each a dozen system calls through overlayfs). Returns
    /// the (sorted) indices of the files it left alone: those with other
    /// hardlinks, which [`Copier::context_entry`] copies in order.
    fn context_files(
        &self,
        context: &Context,
        files: &[(String, OsString, &strata_context::Entry)],
    ) -> Result<Vec<usize>> {
        let linked = std::sync::Mutex::new(Vec::new());
        let copy_one = |buffer: &mut Vec<u8>, index: usize| -> Result<()> {
            let (parent, name, entry) = &files[index];
            let fd = self
                .directories
                .get(parent)
                .ok_or_else(|| copy_error("directory vanished"))?;
            let directory = Directory {
                fd,
                path: self.root.path().join(parent.trim_start_matches('/')),
            };
            let owner = self.chown.unwrap_or(Owner::ROOT);
            let mode = self.mode(entry.mode() & 0o7777, false);
            let (seconds, nanoseconds) = entry.mtime();
            let mut source = context.open(entry)?;
            let source_path = context.path_on_disk(entry);
            let stat = rustix::fs::fstat(&source)
                .map_err(|e| Error::io("stat", &source_path, e.into()))?;
            if stat.st_nlink > 1 {
                if let Ok(mut linked) = linked.lock() {
                    linked.push(index);
                }
                return Ok(());
            }
            let mut file = directory.create_file(name, mode, owner)?;
            copy_contents(&mut source, &mut file, entry.size(), buffer)
                .map_err(|e| Error::io("copy", &source_path, e))?;
            set_times(&file, seconds, nanoseconds)
                .map_err(|e| Error::io("set times", &directory.path.join(name), e))
        };
        let threads = if files.len() < PARALLEL_MIN_FILES {
            1
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
        };
        let finish = |linked: std::sync::Mutex<Vec<usize>>| {
            let mut linked = linked.into_inner().unwrap_or_default();
            linked.sort_unstable();
            linked
        };
        if threads == 1 {
            let mut buffer = Vec::new();
            (0..files.len()).try_for_each(|index| copy_one(&mut buffer, index))?;
            return Ok(finish(linked));
        }
        // Each thread a contiguous run of the files (they come directory by
        // directory): two threads creating files in one directory wait on
        // its lock more than they work.
        let failed = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|thread| {
                    let range =
                        files.len() * thread / threads..files.len() * (thread + 1) / threads;
                    let (failed, copy_one) = (&failed, &copy_one);
                    scope.spawn(move || -> Result<()> {
                        let mut buffer = Vec::new();
                        for index in range {
                            if failed.load(std::sync::atomic::Ordering::Relaxed) {
                                return Ok(());
                            }
                            if let Err(error) = copy_one(&mut buffer, index) {
                                failed.store(true, std::sync::atomic::Ordering::Relaxed);
                                return Err(error);
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            workers.into_iter().try_for_each(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|_| Err(copy_error("a copy thread failed")))
            })
        })?;
        Ok(finish(linked))
    }

    fn context_entry(
        &mut self,
        context: &Context,
        entry: &strata_context::Entry,
        parent: &str,
        name: &OsStr,
    ) -> Result<()> {
        let owner = self.chown.unwrap_or(Owner::ROOT);
        let (seconds, nanoseconds) = entry.mtime();
        match entry.kind() {
            EntryKind::Directory => {
                let mode = self.mode(entry.mode() & 0o7777, true);
                let inner = join(parent, &name.to_string_lossy());
                let fd = self.in_directory(parent, |directory| {
                    directory.create_directory(name, mode, owner, true)
                })?;
                self.directories.insert(inner.clone(), fd);
                self.directory_times.push((inner, seconds, nanoseconds));
            }
            EntryKind::File => {
                let mode = self.mode(entry.mode() & 0o7777, false);
                let mut source = context.open(entry)?;
                let source_path = context.path_on_disk(entry);
                let stat = rustix::fs::fstat(&source)
                    .map_err(|e| Error::io("stat", &source_path, e.into()))?;
                if self.link_to_earlier(&stat, parent, name)? {
                    return Ok(());
                }
                self.in_directory(parent, |directory| {
                    let mut file = directory.create_file(name, mode, owner)?;
                    copy_contents(&mut source, &mut file, entry.size(), &mut Vec::new())
                        .map_err(|e| Error::io("copy", &source_path, e))?;
                    set_times(&file, seconds, nanoseconds)
                        .map_err(|e| Error::io("set times", &directory.path.join(name), e))
                })?;
            }
            EntryKind::Symlink => {
                let target = entry.link_target().unwrap_or(Path::new("")).to_path_buf();
                self.in_directory(parent, |directory| {
                    directory.create_symlink(name, &target, owner)?;
                    directory.set_times(name, seconds, nanoseconds)
                })?;
            }
        }
        Ok(())
    }

    /// A downloaded URL: root's (or `--chown`'s), mode 0600 (or `--chmod`'s),
    /// its time from `Last-Modified`.
    fn remote_item(
        &mut self,
        downloaded: &crate::remote::Downloaded,
        name: &str,
        target: &str,
        into_directory: bool,
        unpack: bool,
    ) -> Result<()> {
        let path = &downloaded.path;
        let open = || std::fs::File::open(path).map_err(|e| Error::io("open", path, e));
        if unpack && let Some(reader) = crate::archive::open_archive(open()?, path)? {
            return self.unpack(reader, target, path);
        }
        let (parent, file_name) = if into_directory {
            (target.to_owned(), name.to_owned())
        } else {
            let (parent, file) = split(target);
            (parent.to_owned(), file.to_owned())
        };
        let owner = self.created_owner();
        let mode = self.mode(0o600, false);
        let mut source = open()?;
        let modified = downloaded.modified;
        self.in_directory(&parent, |directory| {
            let name = OsStr::new(&file_name);
            let mut file = directory.create_file(name, mode, owner)?;
            std::io::copy(&mut source, &mut file)
                .map_err(|e| Error::io("copy", &directory.path.join(name), e))?;
            set_times(&file, modified, 0)
                .map_err(|e| Error::io("set times", &directory.path.join(name), e))
        })
    }

    fn stage_item(
        &mut self,
        source: &Root,
        path: &str,
        filter: &Filter,
        target: &str,
        into_directory: bool,
    ) -> Result<()> {
        match source.kind(path, true)? {
            Some(Kind::Directory) => {
                self.destination_directory(target)?;
                let fd = source.open_directory(path)?;
                let mut walk = Walk {
                    filter,
                    pending: Vec::new(),
                };
                self.stage_tree(
                    &fd,
                    &source.path().join(path.trim_start_matches('/')),
                    target,
                    &mut walk,
                    "",
                    &MatchInfo::default(),
                    &MatchInfo::default(),
                )
            }
            Some(_) => {
                let name = split(path).1.to_owned();
                let (parent, file_name) = if into_directory {
                    (target.to_owned(), name)
                } else {
                    let (parent, file) = split(target);
                    (parent.to_owned(), file.to_owned())
                };
                let (parent_path, base) = split(path);
                let parent_fd = source.open_directory(parent_path)?;
                // The source path itself is followed when it is a symlink.
                let resolved = source.open_file(path)?;
                let stat = rustix::fs::fstat(&resolved).map_err(|e| {
                    Error::io(
                        "stat",
                        &source.path().join(path.trim_start_matches('/')),
                        e.into(),
                    )
                })?;
                drop(parent_fd);
                let _ = base;
                self.stage_file(resolved, &stat, &parent, OsStr::new(&file_name))
            }
            None => Err(copy_error(&not_found_message(path))),
        }
    }

    /// Links `parent/name` to the copy of an earlier file of this source
    /// that is the same file (a hardlink in the source); whether it did.
    fn link_to_earlier(
        &mut self,
        stat: &rustix::fs::Stat,
        parent: &str,
        name: &OsStr,
    ) -> Result<bool> {
        if stat.st_nlink < 2 {
            return Ok(false);
        }
        let key = (stat.st_dev, stat.st_ino);
        let Some((first_parent, first_name)) = self.links.get(&key).cloned() else {
            self.links
                .insert(key, (parent.to_owned(), name.to_os_string()));
            return Ok(false);
        };
        let from = self.directory(&first_parent)?.try_clone().map_err(|e| {
            Error::io(
                "open directory",
                &self.root.path().join(first_parent.trim_start_matches('/')),
                e,
            )
        })?;
        self.in_directory(parent, |directory| {
            if directory.clear(name)? == Some(Kind::Directory) {
                return Err(crate::rootfs::replace_directory_error(
                    &directory.path.join(name),
                ));
            }
            rustix::fs::linkat(
                &from,
                first_name.as_os_str(),
                directory.fd,
                name,
                AtFlags::empty(),
            )
            .map_err(|e| Error::io("create hardlink", &directory.path.join(name), e.into()))
        })?;
        Ok(true)
    }

    fn stage_file(
        &mut self,
        file: std::fs::File,
        stat: &rustix::fs::Stat,
        parent: &str,
        name: &OsStr,
    ) -> Result<()> {
        if self.link_to_earlier(stat, parent, name)? {
            return Ok(());
        }
        let owner = self.chown.unwrap_or(Owner {
            uid: stat.st_uid,
            gid: stat.st_gid,
        });
        let mode = self.mode(stat.st_mode & 0o7777, false);
        let mut source = file;
        let (seconds, nanoseconds) = (stat.st_mtime, stat.st_mtime_nsec as u32);
        let size = u64::try_from(stat.st_size).unwrap_or(0);
        self.in_directory(parent, |directory| {
            let mut file = directory.create_file(name, mode, owner)?;
            copy_contents(&mut source, &mut file, size, &mut Vec::new())
                .map_err(|e| Error::io("copy", &directory.path.join(name), e))?;
            set_times(&file, seconds, nanoseconds)
                .map_err(|e| Error::io("set times", &directory.path.join(name), e))
        })
    }

    /// Copies the contents of source directory `fd` into destination
    /// directory `target` (`relative` is `fd`'s path below the matched
    /// source, for the patterns). As fsutil's copy: an entry not included
    /// (or excluded) is skipped, but a directory is still walked when a
    /// pattern could take something below it, and is created only once
    /// something below it is copied.
    #[allow(clippy::too_many_arguments)]
    fn stage_tree(
        &mut self,
        fd: &OwnedFd,
        described: &Path,
        target: &str,
        walk: &mut Walk<'_>,
        relative: &str,
        include_info: &MatchInfo,
        exclude_info: &MatchInfo,
    ) -> Result<()> {
        for name in sorted_names(fd, described)? {
            let path = described.join(&name);
            let child_relative = if relative.is_empty() {
                name.to_string_lossy().into_owned()
            } else {
                format!("{relative}/{}", name.to_string_lossy())
            };
            let decision = walk
                .filter
                .decide(&child_relative, include_info, exclude_info)?;
            if decision.skip {
                continue;
            }
            let stat = rustix::fs::statat(fd, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| Error::io("stat", &path, e.into()))?;
            let file_type = FileType::from_raw_mode(stat.st_mode);
            if !decision.include && file_type != FileType::Directory {
                continue;
            }
            let entry = SourceEntry {
                parent: fd,
                name: &name,
                path: &path,
                stat,
            };
            if file_type == FileType::Directory {
                self.stage_subdirectory(&entry, target, walk, &child_relative, &decision)?;
                continue;
            }
            self.create_pending(walk)?;
            self.stage_entry(&entry, file_type, target)?;
        }
        Ok(())
    }

    /// A source directory: pending until something below it is copied (or
    /// it is included itself), walked, then its time set once created.
    fn stage_subdirectory(
        &mut self,
        entry: &SourceEntry<'_>,
        target: &str,
        walk: &mut Walk<'_>,
        relative: &str,
        decision: &Decision,
    ) -> Result<()> {
        let inner = join(target, &entry.name.to_string_lossy());
        let child = rustix::fs::openat(
            entry.parent,
            entry.name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io("open directory", entry.path, e.into()))?;
        walk.pending.push(PendingDirectory {
            parent: target.to_owned(),
            name: entry.name.to_os_string(),
            stat: entry.stat,
            created: false,
        });
        if decision.include {
            self.create_pending(walk)?;
        }
        self.stage_tree(
            &child,
            entry.path,
            &inner,
            walk,
            relative,
            &decision.include_info,
            &decision.exclude_info,
        )?;
        if let Some(pending) = walk.pending.pop()
            && pending.created
        {
            self.directory_times.push((
                inner,
                pending.stat.st_mtime,
                pending.stat.st_mtime_nsec as u32,
            ));
        }
        Ok(())
    }

    /// A source entry other than a directory: a file, a symbolic link or a
    /// device node (sockets are skipped).
    fn stage_entry(
        &mut self,
        entry: &SourceEntry<'_>,
        file_type: FileType,
        target: &str,
    ) -> Result<()> {
        let (name, stat) = (entry.name, &entry.stat);
        let owner = self.chown.unwrap_or(Owner {
            uid: stat.st_uid,
            gid: stat.st_gid,
        });
        let (seconds, nanoseconds) = (stat.st_mtime, stat.st_mtime_nsec as u32);
        match file_type {
            FileType::RegularFile => {
                let file = rustix::fs::openat(
                    entry.parent,
                    name,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|e| Error::io("open", entry.path, e.into()))?;
                self.stage_file(std::fs::File::from(file), stat, target, name)?;
            }
            FileType::Symlink => {
                let link = rustix::fs::readlinkat(entry.parent, name, Vec::new())
                    .map_err(|e| Error::io("read symlink", entry.path, e.into()))?;
                let link = PathBuf::from(OsStr::from_bytes(link.as_bytes()));
                self.in_directory(target, |d| {
                    d.create_symlink(name, &link, owner)?;
                    d.set_times(name, seconds, nanoseconds)
                })?;
            }
            FileType::Socket => {}
            _ => {
                let mode = self.mode(stat.st_mode & 0o7777, false) | (stat.st_mode & !0o7777);
                self.in_directory(target, |d| d.create_node(name, mode, stat.st_rdev, owner))?;
            }
        }
        Ok(())
    }

    /// Creates the walked directories not created yet (fsutil's
    /// `createParentDirs`), each with its source's mode and owner.
    fn create_pending(&mut self, walk: &mut Walk<'_>) -> Result<()> {
        for index in 0..walk.pending.len() {
            if walk.pending[index].created {
                continue;
            }
            let (parent, name, stat) = {
                let pending = &walk.pending[index];
                (pending.parent.clone(), pending.name.clone(), pending.stat)
            };
            let owner = self.chown.unwrap_or(Owner {
                uid: stat.st_uid,
                gid: stat.st_gid,
            });
            let mode = self.mode(stat.st_mode & 0o7777, true);
            let created =
                self.in_directory(&parent, |d| d.create_directory(&name, mode, owner, true))?;
            self.directories
                .insert(join(&parent, &name.to_string_lossy()), created);
            walk.pending[index].created = true;
        }
        Ok(())
    }

    /// ADD of a local archive: its entries extracted into directory `target`.
    fn unpack(&mut self, reader: Box<dyn Read + Send>, target: &str, source: &Path) -> Result<()> {
        self.directory(target)?;
        let directory = self.root.path().join(target.trim_start_matches('/'));
        // The target was created inside the root; extraction itself never
        // follows a symlink and refuses entries that leave the directory.
        // `--chown` owns every entry; `--chmod` does not apply to archives.
        let options = strata_layer::ApplyOptions {
            whiteouts: strata_layer::WhiteoutMode::Delete,
            owner: self.chown.map(|owner| (owner.uid, owner.gid)),
            ..strata_layer::ApplyOptions::default()
        };
        strata_layer::apply_layer(reader, &directory, &options).map_err(|e| match e {
            strata_layer::Error::UnsafeEntry { entry, reason } => Error::io(
                "unpack",
                source,
                std::io::Error::other(format!("refused entry {entry}: {reason}")),
            ),
            other => Error::Layer(other),
        })?;
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        // Deepest first, so setting a child's times does not move its parent's.
        while let Some((inner, seconds, nanoseconds)) = self.directory_times.pop() {
            if let Some(fd) = self.directories.get(&inner) {
                let _ = set_times(fd, seconds, nanoseconds);
            }
        }
        Ok(())
    }
}

/// What below a `COPY --from` source is copied: `--parents`' include
/// patterns and `--exclude`'s patterns, relative to the matched source.
pub(crate) struct Filter {
    include: Option<PatternMatcher>,
    exclude: Option<PatternMatcher>,
}

/// What the filter says about one path.
struct Decision {
    /// Nothing below it can be copied: not even walked.
    skip: bool,
    /// It is copied (a directory not included may still be walked).
    include: bool,
    include_info: MatchInfo,
    exclude_info: MatchInfo,
}

impl Filter {
    fn new(include: &[String], exclude: &[String]) -> Result<Filter> {
        let compile = |patterns: &[String]| -> Result<Option<PatternMatcher>> {
            if patterns.is_empty() {
                return Ok(None);
            }
            PatternMatcher::new(patterns)
                .map(Some)
                .map_err(|e| copy_error(&format!("invalid patterns {patterns:?}: {e}")))
        };
        Ok(Filter {
            include: compile(include)?,
            exclude: compile(exclude)?,
        })
    }

    fn decide(
        &self,
        relative: &str,
        include_info: &MatchInfo,
        exclude_info: &MatchInfo,
    ) -> Result<Decision> {
        let pattern_error = |e: strata_context::PatternError| copy_error(&e.to_string());
        let mut decision = Decision {
            skip: false,
            include: true,
            include_info: MatchInfo::default(),
            exclude_info: MatchInfo::default(),
        };
        if let Some(include) = &self.include {
            let (matched, info) = include
                .matches_using_parent_results(relative.as_bytes(), include_info)
                .map_err(pattern_error)?;
            decision.include = matched;
            decision.include_info = info;
        }
        if let Some(exclude) = &self.exclude {
            let (matched, info) = exclude
                .matches_using_parent_results(relative.as_bytes(), exclude_info)
                .map_err(pattern_error)?;
            decision.exclude_info = info;
            if matched {
                decision.include = false;
            }
        }
        decision.skip = !decision.include
            && self.include.is_none()
            && self.exclude.as_ref().is_none_or(|e| !e.has_exclusions());
        Ok(decision)
    }
}

/// An entry of a source directory being walked.
struct SourceEntry<'a> {
    /// The directory it is in.
    parent: &'a OwnedFd,
    name: &'a OsStr,
    /// Its path on the host, for messages.
    path: &'a Path,
    stat: rustix::fs::Stat,
}

/// The names in directory `fd`, sorted (`.` and `..` left out).
fn sorted_names(fd: &OwnedFd, described: &Path) -> Result<Vec<OsString>> {
    let mut names: Vec<OsString> = Vec::new();
    let directory = rustix::fs::Dir::read_from(fd)
        .map_err(|e| Error::io("list directory", described, e.into()))?;
    for entry in directory {
        let entry = entry.map_err(|e| Error::io("list directory", described, e.into()))?;
        let name = entry.file_name().to_bytes();
        if name == b"." || name == b".." {
            continue;
        }
        names.push(OsStr::from_bytes(name).to_os_string());
    }
    names.sort();
    Ok(names)
}

/// A directory walked but not created yet.
struct PendingDirectory {
    parent: String,
    name: OsString,
    stat: rustix::fs::Stat,
    created: bool,
}

/// The state of one source's walk.
struct Walk<'a> {
    filter: &'a Filter,
    pending: Vec<PendingDirectory>,
}

fn has_wildcard(path: &str) -> bool {
    path.contains(['*', '?', '['])
}

/// The paths a (possibly wildcarded) source names in `root`, sorted.
fn match_paths(root: &Root, source: &str) -> Result<Vec<String>> {
    let cleaned = strata_go::path::clean_str(&format!("/{source}"));
    let parts: Vec<&str> = cleaned.split('/').filter(|p| !p.is_empty()).collect();
    let has_wildcard = |part: &str| part.contains(['*', '?', '[']);
    if !parts.iter().any(|p| has_wildcard(p)) {
        return Ok(match root.kind(&cleaned, true)? {
            Some(_) => vec![cleaned],
            None if cleaned == "/" => vec![cleaned],
            None => Vec::new(),
        });
    }
    let mut current = vec!["/".to_owned()];
    for part in parts {
        let mut next = Vec::new();
        for base in &current {
            if has_wildcard(part) {
                let Ok(fd) = root.open_directory(base) else {
                    continue;
                };
                let Ok(directory) = rustix::fs::Dir::read_from(&fd) else {
                    continue;
                };
                let mut names: Vec<Vec<u8>> = directory
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_bytes().to_vec())
                    .filter(|n| n != b"." && n != b"..")
                    .collect();
                names.sort();
                for name in names {
                    if strata_go::path::path_match(part.as_bytes(), &name) == Ok(true) {
                        next.push(join(base, &String::from_utf8_lossy(&name)));
                    }
                }
            } else {
                let candidate = join(base, part);
                if root.kind(&candidate, false)?.is_some() {
                    next.push(candidate);
                }
            }
        }
        current = next;
    }
    Ok(current)
}
