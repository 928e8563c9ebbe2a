//! A mounted snapshot treated as a root: every path is resolved inside it
//! (its symlinks followed as they would be in a chroot, `..` stopping at the
//! top), so a COPY into an image never writes outside it, whatever links the
//! image holds.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, Timestamps};

use crate::error::{Error, Result};

/// A directory every path is resolved within.
pub(crate) struct Root {
    fd: OwnedFd,
    path: PathBuf,
}

/// An owner: user and group ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

impl Owner {
    pub(crate) const ROOT: Owner = Owner { uid: 0, gid: 0 };
}

/// What is at a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Directory,
    File,
    Symlink,
    Other,
}

fn kind_of(file_type: FileType) -> Kind {
    match file_type {
        FileType::Directory => Kind::Directory,
        FileType::RegularFile => Kind::File,
        FileType::Symlink => Kind::Symlink,
        _ => Kind::Other,
    }
}

/// The components of an absolute (or relative) path inside the root.
fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

impl Root {
    /// Opens `path` as a root.
    pub(crate) fn open(path: &Path) -> Result<Root> {
        let fd = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io("open", path, e.into()))?;
        Ok(Root {
            fd,
            path: path.to_path_buf(),
        })
    }

    /// The root's path on the host (for messages).
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn describe(&self, inner: &str) -> PathBuf {
        self.path.join(inner.trim_start_matches('/'))
    }

    fn relative(inner: &str) -> String {
        let parts = components(inner);
        if parts.is_empty() {
            ".".to_owned()
        } else {
            parts.join("/")
        }
    }

    /// Opens `inner` (following symlinks inside the root).
    fn open_in(&self, inner: &str, flags: OFlags) -> io::Result<OwnedFd> {
        rustix::fs::openat2(
            &self.fd,
            Self::relative(inner),
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        )
        .map_err(io::Error::from)
    }

    /// What `inner` is, following symlinks when `follow`; `None` when missing.
    pub(crate) fn kind(&self, inner: &str, follow: bool) -> Result<Option<Kind>> {
        let flags = if follow {
            OFlags::PATH
        } else {
            OFlags::PATH | OFlags::NOFOLLOW
        };
        match self.open_in(inner, flags) {
            Ok(fd) => {
                let stat = rustix::fs::fstat(&fd)
                    .map_err(|e| Error::io("stat", &self.describe(inner), e.into()))?;
                Ok(Some(kind_of(FileType::from_raw_mode(stat.st_mode))))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.raw_os_error() == Some(libc_enotdir()) => Ok(None),
            Err(e) => Err(Error::io("stat", &self.describe(inner), e)),
        }
    }

    /// `inner` with every symlink in it resolved inside the root, the last
    /// component's too (continuity's `fs.RootPath`, which BuildKit applies
    /// to a COPY destination): missing components are kept as written, `..`
    /// stops at the top. Always absolute.
    pub(crate) fn resolve(&self, inner: &str) -> Result<String> {
        const MAX_LINKS: usize = 255;
        let mut resolved: Vec<String> = Vec::new();
        let mut remaining: std::collections::VecDeque<String> = inner
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .map(str::to_owned)
            .collect();
        let mut links = 0;
        while let Some(component) = remaining.pop_front() {
            if component == ".." {
                resolved.pop();
                continue;
            }
            let mut candidate = resolved.clone();
            candidate.push(component.clone());
            let path = candidate.join("/");
            let link = match self.open_in(&path, OFlags::PATH | OFlags::NOFOLLOW) {
                Ok(fd) => {
                    let stat = rustix::fs::fstat(&fd)
                        .map_err(|e| Error::io("stat", &self.describe(&path), e.into()))?;
                    if FileType::from_raw_mode(stat.st_mode) == FileType::Symlink {
                        let target = rustix::fs::readlinkat(&fd, "", Vec::new()).map_err(|e| {
                            Error::io("read symlink", &self.describe(&path), e.into())
                        })?;
                        Some(String::from_utf8_lossy(target.as_bytes()).into_owned())
                    } else {
                        None
                    }
                }
                Err(e)
                    if e.kind() == io::ErrorKind::NotFound
                        || e.raw_os_error() == Some(libc_enotdir()) =>
                {
                    None
                }
                Err(e) => return Err(Error::io("stat", &self.describe(&path), e)),
            };
            match link {
                Some(target) => {
                    links += 1;
                    if links > MAX_LINKS {
                        return Err(Error::io(
                            "resolve",
                            &self.describe(inner),
                            io::Error::other("too many levels of symbolic links"),
                        ));
                    }
                    if target.starts_with('/') {
                        resolved.clear();
                    }
                    for part in target.split('/').rev() {
                        if !part.is_empty() && part != "." {
                            remaining.push_front(part.to_owned());
                        }
                    }
                }
                None => resolved.push(component),
            }
        }
        Ok(format!("/{}", resolved.join("/")))
    }

    /// Reads a small text file (e.g. /etc/passwd); `None` when missing.
    pub(crate) fn read_to_string(&self, inner: &str) -> Option<String> {
        let fd = self.open_in(inner, OFlags::RDONLY).ok()?;
        io::read_to_string(File::from(fd)).ok()
    }

    /// Makes sure directory `inner` exists; missing components are created
    /// with mode 0755 owned by `owner`. Returns it open.
    pub(crate) fn make_directories(
        &self,
        inner: &str,
        owner: Owner,
        mtime: Option<i64>,
    ) -> Result<OwnedFd> {
        let parts = components(inner);
        let mut current = self
            .open_in(".", OFlags::RDONLY | OFlags::DIRECTORY)
            .map_err(|e| Error::io("open", &self.path, e))?;
        for (index, part) in parts.iter().enumerate() {
            let prefix = parts[..=index].join("/");
            match self.open_in(&prefix, OFlags::RDONLY | OFlags::DIRECTORY) {
                Ok(fd) => current = fd,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    let described = self.describe(&prefix);
                    rustix::fs::mkdirat(&current, *part, Mode::from_raw_mode(0o755))
                        .map_err(|e| Error::io("create directory", &described, e.into()))?;
                    let fd = self
                        .open_in(&prefix, OFlags::RDONLY | OFlags::DIRECTORY)
                        .map_err(|e| Error::io("open", &described, e))?;
                    set_owner(&fd, owner).map_err(|e| Error::io("chown", &described, e))?;
                    rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o755))
                        .map_err(|e| Error::io("chmod", &described, e.into()))?;
                    if let Some(seconds) = mtime {
                        let _ = set_times(&fd, seconds, 0);
                    }
                    current = fd;
                }
                Err(e) => {
                    return Err(Error::io("open directory", &self.describe(&prefix), e));
                }
            }
        }
        Ok(current)
    }

    /// Opens directory `inner` (following symlinks inside the root).
    pub(crate) fn open_directory(&self, inner: &str) -> Result<OwnedFd> {
        self.open_in(inner, OFlags::RDONLY | OFlags::DIRECTORY)
            .map_err(|e| Error::io("open directory", &self.describe(inner), e))
    }

    /// Opens file `inner` for reading (following symlinks inside the root).
    pub(crate) fn open_file(&self, inner: &str) -> Result<File> {
        self.open_in(inner, OFlags::RDONLY)
            .map(File::from)
            .map_err(|e| Error::io("open", &self.describe(inner), e))
    }
}

