//! A directory used as `/`: every path is opened with `openat2(...,
//! RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`, so that no symlink (`..`,
//! an absolute target, `/proc/self/...`) leads outside it. Docker's
//! `FollowSymlinkInScope` is computed on top, for the paths Docker names
//! in its messages and hands back as symlink targets.

use std::ffi::OsStr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags, Stat};
use rustix::io::Errno;
use strata_go::path::clean_str;

use super::paths::{preserve_trailing_dot_or_separator, split};
use crate::{Error, Result};

/// The most symlinks one resolution follows (Docker's `maxSymlinkLimit`).
const MAXIMUM_LINKS: usize = 255;

/// What `stat` says of a path in a root (Docker's `ContainerPathStat`).
#[derive(Debug, Clone)]
pub(crate) struct PathStat {
    /// `st_mode`: type and permissions.
    pub(crate) mode: u32,
    /// For a symlink: its target, resolved in the root, as an absolute path.
    pub(crate) link_target: Option<String>,
}

impl PathStat {
    /// Whether it is a directory.
    pub(crate) fn is_dir(&self) -> bool {
        FileType::from_raw_mode(self.mode) == FileType::Directory
    }

    /// Whether it is a symlink.
    pub(crate) fn is_symlink(&self) -> bool {
        FileType::from_raw_mode(self.mode) == FileType::Symlink
    }
}

/// A directory that paths resolve in as if it were `/`.
#[derive(Debug)]
pub(crate) struct Root {
    fd: OwnedFd,
}

/// `path` relative to the root (`openat2` wants no leading `/`).
fn relative(path: &OsStr) -> &OsStr {
    let bytes = path.as_bytes();
    let start = bytes
        .iter()
        .position(|byte| *byte != b'/')
        .unwrap_or(bytes.len());
    if start == bytes.len() {
        OsStr::new(".")
    } else {
        OsStr::from_bytes(&bytes[start..])
    }
}

/// Opens `path` resolved inside the directory `root` as [`Root::open`]
/// does, for a caller that keeps the directory's descriptor.
pub(crate) fn open_in(
    root: impl AsFd,
    path: impl AsRef<OsStr>,
    flags: OFlags,
) -> std::result::Result<OwnedFd, Errno> {
    let path = relative(path.as_ref());
    let resolve = ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS;
    loop {
        match rustix::fs::openat2(&root, path, flags | OFlags::CLOEXEC, Mode::empty(), resolve) {
            // The kernel asks for a retry when a rename raced the walk.
            Err(Errno::AGAIN) => continue,
            result => return result,
        }
    }
}

impl Root {
    /// The directory `fd` as a root.
    pub(crate) fn new(fd: OwnedFd) -> Self {
        Self { fd }
    }

    /// The directory itself.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Opens `path` resolved inside the root; symlinks are followed (inside
    /// it) except a final one under `O_NOFOLLOW`.
    pub(crate) fn open(
        &self,
        path: impl AsRef<OsStr>,
        flags: OFlags,
    ) -> std::result::Result<OwnedFd, Errno> {
        open_in(self.fd(), path, flags)
    }

    /// `lstat(path)`: the final component is not followed.
    pub(crate) fn lstat(&self, path: &str) -> std::result::Result<Stat, Errno> {
        let fd = self.open(path, OFlags::PATH | OFlags::NOFOLLOW)?;
        rustix::fs::fstat(&fd)
    }

    /// The target of the symlink at `path`.
    fn read_link(&self, path: &str) -> std::result::Result<String, Errno> {
        let fd = self.open(path, OFlags::PATH | OFlags::NOFOLLOW)?;
        let target = rustix::fs::readlinkat(&fd, "", Vec::new())?;
        Ok(String::from_utf8_lossy(target.to_bytes()).into_owned())
    }

    /// `path` with every symlink evaluated inside the root, as an absolute
    /// path (Docker's `FollowSymlinkInScope`); missing elements are kept.
    pub(crate) fn follow_in_scope(&self, path: &str) -> Result<String> {
        let mut pending = path.to_owned();
        let mut resolved = String::new();
        let mut links = 0;
        while !pending.is_empty() {
            let (element, rest) = match pending.split_once('/') {
                Some((element, rest)) => (element.to_owned(), rest.to_owned()),
                None => (std::mem::take(&mut pending), String::new()),
            };
            pending = rest;
            if element.is_empty() {
                continue;
            }
            let candidate = clean_str(&format!("/{resolved}{element}"));
            if candidate == "/" {
                resolved.clear();
                continue;
            }
            let is_symlink = match self.lstat(&candidate) {
                Ok(stat) => FileType::from_raw_mode(stat.st_mode) == FileType::Symlink,
                Err(Errno::NOENT) => false,
                Err(errno) => return Err(lstat_error(&candidate, errno)),
            };
            if !is_symlink {
                resolved.push_str(&element);
                resolved.push('/');
                continue;
            }
            links += 1;
            if links > MAXIMUM_LINKS {
                return Err(Error::TooManyLinks {
                    path: path.to_owned(),
                });
            }
            let target = self
                .read_link(&candidate)
                .map_err(|errno| lstat_error(&candidate, errno))?;
            if target.starts_with('/') {
                resolved.clear();
            }
            pending = format!("{target}/{pending}");
        }
        Ok(clean_str(&format!("/{resolved}")))
    }

