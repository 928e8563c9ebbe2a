//! A tar stream extracted into a directory as `docker cp` extracts it
//! (moby's `Unpack` with `NoOverwriteDirNonDir`): the directory is the
//! root every entry's parent resolves in (`openat2` with `RESOLVE_IN_ROOT`,
//! as Docker's chroot), the entry itself is made through its parent's fd
//! and never followed; a directory never replaces a file nor the reverse.
//! Unlike a layer, `.wh.` names are ordinary files here.

use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};
use rustix::io::Errno;
use tar::EntryType;

use super::root::Root;
use crate::error::ExtractError;

/// Who owns what is extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ownership {
    /// The uid and gid each entry records (into a container, as Docker).
    FromArchive,
    /// One owner for everything (`cp -a` with a container user).
    Fixed {
        /// Its uid.
        uid: u32,
        /// Its gid.
        gid: u32,
    },
    /// Whoever runs the copy (onto the host, as docker's CLI).
    Caller,
}

type Outcome<T = ()> = Result<T, ExtractError>;

/// Extracts `input` into `destination`, named `display` in messages.
pub(crate) fn extract<R: Read>(
    input: R,
    destination: OwnedFd,
    display: &str,
    ownership: Ownership,
) -> Outcome {
    let mut extraction = Extraction {
        root: Root::new(destination),
        display: display.trim_end_matches('/').to_owned(),
        ownership,
        directory_times: Vec::new(),
        buffer: vec![0; 128 * 1024],
    };
    let mut archive = tar::Archive::new(input);
    let entries = archive.entries().map_err(archive_error)?;
    for entry in entries {
        let mut entry = entry.map_err(archive_error)?;
        extraction.entry(&mut entry)?;
    }
    extraction.finish_directory_times();
    Ok(())
}

fn archive_error(source: io::Error) -> ExtractError {
    ExtractError::Archive { source }
}

/// An entry's name as cleaned components; `None` when it leads out.
fn components(name: &[u8]) -> Option<Vec<Vec<u8>>> {
    let rooted = name.first() == Some(&b'/');
    let mut parts: Vec<Vec<u8>> = Vec::new();
    for part in name.split(|byte| *byte == b'/') {
        match part {
            b"" | b"." => {}
            b".." if parts.pop().is_some() || rooted => {}
            b".." => return None,
            part => parts.push(part.to_vec()),
        }
    }
    Some(parts)
}

/// Whether a symlink in the directory `depth` levels down, pointing at
/// `target`, stays inside the destination (Docker's lexical check).
fn symlink_stays_inside(depth: usize, target: &[u8]) -> bool {
    if target.first() == Some(&b'/') {
        return true;
    }
    let mut depth = depth;
    for part in target.split(|byte| *byte == b'/') {
        match part {
            b"" | b"." => {}
            b".." if depth == 0 => return false,
            b".." => depth -= 1,
            _ => depth += 1,
        }
    }
    true
}

struct Extraction {
    root: Root,
    display: String,
    ownership: Ownership,
    /// Directories whose times are set last (their children change them).
    directory_times: Vec<(Vec<u8>, i64)>,
    buffer: Vec<u8>,
}

