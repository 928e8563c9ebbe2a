//! The mounts of a sandbox, as Docker's default spec has them: /proc, a
//! tmpfs /dev with the standard devices, devpts, shm and mqueue, a read-only
//! /sys, the masked and read-only paths, then the extra mounts in order.

use std::path::Path;

use rustix::io::Errno;
use rustix::mount::MountAttrFlags;

use super::rootfs::{create_mount_point, is_directory, is_under_dev};
use super::syscalls::{BindSource, FileKind, Syscalls};
use super::{Failure, setup};
use crate::spec::{Mount, MountKind, Spec};

/// Paths Docker hides from containers (a bind of /dev/null or an empty read-only tmpfs).
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths Docker makes read-only.
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The character devices every sandbox gets (mode 0666): name, major, minor.
const DEVICES: [(&str, u32, u32); 6] = [
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

/// The devices BuildKit adds to an insecure step's /dev: name, major, minor.
/// (BuildKit also adds loop devices up to the first free one plus 7; we
/// add loop0-loop7, what it adds when it cannot ask /dev/loop-control.)
const INSECURE_DEVICES: [(&str, u32, u32); 6] = [
    ("kmsg", 1, 11),
    ("cuse", 10, 203),
    ("fuse", 10, 229),
    ("kvm", 10, 232),
    ("net/tun", 10, 200),
    ("loop-control", 10, 237),
];

/// The loop devices of an insecure step (block devices 7:N).
const INSECURE_LOOP_DEVICES: u32 = 8;

/// The symbolic links of /dev: name, target.
const DEVICE_LINKS: [(&str, &str); 5] = [
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

fn no_suid_dev_exec() -> MountAttrFlags {
    MountAttrFlags::MOUNT_ATTR_NOSUID
        | MountAttrFlags::MOUNT_ATTR_NODEV
        | MountAttrFlags::MOUNT_ATTR_NOEXEC
}

fn mount(
    sys: &impl Syscalls,
    filesystem: &str,
    options: &[(&str, Option<&str>)],
    attributes: MountAttrFlags,
    target: &str,
) -> Result<(), Failure> {
    sys.mount(filesystem, options, attributes, Path::new(target))
        .map_err(setup(format!("mount {filesystem} on {target}")))
}

/// /proc, /dev (tmpfs, devices, links, devpts, shm, mqueue) and /sys
/// (writable, with more devices, when `insecure`).
pub(crate) fn mount_standard(sys: &impl Syscalls, insecure: bool) -> Result<(), Failure> {
    mount(sys, "proc", &[], no_suid_dev_exec(), "/proc")?;
    mount(
        sys,
        "tmpfs",
        &[("mode", Some("755")), ("size", Some("65536k"))],
        MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_STRICTATIME,
        "/dev",
    )?;
    populate_dev(sys)?;
    if insecure {
        add_insecure_devices(sys)?;
    }
    mount(
        sys,
        "devpts",
        &[
            ("newinstance", None),
            ("ptmxmode", Some("0666")),
            ("mode", Some("0620")),
            ("gid", Some("5")),
        ],
        MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NOEXEC,
        "/dev/pts",
    )?;
    mount(
        sys,
        "tmpfs",
        &[("mode", Some("1777")), ("size", Some("65536k"))],
        no_suid_dev_exec(),
        "/dev/shm",
    )?;
    mount(sys, "mqueue", &[], no_suid_dev_exec(), "/dev/mqueue")?;
    let mut sysfs = no_suid_dev_exec();
    if !insecure {
        sysfs |= MountAttrFlags::MOUNT_ATTR_RDONLY;
    }
    match sys.mount("sysfs", &[], sysfs, Path::new("/sys")) {
        // A user namespace may mount sysfs only over a network namespace
        // it owns: with the host's network (RUN's default) the host's /sys
        // is bound instead, read-only, as rootless runc binds it.
        Err(Errno::PERM) => sys
            .bind(&BindSource::Host("/sys".into()), true, Path::new("/sys"))
            .map_err(setup("bind /sys")),
        other => other.map_err(setup("mount sysfs on /sys")),
    }
}

/// BuildKit's extra devices of `RUN --security=insecure` (mode 0666, as
/// runc makes a device whose spec gives no mode).
fn add_insecure_devices(sys: &impl Syscalls) -> Result<(), Failure> {
    sys.make_directory(Path::new("/dev/net"), 0o755)
        .map_err(setup("create /dev/net"))?;
    let loops = (0..INSECURE_LOOP_DEVICES).map(|n| (format!("loop{n}"), true, 7, n));
    let others = INSECURE_DEVICES
        .iter()
        .map(|(name, major, minor)| (name.to_string(), false, *major, *minor));
    for (name, block, major, minor) in others.chain(loops) {
        sys.make_device(&Path::new("/dev").join(&name), block, 0o666, major, minor)
            .map_err(setup(format!("create /dev/{name}")))?;
    }
    Ok(())
}

/// The devices, links and directories of the new /dev.
fn populate_dev(sys: &impl Syscalls) -> Result<(), Failure> {
    for (name, major, minor) in DEVICES {
        let path = Path::new("/dev").join(name);
        match sys.make_device(&path, false, 0o666, major, minor) {
            // In a user namespace (rootless) no device can be made: the
            // host's is bound over an empty file, as rootless runc does.
            Err(Errno::PERM) => {
                sys.make_file(&path, 0o666, b"")
                    .and_then(|()| sys.bind(&BindSource::Host(path.clone()), false, &path))
                    .map_err(setup(format!("bind /dev/{name}")))?;
            }
            other => other.map_err(setup(format!("create /dev/{name}")))?,
        }
    }
    for (name, target) in DEVICE_LINKS {
        sys.make_symlink(target, &Path::new("/dev").join(name))
            .map_err(setup(format!("create /dev/{name}")))?;
    }
    // As runc: /dev/core only when the kernel has a /proc/kcore.
    if sys.stat(Path::new("/proc/kcore")).is_ok() {
        sys.make_symlink("/proc/kcore", Path::new("/dev/core"))
            .map_err(setup("create /dev/core"))?;
    }
    for (name, mode) in [("pts", 0o755), ("shm", 0o1777), ("mqueue", 0o755)] {
        sys.make_directory(&Path::new("/dev").join(name), mode)
            .map_err(setup(format!("create /dev/{name}")))?;
    }
    Ok(())
}

/// Docker's masked paths (those that exist) and read-only paths.
pub(crate) fn protect_kernel_paths(sys: &impl Syscalls) -> Result<(), Failure> {
    for path in MASKED_PATHS {
        let Ok(kind) = sys.stat(Path::new(path)) else {
            continue;
        };
        if kind == FileKind::Directory {
            mount(
                sys,
                "tmpfs",
                &[("size", Some("0"))],
                no_suid_dev_exec() | MountAttrFlags::MOUNT_ATTR_RDONLY,
                path,
            )?;
        } else {
            sys.bind(
                &BindSource::Inside("/dev/null".into()),
                true,
                Path::new(path),
            )
            .map_err(setup(format!("mask {path}")))?;
        }
    }
    for path in READONLY_PATHS {
        if sys.stat(Path::new(path)).is_err() {
            continue;
        }
        sys.bind(&BindSource::Inside(path.into()), true, Path::new(path))
            .map_err(setup(format!("make {path} read-only")))?;
    }
    Ok(())
}

/// The spec's extra mounts, in order.
pub(crate) fn mount_extra(sys: &impl Syscalls, spec: &Spec) -> Result<(), Failure> {
    for extra in &spec.mounts {
        // /dev is the sandbox's own tmpfs by now: a mount point below it
        // (BuildKit's /dev/pipes for heredoc scripts) is made there.
        if is_under_dev(&extra.destination) {
            create_mount_point(sys, &extra.destination, is_directory(&extra.kind))?;
        }
        mount_one(sys, extra)?;
    }
    Ok(())
}

fn mount_one(sys: &impl Syscalls, extra: &Mount) -> Result<(), Failure> {
    let target = extra.destination.as_str();
    match &extra.kind {
        MountKind::Bind { source } => sys
            .bind(
                &BindSource::Host(source.clone()),
                extra.readonly,
                Path::new(target),
            )
            .map_err(setup(format!("bind {} on {target}", source.display()))),
        MountKind::Tmpfs { size } => {
            let size = size.map(|s| s.to_string());
            let mut options = vec![("mode", Some("1777"))];
            if let Some(size) = &size {
                options.push(("size", Some(size.as_str())));
            }
            let mut attributes =
                MountAttrFlags::MOUNT_ATTR_NOSUID | MountAttrFlags::MOUNT_ATTR_NODEV;
            if extra.readonly {
                attributes |= MountAttrFlags::MOUNT_ATTR_RDONLY;
            }
            mount(sys, "tmpfs", &options, attributes, target)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::recording::{Call, Recording};

    fn mounts(fake: &Recording) -> Vec<(String, String, Vec<String>, MountAttrFlags)> {
        fake.calls()
            .into_iter()
            .filter_map(|call| match call {
                Call::Mount {
                    filesystem,
                    options,
                    attributes,
                    target,
                } => Some((target, filesystem, options, attributes)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn standard_mounts_with_dockers_flags() {
        let fake = Recording::with_image();
        mount_standard(&fake, false).unwrap();
        let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        use MountAttrFlags as A;
        assert_eq!(
            mounts(&fake),
            [
                (
                    "/proc".into(),
                    "proc".into(),
                    vec![],
                    A::MOUNT_ATTR_NOSUID | A::MOUNT_ATTR_NODEV | A::MOUNT_ATTR_NOEXEC
                ),
                (
                    "/dev".into(),
                    "tmpfs".into(),
                    strings(&["mode=755", "size=65536k"]),
                    A::MOUNT_ATTR_NOSUID | A::MOUNT_ATTR_STRICTATIME
                ),
                (
                    "/dev/pts".into(),
                    "devpts".into(),
                    strings(&["newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]),
                    A::MOUNT_ATTR_NOSUID | A::MOUNT_ATTR_NOEXEC
                ),
                (
                    "/dev/shm".into(),
                    "tmpfs".into(),
                    strings(&["mode=1777", "size=65536k"]),
                    A::MOUNT_ATTR_NOSUID | A::MOUNT_ATTR_NODEV | A::MOUNT_ATTR_NOEXEC
                ),
                (
                    "/dev/mqueue".into(),
                    "mqueue".into(),
                    vec![],
                    A::MOUNT_ATTR_NOSUID | A::MOUNT_ATTR_NODEV | A::MOUNT_ATTR_NOEXEC
                ),
                (
                    "/sys".into(),
                    "sysfs".into(),
                    vec![],
                    A::MOUNT_ATTR_NOSUID
                        | A::MOUNT_ATTR_NODEV
                        | A::MOUNT_ATTR_NOEXEC
                        | A::MOUNT_ATTR_RDONLY
                ),
            ]
        );
    }

    #[test]
    fn insecure_adds_buildkits_devices_and_a_writable_sys() {
        let fake = Recording::with_image();
        fake.add_directory("/proc");
        mount_standard(&fake, true).unwrap();
        let calls = fake.calls();
        let devices: Vec<(String, bool, u32, u32)> = calls
            .iter()
            .filter_map(|call| match call {
                Call::MakeDevice {
                    path,
                    block,
                    major,
                    minor,
                    ..
                } => Some((path.clone(), *block, *major, *minor)),
                _ => None,
            })
            .collect();
        assert!(devices.contains(&("/dev/kmsg".into(), false, 1, 11)));
        assert!(devices.contains(&("/dev/net/tun".into(), false, 10, 200)));
        assert!(devices.contains(&("/dev/fuse".into(), false, 10, 229)));
        assert!(devices.contains(&("/dev/loop7".into(), true, 7, 7)));
        let sys = mounts(&fake).into_iter().find(|m| m.0 == "/sys").unwrap();
        assert!(!sys.3.contains(MountAttrFlags::MOUNT_ATTR_RDONLY));
    }

    #[test]
    fn dev_has_the_standard_nodes_links_and_directories() {
        let fake = Recording::with_image();
        fake.add_directory("/proc");
        fake.add_file("/proc/kcore", b"", false);
        mount_standard(&fake, false).unwrap();
        let calls = fake.calls();
        let devices: Vec<(String, u32, u32, u32)> = calls
            .iter()
            .filter_map(|call| match call {
                Call::MakeDevice {
                    path,
                    block: false,
                    mode,
                    major,
                    minor,
                } => Some((path.clone(), *mode, *major, *minor)),
                _ => None,
            })
            .collect();
        assert_eq!(
            devices,
            [
                ("/dev/null".into(), 0o666, 1, 3),
                ("/dev/zero".into(), 0o666, 1, 5),
                ("/dev/full".into(), 0o666, 1, 7),
                ("/dev/random".into(), 0o666, 1, 8),
                ("/dev/urandom".into(), 0o666, 1, 9),
                ("/dev/tty".into(), 0o666, 5, 0),
            ]
        );
        let link = |target: &str, path: &str| Call::MakeSymlink {
            target: target.into(),
            path: path.into(),
        };
        for expected in [
            link("/proc/self/fd", "/dev/fd"),
            link("/proc/self/fd/0", "/dev/stdin"),
            link("/proc/self/fd/2", "/dev/stderr"),
            link("pts/ptmx", "/dev/ptmx"),
            link("/proc/kcore", "/dev/core"),
        ] {
            assert!(calls.contains(&expected), "{expected:?} missing");
        }
        let directories: Vec<(String, u32)> = calls
            .iter()
            .filter_map(|call| match call {
                Call::MakeDirectory { path, mode } => Some((path.clone(), *mode)),
                _ => None,
            })
            .collect();
        assert_eq!(
            directories,
            [
                ("/dev/pts".into(), 0o755),
                ("/dev/shm".into(), 0o1777),
                ("/dev/mqueue".into(), 0o755)
            ]
        );
        // The nodes exist before devpts is mounted on /dev/pts.
        let devpts = fake.position(
            "devpts",
            |c| matches!(c, Call::Mount { filesystem, .. } if filesystem == "devpts"),
        );
        let pts = fake.position(
            "/dev/pts",
            |c| matches!(c, Call::MakeDirectory { path, .. } if path == "/dev/pts"),
        );
        assert!(pts < devpts);
    }

    #[test]
    fn masked_paths_that_exist_are_hidden_and_kernel_paths_read_only() {
        let fake = Recording::new();
        for directory in ["/proc", "/proc/acpi", "/proc/sys", "/sys", "/sys/firmware"] {
            fake.add_directory(directory);
        }
        fake.add_file("/proc/kcore", b"", false);
        fake.add_file("/proc/sysrq-trigger", b"", false);
        protect_kernel_paths(&fake).unwrap();
        let read_only_tmpfs = MountAttrFlags::MOUNT_ATTR_NOSUID
            | MountAttrFlags::MOUNT_ATTR_NODEV
            | MountAttrFlags::MOUNT_ATTR_NOEXEC
            | MountAttrFlags::MOUNT_ATTR_RDONLY;
        let tmpfs = |target: &str| Call::Mount {
            filesystem: "tmpfs".into(),
            options: vec!["size=0".into()],
            attributes: read_only_tmpfs,
            target: target.into(),
        };
        let bind = |source: &str, target: &str| Call::Bind {
            source: BindSource::Inside(source.into()),
            readonly: true,
            target: target.into(),
        };
        assert_eq!(
            fake.calls(),
            [
                tmpfs("/proc/acpi"),
                bind("/dev/null", "/proc/kcore"),
                tmpfs("/sys/firmware"),
                bind("/proc/sys", "/proc/sys"),
                bind("/proc/sysrq-trigger", "/proc/sysrq-trigger"),
            ]
        );
    }

    #[test]
    fn extra_mounts_in_order_with_their_options() {
        let fake = Recording::with_image();
        fake.add_directory("/data");
        fake.add_directory("/cache");
        let mut spec = Spec::new(["true"]);
        spec.mounts = vec![
            Mount {
                destination: "/data".into(),
                kind: MountKind::Bind {
                    source: "/srv/data".into(),
                },
                readonly: true,
            },
            Mount {
                destination: "/cache".into(),
                kind: MountKind::Tmpfs {
                    size: Some(1 << 20),
                },
                readonly: false,
            },
            Mount {
                destination: "/dev/pipes".into(),
                kind: MountKind::Tmpfs { size: None },
                readonly: true,
            },
        ];
        mount_extra(&fake, &spec).unwrap();
        assert_eq!(
            fake.calls(),
            [
                Call::Bind {
                    source: BindSource::Host("/srv/data".into()),
                    readonly: true,
                    target: "/data".into()
                },
                Call::Mount {
                    filesystem: "tmpfs".into(),
                    options: vec!["mode=1777".into(), "size=1048576".into()],
                    attributes: MountAttrFlags::MOUNT_ATTR_NOSUID
                        | MountAttrFlags::MOUNT_ATTR_NODEV,
                    target: "/cache".into()
                },
                Call::MakeDirectory {
                    path: "/dev/pipes".into(),
                    mode: 0o755
                },
                Call::Mount {
                    filesystem: "tmpfs".into(),
                    options: vec!["mode=1777".into()],
                    attributes: MountAttrFlags::MOUNT_ATTR_NOSUID
                        | MountAttrFlags::MOUNT_ATTR_NODEV
                        | MountAttrFlags::MOUNT_ATTR_RDONLY,
                    target: "/dev/pipes".into()
                },
            ]
        );
    }
}
