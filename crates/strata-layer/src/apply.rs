//! A layer applied to a directory without ever writing outside it.
//!
//! Every entry's parent is reached through directory file descriptors opened
//! one component at a time with `O_NOFOLLOW`, so a symlink in the tree (made
//! by this layer or found below it) is never followed; names with `..` or a
//! leading `/` are refused before anything is touched.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;
use strata_oci::{Digest, Sha256Writer};
use tar::EntryType;

use crate::change::{OPAQUE_MARKER, WHITEOUT_PREFIX};
use crate::compress::decompressor;
use crate::write::keep_xattr;
use crate::{Error, Result};

/// What whiteouts and opaque markers become.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WhiteoutMode {
    /// The layer is applied onto the tree below it: a whiteout deletes its
    /// path, an opaque marker empties its directory of what lower layers put there.
    #[default]
    Delete,
    /// The layer is unpacked alone, to serve as an overlayfs lower directory:
    /// a whiteout becomes a 0/0 character device and an opaque marker the
    /// `trusted.overlay.opaque=y` xattr, as overlayfs expects.
    Overlay,
}

/// How a layer is applied.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// What whiteouts become (default: deletions).
    pub whiteouts: WhiteoutMode,
    /// Whether to set owners from the archive (default: when running as root).
    pub same_owner: bool,
    /// Every entry's owner (uid, gid) instead of the archive's, as `ADD
    /// --chown` of an archive gives (default: none).
    pub owner: Option<(u32, u32)>,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            whiteouts: WhiteoutMode::Delete,
            same_owner: rustix::process::geteuid().is_root(),
            owner: None,
        }
    }
}

/// What an applied layer was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApplyReport {
    /// sha256 of the uncompressed tar: compare it with the image's diff id.
    pub diff_id: Digest,
    /// Size of the uncompressed tar in bytes.
    pub uncompressed_size: u64,
    /// sha256 of the blob as read (compressed): compare it with the manifest's digest.
    pub digest: Digest,
    /// Size of the blob as read, in bytes.
    pub size: u64,
    /// The number of archive entries applied (whiteouts included).
    pub entries: u64,
}

/// Applies the layer in `blob` (gzip, zstd or plain tar, recognised by its
/// first bytes) to the directory `target`.
///
/// Refused with [`Error::UnsafeEntry`], before the entry touches anything:
/// absolute names, `..` components, an entry whose path goes through a
/// symlink made earlier by the same layer, hardlinks whose target is outside
/// the tree or goes through a symlink, whiteouts of `.`/`..`, and entry types
/// a layer cannot hold. Earlier entries stay applied: apply into a temporary
/// directory and rename it to make the whole layer atomic.
pub fn apply_layer<R: Read + Send>(
    blob: R,
    target: &Path,
    options: &ApplyOptions,
) -> Result<ApplyReport> {
    let root = rustix::fs::open(
        target,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| strata_fs::Error::new("open directory", target, e.into()))?;

    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel::<io::Result<Vec<u8>>>(8);
        let decoder = scope.spawn(move || -> io::Result<(Digest, u64, Digest, u64)> {
            let mut hasher = Sha256Writer::new(io::sink());
            let mut blob = HashingReader {
                inner: blob,
                hasher: Sha256Writer::new(io::sink()),
            };
            let result = (|| {
                let mut reader = decompressor(&mut blob)?;
                loop {
                    let mut chunk = vec![0u8; 256 * 1024];
                    let read = match reader.read(&mut chunk) {
                        Ok(0) => return Ok(()),
                        Ok(read) => read,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(e),
                    };
                    chunk.truncate(read);
                    hasher.write_all(&chunk)?;
                    if sender.send(Ok(chunk)).is_err() {
                        return Ok(());
                    }
                }
            })();
            if let Err(e) = result {
                let message = e.to_string();
                let _ = sender.send(Err(e));
                return Err(io::Error::other(message));
            }
            // What follows the compressed stream still belongs to the blob.
            io::copy(&mut blob, &mut io::sink())?;
            let (digest, size, _) = hasher.finish();
            let (blob_digest, blob_size, _) = blob.hasher.finish();
            Ok((digest, size, blob_digest, blob_size))
        });
        let mut stream = ChannelReader {
            receiver,
            current: Vec::new(),
            position: 0,
        };
        let mut applier = Applier {
            root: root.as_fd(),
            options,
            stack: Vec::new(),
            written: HashSet::new(),
            symlinks: HashSet::new(),
            directory_times: Vec::new(),
            buffer: vec![0; 256 * 1024],
        };
        let entries = applier.apply_archive(&mut stream)?;
        applier.finish_directory_times()?;
        // Read to the end so that the diff id covers the whole stream.
        io::copy(&mut stream, &mut io::sink()).map_err(|source| Error::Archive {
            entry: None,
            source,
        })?;
        drop(stream);
        let (diff_id, uncompressed_size, digest, size) = decoder
            .join()
            .map_err(|_| Error::Archive {
                entry: None,
                source: io::Error::other("decompressor thread panicked"),
            })?
            .map_err(|source| Error::Archive {
                entry: None,
                source,
            })?;
        Ok(ApplyReport {
            diff_id,
            uncompressed_size,
            digest,
            size,
            entries,
        })
    })
}

