//! A recording fake of [`Syscalls`] for unit tests: a small in-memory tree
//! for the paths the steps look at and create, and the list of calls made.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use rustix::io::Errno;
use rustix::mount::MountAttrFlags;
use rustix::process::{Resource, Rlimit};

use super::syscalls::{BindSource, FileKind, Syscalls};
use crate::capabilities::Capabilities;

/// One call, with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    MakeDirectory {
        path: String,
        mode: u32,
    },
    MakeFile {
        path: String,
        mode: u32,
        contents: String,
    },
    MakeDevice {
        path: String,
        block: bool,
        mode: u32,
        major: u32,
        minor: u32,
    },
    MakeSymlink {
        target: String,
        path: String,
    },
    ChangeOwner {
        path: String,
        uid: u32,
        gid: u32,
    },
    RemoveFile(String),
    Mount {
        filesystem: String,
        /// `key=value` or `key`.
        options: Vec<String>,
        attributes: MountAttrFlags,
        target: String,
    },
    Bind {
        source: BindSource,
        readonly: bool,
        target: String,
    },
    MakeRootReadonly,
    PivotRoot,
    SetHostname(String),
    LoopbackUp,
    NewSession,
    Terminal {
        rows: u16,
        columns: u16,
        console: bool,
    },
    SetRlimit {
        resource: Resource,
        limit: Rlimit,
    },
    SetUmask(u32),
    ChangeDirectory(String),
    DropFromBoundingSet(u32),
    ClearAmbientCapabilities,
    SetCapabilities {
        effective: Capabilities,
        permitted: Capabilities,
    },
    SetGroups(Vec<u32>),
    SetIds {
        uid: u32,
        gid: u32,
    },
    OwnStdio(u32),
    SetNoNewPrivileges,
    SetDumpable(bool),
    SetParentDeathSignal,
    Execute {
        program: String,
        args: Vec<String>,
        environment: Vec<String>,
    },
}

/// A node of the fake tree.
#[derive(Debug, Clone)]
enum Node {
    Directory,
    File { contents: Vec<u8>, executable: bool },
    Device,
}

/// The fake: the calls, the tree, and the answers it gives.
pub(crate) struct Recording {
    calls: RefCell<Vec<Call>>,
    tree: RefCell<BTreeMap<PathBuf, Node>>,
    /// Every hard limit (`None`: unlimited, as for root with CAP_SYS_RESOURCE).
    pub(crate) hard_limit: Option<u64>,
    /// What `execute` fails with.
    pub(crate) exec_error: Errno,
    /// The last capability number the "kernel" knows.
    pub(crate) last_capability: u32,
}

impl Recording {
    /// An empty root (`/` only).
    pub(crate) fn new() -> Self {
        let mut tree = BTreeMap::new();
        tree.insert(PathBuf::from("/"), Node::Directory);
        Self {
            calls: RefCell::new(Vec::new()),
            tree: RefCell::new(tree),
            hard_limit: None,
            exec_error: Errno::NOENT,
            last_capability: 40,
        }
    }

    /// A root with the directories an image usually has and a busybox-like
    /// `/bin/sh`, `/etc/passwd` and `/etc/group`.
    pub(crate) fn with_image() -> Self {
        let fake = Self::new();
        for directory in ["/bin", "/etc", "/proc", "/sys", "/dev", "/tmp", "/home"] {
            fake.add_directory(directory);
        }
        fake.add_file("/bin/sh", b"", true);
        fake.add_file(
            "/etc/passwd",
            b"root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/home/tester:/bin/sh\n",
            false,
        );
        fake.add_file(
            "/etc/group",
            b"root:x:0:\nstaff:x:50:tester\ntester:x:1000:\n",
            false,
        );
        fake
    }

    /// Adds a directory to the tree (no call recorded).
    pub(crate) fn add_directory(&self, path: &str) {
        self.tree
            .borrow_mut()
            .insert(PathBuf::from(path), Node::Directory);
    }

