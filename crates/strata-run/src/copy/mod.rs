//! `strata cp`: files between a container and the host, both ways, with
//! docker's path rules and messages ([`paths`]), through the container's
//! root without ever leaving it.
//!
//! A [`ContainerRoot`] is a running container's `/proc/<pid>/root` (its
//! mounts as it sees them) or a stopped one's writable layer mounted over
//! its image, detached, for as long as the copy lasts (under the
//! container's lock, so that it cannot start meanwhile). Every path in it
//! resolves with `openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`, and
//! what is written in it is made through directory fds: an image's symlink
//! (`/etc -> /../../..`, `/etc -> /home/me`) never leads to the host. Both
//! directions stream a tar archive from a writer thread to the extraction,
//! as Docker streams one between its CLI and its daemon.

mod archive;
mod extract;
pub(crate) mod paths;
pub(crate) mod root;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use rustix::fs::{FileType, Mode, OFlags};
use rustix::io::Errno;
use strata_go::path::clean_str;

pub use paths::split_copy_argument;
use paths::{
    CopyInfo, Rename, archive_root_name, base, dir, local_path, prepare_archive_copy,
    preserve_trailing_dot_or_separator, rebase_name, split, split_path_dir_entry,
};

use root::{PathStat, Root, lstat_error};

use crate::containers::Containers;
use crate::state::Status;
use crate::{Entry, Error, Result};
use extract::Ownership;

/// What a copy transferred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// Bytes of the tar stream between the two sides (what docker reports).
    pub size: u64,
    /// The destination as docker names it in its summary.
    pub destination: String,
}

/// A container's root file system, open for copying (see the module).
#[derive(Debug)]
pub struct ContainerRoot {
    /// The container as the user named it, for messages.
    name: String,
    read_only: bool,
    user: String,
    /// Declared before the lock: the mount goes first.
    root: Root,
    _lock: Option<File>,
}

impl ContainerRoot {
    /// The root of the container `name` (as [`Containers::find`] finds it).
    pub fn open(containers: &Containers, name: &str) -> Result<Self> {
        let entry = containers.find(name)?;
        if entry.state.running() {
            return Self::running(entry, name);
        }
        let id = entry.container.id.clone();
        let lock = containers.lock(&id)?;
        let entry = containers.load(&id)?;
        if entry.state.running() {
            drop(lock);
            return Self::running(entry, name);
        }
        // A monitor still ending may hold the layer's mount a moment longer.
        crate::client::wait_for_monitor(containers, &id);
        let mount = crate::layer::mount_writable_layer(containers, &entry.container, false)?;
        Ok(Self::new(name, &entry, Root::new(mount), Some(lock)))
    }

    fn new(name: &str, entry: &Entry, root: Root, lock: Option<File>) -> Self {
        Self {
            name: name.to_owned(),
            read_only: entry.container.host_config.readonly_rootfs,
            user: entry.container.config.user.clone(),
            root,
            _lock: lock,
        }
    }

