//! A path of a [`Root`] as a tar stream, as Docker archives it: the entry
//! itself (a symlink stays a symlink), and for a directory everything
//! below it in name order; files that share an inode become hard links.
//! Entries are read through directory fds that never follow a symlink.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat};
use rustix::io::Errno;
use tar::{EntryType, Header};

use super::paths::{Rename, split_path_dir_entry};
use super::root::Root;
use crate::{Error, Result};

/// A writer that counts what goes through it.
struct Counting<W> {
    inner: W,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buffer)?;
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Writes `source` (resolved in `root`, a final symlink not followed) as a
/// tar stream whose first element is named `root_name`, each name then
/// rewritten by `renames` in order. Returns the bytes written.
pub(crate) fn write_archive<W: Write>(
    root: &Root,
    source: &str,
    root_name: &str,
    renames: &[Rename],
    output: W,
) -> Result<u64> {
    let (directory, entry) = split_path_dir_entry(source);
    let parent = root
        .open(&directory, OFlags::RDONLY | OFlags::DIRECTORY)
        .map_err(|errno| path_error("open", &directory, errno))?;
    let mut writer = Writer {
        builder: tar::Builder::new(Counting {
            inner: output,
            written: 0,
        }),
        renames,
        owners: Owners::default(),
        links: HashMap::new(),
        display: directory.clone(),
    };
    if entry == "." || entry == "/" {
        let stat =
            rustix::fs::fstat(&parent).map_err(|errno| path_error("lstat", source, errno))?;
        writer.directory(root_name.as_bytes(), &parent, &stat, source)?;
    } else {
        writer.entry(
            parent.as_fd(),
            OsStr::new(&entry),
            root_name.as_bytes(),
            source,
        )?;
    }
    writer.builder.finish().map_err(output_error)?;
    Ok(writer.builder.get_ref().written)
}

struct Writer<'a, W: Write> {
    builder: tar::Builder<Counting<W>>,
    renames: &'a [Rename],
    owners: Owners,
    /// (device, inode) of files with several links: the name first written
    /// (before renames).
    links: HashMap<(u64, u64), Vec<u8>>,
    /// The source's directory, for messages.
    display: String,
}