    /// Adds a file to the tree (no call recorded).
    pub(crate) fn add_file(&self, path: &str, contents: &[u8], executable: bool) {
        self.tree.borrow_mut().insert(
            PathBuf::from(path),
            Node::File {
                contents: contents.to_vec(),
                executable,
            },
        );
    }

    /// The calls so far.
    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.borrow().clone()
    }

    /// The position of the first call `matches` accepts (panics when none does).
    pub(crate) fn position(&self, what: &str, matches: impl Fn(&Call) -> bool) -> usize {
        self.calls
            .borrow()
            .iter()
            .position(matches)
            .unwrap_or_else(|| panic!("no {what} in {:#?}", self.calls.borrow()))
    }

    fn record(&self, call: Call) {
        self.calls.borrow_mut().push(call);
    }

    /// Adds `node` at `path` when its parent is a directory and it is new.
    fn create(&self, path: &Path, node: Node) -> Result<(), Errno> {
        let mut tree = self.tree.borrow_mut();
        let parent = path.parent().ok_or(Errno::EXIST)?;
        match tree.get(parent) {
            Some(Node::Directory) => {}
            Some(_) => return Err(Errno::NOTDIR),
            None => return Err(Errno::NOENT),
        }
        if tree.contains_key(path) {
            return Err(Errno::EXIST);
        }
        tree.insert(path.to_path_buf(), node);
        Ok(())
    }
}

fn text(path: &Path) -> String {
    path.display().to_string()
}

impl Syscalls for Recording {
    fn stat(&self, path: &Path) -> Result<FileKind, Errno> {
        match self.tree.borrow().get(path) {
            Some(Node::Directory) => Ok(FileKind::Directory),
            Some(Node::File { executable, .. }) => Ok(FileKind::File {
                executable: *executable,
            }),
            Some(Node::Device) => Ok(FileKind::Other),
            None => Err(Errno::NOENT),
        }
    }

    fn read_file(&self, path: &Path) -> Result<Vec<u8>, Errno> {
        match self.tree.borrow().get(path) {
            Some(Node::File { contents, .. }) => Ok(contents.clone()),
            Some(_) => Err(Errno::ISDIR),
            None => Err(Errno::NOENT),
        }
    }

    fn make_directory(&self, path: &Path, mode: u32) -> Result<(), Errno> {
        self.record(Call::MakeDirectory {
            path: text(path),
            mode,
        });
        self.create(path, Node::Directory)
    }

    fn make_file(&self, path: &Path, mode: u32, contents: &[u8]) -> Result<(), Errno> {
        self.record(Call::MakeFile {
            path: text(path),
            mode,
            contents: String::from_utf8_lossy(contents).into_owned(),
        });
        let node = Node::File {
            contents: contents.to_vec(),
            executable: mode & 0o111 != 0,
        };
        self.create(path, node)
    }

    fn make_device(
        &self,
        path: &Path,
        block: bool,
        mode: u32,
        major: u32,
        minor: u32,
    ) -> Result<(), Errno> {
        self.record(Call::MakeDevice {
            path: text(path),
            block,
            mode,
            major,
            minor,
        });
        self.create(path, Node::Device)
    }

    fn make_symlink(&self, target: &str, path: &Path) -> Result<(), Errno> {
        self.record(Call::MakeSymlink {
            target: target.to_owned(),
            path: text(path),
        });
        self.create(path, Node::Device)
    }