fn libc_enotdir() -> i32 {
    rustix::io::Errno::NOTDIR.raw_os_error()
}

/// Sets an open file's owner.
pub(crate) fn set_owner(fd: impl AsFd, owner: Owner) -> io::Result<()> {
    rustix::fs::fchown(
        fd,
        Some(rustix::fs::Uid::from_raw(owner.uid)),
        Some(rustix::fs::Gid::from_raw(owner.gid)),
    )
    .map_err(io::Error::from)
}

/// Sets an open file's access and modification times.
pub(crate) fn set_times(fd: impl AsFd, seconds: i64, nanoseconds: u32) -> io::Result<()> {
    let time = rustix::fs::Timespec {
        tv_sec: seconds,
        tv_nsec: i64::from(nanoseconds) as _,
    };
    rustix::fs::futimens(
        fd,
        &Timestamps {
            last_access: time,
            last_modification: time,
        },
    )
    .map_err(io::Error::from)
}

/// A directory open for creating entries in it.
pub(crate) struct Directory<'a> {
    pub(crate) fd: &'a OwnedFd,
    /// Its host path, for messages.
    pub(crate) path: PathBuf,
}

impl Directory<'_> {
    fn describe(&self, name: &OsStr) -> PathBuf {
        self.path.join(name)
    }

    /// What `name` is, not following a symlink; `None` when missing.
    pub(crate) fn kind(&self, name: &OsStr) -> Result<Option<Kind>> {
        match rustix::fs::statat(self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => Ok(Some(kind_of(FileType::from_raw_mode(stat.st_mode)))),
            Err(rustix::io::Errno::NOENT) => Ok(None),
            Err(e) => Err(Error::io("stat", &self.describe(name), e.into())),
        }
    }

    /// Removes `name` unless it is a directory (a copy replaces files and links).
    pub(crate) fn clear(&self, name: &OsStr) -> Result<Option<Kind>> {
        let kind = self.kind(name)?;
        if matches!(kind, Some(Kind::File | Kind::Symlink | Kind::Other)) {
            rustix::fs::unlinkat(self.fd, name, AtFlags::empty())
                .map_err(|e| Error::io("remove", &self.describe(name), e.into()))?;
            return Ok(None);
        }
        Ok(kind)
    }

    /// Creates (or truncates) regular file `name` with `mode`, owned by `owner`.
    pub(crate) fn create_file(&self, name: &OsStr, mode: u32, owner: Owner) -> Result<File> {
        let create = || {
            rustix::fs::openat(
                self.fd,
                name,
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o600),
            )
        };
        // Created first, cleared only when something is there: a lookup of a
        // missing name goes through every lower layer of an overlay, and a
        // COPY mostly creates new files.
        let fd = match create() {
            Err(rustix::io::Errno::EXIST) => {
                if self.clear(name)? == Some(Kind::Directory) {
                    return Err(replace_directory_error(&self.describe(name)));
                }
                create()
            }
            other => other,
        }
        .map_err(|e| Error::io("create", &self.describe(name), e.into()))?;
        set_owner(&fd, owner).map_err(|e| Error::io("chown", &self.describe(name), e))?;
        // After chown, which clears set-id bits.
        rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode & 0o7777))
            .map_err(|e| Error::io("chmod", &self.describe(name), e.into()))?;
        Ok(File::from(fd))
    }

    /// Creates directory `name` (or keeps an existing one) and opens it; a
    /// new one gets `mode` and `owner`, an existing one gets them when `set`
    /// is true. Anything else already there (a file, a symlink, even to a
    /// directory) is an error, as in BuildKit's copy.
    pub(crate) fn create_directory(
        &self,
        name: &OsStr,
        mode: u32,
        owner: Owner,
        set: bool,
    ) -> Result<OwnedFd> {
        let existed = match self.kind(name)? {
            Some(Kind::Directory) => true,
            None => {
                rustix::fs::mkdirat(self.fd, name, Mode::from_raw_mode(0o700))
                    .map_err(|e| Error::io("create directory", &self.describe(name), e.into()))?;
                false
            }
            Some(_) => {
                return Err(Error::io(
                    "copy",
                    &self.describe(name),
                    io::Error::new(io::ErrorKind::NotADirectory, "cannot copy to non-directory"),
                ));
            }
        };
        let fd = rustix::fs::openat(
            self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| Error::io("open directory", &self.describe(name), e.into()))?;
        if !existed || set {
            set_owner(&fd, owner).map_err(|e| Error::io("chown", &self.describe(name), e))?;
            rustix::fs::fchmod(&fd, Mode::from_raw_mode(mode & 0o7777))
                .map_err(|e| Error::io("chmod", &self.describe(name), e.into()))?;
        }
        Ok(fd)
    }

    /// Creates symlink `name` → `target`, owned by `owner`.
    pub(crate) fn create_symlink(&self, name: &OsStr, target: &Path, owner: Owner) -> Result<()> {
        if self.clear(name)? == Some(Kind::Directory) {
            return Err(Error::io(
                "create symlink",
                &self.describe(name),
                io::Error::new(
                    io::ErrorKind::IsADirectory,
                    "cannot replace a directory with a symlink",
                ),
            ));
        }
        rustix::fs::symlinkat(target.as_os_str().as_bytes(), self.fd, name)
            .map_err(|e| Error::io("create symlink", &self.describe(name), e.into()))?;
        rustix::fs::chownat(
            self.fd,
            name,
            Some(rustix::fs::Uid::from_raw(owner.uid)),
            Some(rustix::fs::Gid::from_raw(owner.gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| Error::io("chown", &self.describe(name), e.into()))
    }

    /// Creates a device node or FIFO `name` (as root only).
    pub(crate) fn create_node(
        &self,
        name: &OsStr,
        mode: u32,
        device: u64,
        owner: Owner,
    ) -> Result<()> {
        self.clear(name)?;
        let file_type = FileType::from_raw_mode(mode);
        rustix::fs::mknodat(
            self.fd,
            name,
            file_type,
            Mode::from_raw_mode(mode & 0o7777),
            device,
        )
        .map_err(|e| Error::io("create node", &self.describe(name), e.into()))?;
        rustix::fs::chownat(
            self.fd,
            name,
            Some(rustix::fs::Uid::from_raw(owner.uid)),
            Some(rustix::fs::Gid::from_raw(owner.gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| Error::io("chown", &self.describe(name), e.into()))
    }

    /// Sets `name`'s times without following a symlink.
    pub(crate) fn set_times(&self, name: &OsStr, seconds: i64, nanoseconds: u32) -> Result<()> {
        let time = rustix::fs::Timespec {
            tv_sec: seconds,
            tv_nsec: i64::from(nanoseconds) as _,
        };
        rustix::fs::utimensat(
            self.fd,
            name,
            &Timestamps {
                last_access: time,
                last_modification: time,
            },
            AtFlags::SYMLINK_NOFOLLOW,
        )
        .map_err(|e| Error::io("set times", &self.describe(name), e.into()))
    }
}

/// Resolves a `--chown`/USER value the way BuildKit's file operations do: a
/// user name through the root's /etc/passwd (its uid and primary gid; a
/// name not found is root, silently, as in BuildKit), a number as both uid
/// and gid; then a group name through /etc/group (not found: unchanged) or
/// a number.
pub(crate) fn resolve_owner(root: &Root, spec: &str) -> Owner {
    if spec.is_empty() {
        return Owner::ROOT;
    }
    let (user, group) = match spec.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (spec, None),
    };
    let mut owner = Owner::ROOT;
    if let Ok(id) = user.parse::<u32>() {
        owner = Owner { uid: id, gid: id };
    } else if let Some(passwd) = root.read_to_string("/etc/passwd") {
        for line in passwd.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            if fields.len() >= 4 && fields[0] == user {
                if let (Ok(uid), Ok(gid)) = (fields[2].parse(), fields[3].parse()) {
                    owner = Owner { uid, gid };
                }
                break;
            }
        }
    }
    match group {
        Some(group) if !group.is_empty() => {
            if let Ok(id) = group.parse::<u32>() {
                owner.gid = id;
            } else if let Some(groups) = root.read_to_string("/etc/group") {
                for line in groups.lines() {
                    let fields: Vec<&str> = line.split(':').collect();
                    if fields.len() >= 3 && fields[0] == group {
                        if let Ok(gid) = fields[2].parse() {
                            owner.gid = gid;
                        }
                        break;
                    }
                }
            }
        }
        _ => {}
    }
    owner
}

/// BuildKit's error for a file copied onto a directory.
pub(crate) fn replace_directory_error(path: &Path) -> Error {
    Error::io(
        "copy",
        path,
        io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("cannot replace to directory {} with file", path.display()),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn destinations_resolve_through_links_inside_the_root() {
        let directory = tempfile::tempdir().unwrap();
        let top = directory.path();
        std::fs::create_dir_all(top.join("real/sub")).unwrap();
        std::fs::write(top.join("real/file"), "x").unwrap();
        symlink("real", top.join("relative")).unwrap();
        symlink("/real/file", top.join("absolute")).unwrap();
        symlink("/nowhere/else", top.join("dangling")).unwrap();
        symlink("../../../../real", top.join("real/sub/up")).unwrap();
        symlink("loop", top.join("loop")).unwrap();
        let root = Root::open(top).unwrap();
        assert_eq!(root.resolve("/relative/sub").unwrap(), "/real/sub");
        assert_eq!(root.resolve("/absolute").unwrap(), "/real/file");
        assert_eq!(root.resolve("/dangling").unwrap(), "/nowhere/else");
        assert_eq!(root.resolve("/real/sub/up/file").unwrap(), "/real/file");
        assert_eq!(root.resolve("/missing/../real/./x").unwrap(), "/real/x");
        assert_eq!(root.resolve("/").unwrap(), "/");
        assert!(root.resolve("/loop").is_err());
    }

    #[test]
    fn owners_resolve_in_the_roots_passwd_and_group() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::create_dir(directory.path().join("etc")).unwrap();
        std::fs::write(
            directory.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\napp:x:1001:1002::/app:/bin/sh\n",
        )
        .unwrap();
        std::fs::write(directory.path().join("etc/group"), "staff:x:50:\n").unwrap();
        let root = Root::open(directory.path()).unwrap();
        let owner = |spec: &str| {
            let o = resolve_owner(&root, spec);
            (o.uid, o.gid)
        };
        assert_eq!(owner("app"), (1001, 1002));
        assert_eq!(owner("app:staff"), (1001, 50));
        assert_eq!(owner("1000"), (1000, 1000));
        assert_eq!(owner("1000:7"), (1000, 7));
        assert_eq!(owner("nobody"), (0, 0));
        assert_eq!(owner("app:nogroup"), (1001, 1002));
        assert_eq!(owner(""), (0, 0));
    }
}