/// Hashes what is read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256Writer<io::Sink>,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buf)?;
        self.hasher.write_all(&buf[..read])?;
        Ok(read)
    }
}

struct ChannelReader {
    receiver: Receiver<io::Result<Vec<u8>>>,
    current: Vec<u8>,
    position: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.position == self.current.len() {
            match self.receiver.recv() {
                Ok(chunk) => {
                    self.current = chunk?;
                    self.position = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len() - self.position);
        buf[..n].copy_from_slice(&self.current[self.position..self.position + n]);
        self.position += n;
        Ok(n)
    }
}

/// An entry's name, checked and split into components.
struct EntryPath {
    /// The name as the archive has it, for messages.
    display: String,
    components: Vec<OsString>,
}

impl EntryPath {
    fn parse(raw: &[u8]) -> Result<Self> {
        let display = String::from_utf8_lossy(raw).into_owned();
        if raw.contains(&0) {
            return Err(Error::unsafe_entry(
                &display,
                "the name contains a NUL byte",
            ));
        }
        if raw.first() == Some(&b'/') {
            return Err(Error::unsafe_entry(
                &display,
                "absolute names are not allowed in a layer",
            ));
        }
        let mut components = Vec::new();
        for component in raw.split(|b| *b == b'/') {
            match component {
                b"" | b"." => {}
                b".." => {
                    return Err(Error::unsafe_entry(
                        &display,
                        "`..` components are not allowed in a layer",
                    ));
                }
                name => components.push(OsString::from_vec(name.to_vec())),
            }
        }
        Ok(Self {
            display,
            components,
        })
    }

    fn relative(&self) -> PathBuf {
        self.components.iter().collect()
    }
}

/// How far an open directory chain reaches.
struct OpenDirectory {
    name: OsString,
    fd: OwnedFd,
}

struct Applier<'a> {
    root: BorrowedFd<'a>,
    options: &'a ApplyOptions,
    /// Open directories from the root down to the last entry's parent.
    stack: Vec<OpenDirectory>,
    /// Every path this layer wrote (what an opaque marker keeps).
    written: HashSet<PathBuf>,
    /// Symlinks this layer made: an entry may not go through them.
    symlinks: HashSet<PathBuf>,
    /// Directories whose times are set last (their children change them).
    directory_times: Vec<(Vec<OsString>, Timestamps)>,
    /// Reused for file contents.
    buffer: Vec<u8>,
}