impl<W: Write> Writer<'_, W> {
    /// Archives `name` in `parent` as `entry_name`; `display` names it in errors.
    fn entry(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        entry_name: &[u8],
        display: &str,
    ) -> Result<()> {
        let stat = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|errno| path_error("lstat", display, errno))?;
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => {
                let directory = rustix::fs::openat(
                    parent,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|errno| path_error("open", display, errno))?;
                self.directory(entry_name, &directory, &stat, display)
            }
            FileType::RegularFile => self.file(parent, name, entry_name, display),
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(parent, name, Vec::new())
                    .map_err(|errno| path_error("readlink", display, errno))?;
                let mut header = self.header(&stat, EntryType::Symlink);
                header.set_size(0);
                self.append(header, entry_name, Some(target.to_bytes()), io::empty())
            }
            FileType::CharacterDevice | FileType::BlockDevice | FileType::Fifo => {
                let kind = match FileType::from_raw_mode(stat.st_mode) {
                    FileType::CharacterDevice => EntryType::Char,
                    FileType::BlockDevice => EntryType::Block,
                    _ => EntryType::Fifo,
                };
                let mut header = self.header(&stat, kind);
                header.set_size(0);
                let device = stat.st_rdev;
                let _ = header.set_device_major(rustix::fs::major(device));
                let _ = header.set_device_minor(rustix::fs::minor(device));
                self.append(header, entry_name, None, io::empty())
            }
            // Sockets and the unknown: tar has no entry for them (Docker skips them too).
            _ => Ok(()),
        }
    }

    fn directory(
        &mut self,
        entry_name: &[u8],
        directory: &OwnedFd,
        stat: &Stat,
        display: &str,
    ) -> Result<()> {
        let mut header = self.header(stat, EntryType::Directory);
        header.set_size(0);
        let mut own_name = entry_name.to_vec();
        if !own_name.ends_with(b"/") {
            own_name.push(b'/');
        }
        // The container's root itself has no entry of its own (Docker's `/` is nameless).
        if own_name != b"/" {
            self.append(header, &own_name, None, io::empty())?;
        }
        let mut names = list(directory).map_err(|errno| path_error("open", display, errno))?;
        names.sort();
        for child in names {
            let child_name = [&own_name[..], &child].concat();
            let child_display = format!(
                "{}/{}",
                display.trim_end_matches('/'),
                String::from_utf8_lossy(&child)
            );
            self.entry(
                directory.as_fd(),
                OsStr::from_bytes(&child),
                &child_name,
                &child_display,
            )?;
        }
        Ok(())
    }

    fn file(
        &mut self,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        entry_name: &[u8],
        display: &str,
    ) -> Result<()> {
        // O_NONBLOCK: a FIFO swapped in meanwhile must not hang the copy.
        let file = rustix::fs::openat(
            parent,
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|errno| path_error("open", display, errno))?;
        let stat = rustix::fs::fstat(&file).map_err(|errno| path_error("lstat", display, errno))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            return Ok(());
        }
        if stat.st_nlink > 1 {
            let key = (stat.st_dev, stat.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let mut header = self.header(&stat, EntryType::Link);
                header.set_size(0);
                return self.append(header, entry_name, Some(&first), io::empty());
            }
            self.links.insert(key, entry_name.to_vec());
        }
        let size = u64::try_from(stat.st_size).unwrap_or(0);
        let mut header = self.header(&stat, EntryType::Regular);
        header.set_size(size);
        // Exactly `size` bytes, whatever the file does meanwhile.
        let data = std::fs::File::from(file)
            .take(size)
            .chain(io::repeat(0))
            .take(size);
        self.append(header, entry_name, None, data)
    }

    /// A header with `stat`'s mode (type bits included, as Docker writes
    /// it), owner, names and modification time.
    fn header(&mut self, stat: &Stat, kind: EntryType) -> Header {
        let mut header = Header::new_ustar();
        header.set_entry_type(kind);
        header.set_mode(stat.st_mode & 0o177_777);
        header.set_uid(u64::from(stat.st_uid));
        header.set_gid(u64::from(stat.st_gid));
        header.set_mtime(u64::try_from(stat.st_mtime).unwrap_or(0));
        if let Some(user) = self.owners.user(stat.st_uid) {
            let _ = header.set_username(&user);
        }
        if let Some(group) = self.owners.group(stat.st_gid) {
            let _ = header.set_groupname(&group);
        }
        header
    }

    fn renamed(&self, name: &[u8]) -> Vec<u8> {
        self.renames
            .iter()
            .fold(name.to_vec(), |name, rename| rename.apply(&name))
    }

    /// Appends an entry under its renamed name: literally when the ustar
    /// fields hold it, else through the tar crate's long-name extension.
    fn append(
        &mut self,
        mut header: Header,
        entry_name: &[u8],
        link: Option<&[u8]>,
        data: impl Read,
    ) -> Result<()> {
        let name = self.renamed(entry_name);
        let link = link.map(|link| {
            if header.entry_type() == EntryType::Link {
                self.renamed(link)
            } else {
                link.to_vec()
            }
        });
        let short_link = link.as_ref().is_none_or(|link| link.len() <= 100);
        if name.len() <= 100 && short_link {
            if let Some(old) = header.as_ustar_mut() {
                old.name[..name.len()].copy_from_slice(&name);
            }
            if let Some(link) = &link {
                header.set_link_name_literal(link).map_err(output_error)?;
            }
            header.set_cksum();
            return self.builder.append(&header, data).map_err(output_error);
        }
        let path = std::path::Path::new(OsStr::from_bytes(&name));
        let result = match &link {
            Some(link) => self.builder.append_link(
                &mut header,
                path,
                std::path::Path::new(OsStr::from_bytes(link)),
            ),
            None => self.builder.append_data(&mut header, path, data),
        };
        result.map_err(|error| {
            if error.kind() == io::ErrorKind::Other {
                Error::ContainerPath {
                    operation: "archive",
                    path: format!("{}/{}", self.display, String::from_utf8_lossy(&name)),
                    errno: Errno::NAMETOOLONG,
                }
            } else {
                output_error(error)
            }
        })
    }
}

/// The names in a directory, without `.` and `..`.
fn list(directory: &OwnedFd) -> std::result::Result<Vec<Vec<u8>>, Errno> {
    let mut names = Vec::new();
    for entry in rustix::fs::Dir::read_from(directory)? {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    }
    Ok(names)
}

fn path_error(operation: &'static str, path: &str, errno: Errno) -> Error {
    Error::ContainerPath {
        operation,
        path: path.to_owned(),
        errno,
    }
}

fn output_error(source: io::Error) -> Error {
    Error::ArchiveOutput { source }
}