    /// `/proc/<pid>/root` of a running container, checked to belong to
    /// the container's PID 1 still (its pidfd is open and not readable).
    fn running(entry: Entry, name: &str) -> Result<Self> {
        let id = entry.container.id.clone();
        if entry.state.status == Status::Restarting || entry.state.pid <= 0 {
            return Err(Error::Restarting { id });
        }
        let not_running = || Error::NotRunning { id: id.clone() };
        let pid = rustix::process::Pid::from_raw(entry.state.pid).ok_or_else(not_running)?;
        let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())
            .map_err(|_| not_running())?;
        let path = PathBuf::from(format!("/proc/{}/root", pid.as_raw_nonzero()));
        let root = rustix::fs::open(
            &path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| strata_fs::Error::new("open", &path, e.into()))?;
        if process_exited(&pidfd) {
            return Err(not_running());
        }
        Ok(Self::new(name, &entry, Root::new(root), None))
    }

    /// `cp CONTAINER:SOURCE DESTINATION`: onto the host, `destination`
    /// relative to the current directory.
    pub fn copy_out(&self, source: &str, destination: &str, follow_link: bool) -> Result<Copied> {
        let destination = local_path(destination, &current_directory()?);
        validate_output_path(&destination)?;
        let (source, rebase) = self.follow_source(source, follow_link);
        let (resolved, root_name, stat) = self.archive_source(&source)?;
        let mut renames = Vec::new();
        if let Some(name) = &rebase {
            let (_, source_base) = split_path_dir_entry(&source);
            renames.push(Rename::rebase(&source_base, name));
        }
        let source_info = CopyInfo {
            path: source,
            exists: true,
            is_dir: stat.is_dir(),
            rebase_name: rebase,
        };
        let destination_info = host_destination_info(&destination)?;
        let (directory, rename) = prepare_archive_copy(&source_info, &destination_info)?;
        renames.extend(rename);
        let target = open_host_directory(&directory)?;
        let size = through_pipe(
            |writer| archive::write_archive(&self.root, &resolved, &root_name, &renames, writer),
            |reader| {
                extract::extract(reader, target, &directory, Ownership::Caller)
                    .map_err(Error::HostExtract)
            },
        )?;
        Ok(Copied { size, destination })
    }

    /// `cp CONTAINER:SOURCE -`: the archive itself, named as the container
    /// names it (a followed symlink is not renamed, as in docker).
    pub fn archive(&self, source: &str, follow_link: bool, output: impl Write) -> Result<u64> {
        let (source, _) = self.follow_source(source, follow_link);
        let (resolved, root_name, _) = self.archive_source(&source)?;
        archive::write_archive(&self.root, &resolved, &root_name, &[], output)
    }

    /// `cp SOURCE CONTAINER:DESTINATION`: `source` is a host path relative
    /// to the current directory; `archive` (`-a`) gives everything to the
    /// container's user when it has one, else files keep their owners.
    pub fn copy_in(
        &self,
        source: &str,
        destination: &str,
        follow_link: bool,
        archive: bool,
    ) -> Result<Copied> {
        let destination_info = self.destination_info(destination)?;
        let source = local_path(source, &current_directory()?);
        let source_info = host_source_info(&source, follow_link)?;
        let (directory, rename) = prepare_archive_copy(&source_info, &destination_info)?;
        let (target, display) = self.extraction_point(&directory)?;
        let ownership = self.ownership(archive)?;
        let (_, source_base) = split_path_dir_entry(&source_info.path);
        let root_name =
            archive_root_name(source_info.rebase_name.as_deref().unwrap_or(&source_base));
        let renames: Vec<Rename> = rename.into_iter().collect();
        let host = host_root()?;
        let size = through_pipe(
            |writer| archive::write_archive(&host, &source_info.path, &root_name, &renames, writer),
            |reader| extract::extract(reader, target, &display, ownership).map_err(Error::TarFile),
        )?;
        Ok(Copied {
            size,
            destination: format!("{}:{}", self.name, destination_info.path),
        })
    }

    /// `cp - CONTAINER:DESTINATION`: a tar stream extracted into the
    /// directory `destination`.
    pub fn extract(&self, input: impl Read, destination: &str, archive: bool) -> Result<Copied> {
        let destination_info = self.destination_info(destination)?;
        if !destination_info.is_dir {
            return Err(Error::DestinationNotDirectory {
                container: self.name.clone(),
                path: destination.to_owned(),
            });
        }
        let (target, display) = self.extraction_point(&destination_info.path)?;
        let ownership = self.ownership(archive)?;
        let mut counting = CountingReader {
            inner: input,
            read: 0,
        };
        extract::extract(&mut counting, target, &display, ownership).map_err(Error::TarFile)?;
        Ok(Copied {
            size: counting.read,
            destination: format!("{}:{}", self.name, destination_info.path),
        })
    }

    /// Docker's CLI with `-L`: a symlink source becomes its target, its
    /// entries keeping the name asked for.
    fn follow_source(&self, source: &str, follow_link: bool) -> (String, Option<String>) {
        if follow_link
            && let Ok(stat) = self.root.stat(source)
            && let Some(target) = stat.link_target
        {
            return rebase_name(source, &target);
        }
        (source.to_owned(), None)
    }

    /// Docker's daemon archiving a path: resolved (a final symlink kept),
    /// stated, and the name its archive starts with.
    fn archive_source(&self, source: &str) -> Result<(String, String, PathStat)> {
        let (resolved, absolute) = self
            .root
            .resolve_path(source)
            .map_err(self.not_found(source))?;
        let stat = self
            .root
            .stat_path(&resolved, &absolute)
            .map_err(self.not_found(source))?;
        Ok((resolved, archive_root_name(&base(&absolute)), stat))
    }

    /// Docker's CLI looking at a destination in the container: a symlink
    /// stands for its target; one that cannot be stated may still be made.
    fn destination_info(&self, destination: &str) -> Result<CopyInfo> {
        let mut info = CopyInfo {
            path: destination.to_owned(),
            ..CopyInfo::default()
        };
        let Ok(mut stat) = self.root.stat(destination) else {
            return Ok(info);
        };
        if let Some(target) = stat.link_target.clone() {
            info.path = target.clone();
            let Ok(target_stat) = self.root.stat(&target) else {
                return Ok(info);
            };
            stat = target_stat;
        }
        if matches!(
            FileType::from_raw_mode(stat.mode),
            FileType::CharacterDevice | FileType::BlockDevice
        ) {
            return Err(Error::DestinationIrregular {
                container: self.name.clone(),
                path: destination.to_owned(),
                kind: "device",
            });
        }
        info.exists = true;
        info.is_dir = stat.is_dir();
        Ok(info)
    }

    /// Docker's daemon before extracting: the directory, every symlink in
    /// it followed inside the root, must exist; the root must be writable.
    fn extraction_point(&self, directory: &str) -> Result<(OwnedFd, String)> {
        let absolute =
            preserve_trailing_dot_or_separator(&clean_str(&format!("/{directory}")), directory);
        let not_found = self.not_found(directory);
        let resolved = self.root.follow_in_scope(&absolute).map_err(&not_found)?;
        let stat = self
            .root
            .lstat(&resolved)
            .map_err(|errno| not_found(lstat_error(&resolved, errno)))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
            return Err(Error::ExtractPointNotDirectory {
                path: directory.to_owned(),
            });
        }
        if self.read_only {
            return Err(Error::ReadOnlyRootfs);
        }
        let fd = self
            .root
            .open(
                &resolved,
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW,
            )
            .map_err(|errno| lstat_error(&resolved, errno))?;
        Ok((fd, resolved))
    }

    /// Who owns what is copied in: with `-a` and a container user, that
    /// user (resolved in the container's /etc/passwd and /etc/group).
    fn ownership(&self, archive: bool) -> Result<Ownership> {
        if !archive || self.user.is_empty() {
            return Ok(Ownership::FromArchive);
        }
        let passwd = self.read_text("/etc/passwd");
        let group = self.read_text("/etc/group");
        let user = strata_sandbox::resolve_user(&self.user, passwd.as_deref(), group.as_deref())
            .map_err(|message| Error::CopyUser {
                user: self.user.clone(),
                message,
            })?;
        Ok(Ownership::Fixed {
            uid: user.uid,
            gid: user.gid,
        })
    }

    fn read_text(&self, path: &str) -> Option<String> {
        let fd = self.root.open(path, OFlags::RDONLY).ok()?;
        let mut text = String::new();
        File::from(fd).read_to_string(&mut text).ok()?;
        Some(text)
    }

    /// Maps "no such file" to docker's `Could not find the file PATH in
    /// container NAME`.
    fn not_found(&self, path: &str) -> impl Fn(Error) -> Error {
        let path = path.to_owned();
        let container = self.name.clone();
        move |error| match error {
            Error::ContainerPath {
                errno: Errno::NOENT,
                ..
            } => Error::FileNotFound {
                path: path.clone(),
                container: container.clone(),
            },
            other => other,
        }
    }
}

