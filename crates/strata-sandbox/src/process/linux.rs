//! The real [`Syscalls`]: the kernel, with every path resolved inside the
//! sandbox's root through `openat2(RESOLVE_IN_ROOT)`.

use std::ffi::{CString, OsStr};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;
use rustix::mount::{
    FsMountFlags, FsOpenFlags, MountAttrFlags, MoveMountFlags, OpenTreeFlags, UnmountFlags,
};
use rustix::process::{Resource, Rlimit, Signal};
use rustix::thread::{CapabilitySet, CapabilitySets};

use super::last_errno;
use super::syscalls::{BindSource, FileKind, Syscalls};
use crate::capabilities::Capabilities;

/// The kernel, for a sandbox whose root is `root` (an `O_PATH` descriptor of
/// the root mount's top directory, which stays `/` after pivot_root).
pub(crate) struct Linux {
    root: OwnedFd,
}

impl Linux {
    /// The kernel for the sandbox rooted at `root`.
    pub(crate) fn new(root: OwnedFd) -> Self {
        Self { root }
    }

    /// Opens `path` inside the root.
    pub(crate) fn open(&self, path: &Path, flags: OFlags) -> Result<OwnedFd, Errno> {
        let relative = path.strip_prefix("/").unwrap_or(path);
        let relative = if relative.as_os_str().is_empty() {
            Path::new(".")
        } else {
            relative
        };
        rustix::fs::openat2(
            &self.root,
            relative,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        )
    }

    /// The directory holding `path`, and its last component.
    fn parent<'a>(&self, path: &'a Path) -> Result<(OwnedFd, &'a OsStr), Errno> {
        let name = path.file_name().ok_or(Errno::INVAL)?;
        let parent = path.parent().unwrap_or(Path::new("/"));
        let directory = self.open(parent, OFlags::RDONLY | OFlags::DIRECTORY)?;
        Ok((directory, name))
    }

    /// Attaches the detached `mount` on `target`.
    fn attach(&self, mount: &OwnedFd, target: &Path) -> Result<(), Errno> {
        let target = self.open(target, OFlags::PATH)?;
        rustix::mount::move_mount(
            mount,
            "",
            &target,
            "",
            MoveMountFlags::MOVE_MOUNT_F_EMPTY_PATH | MoveMountFlags::MOVE_MOUNT_T_EMPTY_PATH,
        )
    }
}

/// `mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], {attr_set})`, which rustix lacks.
pub(crate) fn set_mount_attributes(
    mount: &OwnedFd,
    set: MountAttrFlags,
    recursive: bool,
) -> Result<(), Errno> {
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    let attributes = MountAttr {
        attr_set: u64::from(set.bits()),
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let mut flags = libc::AT_EMPTY_PATH as libc::c_uint;
    if recursive {
        flags |= libc::AT_RECURSIVE as libc::c_uint;
    }
    // SAFETY: the pointers refer to a NUL-terminated empty string and to a
    // live, correctly laid out `struct mount_attr` whose size is passed.
    let result = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            mount.as_raw_fd(),
            c"".as_ptr(),
            flags,
            &attributes as *const MountAttr,
            size_of::<MountAttr>(),
        )
    };
    if result < 0 {
        return Err(last_errno());
    }
    Ok(())
}