/// What an entry's header says of its metadata.
struct Metadata {
    mode: u32,
    owner: Option<(u32, u32)>,
    mtime: i64,
    xattrs: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Extraction {
    fn path_of(&self, relative: &[u8]) -> String {
        format!("{}/{}", self.display, String::from_utf8_lossy(relative))
    }

    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Outcome {
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            return Ok(());
        }
        let raw = entry.path_bytes().into_owned();
        let Some(parts) = components(&raw) else {
            return Err(ExtractError::Outside {
                name: String::from_utf8_lossy(&raw).into_owned(),
                destination: self.display.clone(),
            });
        };
        let metadata = self.metadata(entry)?;
        let Some((name, parents)) = parts.split_last() else {
            // The destination itself: only a directory may describe it.
            if kind != EntryType::Directory {
                return Err(ExtractError::OverwriteDirectory {
                    path: self.display.clone(),
                    name: String::from_utf8_lossy(&raw).into_owned(),
                });
            }
            if raw.first() == Some(&b'/') {
                let root = rustix::io::dup(self.root.fd()).map_err(|e| self.io("open", b"", e))?;
                self.set_metadata(&root, b"", &metadata, true)?;
            }
            return Ok(());
        };
        let relative = parts.join(&b'/');
        let parent = self.parent(parents)?;
        self.clear_the_way(&parent, name, &relative, kind, &raw)?;
        let name = OsStr::from_bytes(name);
        match kind {
            EntryType::Directory => self.directory(&parent, name, &relative, &metadata),
            EntryType::Regular | EntryType::Continuous => {
                self.file(&parent, name, &relative, &metadata, entry)
            }
            EntryType::Symlink => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                self.symlink(&parent, name, &relative, parents.len(), &target, &metadata)
            }
            EntryType::Link => {
                let target = entry.link_name_bytes().unwrap_or_default().into_owned();
                self.hard_link(&parent, name, &relative, &target)
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let device = (
                    entry.header().device_major().ok().flatten().unwrap_or(0),
                    entry.header().device_minor().ok().flatten().unwrap_or(0),
                );
                self.node(&parent, name, &relative, kind, device, &metadata)
            }
            other => Err(ExtractError::UnhandledType {
                kind: other.as_byte(),
            }),
        }
    }

    fn io(&self, operation: &'static str, relative: &[u8], errno: Errno) -> ExtractError {
        ExtractError::Io {
            operation,
            path: self.path_of(relative),
            errno,
        }
    }

    /// The directory that holds an entry, made (0755) where missing.
    fn parent(&self, parents: &[Vec<u8>]) -> Outcome<OwnedFd> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY;
        let path = parents.join(&b'/');
        match self.root.open(OsStr::from_bytes(&path), flags) {
            Err(Errno::NOENT) => {}
            result => return result.map_err(|errno| self.io("lstat", &path, errno)),
        }
        let mut current = rustix::io::dup(self.root.fd()).map_err(|e| self.io("open", b"", e))?;
        for index in 0..parents.len() {
            let prefix = parents[..=index].join(&b'/');
            let opened = match self.root.open(OsStr::from_bytes(&prefix), flags) {
                Err(Errno::NOENT) => {
                    let name = OsStr::from_bytes(&parents[index]);
                    match rustix::fs::mkdirat(&current, name, Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(errno) => return Err(self.io("mkdir", &prefix, errno)),
                    }
                    self.root.open(OsStr::from_bytes(&prefix), flags)
                }
                result => result,
            };
            current = opened.map_err(|errno| self.io("mkdir", &prefix, errno))?;
        }
        Ok(current)
    }

    /// Removes a non-directory the entry replaces; refuses to replace a
    /// directory by anything else, or anything else by a directory.
    fn clear_the_way(
        &self,
        parent: &OwnedFd,
        name: &[u8],
        relative: &[u8],
        kind: EntryType,
        raw: &[u8],
    ) -> Outcome {
        let name = OsStr::from_bytes(name);
        let existing = match rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => FileType::from_raw_mode(stat.st_mode),
            Err(Errno::NOENT) => return Ok(()),
            Err(errno) => return Err(self.io("lstat", relative, errno)),
        };
        let entry_name = || String::from_utf8_lossy(raw).into_owned();
        match (
            existing == FileType::Directory,
            kind == EntryType::Directory,
        ) {
            (true, true) => Ok(()),
            (true, false) => Err(ExtractError::OverwriteDirectory {
                path: self.path_of(relative),
                name: entry_name(),
            }),
            (false, true) => Err(ExtractError::OverwriteNonDirectory {
                path: self.path_of(relative),
                name: entry_name(),
            }),
            (false, false) if is_mount_point(parent, name) => {
                Err(self.io("unlinkat", relative, Errno::BUSY))
            }
            (false, false) => rustix::fs::unlinkat(parent, name, AtFlags::empty())
                .map_err(|errno| self.io("unlinkat", relative, errno)),
        }
    }

    fn directory(
        &mut self,
        parent: &OwnedFd,
        name: &OsStr,
        relative: &[u8],
        metadata: &Metadata,
    ) -> Outcome {
        match rustix::fs::mkdirat(parent, name, Mode::from_raw_mode(0o700)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(errno) => return Err(self.io("mkdir", relative, errno)),
        }
        let directory = rustix::fs::openat(
            parent,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| self.io("open", relative, errno))?;
        self.set_metadata(&directory, relative, metadata, true)
    }

    fn file<R: Read>(
        &mut self,
        parent: &OwnedFd,
        name: &OsStr,
        relative: &[u8],
        metadata: &Metadata,
        entry: &mut tar::Entry<'_, R>,
    ) -> Outcome {
        let file = rustix::fs::openat(
            parent,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|errno| self.io("open", relative, errno))?;
        let expected = entry.header().entry_size().map_err(archive_error)?;
        let mut output = std::fs::File::from(file);
        let mut written = 0u64;
        loop {
            let read = match entry.read(&mut self.buffer) {
                Ok(0) => break,
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => return Err(archive_error(source)),
            };
            output.write_all(&self.buffer[..read]).map_err(|error| {
                let errno = Errno::from_io_error(&error).unwrap_or(Errno::IO);
                self.io("write", relative, errno)
            })?;
            written += read as u64;
        }
        if written < expected {
            return Err(archive_error(io::ErrorKind::UnexpectedEof.into()));
        }
        let file = OwnedFd::from(output);
        self.set_metadata(&file, relative, metadata, false)
    }

    fn symlink(
        &mut self,
        parent: &OwnedFd,
        name: &OsStr,
        relative: &[u8],
        depth: usize,
        target: &[u8],
        metadata: &Metadata,
    ) -> Outcome {
        if !symlink_stays_inside(depth, target) {
            return Err(ExtractError::InvalidSymlink {
                path: self.path_of(relative),
                target: String::from_utf8_lossy(target).into_owned(),
            });
        }
        rustix::fs::symlinkat(OsStr::from_bytes(target), parent, name)
            .map_err(|errno| self.io("symlink", relative, errno))?;
        self.set_metadata_at(parent.as_fd(), name, relative, metadata, true)
    }

    fn hard_link(
        &mut self,
        parent: &OwnedFd,
        name: &OsStr,
        relative: &[u8],
        target: &[u8],
    ) -> Outcome {
        let invalid = || ExtractError::InvalidHardlink {
            path: self.path_of(target),
            target: String::from_utf8_lossy(target).into_owned(),
        };
        let parts = components(target).ok_or_else(invalid)?;
        let Some((target_name, target_parents)) = parts.split_last() else {
            return Err(invalid());
        };
        let target_parent = self
            .root
            .open(
                OsStr::from_bytes(&target_parents.join(&b'/')),
                OFlags::PATH | OFlags::DIRECTORY,
            )
            .map_err(|errno| self.io("link", relative, errno))?;
        rustix::fs::linkat(
            &target_parent,
            OsStr::from_bytes(target_name),
            parent,
            name,
            AtFlags::empty(),
        )
        .map_err(|errno| self.io("link", relative, errno))
    }

    fn node(
        &mut self,
        parent: &OwnedFd,
        name: &OsStr,
        relative: &[u8],
        kind: EntryType,
        (major, minor): (u32, u32),
        metadata: &Metadata,
    ) -> Outcome {
        let file_type = match kind {
            EntryType::Char => FileType::CharacterDevice,
            EntryType::Block => FileType::BlockDevice,
            _ => FileType::Fifo,
        };
        rustix::fs::mknodat(
            parent,
            name,
            file_type,
            Mode::from_raw_mode(0o600),
            rustix::fs::makedev(major, minor),
        )
        .map_err(|errno| self.io("mknod", relative, errno))?;
        self.set_metadata_at(parent.as_fd(), name, relative, metadata, false)
    }

    fn metadata<R: Read>(&self, entry: &mut tar::Entry<'_, R>) -> Outcome<Metadata> {
        let header = entry.header();
        let mode = header.mode().map_err(archive_error)? & 0o7777;
        let mut uid = header.uid().unwrap_or(0);
        let mut gid = header.gid().unwrap_or(0);
        let mut mtime = header.mtime().map_or(0, |m| i64::try_from(m).unwrap_or(0));
        let mut xattrs = Vec::new();
        if let Ok(Some(extensions)) = entry.pax_extensions() {
            for extension in extensions.flatten() {
                let value = std::str::from_utf8(extension.value_bytes()).ok();
                match extension.key_bytes() {
                    b"uid" => uid = value.and_then(|v| v.parse().ok()).unwrap_or(uid),
                    b"gid" => gid = value.and_then(|v| v.parse().ok()).unwrap_or(gid),
                    b"mtime" => {
                        let seconds = value.and_then(|v| v.split('.').next());
                        mtime = seconds.and_then(|v| v.parse().ok()).unwrap_or(mtime);
                    }
                    key => {
                        if let Some(name) = key.strip_prefix(b"SCHILY.xattr.") {
                            xattrs.push((name.to_vec(), extension.value_bytes().to_vec()));
                        }
                    }
                }
            }
        }
        let owner = match self.ownership {
            Ownership::FromArchive => Some((
                u32::try_from(uid).unwrap_or(u32::MAX),
                u32::try_from(gid).unwrap_or(u32::MAX),
            )),
            Ownership::Fixed { uid, gid } => Some((uid, gid)),
            Ownership::Caller => None,
        };
        Ok(Metadata {
            mode,
            owner,
            mtime,
            xattrs,
        })
    }

    /// Owner, then mode (a chown clears set-id bits), then xattrs, then
    /// times (a directory's once everything in it is written).
    fn set_metadata(
        &mut self,
        fd: &OwnedFd,
        relative: &[u8],
        metadata: &Metadata,
        is_directory: bool,
    ) -> Outcome {
        if let Some((uid, gid)) = metadata.owner {
            rustix::fs::fchown(fd, Some(uid_of(uid)), Some(gid_of(gid)))
                .map_err(|errno| self.io("lchown", relative, errno))?;
        }
        rustix::fs::fchmod(fd, Mode::from_raw_mode(metadata.mode))
            .map_err(|errno| self.io("chmod", relative, errno))?;
        for (name, value) in &metadata.xattrs {
            let flags = rustix::fs::XattrFlags::empty();
            match rustix::fs::fsetxattr(fd, OsStr::from_bytes(name), value, flags) {
                Ok(()) | Err(Errno::NOTSUP | Errno::PERM) => {}
                Err(errno) => return Err(self.io("lsetxattr", relative, errno)),
            }
        }
        if is_directory {
            self.directory_times
                .push((relative.to_vec(), metadata.mtime));
            return Ok(());
        }
        rustix::fs::futimens(fd, &timestamps(metadata.mtime))
            .map_err(|errno| self.io("chtimes", relative, errno))
    }

    /// Metadata of what cannot be opened (symlinks, devices, FIFOs).
    fn set_metadata_at(
        &self,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        relative: &[u8],
        metadata: &Metadata,
        is_symlink: bool,
    ) -> Outcome {
        if let Some((uid, gid)) = metadata.owner {
            rustix::fs::chownat(
                parent,
                name,
                Some(uid_of(uid)),
                Some(gid_of(gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            )
            .map_err(|errno| self.io("lchown", relative, errno))?;
        }
        if !is_symlink {
            rustix::fs::chmodat(
                parent,
                name,
                Mode::from_raw_mode(metadata.mode),
                AtFlags::empty(),
            )
            .map_err(|errno| self.io("chmod", relative, errno))?;
        }
        rustix::fs::utimensat(
            parent,
            name,
            &timestamps(metadata.mtime),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|errno| self.io("chtimes", relative, errno))
    }

    /// Sets the directories' times, now that nothing more is added to them;
    /// one removed or replaced meanwhile is left alone.
    fn finish_directory_times(&mut self) {
        for (relative, mtime) in std::mem::take(&mut self.directory_times) {
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW;
            let opened = if relative.is_empty() {
                rustix::io::dup(self.root.fd())
            } else {
                self.root.open(OsStr::from_bytes(&relative), flags)
            };
            if let Ok(directory) = opened {
                let _ = rustix::fs::futimens(&directory, &timestamps(mtime));
            }
        }
    }
}

/// Whether `name` in `parent` has something mounted on it (a container's
/// /etc/hostname). Unlinking it from outside the container's mount
/// namespace would not fail as inside (EBUSY): the kernel would detach the
/// container's mount instead.
fn is_mount_point(parent: &OwnedFd, name: &OsStr) -> bool {
    let mount_id = |fd: BorrowedFd<'_>, path: &OsStr, flags: AtFlags| {
        rustix::fs::statx(fd, path, flags, rustix::fs::StatxFlags::MNT_ID)
            .ok()
            .map(|statx| statx.stx_mnt_id)
    };
    let own = mount_id(parent.as_fd(), OsStr::new(""), AtFlags::EMPTY_PATH);
    let child = mount_id(parent.as_fd(), name, AtFlags::SYMLINK_NOFOLLOW);
    matches!((own, child), (Some(own), Some(child)) if own != child)
}