/// Whether the process behind `pidfd` has exited (its pidfd reads ready).
fn process_exited(pidfd: &OwnedFd) -> bool {
    let mut poll = [rustix::event::PollFd::new(
        pidfd,
        rustix::event::PollFlags::IN,
    )];
    let zero = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    rustix::event::poll(&mut poll, Some(&zero)).map_or(true, |ready| ready > 0)
}

/// Counts the bytes read through it.
struct CountingReader<R> {
    inner: R,
    read: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.read += read as u64;
        Ok(read)
    }
}

/// Runs `produce` on a thread writing into a pipe that `consume` reads.
/// The consumer's error wins unless the producer failed first for a
/// reason of its own (not the pipe the consumer closed).
fn through_pipe(
    produce: impl FnOnce(std::io::PipeWriter) -> Result<u64> + Send,
    consume: impl FnOnce(std::io::PipeReader) -> Result<()>,
) -> Result<u64> {
    let (reader, writer) = std::io::pipe().map_err(|source| Error::ArchiveOutput { source })?;
    std::thread::scope(|scope| {
        let producer = scope.spawn(move || produce(writer));
        let consumed = consume(reader);
        let produced = producer.join().unwrap_or_else(|_| {
            Err(Error::ArchiveOutput {
                source: std::io::Error::other("the archive writer panicked"),
            })
        });
        match (consumed, produced) {
            (Ok(()), produced) => produced,
            (Err(_), Err(error)) if !matches!(error, Error::ArchiveOutput { .. }) => Err(error),
            (Err(error), _) => Err(error),
        }
    })
}