impl Syscalls for Linux {
    fn stat(&self, path: &Path) -> Result<FileKind, Errno> {
        let stat = rustix::fs::fstat(self.open(path, OFlags::PATH)?)?;
        Ok(match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => FileKind::Directory,
            FileType::RegularFile => FileKind::File {
                executable: stat.st_mode & 0o111 != 0,
            },
            _ => FileKind::Other,
        })
    }

    fn read_file(&self, path: &Path) -> Result<Vec<u8>, Errno> {
        let mut contents = Vec::new();
        std::fs::File::from(self.open(path, OFlags::RDONLY)?)
            .read_to_end(&mut contents)
            .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))?;
        Ok(contents)
    }

    fn make_directory(&self, path: &Path, mode: u32) -> Result<(), Errno> {
        let (parent, name) = self.parent(path)?;
        rustix::fs::mkdirat(&parent, name, Mode::from_raw_mode(mode))?;
        rustix::fs::chmodat(&parent, name, Mode::from_raw_mode(mode), AtFlags::empty())
    }

    fn make_file(&self, path: &Path, mode: u32, contents: &[u8]) -> Result<(), Errno> {
        let (parent, name) = self.parent(path)?;
        let file = rustix::fs::openat(
            &parent,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode),
        )?;
        rustix::fs::fchmod(&file, Mode::from_raw_mode(mode))?;
        std::fs::File::from(file)
            .write_all(contents)
            .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))
    }

    fn make_device(
        &self,
        path: &Path,
        block: bool,
        mode: u32,
        major: u32,
        minor: u32,
    ) -> Result<(), Errno> {
        let (parent, name) = self.parent(path)?;
        let mode = Mode::from_raw_mode(mode);
        let device = rustix::fs::makedev(major, minor);
        let file_type = if block {
            FileType::BlockDevice
        } else {
            FileType::CharacterDevice
        };
        rustix::fs::mknodat(&parent, name, file_type, mode, device)?;
        rustix::fs::chmodat(&parent, name, mode, AtFlags::empty())
    }

    fn make_symlink(&self, target: &str, path: &Path) -> Result<(), Errno> {
        let (parent, name) = self.parent(path)?;
        rustix::fs::symlinkat(target, &parent, name)
    }

    fn change_owner(&self, path: &Path, uid: u32, gid: u32) -> Result<(), Errno> {
        let (parent, name) = self.parent(path)?;
        rustix::fs::chownat(
            &parent,
            name,
            Some(rustix::fs::Uid::from_raw(uid)),
            Some(rustix::fs::Gid::from_raw(gid)),
            AtFlags::SYMLINK_NOFOLLOW,
        )
    }

    fn remove_file(&self, path: &Path) -> Result<(), Errno> {
        let (parent, name) = self.parent(path)?;
        rustix::fs::unlinkat(&parent, name, AtFlags::empty())
    }

    fn mount(
        &self,
        filesystem: &str,
        options: &[(&str, Option<&str>)],
        attributes: MountAttrFlags,
        target: &Path,
    ) -> Result<(), Errno> {
        let context = rustix::mount::fsopen(filesystem, FsOpenFlags::FSOPEN_CLOEXEC)?;
        for (key, value) in options {
            match value {
                Some(value) => rustix::mount::fsconfig_set_string(&context, *key, *value)?,
                None => rustix::mount::fsconfig_set_flag(&context, *key)?,
            }
        }
        rustix::mount::fsconfig_create(&context)?;
        let mount = rustix::mount::fsmount(&context, FsMountFlags::FSMOUNT_CLOEXEC, attributes)?;
        self.attach(&mount, target)
    }

    fn bind(&self, source: &BindSource, readonly: bool, target: &Path) -> Result<(), Errno> {
        let source = match source {
            BindSource::Inside(path) => self.open(path, OFlags::PATH)?,
            BindSource::Host(path) => {
                rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?
            }
        };
        let tree = rustix::mount::open_tree(
            &source,
            "",
            OpenTreeFlags::OPEN_TREE_CLONE
                | OpenTreeFlags::OPEN_TREE_CLOEXEC
                | OpenTreeFlags::AT_EMPTY_PATH
                | OpenTreeFlags::AT_RECURSIVE,
        )?;
        if readonly {
            set_mount_attributes(&tree, MountAttrFlags::MOUNT_ATTR_RDONLY, true)?;
        }
        self.attach(&tree, target)
    }

    fn make_root_readonly(&self) -> Result<(), Errno> {
        set_mount_attributes(&self.root, MountAttrFlags::MOUNT_ATTR_RDONLY, false)
    }

    fn pivot_root(&self) -> Result<(), Errno> {
        rustix::process::fchdir(&self.root)?;
        rustix::process::pivot_root(".", ".")?;
        rustix::mount::unmount(".", UnmountFlags::DETACH)?;
        rustix::process::chdir("/")
    }

    fn set_hostname(&self, name: &str) -> Result<(), Errno> {
        rustix::system::sethostname(name.as_bytes())
    }

    fn loopback_up(&self) -> Result<(), Errno> {
        bring_loopback_up()
    }

    fn new_session(&self) -> Result<(), Errno> {
        rustix::process::setsid().map(drop)
    }

    fn terminal(&self, rows: u16, columns: u16, console: bool) -> Result<OwnedFd, Errno> {
        use rustix::pty::OpenptFlags;
        // The devpts instance of this sandbox, not whatever /dev/ptmx names.
        let master = self.open(
            Path::new("/dev/pts/ptmx"),
            OFlags::RDWR | OFlags::NOCTTY | OFlags::NOFOLLOW,
        )?;
        rustix::pty::unlockpt(&master)?;
        let size = rustix::termios::Winsize {
            ws_row: rows,
            ws_col: columns,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        rustix::termios::tcsetwinsize(&master, size)?;
        let peer = rustix::pty::ioctl_tiocgptpeer(
            &master,
            OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC,
        )?;
        if console {
            let path = Path::new("/dev/console");
            match self.make_file(path, 0o666, b"") {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(e),
            }
            let tree = rustix::mount::open_tree(
                &peer,
                "",
                OpenTreeFlags::OPEN_TREE_CLONE
                    | OpenTreeFlags::OPEN_TREE_CLOEXEC
                    | OpenTreeFlags::AT_EMPTY_PATH,
            )?;
            self.attach(&tree, path)?;
        }
        rustix::process::ioctl_tiocsctty(&peer)?;
        for target in 0..=2 {
            // SAFETY: 0, 1 and 2 are this process's standard streams, which it
            // replaces; the OwnedFd is forgotten so it never closes them.
            let mut stdio = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(target) };
            let result = rustix::io::dup2(peer.as_fd(), &mut stdio);
            std::mem::forget(stdio);
            result?;
        }
        Ok(master)
    }

    fn set_rlimit(&self, resource: Resource, limit: Rlimit) -> Result<(), Errno> {
        rustix::process::setrlimit(resource, limit)
    }

    fn hard_rlimit(&self, resource: Resource) -> Option<u64> {
        rustix::process::getrlimit(resource).maximum
    }

    fn set_umask(&self, mode: u32) {
        rustix::process::umask(Mode::from_raw_mode(mode));
    }

    fn change_directory(&self, path: &Path) -> Result<(), Errno> {
        rustix::process::chdir(path)
    }

    fn drop_from_bounding_set(&self, number: u32) -> Result<(), Errno> {
        // SAFETY: PR_CAPBSET_DROP takes a capability number and no pointers.
        let result =
            unsafe { libc::prctl(libc::PR_CAPBSET_DROP, number as libc::c_ulong, 0, 0, 0) };
        if result < 0 {
            return Err(last_errno());
        }
        Ok(())
    }

    fn clear_ambient_capabilities(&self) -> Result<(), Errno> {
        rustix::thread::clear_ambient_capability_set()
    }

    fn current_capabilities(&self) -> Capabilities {
        rustix::thread::capabilities(None)
            .map(|sets| Capabilities::from_bits(sets.permitted.bits()))
            .unwrap_or_else(|_| Capabilities::empty())
    }

    fn set_capabilities(
        &self,
        effective: Capabilities,
        permitted: Capabilities,
    ) -> Result<(), Errno> {
        rustix::thread::set_capabilities(
            None,
            CapabilitySets {
                effective: CapabilitySet::from_bits_retain(effective.bits()),
                permitted: CapabilitySet::from_bits_retain(permitted.bits()),
                inheritable: CapabilitySet::empty(),
            },
        )
    }

    fn set_groups(&self, gids: &[u32]) -> Result<(), Errno> {
        let groups: Vec<rustix::fs::Gid> =
            gids.iter().map(|g| rustix::fs::Gid::from_raw(*g)).collect();
        rustix::thread::set_thread_groups(&groups)
    }

    fn set_ids(&self, uid: u32, gid: u32) -> Result<(), Errno> {
        let gid = rustix::fs::Gid::from_raw(gid);
        rustix::thread::set_thread_res_gid(gid, gid, gid)?;
        let uid = rustix::fs::Uid::from_raw(uid);
        rustix::thread::set_thread_res_uid(uid, uid, uid)
    }

    fn own_stdio(&self, uid: u32) -> Result<(), Errno> {
        for fd in 0..=2 {
            // SAFETY: a standard stream, borrowed only for these calls.
            let stdio = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            let Ok(stat) = rustix::fs::fstat(stdio) else {
                continue;
            };
            let is_null = FileType::from_raw_mode(stat.st_mode) == FileType::CharacterDevice
                && stat.st_rdev == rustix::fs::makedev(1, 3);
            if stat.st_uid == uid || is_null {
                continue;
            }
            // As runc: the uid only; a stream we may not change stays as it is.
            match rustix::fs::fchown(stdio, Some(rustix::fs::Uid::from_raw(uid)), None) {
                Ok(()) | Err(Errno::INVAL | Errno::PERM | Errno::ROFS) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    fn set_no_new_privileges(&self) -> Result<(), Errno> {
        rustix::thread::set_no_new_privs(true)
    }

    fn set_dumpable(&self, dumpable: bool) -> Result<(), Errno> {
        rustix::process::set_dumpable_behavior(if dumpable {
            rustix::process::DumpableBehavior::Dumpable
        } else {
            rustix::process::DumpableBehavior::NotDumpable
        })
    }

    fn set_parent_death_signal(&self) -> Result<(), Errno> {
        rustix::process::set_parent_process_death_signal(Some(Signal::KILL))
    }

    fn execute(&self, program: &Path, args: &[String], environment: &[String]) -> Errno {
        let to_c = |text: &[u8]| CString::new(text).map_err(|_| Errno::INVAL);
        let Ok(program_c) = to_c(program.as_os_str().as_bytes()) else {
            return Errno::INVAL;
        };
        let Ok(args_c) = args
            .iter()
            .map(|a| to_c(a.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
        else {
            return Errno::INVAL;
        };
        let Ok(environment_c) = environment
            .iter()
            .map(|e| to_c(e.as_bytes()))
            .collect::<Result<Vec<_>, _>>()
        else {
            return Errno::INVAL;
        };
        let mut argv: Vec<*const libc::c_char> = args_c.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let mut envp: Vec<*const libc::c_char> = environment_c.iter().map(|e| e.as_ptr()).collect();
        envp.push(std::ptr::null());
        // Nothing of ours reaches the process: every descriptor past stderr closes on exec.
        // SAFETY: close_range with CLOSE_RANGE_CLOEXEC only sets flags.
        unsafe {
            libc::syscall(
                libc::SYS_close_range,
                3u32,
                u32::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            )
        };
        // SAFETY: all three arrays are NUL-terminated and point into CStrings
        // that live until execve returns (it returns only on failure).
        unsafe { libc::execve(program_c.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        last_errno()
    }
}

/// `ifconfig lo up` in the current network namespace.
pub(crate) fn bring_loopback_up() -> Result<(), Errno> {
    let socket = rustix::net::socket(
        rustix::net::AddressFamily::INET,
        rustix::net::SocketType::DGRAM,
        None,
    )?;
    // SAFETY: `ifreq` is plain data; the name is NUL-terminated within its
    // 16 bytes; the ioctls read and write only that struct.
    unsafe {
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) < 0 {
            return Err(last_errno());
        }
        request.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        if libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request) < 0 {
            return Err(last_errno());
        }
    }
    Ok(())
}