impl Applier<'_> {
    fn apply_archive(&mut self, stream: &mut ChannelReader) -> Result<u64> {
        let mut archive = tar::Archive::new(stream);
        let entries = archive.entries().map_err(|source| Error::Archive {
            entry: None,
            source,
        })?;
        let mut count = 0;
        let mut last_name: Option<String> = None;
        for entry in entries {
            let mut entry = entry.map_err(|source| Error::Archive {
                entry: last_name.clone(),
                source,
            })?;
            let raw_name = entry.path_bytes().into_owned();
            let path = EntryPath::parse(&raw_name)?;
            last_name = Some(path.display.clone());
            self.apply_entry(&path, &mut entry)?;
            count += 1;
        }
        Ok(count)
    }

    /// Applies one archive entry, refusing an unsafe one before it touches
    /// anything.
    fn apply_entry<R: Read>(
        &mut self,
        path: &EntryPath,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<()> {
        let entry_type = entry.header().entry_type();
        if matches!(entry_type, EntryType::XGlobalHeader | EntryType::XHeader) {
            return Ok(());
        }
        let Some((name, parents)) = path.components.split_last() else {
            return self.apply_root(path, entry, entry_type);
        };
        let name_bytes = name.as_bytes();

        if name_bytes == OPAQUE_MARKER.as_bytes() {
            let parent = self.open_parent(path, parents, true)?;
            return self.make_opaque(path, parents, &parent);
        }
        if name_bytes.starts_with(b".wh..wh.") {
            // aufs bookkeeping (hardlink directories): not part of the image.
            return Ok(());
        }
        if let Some(hidden) = name_bytes.strip_prefix(WHITEOUT_PREFIX.as_bytes()) {
            if hidden.is_empty() || hidden == b"." || hidden == b".." {
                return Err(Error::unsafe_entry(
                    &path.display,
                    "a whiteout must name a file",
                ));
            }
            let hidden = OsStr::from_bytes(hidden);
            let parent = self.open_parent(path, parents, true)?;
            return self.whiteout(path, parents, &parent, hidden);
        }

        let parent = self.open_parent(path, parents, true)?;
        let relative = path.relative();
        match entry_type {
            EntryType::Directory => self.apply_directory(path, &parent, name, entry)?,
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.apply_file(path, &parent, name, entry, entry_type)?;
            }
            EntryType::Symlink => {
                self.apply_symlink(path, &parent, name, entry)?;
                self.symlinks.insert(relative.clone());
            }
            // Opens its own parent again, after the target's.
            EntryType::Link => self.apply_hardlink(path, parents, name, entry)?,
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                self.apply_node(path, &parent, name, entry, entry_type)?;
            }
            other => {
                return Err(Error::unsafe_entry(
                    &path.display,
                    format!("entry type {other:?} cannot be in a layer"),
                ));
            }
        }
        self.written.insert(relative);
        Ok(())
    }

    /// The root itself (`./`): only a directory may describe it.
    fn apply_root<R: Read>(
        &mut self,
        path: &EntryPath,
        entry: &mut tar::Entry<'_, R>,
        entry_type: EntryType,
    ) -> Result<()> {
        if entry_type == EntryType::Directory {
            let fd = rustix::io::dup(self.root)
                .map_err(|e| Error::entry(&path.display, "open root", e))?;
            return self.set_metadata_fd(path, &fd, entry, true);
        }
        Err(Error::unsafe_entry(
            &path.display,
            "only a directory may name the root",
        ))
    }

    /// A directory: one already there is kept, anything else there replaced.
    fn apply_directory<R: Read>(
        &mut self,
        path: &EntryPath,
        parent: &OwnedFd,
        name: &OsStr,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<()> {
        match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) if FileType::from_raw_mode(stat.st_mode) == FileType::Directory => {}
            Ok(_) => {
                self.remove(path, parent, name)?;
                self.mkdir(path, parent, name)?;
            }
            Err(Errno::NOENT) => self.mkdir(path, parent, name)?,
            Err(e) => return Err(Error::entry(&path.display, "stat", e)),
        }
        let fd = rustix::fs::openat(
            parent,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::entry(&path.display, "open directory", e))?;
        self.set_metadata_fd(path, &fd, entry, true)
    }

    /// A regular file, created anew (`O_EXCL`, never through a symlink).
    fn apply_file<R: Read>(
        &mut self,
        path: &EntryPath,
        parent: &OwnedFd,
        name: &OsStr,
        entry: &mut tar::Entry<'_, R>,
        entry_type: EntryType,
    ) -> Result<()> {
        if entry_type == EntryType::GNUSparse {
            return Err(Error::unsafe_entry(
                &path.display,
                "GNU sparse files are not supported in layers",
            ));
        }
        self.remove_existing(path, parent, name)?;
        let file = rustix::fs::openat(
            parent,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| Error::entry(&path.display, "create file", e))?;
        let mut file = std::fs::File::from(file);
        self.copy_contents(path, entry, &mut file)?;
        let fd = OwnedFd::from(file);
        self.set_metadata_fd(path, &fd, entry, false)
    }

    /// A symlink, its target written as the archive has it (never followed).
    fn apply_symlink<R: Read>(
        &mut self,
        path: &EntryPath,
        parent: &OwnedFd,
        name: &OsStr,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<()> {
        let target = entry
            .link_name_bytes()
            .ok_or_else(|| Error::unsafe_entry(&path.display, "a symlink without a target"))?
            .into_owned();
        if target.contains(&0) {
            return Err(Error::unsafe_entry(
                &path.display,
                "the symlink target contains a NUL byte",
            ));
        }
        self.remove_existing(path, parent, name)?;
        rustix::fs::symlinkat(OsStr::from_bytes(&target), parent, name)
            .map_err(|e| Error::entry(&path.display, "create symlink", e))?;
        self.set_metadata_at(path, parent, name, entry)
    }

    /// A hardlink to a file already in the tree; nothing is done when `name`
    /// is that file already.
    fn apply_hardlink<R: Read>(
        &mut self,
        path: &EntryPath,
        parents: &[OsString],
        name: &OsStr,
        entry: &tar::Entry<'_, R>,
    ) -> Result<()> {
        let (target_parent, target_name, stat) = self.hardlink_target(path, entry)?;
        // Reopen our own parent: opening the target's may have moved the stack.
        let parent = self.open_parent(path, parents, true)?;
        if let Ok(existing) = rustix::fs::statat(&parent, name, AtFlags::SYMLINK_NOFOLLOW)
            && existing.st_ino == stat.st_ino
            && existing.st_dev == stat.st_dev
        {
            return Ok(());
        }
        self.remove_existing(path, &parent, name)?;
        rustix::fs::linkat(
            &target_parent,
            target_name.as_os_str(),
            &parent,
            name,
            AtFlags::empty(),
        )
        .map_err(|e| Error::entry(&path.display, "create hardlink", e))
    }

    /// Checks a hardlink's target (inside the layer, not through a symlink,
    /// not a directory) and returns its open parent, its name and its stat.
    fn hardlink_target<R: Read>(
        &mut self,
        path: &EntryPath,
        entry: &tar::Entry<'_, R>,
    ) -> Result<(OwnedFd, OsString, rustix::fs::Stat)> {
        let raw_target = entry
            .link_name_bytes()
            .ok_or_else(|| Error::unsafe_entry(&path.display, "a hardlink without a target"))?
            .into_owned();
        let target = EntryPath::parse(&raw_target).map_err(|_| {
            Error::unsafe_entry(
                &path.display,
                format!(
                    "hardlink target {:?} is outside the layer",
                    String::from_utf8_lossy(&raw_target)
                ),
            )
        })?;
        let Some((target_name, target_parents)) = target.components.split_last() else {
            return Err(Error::unsafe_entry(&path.display, "a hardlink to the root"));
        };
        let target_parent = self
            .open_parent(path, target_parents, false)
            .map_err(|e| match e {
                Error::UnsafeEntry { .. } => Error::unsafe_entry(
                    &path.display,
                    format!(
                        "hardlink target {:?} goes through a symlink",
                        target.display
                    ),
                ),
                other => other,
            })?;
        let stat = rustix::fs::statat(
            &target_parent,
            target_name.as_os_str(),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| Error::entry(&path.display, "find hardlink target", e))?;
        if FileType::from_raw_mode(stat.st_mode) == FileType::Directory {
            return Err(Error::unsafe_entry(
                &path.display,
                "a hardlink to a directory",
            ));
        }
        Ok((target_parent, target_name.clone(), stat))
    }

    /// A character or block device, or a FIFO.
    fn apply_node<R: Read>(
        &mut self,
        path: &EntryPath,
        parent: &OwnedFd,
        name: &OsStr,
        entry: &mut tar::Entry<'_, R>,
        entry_type: EntryType,
    ) -> Result<()> {
        let header = entry.header();
        let (file_type, device) = match entry_type {
            EntryType::Fifo => (FileType::Fifo, 0),
            _ => {
                let major = header.device_major().ok().flatten().unwrap_or(0);
                let minor = header.device_minor().ok().flatten().unwrap_or(0);
                let kind = if entry_type == EntryType::Char {
                    FileType::CharacterDevice
                } else {
                    FileType::BlockDevice
                };
                (kind, rustix::fs::makedev(major, minor))
            }
        };
        self.remove_existing(path, parent, name)?;
        match rustix::fs::mknodat(parent, name, file_type, Mode::from_raw_mode(0o600), device) {
            // No device can be made in a user namespace (rootless):
            // skipped, as moby's and containers' archive code skip
            // them (a step's /dev is the sandbox's anyway).
            Err(Errno::PERM) if entry_type != EntryType::Fifo && strata_fs::in_user_namespace() => {
                Ok(())
            }
            result => {
                result.map_err(|e| Error::entry(&path.display, "create device node", e))?;
                self.set_metadata_at(path, parent, name, entry)
            }
        }
    }

    /// Copies an entry's data into `file` through a large reused buffer.
    fn copy_contents<R: Read>(
        &mut self,
        path: &EntryPath,
        entry: &mut tar::Entry<'_, R>,
        file: &mut std::fs::File,
    ) -> Result<()> {
        let expected = entry.size();
        let mut written = 0u64;
        loop {
            let read = match entry.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Archive {
                        entry: Some(path.display.clone()),
                        source,
                    });
                }
            };
            file.write_all(&self.buffer[..read])
                .map_err(|e| Error::entry(&path.display, "write file", e))?;
            written += read as u64;
        }
        if written != expected {
            return Err(Error::Archive {
                entry: Some(path.display.clone()),
                source: io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("truncated: {written} of {expected} bytes"),
                ),
            });
        }
        Ok(())
    }

    /// Opens the directory `components` (relative to the root), creating
    /// missing ones when `create`. A symlink on the way is refused when this
    /// layer made it or when not creating; one found below the layer is
    /// replaced by a directory, as overlayfs shows a directory over it.
    fn open_parent(
        &mut self,
        path: &EntryPath,
        components: &[OsString],
        create: bool,
    ) -> Result<OwnedFd> {
        let common = self
            .stack
            .iter()
            .zip(components)
            .take_while(|(open, wanted)| &open.name == *wanted)
            .count();
        self.stack.truncate(common);
        for index in common..components.len() {
            let name = &components[index];
            let fd = {
                let parent = match self.stack.last() {
                    Some(open) => open.fd.as_fd(),
                    None => self.root,
                };
                let open = |parent: BorrowedFd<'_>| {
                    rustix::fs::openat(
                        parent,
                        name.as_os_str(),
                        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                        Mode::empty(),
                    )
                };
                match open(parent) {
                    Ok(fd) => fd,
                    Err(Errno::NOENT) if create => {
                        rustix::fs::mkdirat(parent, name.as_os_str(), Mode::from_raw_mode(0o755))
                            .map_err(|e| Error::entry(&path.display, "create parent directory", e))?;
                        open(parent)
                            .map_err(|e| Error::entry(&path.display, "open parent directory", e))?
                    }
                    Err(Errno::NOTDIR | Errno::LOOP) => {
                        let walked: PathBuf = components[..=index].iter().collect();
                        if !create || self.symlinks.contains(&walked) {
                            return Err(Error::unsafe_entry(
                                &path.display,
                                format!(
                                    "it goes through {}, which is not a directory",
                                    walked.display()
                                ),
                            ));
                        }
                        // From a lower layer: a directory replaces it, as in overlayfs.
                        rustix::fs::unlinkat(parent, name.as_os_str(), AtFlags::empty()).map_err(
                            |e| Error::entry(&path.display, "replace non-directory parent", e),
                        )?;
                        rustix::fs::mkdirat(parent, name.as_os_str(), Mode::from_raw_mode(0o755))
                            .map_err(|e| Error::entry(&path.display, "create parent directory", e))?;
                        open(parent)
                            .map_err(|e| Error::entry(&path.display, "open parent directory", e))?
                    }
                    Err(e) => return Err(Error::entry(&path.display, "open parent directory", e)),
                }
            };
            self.stack.push(OpenDirectory {
                name: name.clone(),
                fd,
            });
        }
        let top = match self.stack.last() {
            Some(open) => open.fd.as_fd(),
            None => self.root,
        };
        rustix::io::dup(top).map_err(|e| Error::entry(&path.display, "open parent directory", e))
    }

    fn mkdir(&mut self, path: &EntryPath, parent: &OwnedFd, name: &OsStr) -> Result<()> {
        rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o755))
            .map_err(|e| Error::entry(&path.display, "create directory", e))
    }

    /// Removes whatever is at `name` unless it is a directory the new entry
    /// (a non-directory) must replace: then it goes too, recursively.
    fn remove_existing(&mut self, path: &EntryPath, parent: &OwnedFd, name: &OsStr) -> Result<()> {
        match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(_) => self.remove(path, parent, name),
            Err(Errno::NOENT) => Ok(()),
            Err(e) => Err(Error::entry(&path.display, "stat", e)),
        }
    }

    fn remove(&mut self, path: &EntryPath, parent: &OwnedFd, name: &OsStr) -> Result<()> {
        // A removed directory may be on the stack of open directories.
        self.stack.clear();
        remove_all_at(parent.as_fd(), name)
            .map_err(|e| Error::entry(&path.display, "remove existing", e))
    }

    fn whiteout(
        &mut self,
        path: &EntryPath,
        parents: &[OsString],
        parent: &OwnedFd,
        hidden: &OsStr,
    ) -> Result<()> {
        match self.options.whiteouts {
            WhiteoutMode::Delete => {
                match rustix::fs::statat(parent, hidden, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(_) => self.remove(path, parent, hidden)?,
                    Err(Errno::NOENT) => {}
                    Err(e) => return Err(Error::entry(&path.display, "stat whited-out path", e)),
                }
            }
            WhiteoutMode::Overlay => {
                self.remove_existing(path, parent, hidden)?;
                rustix::fs::mknodat(parent, hidden, FileType::CharacterDevice, Mode::empty(), 0)
                    .map_err(|e| Error::entry(&path.display, "create whiteout device", e))?;
            }
        }
        let mut hidden_path: PathBuf = parents.iter().collect();
        hidden_path.push(hidden);
        self.written.remove(&hidden_path);
        Ok(())
    }

    fn make_opaque(
        &mut self,
        path: &EntryPath,
        parents: &[OsString],
        parent: &OwnedFd,
    ) -> Result<()> {
        match self.options.whiteouts {
            WhiteoutMode::Overlay => rustix::fs::fsetxattr(
                parent,
                crate::opaque_xattr(),
                b"y",
                rustix::fs::XattrFlags::empty(),
            )
            .map_err(|e| Error::entry(&path.display, "mark directory opaque", e)),
            WhiteoutMode::Delete => {
                let directory: PathBuf = parents.iter().collect();
                let fd = rustix::io::dup(parent)
                    .map_err(|e| Error::entry(&path.display, "open opaque directory", e))?;
                let names = list_directory(fd)
                    .map_err(|e| Error::entry(&path.display, "list opaque directory", e))?;
                for child in names {
                    if !self.written.contains(&directory.join(&child)) {
                        self.remove(path, parent, &child)?;
                    }
                }
                Ok(())
            }
        }
    }

    fn set_metadata_fd<R: Read>(
        &mut self,
        path: &EntryPath,
        fd: &OwnedFd,
        entry: &mut tar::Entry<'_, R>,
        is_directory: bool,
    ) -> Result<()> {
        let header = entry.header();
        let mode = header.mode().map_err(|source| Error::Archive {
            entry: Some(path.display.clone()),
            source,
        })?;
        let (uid, gid, mtime) = ids_and_mtime(path, entry)?;
        let (uid, gid) = self.options.owner.unwrap_or((uid, gid));
        if self.options.same_owner || self.options.owner.is_some() {
            rustix::fs::fchown(
                fd,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
            )
            .map_err(|e| Error::entry(&path.display, "set owner", e))?;
        }
        rustix::fs::fchmod(fd, Mode::from_raw_mode(mode & 0o7777))
            .map_err(|e| Error::entry(&path.display, "set mode", e))?;
        for (name, value) in xattrs(path, entry)? {
            match rustix::fs::fsetxattr(
                fd,
                OsStr::from_bytes(&name),
                &value,
                rustix::fs::XattrFlags::empty(),
            ) {
                Ok(()) | Err(Errno::NOTSUP) => {}
                Err(e) => return Err(Error::entry(&path.display, "set xattr", e)),
            }
        }
        let times = timestamps(mtime);
        if is_directory {
            self.directory_times.push((path.components.clone(), times));
        } else {
            rustix::fs::futimens(fd, &times)
                .map_err(|e| Error::entry(&path.display, "set times", e))?;
        }
        Ok(())
    }

    /// Metadata for entries that cannot be opened (symlinks, devices).
    fn set_metadata_at<R: Read>(
        &mut self,
        path: &EntryPath,
        parent: &OwnedFd,
        name: &OsStr,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<()> {
        let header = entry.header();
        let is_symlink = header.entry_type() == EntryType::Symlink;
        let mode = header.mode().map_err(|source| Error::Archive {
            entry: Some(path.display.clone()),
            source,
        })?;
        let (uid, gid, mtime) = ids_and_mtime(path, entry)?;
        let (uid, gid) = self.options.owner.unwrap_or((uid, gid));
        if self.options.same_owner || self.options.owner.is_some() {
            rustix::fs::chownat(
                parent,
                name,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|e| Error::entry(&path.display, "set owner", e))?;
        }
        if !is_symlink {
            rustix::fs::chmodat(
                parent,
                name,
                Mode::from_raw_mode(mode & 0o7777),
                AtFlags::empty(),
            )
            .map_err(|e| Error::entry(&path.display, "set mode", e))?;
        }
        let xattrs = xattrs(path, entry)?;
        if !xattrs.is_empty() {
            // The parent through /proc, the name not followed: l*xattr on it.
            let target = Path::new("/proc/self/fd")
                .join(parent.as_fd().as_raw_fd_string())
                .join(name);
            for (key, value) in xattrs {
                match rustix::fs::lsetxattr(
                    &target,
                    OsStr::from_bytes(&key),
                    &value,
                    rustix::fs::XattrFlags::empty(),
                ) {
                    Ok(()) | Err(Errno::NOTSUP | Errno::PERM) if is_symlink => {}
                    Ok(()) | Err(Errno::NOTSUP) => {}
                    Err(e) => return Err(Error::entry(&path.display, "set xattr", e)),
                }
            }
        }
        rustix::fs::utimensat(parent, name, &timestamps(mtime), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| Error::entry(&path.display, "set times", e))?;
        Ok(())
    }

    /// Sets the directories' times now that nothing more is added to them.
    fn finish_directory_times(&mut self) -> Result<()> {
        let times = std::mem::take(&mut self.directory_times);
        self.stack.clear();
        for (components, timestamps) in times.into_iter().rev() {
            let path = EntryPath {
                display: components.iter().collect::<PathBuf>().display().to_string(),
                components,
            };
            let fd = match self.open_parent(&path, &path.components, false) {
                Ok(fd) => fd,
                // Removed or replaced by a later entry.
                Err(_) => continue,
            };
            rustix::fs::futimens(&fd, &timestamps)
                .map_err(|e| Error::entry(&path.display, "set times", e))?;
        }
        Ok(())
    }
}