    fn change_owner(&self, path: &Path, uid: u32, gid: u32) -> Result<(), Errno> {
        self.record(Call::ChangeOwner {
            path: text(path),
            uid,
            gid,
        });
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> Result<(), Errno> {
        self.record(Call::RemoveFile(text(path)));
        self.tree
            .borrow_mut()
            .remove(path)
            .map(drop)
            .ok_or(Errno::NOENT)
    }

    fn mount(
        &self,
        filesystem: &str,
        options: &[(&str, Option<&str>)],
        attributes: MountAttrFlags,
        target: &Path,
    ) -> Result<(), Errno> {
        self.record(Call::Mount {
            filesystem: filesystem.to_owned(),
            options: options
                .iter()
                .map(|(key, value)| match value {
                    Some(value) => format!("{key}={value}"),
                    None => (*key).to_owned(),
                })
                .collect(),
            attributes,
            target: text(target),
        });
        self.stat(target).map(drop)
    }

    fn bind(&self, source: &BindSource, readonly: bool, target: &Path) -> Result<(), Errno> {
        self.record(Call::Bind {
            source: source.clone(),
            readonly,
            target: text(target),
        });
        self.stat(target).map(drop)
    }

    fn make_root_readonly(&self) -> Result<(), Errno> {
        self.record(Call::MakeRootReadonly);
        Ok(())
    }

    fn pivot_root(&self) -> Result<(), Errno> {
        self.record(Call::PivotRoot);
        Ok(())
    }

    fn set_hostname(&self, name: &str) -> Result<(), Errno> {
        self.record(Call::SetHostname(name.to_owned()));
        Ok(())
    }

    fn loopback_up(&self) -> Result<(), Errno> {
        self.record(Call::LoopbackUp);
        Ok(())
    }

    fn new_session(&self) -> Result<(), Errno> {
        self.record(Call::NewSession);
        Ok(())
    }

    fn terminal(&self, rows: u16, columns: u16, console: bool) -> Result<OwnedFd, Errno> {
        self.record(Call::Terminal {
            rows,
            columns,
            console,
        });
        rustix::fs::open(
            "/dev/null",
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
    }

    fn set_rlimit(&self, resource: Resource, limit: Rlimit) -> Result<(), Errno> {
        self.record(Call::SetRlimit { resource, limit });
        match (self.hard_limit, limit.maximum) {
            (None, _) => Ok(()),
            (Some(hard), Some(limit)) if limit <= hard => Ok(()),
            _ => Err(Errno::PERM),
        }
    }

    fn hard_rlimit(&self, _: Resource) -> Option<u64> {
        self.hard_limit
    }

    fn set_umask(&self, mode: u32) {
        self.record(Call::SetUmask(mode));
    }

    fn change_directory(&self, path: &Path) -> Result<(), Errno> {
        self.record(Call::ChangeDirectory(text(path)));
        self.stat(path).map(drop)
    }

    fn drop_from_bounding_set(&self, number: u32) -> Result<(), Errno> {
        if number > self.last_capability {
            return Err(Errno::INVAL);
        }
        self.record(Call::DropFromBoundingSet(number));
        Ok(())
    }

    fn clear_ambient_capabilities(&self) -> Result<(), Errno> {
        self.record(Call::ClearAmbientCapabilities);
        Ok(())
    }

    fn current_capabilities(&self) -> Capabilities {
        Capabilities::all()
    }

    fn set_capabilities(
        &self,
        effective: Capabilities,
        permitted: Capabilities,
    ) -> Result<(), Errno> {
        self.record(Call::SetCapabilities {
            effective,
            permitted,
        });
        Ok(())
    }

    fn set_groups(&self, gids: &[u32]) -> Result<(), Errno> {
        self.record(Call::SetGroups(gids.to_vec()));
        Ok(())
    }

    fn set_ids(&self, uid: u32, gid: u32) -> Result<(), Errno> {
        self.record(Call::SetIds { uid, gid });
        Ok(())
    }

    fn own_stdio(&self, uid: u32) -> Result<(), Errno> {
        self.record(Call::OwnStdio(uid));
        Ok(())
    }

    fn set_no_new_privileges(&self) -> Result<(), Errno> {
        self.record(Call::SetNoNewPrivileges);
        Ok(())
    }

    fn set_dumpable(&self, dumpable: bool) -> Result<(), Errno> {
        self.record(Call::SetDumpable(dumpable));
        Ok(())
    }

    fn set_parent_death_signal(&self) -> Result<(), Errno> {
        self.record(Call::SetParentDeathSignal);
        Ok(())
    }

    fn execute(&self, program: &Path, args: &[String], environment: &[String]) -> Errno {
        self.record(Call::Execute {
            program: text(program),
            args: args.to_vec(),
            environment: environment.to_vec(),
        });
        self.exec_error
    }
}
