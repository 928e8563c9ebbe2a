//! `-m/--memory`, `--memory-swap`, `--cpus` and `--pids-limit` through the
//! host's cgroups, v1 or v2 or both (a hybrid host: each controller from the
//! hierarchy that has it, v1 first). Like Docker's cgroupfs driver, a
//! container's group is `strata/<id>` at the root of each hierarchy that takes
//! one of its limits, so any process can find it by the container's id.
//!
//! [`Limits::verify`] is the daemon's check (`verifyPlatformContainerResources`):
//! its errors and the warnings it prints when a controller is missing.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::units::check_cpus;

/// The directory under each hierarchy's root holding the containers' groups.
pub const CGROUP_DIRECTORY: &str = "strata";

/// Docker's smallest memory limit (6 MiB).
pub const MINIMUM_MEMORY: u64 = 6 * 1024 * 1024;

/// The CFS period Docker uses for `--cpus` (100 ms).
const CPU_PERIOD_MICROSECONDS: u64 = 100_000;

/// A container's resource limits; `None` (or a pids limit of 0 or less) is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Memory in bytes (`-m`).
    pub memory: Option<u64>,
    /// Memory plus swap in bytes (`--memory-swap`): `None` is Docker's
    /// default of twice the memory, `Some(-1)` unlimited swap.
    pub memory_swap: Option<i64>,
    /// Billionths of a CPU (`--cpus`, as [`crate::parse_cpus`] reads it).
    pub nano_cpus: Option<i64>,
    /// Processes at most (`--pids-limit`); 0 or less is unlimited.
    pub pids: Option<i64>,
}

impl Limits {
    /// Whether any limit is set.
    pub fn any(&self) -> bool {
        self.memory.is_some_and(|memory| memory > 0)
            || self.nano_cpus.is_some_and(|cpus| cpus != 0)
            || self.pids.is_some_and(|pids| pids > 0)
    }

    /// The daemon's checks against this host: Docker's errors, and for a
    /// controller the host lacks Docker's warning (to print as `WARNING: …`)
    /// with that limit dropped from the returned limits.
    pub fn verify(&self, host: &Hierarchies) -> Result<(Limits, Vec<String>)> {
        let mut limits = *self;
        let mut warnings = Vec::new();
        if let Some(memory) = limits.memory.filter(|memory| *memory > 0) {
            if memory < MINIMUM_MEMORY {
                return Err(Error::MemoryTooSmall { bytes: memory });
            }
            if host.memory.is_none() {
                warnings.push(
                    "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded."
                        .to_owned(),
                );
                limits.memory = None;
                limits.memory_swap = Some(-1);
            } else if limits.memory_swap != Some(-1) && !host.swap_limit {
                warnings.push(
                    "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap."
                        .to_owned(),
                );
                limits.memory_swap = Some(-1);
            }
        }
        let memory = limits.memory.unwrap_or(0);
        match limits.memory_swap {
            Some(swap) if memory > 0 && swap > 0 && (swap as u64) < memory => {
                return Err(Error::MemorySwapTooSmall);
            }
            Some(swap) if memory == 0 && swap > 0 => return Err(Error::MemorySwapWithoutMemory),
            _ => {}
        }
        if limits.pids.is_some() && host.pids.is_none() {
            if limits.pids.is_some_and(|pids| pids > 0) {
                warnings.push(
                    "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded."
                        .to_owned(),
                );
            }
            limits.pids = None;
        }
        if let Some(nano_cpus) = limits.nano_cpus {
            if nano_cpus > 0 && host.cpu.is_none() {
                return Err(Error::NoCpuCfs);
            }
            check_cpus(nano_cpus)?;
        }
        Ok((limits, warnings))
    }

    /// The memory plus swap limit to write: Docker's twice the memory unless
    /// `--memory-swap` says otherwise; `None` for no swap limit.
    fn swap_total(&self) -> Option<u64> {
        let memory = self.memory.filter(|memory| *memory > 0)?;
        match self.memory_swap {
            None | Some(0) => Some(memory.saturating_mul(2)),
            Some(swap) if swap > 0 => Some(swap as u64),
            Some(_) => None,
        }
    }
}

/// The version of a cgroup hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CgroupVersion {
    /// A v1 hierarchy with its own controllers.
    V1,
    /// The unified (v2) hierarchy.
    V2,
}