trait RawFdString {
    fn as_raw_fd_string(&self) -> String;
}

impl RawFdString for BorrowedFd<'_> {
    fn as_raw_fd_string(&self) -> String {
        use std::os::fd::AsRawFd;
        self.as_raw_fd().to_string()
    }
}

fn ids_and_mtime<R: Read>(
    path: &EntryPath,
    entry: &mut tar::Entry<'_, R>,
) -> Result<(u32, u32, i64)> {
    // Empty numeric fields read as 0, as Go's archive/tar reads them.
    let mut uid = entry.header().uid().unwrap_or(0);
    let mut gid = entry.header().gid().unwrap_or(0);
    let mut mtime = entry
        .header()
        .mtime()
        .map_or(0, |m| i64::try_from(m).unwrap_or(i64::MAX));
    if let Ok(Some(extensions)) = entry.pax_extensions() {
        for extension in extensions.flatten() {
            let value = extension.value_bytes();
            let parse = || std::str::from_utf8(value).ok();
            match extension.key_bytes() {
                b"uid" => uid = parse().and_then(|v| v.parse().ok()).unwrap_or(uid),
                b"gid" => gid = parse().and_then(|v| v.parse().ok()).unwrap_or(gid),
                b"mtime" => {
                    mtime = parse()
                        .and_then(|v| v.split('.').next())
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(mtime);
                }
                _ => {}
            }
        }
    }
    let uid =
        u32::try_from(uid).map_err(|_| Error::unsafe_entry(&path.display, "uid out of range"))?;
    let gid =
        u32::try_from(gid).map_err(|_| Error::unsafe_entry(&path.display, "gid out of range"))?;
    Ok((uid, gid, mtime))
}

