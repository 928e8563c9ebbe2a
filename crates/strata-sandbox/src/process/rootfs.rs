//! The root file system: attached in the process's own mount namespace,
//! mount points made where the image lacks them, made read-only last.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{Mode, OFlags};
use rustix::io::Errno;
use rustix::mount::{MountPropagationFlags, MoveMountFlags};

use super::syscalls::{FileKind, Syscalls};
use super::{Failure, setup};
use crate::spec::{MountKind, RootFs, Spec};

/// The mount points of the standard mounts: (path, is a directory).
/// Containers also get /etc/hostname (see `etc_files`).
const STANDARD_TARGETS: [(&str, bool); 5] = [
    ("/proc", true),
    ("/dev", true),
    ("/sys", true),
    ("/etc/hosts", false),
    ("/etc/resolv.conf", false),
];

/// Makes every mount of the (new) mount namespace private, so that nothing
/// done here reaches the host, attaches the root, and opens it.
pub(crate) fn attach(rootfs: &RootFs) -> Result<OwnedFd, Failure> {
    rustix::mount::mount_change(
        "/",
        MountPropagationFlags::PRIVATE | MountPropagationFlags::REC,
    )
    .map_err(setup("make / private"))?;
    let path = match rootfs {
        RootFs::Directory(path) => {
            // A mount of its own, for pivot_root.
            rustix::mount::mount_bind_recursive(path, path)
                .map_err(setup(format!("bind root file system {}", path.display())))?;
            path
        }
        RootFs::Detached { mount, mount_point } => {
            rustix::mount::move_mount(
                mount,
                "",
                rustix::fs::CWD,
                mount_point,
                MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH,
            )
            .map_err(setup(format!(
                "attach root file system on {}",
                mount_point.display()
            )))?;
            mount_point
        }
    };
    rustix::fs::open(
        path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(setup(format!("open root file system {}", path.display())))
}

/// Whether a mount of `kind` needs a directory to be mounted on.
pub(crate) fn is_directory(kind: &MountKind) -> bool {
    match kind {
        MountKind::Bind { source } => source.is_dir(),
        MountKind::Tmpfs { .. } => true,
    }
}

/// The mount points the root needs before /dev is mounted: the standard
/// ones and those of the extra mounts outside /dev (made later, in the new
/// /dev tmpfs): (path, is a directory).
pub(crate) fn mount_targets(spec: &Spec) -> Vec<(String, bool)> {
    let mut targets: Vec<(String, bool)> = STANDARD_TARGETS
        .iter()
        .map(|(path, is_directory)| ((*path).to_owned(), *is_directory))
        .collect();
    if spec.hosts.is_some() {
        targets.push(("/etc/hostname".to_owned(), false));
    }
    for mount in &spec.mounts {
        if !is_under_dev(&mount.destination) {
            targets.push((mount.destination.clone(), is_directory(&mount.kind)));
        }
    }
    targets
}

/// Whether `destination` is below /dev (mounted in the sandbox's own /dev).
pub(crate) fn is_under_dev(destination: &str) -> bool {
    Path::new(destination).starts_with("/dev") && destination != "/dev"
}

/// Creates every mount point [`mount_targets`] names that is missing.
pub(crate) fn create_mount_points(sys: &impl Syscalls, spec: &Spec) -> Result<(), Failure> {
    for (target, is_directory) in mount_targets(spec) {
        create_mount_point(sys, &target, is_directory)?;
    }
    Ok(())
}

/// Makes sure `target` exists (directories 0755, a last file 0644),
/// creating what is missing; the first path created, if any.
pub(crate) fn create_mount_point(
    sys: &impl Syscalls,
    target: &str,
    is_directory: bool,
) -> Result<Option<PathBuf>, Failure> {
    let components = components(target)?;
    let mut created = None;
    let mut path = PathBuf::from("/");
    for (index, component) in components.iter().enumerate() {
        path.push(component);
        match sys.stat(&path) {
            Ok(_) => continue,
            Err(Errno::NOENT) => {}
            Err(e) => return Err(setup(format!("look up mount point {target}"))(e)),
        }
        let last = index + 1 == components.len();
        if last && !is_directory {
            sys.make_file(&path, 0o644, b"")
        } else {
            sys.make_directory(&path, 0o755)
        }
        .map_err(setup(format!("create mount point {target}")))?;
        created.get_or_insert_with(|| path.clone());
    }
    Ok(created)
}

/// The components of an absolute path without `..`.
fn components(target: &str) -> Result<Vec<&OsStr>, Failure> {
    let path = Path::new(target);
    if !path.is_absolute() || path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(Failure::setup(format!(
            "mount destination {target:?} must be an absolute path without `..`"
        )));
    }
    Ok(path
        .components()
        .skip(1)
        .map(Component::as_os_str)
        .collect())
}