/// Where a controller lives on this host: its hierarchy's mount point.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hierarchy {
    /// v1 or v2.
    pub version: CgroupVersion,
    /// Its mount point (`/sys/fs/cgroup/memory`, `/sys/fs/cgroup`).
    pub mount: PathBuf,
}

/// The hierarchies of this host that can take each limit (v1 first).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hierarchies {
    /// The memory controller's.
    pub memory: Option<Hierarchy>,
    /// Whether memory+swap can be limited (`memory.memsw.limit_in_bytes`, `memory.swap.max`).
    pub swap_limit: bool,
    /// The cpu controller's, when it has CFS quotas.
    pub cpu: Option<Hierarchy>,
    /// The pids controller's.
    pub pids: Option<Hierarchy>,
    /// Every mount, v1 and v2, for finding a container's groups.
    pub mounts: Vec<Hierarchy>,
}

impl Hierarchies {
    /// Reads this host's cgroup mounts from `/proc/self/mountinfo`.
    pub fn detect() -> Result<Self> {
        let mountinfo = strata_fs::read_to_string("/proc/self/mountinfo")?;
        let mut found = Self::default();
        let mut unified = None;
        for line in mountinfo.lines() {
            let Some((mount, filesystem, options)) = parse_mount(line) else {
                continue;
            };
            match filesystem {
                "cgroup2" => {
                    unified.get_or_insert_with(|| mount.clone());
                    found.mounts.push(Hierarchy {
                        version: CgroupVersion::V2,
                        mount,
                    });
                }
                "cgroup" => {
                    let hierarchy = Hierarchy {
                        version: CgroupVersion::V1,
                        mount,
                    };
                    let has = |name: &str| options.split(',').any(|option| option == name);
                    if has("memory") && found.memory.is_none() {
                        found.swap_limit =
                            hierarchy.mount.join("memory.memsw.limit_in_bytes").exists();
                        found.memory = Some(hierarchy.clone());
                    }
                    if has("cpu")
                        && found.cpu.is_none()
                        && hierarchy.mount.join("cpu.cfs_quota_us").exists()
                    {
                        found.cpu = Some(hierarchy.clone());
                    }
                    if has("pids") && found.pids.is_none() {
                        found.pids = Some(hierarchy.clone());
                    }
                    found.mounts.push(hierarchy);
                }
                _ => {}
            }
        }
        if let Some(mount) = unified {
            found.add_unified(mount);
        }
        Ok(found)
    }

    /// Takes from the unified hierarchy the controllers no v1 hierarchy has.
    fn add_unified(&mut self, mount: PathBuf) {
        let controllers =
            std::fs::read_to_string(mount.join("cgroup.controllers")).unwrap_or_default();
        let has = |name: &str| {
            controllers
                .split_whitespace()
                .any(|controller| controller == name)
        };
        let hierarchy = Hierarchy {
            version: CgroupVersion::V2,
            mount,
        };
        if self.memory.is_none() && has("memory") {
            // memory.swap.max exists in children only; swap accounting is on
            // unless the kernel was booted without it.
            self.swap_limit = !kernel_command_line().contains("swapaccount=0");
            self.memory = Some(hierarchy.clone());
        }
        if self.cpu.is_none() && has("cpu") {
            self.cpu = Some(hierarchy.clone());
        }
        if self.pids.is_none() && has("pids") {
            self.pids = Some(hierarchy);
        }
    }
}

fn kernel_command_line() -> String {
    std::fs::read_to_string("/proc/cmdline").unwrap_or_default()
}

/// A mountinfo line's mount point, file system type and super options.
fn parse_mount(line: &str) -> Option<(PathBuf, &str, &str)> {
    let (before, after) = line.split_once(" - ")?;
    let mount = before.split(' ').nth(4)?;
    let mut fields = after.split(' ');
    let filesystem = fields.next()?;
    let options = fields.nth(1)?;
    // mountinfo escapes spaces and the like as octal.
    let mount = mount.replace("\\040", " ");
    Some((PathBuf::from(mount), filesystem, options))
}

/// One group of a container: in which hierarchy, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// v1 or v2.
    pub version: CgroupVersion,
    /// The group's directory (`/sys/fs/cgroup/memory/strata/<id>`).
    pub path: PathBuf,
}

/// A container's cgroups: one group per hierarchy that takes one of its limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cgroups {
    /// The groups, in hierarchy order.
    pub groups: Vec<Group>,
    /// The group whose memory events tell an OOM kill, if memory is limited.
    pub memory: Option<Group>,
}