fn uid_of(uid: u32) -> rustix::fs::Uid {
    rustix::fs::Uid::from_raw(uid)
}

fn gid_of(gid: u32) -> rustix::fs::Gid {
    rustix::fs::Gid::from_raw(gid)
}

/// Access and modification times both at `mtime` (Docker's `Chtimes` with
/// no access time in the header).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_may_not_lead_out() {
        assert_eq!(
            components(b"./a//b/"),
            Some(vec![b"a".to_vec(), b"b".to_vec()])
        );
        assert_eq!(components(b"/etc/../x"), Some(vec![b"x".to_vec()]));
        assert_eq!(components(b"/../x"), Some(vec![b"x".to_vec()]));
        assert_eq!(components(b"a/../../x"), None);
        assert_eq!(components(b".."), None);
        assert_eq!(components(b"./"), Some(vec![]));
    }

    /// A tar stream of raw entries: (name, type, link target or contents).
    fn tar_of(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(*kind);
            header.set_mode(0o640);
            header.set_mtime(981_173_106);
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            let contents: &[u8] = if *kind == EntryType::Regular {
                data.as_bytes()
            } else {
                header.set_link_name_literal(data).unwrap();
                b""
            };
            header.set_size(contents.len() as u64);
            header.set_cksum();
            builder.append(&header, contents).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn extract_into(directory: &std::path::Path, archive: &[u8]) -> Outcome {
        let fd = rustix::fs::open(
            directory,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        extract(archive, fd, "/dest", Ownership::Caller)
    }

    #[test]
    fn symlinks_already_there_never_lead_out() {
        let outside = tempfile::tempdir().unwrap();
        let destination = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/../../..", destination.path().join("etc")).unwrap();
        std::os::unix::fs::symlink(outside.path(), destination.path().join("away")).unwrap();
        let archive = tar_of(&[("etc/x", EntryType::Regular, "x\n")]);
        extract_into(destination.path(), &archive).unwrap();
        // `/../../..` is the root itself, inside.
        assert_eq!(std::fs::read(destination.path().join("x")).unwrap(), b"x\n");
        let archive = tar_of(&[("away/y", EntryType::Regular, "y\n")]);
        let error = extract_into(destination.path(), &archive).unwrap_err();
        assert!(matches!(error, ExtractError::Io { .. }), "{error}");
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn entries_never_lead_out() {
        let outside = tempfile::tempdir().unwrap();
        let destination = outside.path().join("destination");
        std::fs::create_dir(&destination).unwrap();
        let cases = [
            tar_of(&[("../evil", EntryType::Regular, "e")]),
            tar_of(&[("up", EntryType::Symlink, "../x")]),
            tar_of(&[("hard", EntryType::Link, "../evil")]),
        ];
        for archive in cases {
            let error = extract_into(&destination, &archive).unwrap_err();
            assert!(
                matches!(
                    error,
                    ExtractError::Outside { .. }
                        | ExtractError::InvalidSymlink { .. }
                        | ExtractError::InvalidHardlink { .. }
                ),
                "{error}"
            );
        }
        // A symlink the archive made is followed inside the destination only.
        let archive = tar_of(&[
            ("root", EntryType::Symlink, "/"),
            ("root/z", EntryType::Regular, "z"),
        ]);
        extract_into(&destination, &archive).unwrap();
        assert_eq!(std::fs::read(destination.join("z")).unwrap(), b"z");
        let mut names: Vec<_> = std::fs::read_dir(outside.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, ["destination"]);
    }

    #[test]
    fn directories_and_files_never_replace_each_other() {
        let destination = tempfile::tempdir().unwrap();
        std::fs::create_dir(destination.path().join("directory")).unwrap();
        std::fs::write(destination.path().join("file"), "old").unwrap();
        let error = extract_into(
            destination.path(),
            &tar_of(&[("directory", EntryType::Regular, "new")]),
        )
        .unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot overwrite directory \"/dest/directory\" with non-directory \"directory\""
        );
        let error = extract_into(
            destination.path(),
            &tar_of(&[("file/", EntryType::Directory, "")]),
        )
        .unwrap_err();
        assert!(matches!(error, ExtractError::OverwriteNonDirectory { .. }));
        // A file replaces a file, with the archive's mode and time.
        extract_into(
            destination.path(),
            &tar_of(&[("file", EntryType::Regular, "new")]),
        )
        .unwrap();
        let path = destination.path().join("file");
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        let metadata = std::fs::metadata(&path).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(metadata.mode() & 0o7777, 0o640);
        assert_eq!(metadata.mtime(), 981_173_106);
    }

    #[test]
    fn a_stream_that_is_not_a_tar_fails_as_in_docker() {
        let destination = tempfile::tempdir().unwrap();
        let error = extract_into(destination.path(), b"notatar\n").unwrap_err();
        assert_eq!(error.to_string(), "unexpected EOF");
        let mut truncated = tar_of(&[("big", EntryType::Regular, &"b".repeat(2000))]);
        truncated.truncate(1024);
        let error = extract_into(destination.path(), &truncated).unwrap_err();
        assert_eq!(error.to_string(), "unexpected EOF");
    }

    #[test]
    fn symlinks_may_not_point_lexically_out() {
        assert!(symlink_stays_inside(0, b"/etc/hostname"));
        assert!(symlink_stays_inside(0, b"rel-target"));
        assert!(symlink_stays_inside(1, b"../x"));
        assert!(!symlink_stays_inside(1, b"../../x"));
        assert!(!symlink_stays_inside(0, b"../x"));
    }
}