/// Creates the working directory's missing components, owned by the user.
pub(crate) fn create_working_dir(
    sys: &impl Syscalls,
    working_dir: &str,
    uid: u32,
    gid: u32,
) -> Result<(), Failure> {
    let path = Path::new(working_dir);
    if !path.is_absolute() {
        return Err(Failure::setup(format!(
            "working directory {working_dir:?} is not absolute"
        )));
    }
    let mut current = PathBuf::from("/");
    for component in path.components().skip(1) {
        current.push(component);
        match sys.stat(&current) {
            Ok(FileKind::Directory) => continue,
            Ok(_) => {
                return Err(setup(format!("working directory {}", current.display()))(
                    Errno::NOTDIR,
                ));
            }
            Err(Errno::NOENT) => {}
            Err(e) => return Err(setup(format!("working directory {}", current.display()))(e)),
        }
        sys.make_directory(&current, 0o755)
            .and_then(|()| sys.change_owner(&current, uid, gid))
            .map_err(setup(format!(
                "create working directory {}",
                current.display()
            )))?;
    }
    Ok(())
}

/// `--read-only`: the root mount itself, not the mounts on it.
pub(crate) fn make_readonly(sys: &impl Syscalls, spec: &Spec) -> Result<(), Failure> {
    if spec.readonly_rootfs {
        sys.make_root_readonly()
            .map_err(setup("make the root file system read-only"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::recording::{Call, Recording};
    use crate::spec::Mount;

    #[test]
    fn missing_mount_points_are_made_in_order() {
        let fake = Recording::new();
        fake.add_directory("/etc");
        let mut spec = Spec::new(["true"]);
        spec.mounts = vec![
            Mount {
                destination: "/data/cache".to_owned(),
                kind: MountKind::Tmpfs { size: None },
                readonly: false,
            },
            Mount {
                destination: "/dev/pipes".to_owned(),
                kind: MountKind::Tmpfs { size: None },
                readonly: false,
            },
        ];
        create_mount_points(&fake, &spec).unwrap();
        let made = |path: &str, mode| Call::MakeDirectory {
            path: path.to_owned(),
            mode,
        };
        let file = |path: &str| Call::MakeFile {
            path: path.to_owned(),
            mode: 0o644,
            contents: String::new(),
        };
        assert_eq!(
            fake.calls(),
            [
                made("/proc", 0o755),
                made("/dev", 0o755),
                made("/sys", 0o755),
                file("/etc/hosts"),
                file("/etc/resolv.conf"),
                made("/data", 0o755),
                made("/data/cache", 0o755),
            ],
            "/dev/pipes waits for the sandbox's /dev"
        );
    }

    #[test]
    fn existing_mount_points_are_left_alone_and_the_first_made_is_reported() {
        let fake = Recording::with_image();
        assert_eq!(create_mount_point(&fake, "/proc", true).unwrap(), None);
        assert_eq!(
            create_mount_point(&fake, "/run/secrets/id", false).unwrap(),
            Some(PathBuf::from("/run"))
        );
        assert_eq!(fake.calls().len(), 3);
        assert!(create_mount_point(&fake, "/a/../etc", true).is_err());
        assert!(create_mount_point(&fake, "relative", true).is_err());
    }

    #[test]
    fn working_directory_belongs_to_the_user() {
        let fake = Recording::with_image();
        create_working_dir(&fake, "/home/app/src", 1000, 50).unwrap();
        assert_eq!(
            fake.calls(),
            [
                Call::MakeDirectory {
                    path: "/home/app".to_owned(),
                    mode: 0o755
                },
                Call::ChangeOwner {
                    path: "/home/app".to_owned(),
                    uid: 1000,
                    gid: 50
                },
                Call::MakeDirectory {
                    path: "/home/app/src".to_owned(),
                    mode: 0o755
                },
                Call::ChangeOwner {
                    path: "/home/app/src".to_owned(),
                    uid: 1000,
                    gid: 50
                },
            ]
        );
        let error = create_working_dir(&fake, "/bin/sh/x", 0, 0).unwrap_err();
        assert!(error.message.contains("/bin/sh"), "{}", error.message);
    }

    #[test]
    fn read_only_root_only_when_asked() {
        let fake = Recording::new();
        let mut spec = Spec::new(["true"]);
        make_readonly(&fake, &spec).unwrap();
        assert!(fake.calls().is_empty());
        spec.readonly_rootfs = true;
        make_readonly(&fake, &spec).unwrap();
        assert_eq!(fake.calls(), [Call::MakeRootReadonly]);
    }
}