impl Cgroups {
    /// Creates `strata/<id>` in each hierarchy needed for `limits` (checked
    /// with [`Limits::verify`] first) and writes them; nothing when no limit
    /// is set. A limit no hierarchy can take is an error.
    pub fn create(id: &str, limits: &Limits) -> Result<Self> {
        if !limits.any() {
            return Ok(Self::default());
        }
        let host = Hierarchies::detect()?;
        let mut cgroups = Self::default();
        let created = cgroups.apply(id, limits, &host);
        if created.is_err() {
            let _ = cgroups.remove_groups(Duration::ZERO);
        }
        created.map(|()| cgroups)
    }

    fn apply(&mut self, id: &str, limits: &Limits, host: &Hierarchies) -> Result<()> {
        if let Some(memory) = limits.memory.filter(|memory| *memory > 0) {
            let hierarchy = host.memory.as_ref().ok_or(Error::NoCgroupController {
                controller: "memory",
            })?;
            let group = self.group(id, hierarchy, "memory")?;
            write_memory(&group, memory, limits.swap_total(), host.swap_limit)?;
            self.memory = Some(group);
        }
        if let Some(nano_cpus) = limits.nano_cpus.filter(|cpus| *cpus > 0) {
            let hierarchy = host
                .cpu
                .as_ref()
                .ok_or(Error::NoCgroupController { controller: "cpu" })?;
            let group = self.group(id, hierarchy, "cpu")?;
            let quota = (nano_cpus as u64).saturating_mul(CPU_PERIOD_MICROSECONDS) / 1_000_000_000;
            match group.version {
                CgroupVersion::V1 => {
                    write(
                        &group.path.join("cpu.cfs_period_us"),
                        &CPU_PERIOD_MICROSECONDS.to_string(),
                    )?;
                    write(&group.path.join("cpu.cfs_quota_us"), &quota.to_string())?;
                }
                CgroupVersion::V2 => write(
                    &group.path.join("cpu.max"),
                    &format!("{quota} {CPU_PERIOD_MICROSECONDS}"),
                )?,
            }
        }
        if let Some(pids) = limits.pids.filter(|pids| *pids > 0) {
            let hierarchy = host
                .pids
                .as_ref()
                .ok_or(Error::NoCgroupController { controller: "pids" })?;
            let group = self.group(id, hierarchy, "pids")?;
            write(&group.path.join("pids.max"), &pids.to_string())?;
        }
        Ok(())
    }

    /// The container's group in `hierarchy`, made (with `controller`
    /// enabled on the way down, in v2) the first time.
    fn group(&mut self, id: &str, hierarchy: &Hierarchy, controller: &str) -> Result<Group> {
        let parent = hierarchy.mount.join(CGROUP_DIRECTORY);
        let path = parent.join(id);
        if let Some(group) = self.groups.iter().find(|group| group.path == path) {
            if group.version == CgroupVersion::V2 {
                enable_controller(&hierarchy.mount, &parent, controller)?;
            }
            return Ok(group.clone());
        }
        match hierarchy.version {
            CgroupVersion::V1 => create_directory(&parent)?,
            CgroupVersion::V2 => enable_controller(&hierarchy.mount, &parent, controller)?,
        }
        create_directory(&path)?;
        let group = Group {
            version: hierarchy.version,
            path,
        };
        self.groups.push(group.clone());
        Ok(group)
    }

    /// The container's existing groups, found by its id in every hierarchy.
    pub fn open(id: &str) -> Result<Self> {
        let host = Hierarchies::detect()?;
        let mut cgroups = Self::default();
        for hierarchy in &host.mounts {
            let path = hierarchy.mount.join(CGROUP_DIRECTORY).join(id);
            if !path.is_dir() || cgroups.groups.iter().any(|group| group.path == path) {
                continue;
            }
            let group = Group {
                version: hierarchy.version,
                path,
            };
            let is_memory = host
                .memory
                .as_ref()
                .is_some_and(|memory| memory.mount == hierarchy.mount);
            if is_memory {
                cgroups.memory = Some(group.clone());
            }
            cgroups.groups.push(group);
        }
        Ok(cgroups)
    }

    /// The `cgroup.procs` files a process is written to, to place it in
    /// every group of the container (before it runs the container's command).
    pub fn procs_files(&self) -> Vec<PathBuf> {
        self.groups
            .iter()
            .map(|group| group.path.join("cgroup.procs"))
            .collect()
    }