/// The host's user and group names by id, as Go's `archive/tar` looks
/// them up for a header (read once, on first use).
#[derive(Default)]
struct Owners {
    users: Option<HashMap<u32, String>>,
    groups: Option<HashMap<u32, String>>,
}

impl Owners {
    fn user(&mut self, uid: u32) -> Option<String> {
        self.users
            .get_or_insert_with(|| names_by_id("/etc/passwd"))
            .get(&uid)
            .cloned()
    }

    fn group(&mut self, gid: u32) -> Option<String> {
        self.groups
            .get_or_insert_with(|| names_by_id("/etc/group"))
            .get(&gid)
            .cloned()
    }
}

/// `name:x:id:...` lines of a passwd or group file, by id (the first wins).
fn names_by_id(path: &str) -> HashMap<u32, String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut names = HashMap::new();
    for line in text.lines() {
        let mut fields = line.split(':');
        let (Some(name), Some(_), Some(id)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        if let Ok(id) = id.parse() {
            names.entry(id).or_insert_with(|| name.to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use crate::copy::extract::{Ownership, extract};

    fn root_of(directory: &std::path::Path) -> Root {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Root::new(rustix::fs::open(directory, flags, Mode::empty()).unwrap())
    }

    fn names(archive: &[u8]) -> Vec<(String, EntryType)> {
        let mut archive = tar::Archive::new(archive);
        archive
            .entries()
            .unwrap()
            .map(|entry| {
                let entry = entry.unwrap();
                let name = String::from_utf8(entry.path_bytes().into_owned()).unwrap();
                (name, entry.header().entry_type())
            })
            .collect()
    }

    fn source_tree() -> tempfile::TempDir {
        let directory = tempfile::tempdir().unwrap();
        let data = directory.path().join("data");
        std::fs::create_dir_all(data.join("sub")).unwrap();
        std::fs::write(data.join("x"), "x\n").unwrap();
        std::fs::write(data.join("sub/y"), "y\n").unwrap();
        std::fs::hard_link(data.join("x"), data.join("z")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", data.join("link")).unwrap();
        directory
    }

    #[test]
    fn a_directory_is_archived_in_name_order_under_its_root_name() {
        let tree = source_tree();
        let mut archive = Vec::new();
        write_archive(&root_of(tree.path()), "/data", "data", &[], &mut archive).unwrap();
        assert_eq!(
            names(&archive),
            [
                ("data/".to_owned(), EntryType::Directory),
                ("data/link".to_owned(), EntryType::Symlink),
                ("data/sub/".to_owned(), EntryType::Directory),
                ("data/sub/y".to_owned(), EntryType::Regular),
                ("data/x".to_owned(), EntryType::Regular),
                ("data/z".to_owned(), EntryType::Link),
            ]
        );
        // `SRC/.`: the contents, under `./`.
        let mut archive = Vec::new();
        write_archive(&root_of(tree.path()), "/data/.", ".", &[], &mut archive).unwrap();
        assert_eq!(names(&archive)[0].0, "./");
        assert_eq!(names(&archive)[1].0, "./link");
    }

    #[test]
    fn an_archive_extracts_to_the_same_tree_renamed() {
        let tree = source_tree();
        let mut archive = Vec::new();
        let renames = [Rename::rebase("data", "copy")];
        let size = write_archive(
            &root_of(tree.path()),
            "/data",
            "data",
            &renames,
            &mut archive,
        )
        .unwrap();
        assert_eq!(size, archive.len() as u64);
        let destination = tempfile::tempdir().unwrap();
        let fd = rustix::fs::open(
            destination.path(),
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .unwrap();
        extract(&archive[..], fd, "/", Ownership::Caller).unwrap();
        let copy = destination.path().join("copy");
        assert_eq!(std::fs::read(copy.join("sub/y")).unwrap(), b"y\n");
        assert_eq!(
            std::fs::read_link(copy.join("link")).unwrap(),
            std::path::Path::new("/etc/hostname")
        );
        let x = std::fs::metadata(copy.join("x")).unwrap();
        let z = std::fs::metadata(copy.join("z")).unwrap();
        assert_eq!(x.ino(), z.ino(), "hard links stay hard links");
        let original = std::fs::metadata(tree.path().join("data/sub")).unwrap();
        let copied = std::fs::metadata(copy.join("sub")).unwrap();
        assert_eq!(copied.mtime(), original.mtime());
        assert_eq!(copied.mode(), original.mode());
    }
}