fn xattrs<R: Read>(
    path: &EntryPath,
    entry: &mut tar::Entry<'_, R>,
) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let mut result = Vec::new();
    let Some(extensions) = entry.pax_extensions().map_err(|source| Error::Archive {
        entry: Some(path.display.clone()),
        source,
    })?
    else {
        return Ok(result);
    };
    for extension in extensions {
        let extension = extension.map_err(|source| Error::Archive {
            entry: Some(path.display.clone()),
            source,
        })?;
        if let Some(name) = extension.key_bytes().strip_prefix(b"SCHILY.xattr.")
            && keep_xattr(name)
        {
            result.push((name.to_vec(), extension.value_bytes().to_vec()));
        }
    }
    Ok(result)
}

fn timestamps(mtime: i64) -> Timestamps {
    let time = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: time,
        last_modification: time,
    }
}

/// The names in a directory, without `.` and `..`.
fn list_directory(fd: OwnedFd) -> io::Result<Vec<OsString>> {
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::new(fd)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(OsString::from_vec(name.to_vec()));
        }
    }
    Ok(names)
}

/// Removes `name` in `parent`, and everything below it when it is a
/// directory, never following a symlink.
pub(crate) fn remove_all_at(parent: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    match rustix::fs::unlinkat(parent, name, AtFlags::empty()) {
        Ok(()) => return Ok(()),
        Err(Errno::ISDIR | Errno::PERM) => {}
        Err(Errno::NOENT) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    let fd = rustix::fs::openat(
        parent,
        name,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let child_fd = rustix::io::dup(&fd)?;
    for child in list_directory(child_fd)? {
        remove_all_at(fd.as_fd(), &child)?;
    }
    rustix::fs::unlinkat(parent, name, AtFlags::REMOVEDIR)?;
    Ok(())
}