    /// Whether the kernel's OOM killer killed a process of the container
    /// (`oom_kill` in v1's `memory.oom_control` or v2's `memory.events`).
    pub fn oom_killed(&self) -> bool {
        let Some(group) = &self.memory else {
            return false;
        };
        let file = match group.version {
            CgroupVersion::V1 => "memory.oom_control",
            CgroupVersion::V2 => "memory.events",
        };
        let text = std::fs::read_to_string(group.path.join(file)).unwrap_or_default();
        text.lines()
            .filter_map(|line| line.strip_prefix("oom_kill "))
            .any(|count| count.trim().parse::<u64>().is_ok_and(|count| count > 0))
    }

    /// Removes the container's groups wherever they are (idempotent), waiting
    /// up to two seconds for their processes to be gone.
    pub fn remove(id: &str) -> Result<()> {
        Self::open(id)?.remove_groups(Duration::from_secs(2))
    }

    fn remove_groups(&self, patience: Duration) -> Result<()> {
        for group in &self.groups {
            remove_group(&group.path, patience)?;
        }
        Ok(())
    }
}

/// v1: `memory.limit_in_bytes` then `memory.memsw.limit_in_bytes` (it may
/// not be below the first); v2: `memory.max` and `memory.swap.max` (swap alone).
fn write_memory(
    group: &Group,
    memory: u64,
    swap_total: Option<u64>,
    swap_limit: bool,
) -> Result<()> {
    match group.version {
        CgroupVersion::V1 => {
            write(
                &group.path.join("memory.limit_in_bytes"),
                &memory.to_string(),
            )?;
            if let Some(total) = swap_total.filter(|_| swap_limit) {
                write(
                    &group.path.join("memory.memsw.limit_in_bytes"),
                    &total.to_string(),
                )?;
            }
        }
        CgroupVersion::V2 => {
            write(&group.path.join("memory.max"), &memory.to_string())?;
            let swap_file = group.path.join("memory.swap.max");
            if swap_limit && swap_file.exists() {
                let swap = swap_total.map_or("max".to_owned(), |total| {
                    (total.saturating_sub(memory)).to_string()
                });
                write(&swap_file, &swap)?;
            }
        }
    }
    Ok(())
}

/// Enables `controller` for the children of the unified root and of `parent`
/// (made when missing), as v2 requires before a grandchild can use it.
fn enable_controller(root: &Path, parent: &Path, controller: &str) -> Result<()> {
    write(
        &root.join("cgroup.subtree_control"),
        &format!("+{controller}"),
    )?;
    create_directory(parent)?;
    write(
        &parent.join("cgroup.subtree_control"),
        &format!("+{controller}"),
    )
}

/// Makes a cgroup directory unless it exists.
fn create_directory(path: &Path) -> Result<()> {
    match std::fs::create_dir(path) {
        // Rootless without a delegated cgroup: nothing can be limited.
        Err(error)
            if error.kind() == ErrorKind::PermissionDenied && strata_fs::in_user_namespace() =>
        {
            Err(Error::RootlessLimits {
                path: path.to_path_buf(),
            })
        }
        Err(error) if error.kind() != ErrorKind::AlreadyExists => {
            Err(strata_fs::Error::new("create cgroup", path, error).into())
        }
        _ => Ok(()),
    }
}