/// The host's `/` as a root (host paths resolve as usual in it).
fn host_root() -> Result<Root> {
    let fd = rustix::fs::open(
        "/",
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| host_error("open", "/", errno.into()))?;
    Ok(Root::new(fd))
}

fn open_host_directory(directory: &str) -> Result<OwnedFd> {
    rustix::fs::open(
        directory,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| host_error("open", directory, errno.into()))
}

fn current_directory() -> Result<String> {
    let directory = std::env::current_dir().map_err(|source| host_error("getwd", ".", source))?;
    Ok(directory.to_string_lossy().into_owned())
}

fn host_error(operation: &'static str, path: &str, source: std::io::Error) -> Error {
    Error::HostPath {
        operation,
        path: PathBuf::from(path),
        source,
    }
}

/// Docker's CLI `ValidateOutputPath`: the parent must exist, and an
/// existing destination be a directory or a regular file.
fn validate_output_path(path: &str) -> Result<()> {
    let parent = dir(&clean_str(path));
    if parent != "."
        && std::fs::metadata(&parent).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    {
        return Err(Error::InvalidOutputPath { directory: parent });
    }
    let metadata = match std::fs::metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(host_error("stat", path, error)),
    };
    if metadata.is_dir() || metadata.is_file() {
        return Ok(());
    }
    use std::os::unix::fs::FileTypeExt;
    let file_type = metadata.file_type();
    if file_type.is_block_device() || file_type.is_char_device() {
        return Err(Error::IrregularOutputPath {
            path: path.to_owned(),
            kind: "device",
        });
    }
    Ok(())
}

/// Docker's `CopyInfoDestinationPath` on the host: symlinks (up to ten)
/// stand for their targets; a missing destination needs its parent.
fn host_destination_info(path: &str) -> Result<CopyInfo> {
    let mut current = path.to_owned();
    let mut metadata = std::fs::symlink_metadata(&current);
    let mut links = 0;
    while let Ok(found) = &metadata
        && found.file_type().is_symlink()
    {
        links += 1;
        if links > 10 {
            return Err(Error::TooManySymlinks {
                path: PathBuf::from(path),
            });
        }
        let target =
            std::fs::read_link(&current).map_err(|e| host_error("readlink", &current, e))?;
        let target = target.to_string_lossy().into_owned();
        current = if target.starts_with('/') {
            target
        } else {
            paths::join(&split_path_dir_entry(&current).0, &target)
        };
        metadata = std::fs::symlink_metadata(&current);
    }
    match metadata {
        Ok(found) => Ok(CopyInfo {
            path: current,
            exists: true,
            is_dir: found.is_dir(),
            rebase_name: None,
        }),
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(host_error("lstat", &current, error))
        }
        Err(_) => {
            let (parent, _) = split_path_dir_entry(&current);
            let found = std::fs::metadata(&parent).map_err(|e| host_error("stat", &parent, e))?;
            if !found.is_dir() {
                return Err(Error::NotADirectory);
            }
            Ok(CopyInfo {
                path: current,
                ..CopyInfo::default()
            })
        }
    }
}

/// Docker's `CopyInfoSourcePath` on the host: symlinks in the parent are
/// evaluated, a final one only with `-L`.
fn host_source_info(path: &str, follow_link: bool) -> Result<CopyInfo> {
    let real = |path: &str| -> Result<String> {
        let real = std::fs::canonicalize(path).map_err(|e| host_error("lstat", path, e))?;
        Ok(real.to_string_lossy().into_owned())
    };
    let (resolved, rebase) = if follow_link {
        rebase_name(path, &real(path)?)
    } else {
        let (directory, name) = split(path);
        let directory = real(directory)?;
        let resolved = if directory == "/" {
            format!("/{name}")
        } else {
            format!("{directory}/{name}")
        };
        let renamed = path.ends_with('/') && base(path) != base(&resolved);
        let rebase = renamed.then(|| base(path));
        (resolved, rebase)
    };
    let metadata =
        std::fs::symlink_metadata(&resolved).map_err(|e| host_error("lstat", &resolved, e))?;
    Ok(CopyInfo {
        path: resolved,
        exists: true,
        is_dir: metadata.is_dir(),
        rebase_name: rebase,
    })
}