    /// Docker's `ResolvePath`: the path made absolute, and resolved with
    /// every symlink but a final one evaluated: (resolved, absolute).
    pub(crate) fn resolve_path(&self, path: &str) -> Result<(String, String)> {
        let absolute = preserve_trailing_dot_or_separator(&clean_str(&format!("/{path}")), path);
        let (directory, name) = split(&absolute);
        let directory = self.follow_in_scope(directory)?;
        let resolved = if directory == "/" {
            format!("/{name}")
        } else {
            format!("{directory}/{name}")
        };
        Ok((resolved, absolute))
    }

    /// Docker's `StatPath` of a [`resolve_path`](Self::resolve_path) result.
    pub(crate) fn stat_path(&self, resolved: &str, absolute: &str) -> Result<PathStat> {
        let stat = self
            .lstat(resolved)
            .map_err(|errno| lstat_error(resolved, errno))?;
        let mut path_stat = PathStat {
            mode: stat.st_mode,
            link_target: None,
        };
        if path_stat.is_symlink() {
            path_stat.link_target = Some(self.follow_in_scope(absolute)?);
        }
        Ok(path_stat)
    }

    /// Resolves and stats `path` (Docker's `ContainerStatPath`).
    pub(crate) fn stat(&self, path: &str) -> Result<PathStat> {
        let (resolved, absolute) = self.resolve_path(path)?;
        self.stat_path(&resolved, &absolute)
    }
}

/// `lstat PATH: ERROR`, the error Go's `os.Lstat` gives.
pub(crate) fn lstat_error(path: &str, errno: Errno) -> Error {
    Error::ContainerPath {
        operation: "lstat",
        path: path.to_owned(),
        errno,
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn root_of(directory: &std::path::Path) -> Root {
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Root::new(rustix::fs::open(directory, flags, Mode::empty()).unwrap())
    }

    #[test]
    fn symlinks_resolve_inside_the_root_as_dockers_follow_symlink_in_scope() {
        let directory = tempfile::tempdir().unwrap();
        let base = directory.path();
        std::fs::create_dir_all(base.join("etc")).unwrap();
        std::fs::write(base.join("etc/hostname"), "h").unwrap();
        symlink("/etc/hostname", base.join("link")).unwrap();
        symlink("/etc", base.join("dirlink")).unwrap();
        symlink("../../../..", base.join("up")).unwrap();
        symlink("rel-target", base.join("rellink")).unwrap();
        let root = root_of(base);
        assert_eq!(root.follow_in_scope("/link").unwrap(), "/etc/hostname");
        assert_eq!(
            root.follow_in_scope("/dirlink/x/../hostname").unwrap(),
            "/etc/hostname"
        );
        assert_eq!(root.follow_in_scope("/up/etc").unwrap(), "/etc");
        assert_eq!(root.follow_in_scope("/rellink").unwrap(), "/rel-target");
        assert_eq!(root.follow_in_scope("/missing/x").unwrap(), "/missing/x");
        let error = root.follow_in_scope("/etc/hostname/x").unwrap_err();
        assert_eq!(error.to_string(), "lstat /etc/hostname/x: not a directory");
    }

    #[test]
    fn resolve_path_keeps_a_final_symlink_and_stat_reports_its_target() {
        let directory = tempfile::tempdir().unwrap();
        let base = directory.path();
        std::fs::create_dir_all(base.join("etc")).unwrap();
        std::fs::write(base.join("etc/hostname"), "h").unwrap();
        symlink("/etc", base.join("dirlink")).unwrap();
        symlink("/../../etc/hostname", base.join("link")).unwrap();
        let root = root_of(base);
        let (resolved, absolute) = root.resolve_path("dirlink/").unwrap();
        assert_eq!(
            (resolved.as_str(), absolute.as_str()),
            ("/etc/", "/dirlink/")
        );
        let stat = root.stat("/link").unwrap();
        assert!(stat.is_symlink());
        assert_eq!(stat.link_target.as_deref(), Some("/etc/hostname"));
        let error = root.stat("/link/").unwrap_err();
        assert_eq!(error.to_string(), "lstat /etc/hostname/: not a directory");
        assert!(root.stat("/dirlink/.").unwrap().is_dir());
    }
}