/// Removes one group once its processes are gone; a missing group is fine.
fn remove_group(path: &Path, patience: Duration) -> Result<()> {
    let deadline = Instant::now() + patience;
    loop {
        match std::fs::remove_dir(path) {
            Ok(()) => return Ok(()),
            Err(error) if error.kind() == ErrorKind::NotFound => return Ok(()),
            Err(error) if error.raw_os_error() == Some(16) && Instant::now() < deadline => {
                // EBUSY: processes are still leaving.
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(error) => return Err(strata_fs::Error::new("remove cgroup", path, error).into()),
        }
    }
}

/// Writes a cgroup file (one write, no rename: cgroup files are not files).
fn write(path: &Path, value: &str) -> Result<()> {
    std::fs::write(path, value)
        .map_err(|source| strata_fs::Error::new("write", path, source).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(memory: bool, swap: bool, cpu: bool, pids: bool) -> Hierarchies {
        let hierarchy = |name: &str| Hierarchy {
            version: CgroupVersion::V1,
            mount: PathBuf::from("/sys/fs/cgroup").join(name),
        };
        Hierarchies {
            memory: memory.then(|| hierarchy("memory")),
            swap_limit: swap,
            cpu: cpu.then(|| hierarchy("cpu")),
            pids: pids.then(|| hierarchy("pids")),
            mounts: Vec::new(),
        }
    }

    #[test]
    fn limits_are_verified_as_dockers_daemon_does() {
        let full = host(true, true, true, true);
        let small = Limits {
            memory: Some(1024),
            ..Default::default()
        };
        assert_eq!(
            small.verify(&full).unwrap_err().to_string(),
            "Minimum memory limit allowed is 6MB"
        );
        let five = Limits {
            memory: Some(5 << 20),
            ..Default::default()
        };
        assert!(five.verify(&full).is_err());
        let six = Limits {
            memory: Some(MINIMUM_MEMORY),
            ..Default::default()
        };
        assert_eq!(six.verify(&full).unwrap(), (six, Vec::new()));
        let swap = Limits {
            memory: Some(64 << 20),
            memory_swap: Some(1 << 20),
            ..Default::default()
        };
        assert_eq!(
            swap.verify(&full).unwrap_err().to_string(),
            "Minimum memoryswap limit should be larger than memory limit, see usage"
        );
        let swap_only = Limits {
            memory_swap: Some(64 << 20),
            ..Default::default()
        };
        assert_eq!(
            swap_only.verify(&full).unwrap_err().to_string(),
            "You should always set the Memory limit when using Memoryswap limit, see usage"
        );
        let cpus = Limits {
            nano_cpus: Some(99_000_000_000),
            ..Default::default()
        };
        assert!(
            cpus.verify(&full)
                .unwrap_err()
                .to_string()
                .starts_with("Range of CPUs is from 0.01 to ")
        );
    }

    #[test]
    fn missing_controllers_give_dockers_warnings_or_errors() {
        let limits = Limits {
            memory: Some(64 << 20),
            pids: Some(10),
            ..Default::default()
        };
        let (kept, warnings) = limits.verify(&host(false, false, true, false)).unwrap();
        assert_eq!(kept.memory, None);
        assert_eq!(kept.pids, None);
        assert_eq!(
            warnings,
            [
                "Your kernel does not support memory limit capabilities or the cgroup is not mounted. Limitation discarded.",
                "Your kernel does not support PIDs limit capabilities or the cgroup is not mounted. PIDs limit discarded.",
            ]
        );
        let (kept, warnings) = limits.verify(&host(true, false, true, true)).unwrap();
        assert_eq!(kept.memory, Some(64 << 20));
        assert_eq!(kept.memory_swap, Some(-1));
        assert_eq!(
            warnings,
            [
                "Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap."
            ]
        );
        let cpus = Limits {
            nano_cpus: Some(1_000_000_000),
            ..Default::default()
        };
        assert_eq!(
            cpus.verify(&host(true, true, false, true))
                .unwrap_err()
                .to_string(),
            "NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted"
        );
    }

    #[test]
    fn swap_is_twice_the_memory_unless_asked() {
        let memory = Limits {
            memory: Some(100),
            ..Default::default()
        };
        assert_eq!(memory.swap_total(), Some(200));
        assert_eq!(
            Limits {
                memory_swap: Some(300),
                ..memory
            }
            .swap_total(),
            Some(300)
        );
        assert_eq!(
            Limits {
                memory_swap: Some(-1),
                ..memory
            }
            .swap_total(),
            None
        );
        assert_eq!(Limits::default().swap_total(), None);
        assert!(!Limits::default().any());
        assert!(
            !Limits {
                pids: Some(0),
                ..Default::default()
            }
            .any()
        );
    }

    #[test]
    fn mountinfo_lines_give_the_cgroup_mounts() {
        let v1 = "35 27 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory";
        assert_eq!(
            parse_mount(v1),
            Some((
                PathBuf::from("/sys/fs/cgroup/memory"),
                "cgroup",
                "rw,memory"
            ))
        );
        let v2 = "40 27 0:35 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw";
        assert_eq!(
            parse_mount(v2),
            Some((PathBuf::from("/sys/fs/cgroup/unified"), "cgroup2", "rw"))
        );
        let detected = Hierarchies::detect().unwrap();
        assert!(!detected.mounts.is_empty() || !Path::new("/sys/fs/cgroup").exists());
    }
}
