//! Why a container operation failed.

use std::path::PathBuf;

use strata_go::{strconv, syscall, time};

/// Why a container operation failed. Messages are Docker's where Docker has one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file-system call failed; the error names the path.
    #[error(transparent)]
    Fs(#[from] strata_fs::Error),
    /// The store failed.
    #[error(transparent)]
    Store(Box<strata_store::StoreError>),
    /// Unpacking or mounting the image failed.
    #[error(transparent)]
    Snapshot(#[from] strata_snapshot::Error),
    /// The sandbox could not start the process.
    #[error(transparent)]
    Sandbox(#[from] strata_sandbox::Error),
    /// A flag's value is not valid (Docker's message).
    #[error("{message}")]
    InvalidFlag {
        /// The flag, as typed (`-p`, `--restart`).
        flag: &'static str,
        /// Docker's message for it.
        message: String,
    },

    // Values (units.rs).
    /// A size that go-units' `RAMInBytes` refuses (`-m x`).
    #[error("invalid size: '{value}'")]
    InvalidSize {
        /// The text as given.
        value: String,
    },
    /// A size whose number Go's `ParseFloat` refuses (`-m 1.2.3m`).
    #[error("strconv.ParseFloat: parsing \"{value}\": invalid syntax")]
    InvalidSizeNumber {
        /// The number part of the size.
        value: String,
    },
    /// `--cpus` that is not a rational number.
    #[error("failed to parse {value} as a rational number")]
    InvalidCpus {
        /// The text as given.
        value: String,
    },
    /// `--cpus` finer than a billionth of a CPU.
    #[error("value is too precise")]
    CpusTooPrecise {
        /// The text as given.
        value: String,
    },
    /// `--cpus` below 0 or above the CPUs of this machine (the daemon's check).
    #[error(
        "Range of CPUs is from 0.01 to {available}.00, as there are only {available} CPUs available"
    )]
    CpusOutOfRange {
        /// CPUs this process may use.
        available: usize,
    },

    // Logs (logs.rs).
    /// A json-file log line that is not a log entry.
    #[error("invalid log entry in {} at byte {offset}", path.display())]
    InvalidLogEntry {
        /// The log file.
        path: PathBuf,
        /// Where the line starts.
        offset: u64,
    },
    /// `--since`/`--until` that is neither a time, a duration nor a timestamp.
    #[error("failed to parse value as time or duration: {}", strconv::quote(value))]
    InvalidLogTimeOrDuration {
        /// The text as given.
        value: String,
    },
    /// `--since`/`--until` that looks like an RFC 3339 time but is not one.
    #[error("parsing time {}: {reason}", time::quote(value))]
    InvalidLogTime {
        /// The text as given.
        value: String,
        /// What the time parser found wrong.
        reason: String,
    },

    // Ports (ports.rs); the texts are current go-connections' (docker 27/28).
    /// A `-p` address that Go's `SplitHostPort` refuses (`[::1`).
    #[error("invalid IP address {address}: {reason}")]
    InvalidPortIp {
        /// The address part as given.
        address: String,
        /// Go's reason.
        reason: String,
    },
    /// A `-p` address that is not an IP address.
    #[error("invalid IP address: {address}")]
    InvalidIpAddress {
        /// The address as given.
        address: String,
    },
    /// A `-p` without a container port (`8080:`).
    #[error("no port specified: {spec}<empty>")]
    NoPortSpecified {
        /// The spec as given.
        spec: String,
    },
    /// A container port or range that is not one.
    #[error("invalid containerPort: {port}")]
    InvalidContainerPort {
        /// The port part as given.
        port: String,
    },
    /// A host port or range that is not one.
    #[error("invalid hostPort: {port}")]
    InvalidHostPort {
        /// The port part as given.
        port: String,
    },
    /// Ranges of different lengths (`8000-8001:80-82`).
    #[error("invalid ranges specified for container and host Ports: {container} and {host}")]
    InvalidPortRanges {
        /// The container range.
        container: String,
        /// The host range.
        host: String,
    },
    /// A protocol other than tcp, udp, sctp.
    #[error("invalid proto: {proto}")]
    InvalidProto {
        /// The protocol as given.
        proto: String,
    },
    /// A long-form `-p` field without `=`.
    #[error("invalid publish opts format (should be name=value but got '{param}')")]
    InvalidPublishOption {
        /// The field.
        param: String,
    },
    /// `--expose` with a host part.
    #[error("invalid port format for --expose: {value}")]
    InvalidExposeFormat {
        /// The value as given.
        value: String,
    },
    /// `--expose` whose port or range is not one.
    #[error("invalid range format for --expose: {value}, error: {reason}")]
    InvalidExposeRange {
        /// The value as given.
        value: String,
        /// Go's parse error.
        reason: String,
    },
    /// An sctp port to publish: pasta forwards tcp and udp only.
    #[error("cannot publish {port}: pasta forwards tcp and udp ports only")]
    SctpNotPublishable {
        /// The port.
        port: crate::ports::ContainerPort,
    },
    /// A port to publish on an IPv6 address: the container network is IPv4-only.
    #[error("cannot publish {port} on {address}: the container network is IPv4-only")]
    Ipv6NotPublishable {
        /// The port.
        port: crate::ports::ContainerPort,
        /// The IPv6 address asked for.
        address: std::net::IpAddr,
    },
    /// A host port in use (Docker's message, without its "driver failed
    /// programming external connectivity on endpoint …" prefix).
    #[error("Bind for {address}:{port} failed: port is already allocated")]
    PortAllocated {
        /// The host address.
        address: std::net::IpAddr,
        /// The host port.
        port: u16,
    },
    /// No free port in the ephemeral range or the range asked for.
    #[error("all ports are allocated")]
    NoFreePort {
        /// The container port being published.
        port: crate::ports::ContainerPort,
    },

    // The network (pasta.rs).
    /// pasta is not installed.
    #[error("pasta is not installed: the container network needs it (Debian's passt package)")]
    PastaMissing,
    /// Rootless, a published host port below the unprivileged start.
    #[error(
        "rootless containers cannot publish host port {port}: ports below {start} need root; as root, allow them with `sysctl net.ipv4.ip_unprivileged_port_start={port}`, or publish a port from {start} up"
    )]
    PrivilegedPort {
        /// The host port.
        port: u16,
        /// `net.ipv4.ip_unprivileged_port_start`.
        start: u16,
    },
    /// Rootless, the user cannot open /dev/net/tun, which pasta needs.
    #[error(
        "rootless networking needs /dev/net/tun open to the user (it is not here): as root, run `chmod 0666 /dev/net/tun` (Debian's udev rule makes it so), or run the container with --network none or --network host"
    )]
    TunUnavailable,
    /// pasta could not connect the container's network namespace.
    #[error("pasta failed ({status}): {stderr}")]
    PastaFailed {
        /// How it exited.
        status: String,
        /// What it said.
        stderr: String,
    },
    /// Every candidate container subnet is routed by the host already.
    #[error(
        "no free subnet for the container network: 172.17-31.0.0/16 and 10.88-99.0.0/16 are all in use on the host"
    )]
    NoFreeSubnet,

    // Resource limits (cgroups.rs).
    /// `-m` below 6 MiB (the daemon's check).
    #[error("Minimum memory limit allowed is 6MB")]
    MemoryTooSmall {
        /// The limit asked for.
        bytes: u64,
    },
    /// `--memory-swap` below `-m`.
    #[error("Minimum memoryswap limit should be larger than memory limit, see usage")]
    MemorySwapTooSmall,
    /// `--memory-swap` without `-m`.
    #[error("You should always set the Memory limit when using Memoryswap limit, see usage")]
    MemorySwapWithoutMemory,
    /// `--cpus` on a host without CFS quotas.
    #[error(
        "NanoCPUs can not be set, as your kernel does not support CPU CFS scheduler or the cgroup is not mounted"
    )]
    NoCpuCfs,
    /// Rootless, with no cgroup delegated to the user: no limit can be set.
    #[error(
        "rootless containers cannot take resource limits (--memory, --cpus, --pids-limit) here: the user may not create {} (no cgroup is delegated to it); run without them, or as root", path.display()
    )]
    RootlessLimits {
        /// The cgroup it could not create.
        path: PathBuf,
    },
    /// A limit that no cgroup hierarchy of this host can take.
    #[error(
        "cannot apply the {controller} limit: no cgroup hierarchy of this host has the {controller} controller"
    )]
    NoCgroupController {
        /// The controller (`memory`, `cpu`, `pids`).
        controller: &'static str,
    },

    // Containers.
    /// No container by that name or ID.
    #[error("No such container: {name}")]
    NoSuchContainer {
        /// What the user typed.
        name: String,
    },
    /// An ID prefix matches several containers.
    #[error("multiple IDs found with provided prefix: {prefix}")]
    AmbiguousPrefix {
        /// The prefix.
        prefix: String,
    },
    /// The name is taken.
    #[error(
        "Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name."
    )]
    NameConflict {
        /// The name.
        name: String,
        /// The container that has it.
        id: String,
    },
    /// The operation needs a running container.
    #[error("Container {id} is not running")]
    NotRunning {
        /// The container's ID.
        id: String,
    },
    /// The container's process could not start (`run`'s exit code: 125,
    /// 126 or 127).
    #[error("{message}")]
    StartFailed {
        /// Docker's message.
        message: String,
        /// The exit code `run` gives for it.
        exit_code: i32,
    },
    /// The operation needs a stopped container.
    #[error("{message}")]
    Running {
        /// Docker's message for the operation.
        message: String,
    },
    /// A record or message could not be read or written as JSON.
    #[error("{what}: {source}")]
    Json {
        /// The file or message.
        what: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// Talking to a container's monitor failed.
    #[error("container monitor: {message}")]
    Monitor {
        /// What went wrong.
        message: String,
    },

    // Mounts and volumes (mounts.rs, volumes.rs); the texts are docker 20.10's.
    /// A `-v` spec the daemon's parser refuses.
    #[error("invalid volume specification: '{spec}'")]
    InvalidVolumeSpec {
        /// The spec as given.
        spec: String,
    },
    /// A `-v` spec whose mount is not valid.
    #[error("invalid volume specification: '{spec}': {source}")]
    InvalidVolumeSpecBecause {
        /// The spec as given.
        spec: String,
        /// Why its mount is not valid.
        source: Box<Error>,
    },
    /// A `-v` mode that is not one (`zz`, `ro,rw`).
    #[error("invalid mode: {mode}")]
    InvalidMountMode {
        /// The mode as given.
        mode: String,
    },
    /// A mount the daemon's `validateMountConfig` refuses.
    #[error("invalid mount config for type \"{kind}\": {problem}")]
    InvalidMountConfig {
        /// The mount's type as given.
        kind: String,
        /// What is wrong.
        problem: MountProblem,
    },
    /// A `--mount` field without `=` that is not a flag.
    #[error("invalid field '{field}' must be a key=value pair")]
    MountFieldNotPair {
        /// The field.
        field: String,
    },
    /// A `--mount` value that does not parse.
    #[error("invalid value for {key}: {value}")]
    MountFieldValue {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// A `--mount` key docker/cli does not know.
    #[error("unexpected key '{key}' in '{field}'")]
    MountFieldUnexpected {
        /// The key, lower-cased.
        key: String,
        /// The whole field.
        field: String,
    },
    /// `--mount type=` empty.
    #[error("type is required")]
    MountTypeRequired,
    /// `--mount` without a target.
    #[error("target is required")]
    MountTargetRequired,
    /// `--mount` options of another type (`volume-nocopy` on a bind).
    #[error("cannot mix '{options}-*' options with mount type '{kind}'")]
    MountOptionsMixed {
        /// The options' family (`volume`, `bind`, `tmpfs`).
        options: &'static str,
        /// The mount's type.
        kind: String,
    },
    /// `--mount` that is not one line of CSV (Go's `encoding/csv` message).
    #[error("{message}")]
    MountCsv {
        /// Go's message.
        message: String,
    },
    /// A `--tmpfs` destination that is not absolute, or `/`.
    #[error("{problem}")]
    TmpfsDestination {
        /// What is wrong.
        problem: MountProblem,
    },
    /// A tmpfs option Docker does not pass on.
    #[error("Invalid tmpfs option [{}]", option.splitn(2, '=').map(|part| format!("\"{part}\"")).collect::<Vec<_>>().join(" "))]
    InvalidTmpfsOption {
        /// The option.
        option: String,
    },
    /// Two mounts on one destination.
    #[error("Duplicate mount point: {destination}")]
    DuplicateMountPoint {
        /// The destination.
        destination: String,
    },
    /// A volume mount turned into a sandbox mount before its volume was made.
    #[error("the volume mounted on {destination} was not prepared")]
    VolumeNotPrepared {
        /// The mount's destination.
        destination: String,
    },
    /// A volume name with characters Docker's local driver refuses.
    #[error(
        "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
    )]
    InvalidVolumeName {
        /// The name.
        name: String,
    },
    /// A one-character volume name.
    #[error(
        "create {name}: volume name is too short, names should be at least two alphanumeric characters"
    )]
    VolumeNameTooShort {
        /// The name.
        name: String,
    },
    /// No volume of that name.
    #[error("No such volume: {name}")]
    NoSuchVolume {
        /// The name.
        name: String,
    },
    /// A volume to remove that containers use.
    #[error("remove {name}: volume is in use - [{}]", containers.join(" "))]
    VolumeInUse {
        /// The volume.
        name: String,
        /// The containers using it.
        containers: Vec<String>,
    },
    /// A volume's `volume.json` that does not read.
    #[error("volume metadata {}: {reason}", path.display())]
    VolumeMetadata {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The container is between two runs of its restart policy.
    #[error("Container {id} is restarting, wait until the container is running")]
    Restarting {
        /// The container's ID.
        id: String,
    },

    // Copying (copy/): the daemon's side of `docker cp`.
    /// A path that does not exist in the container.
    #[error("Could not find the file {path} in container {container}")]
    FileNotFound {
        /// The path as asked for.
        path: String,
        /// The container as named.
        container: String,
    },
    /// A path in the container that could not be used (named as the
    /// container sees it).
    #[error("{operation} {path}: {}", syscall::errno_text(errno.raw_os_error()))]
    ContainerPath {
        /// The system call, as Go names it (`lstat`, `open`).
        operation: &'static str,
        /// The path inside the container.
        path: String,
        /// What the kernel said.
        errno: rustix::io::Errno,
    },
    /// More symlinks than a resolution follows (255).
    #[error("evalSymlinksInScope: too many links in {path}")]
    TooManyLinks {
        /// The path being resolved.
        path: String,
    },
    /// A destination in the container that is not a directory.
    #[error("extraction point is not a directory")]
    ExtractPointNotDirectory {
        /// The destination as asked for.
        path: String,
    },
    /// A copy into a `--read-only` container.
    #[error("container rootfs is marked read-only")]
    ReadOnlyRootfs,
    /// An archive that could not be extracted in the container.
    #[error("Error processing tar file(exit status 1): {0}")]
    TarFile(ExtractError),
    /// `cp -a` with a container user that its /etc/passwd does not have.
    #[error("{message}")]
    CopyUser {
        /// The container's user.
        user: String,
        /// Why it could not be resolved.
        message: String,
    },

    // Copying: the client's side of `docker cp` (printed without a prefix).
    /// A directory copied onto an existing file.
    #[error("cannot copy directory")]
    CannotCopyDirectory,
    /// A file copied to `DIR/` when DIR does not exist.
    #[error("no such directory")]
    NoSuchDirectory,
    /// A destination whose parent is not a directory.
    #[error("not a directory")]
    NotADirectory,
    /// A host destination whose parent directory is missing.
    #[error("invalid output path: directory \"{directory}\" does not exist")]
    InvalidOutputPath {
        /// The missing directory.
        directory: String,
    },
    /// A host destination that is neither a directory nor a regular file.
    #[error("invalid output path: \"{path}\" must be a directory or a regular file: got a {kind}")]
    IrregularOutputPath {
        /// The destination.
        path: String,
        /// `device` or `irregular file`.
        kind: &'static str,
    },
    /// `cp - CONTAINER:PATH` where PATH is not a directory.
    #[error("destination \"{container}:{path}\" must be a directory")]
    DestinationNotDirectory {
        /// The container as named.
        container: String,
        /// The destination as given.
        path: String,
    },
    /// A destination in the container that is a device or another special file.
    #[error(
        "destination \"{container}:{path}\" must be a directory or a regular file: got a {kind}"
    )]
    DestinationIrregular {
        /// The container as named.
        container: String,
        /// The destination as given.
        path: String,
        /// `device` or `irregular file`.
        kind: &'static str,
    },
    /// A host path that could not be used.
    #[error("{operation} {}: {}", path.display(), syscall::error_text(source))]
    HostPath {
        /// The system call, as Go names it.
        operation: &'static str,
        /// The host path.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A host destination that is a loop of symlinks.
    #[error("too many symlinks in {}", path.display())]
    TooManySymlinks {
        /// The destination as given.
        path: PathBuf,
    },
    /// An archive that could not be extracted on the host.
    #[error("{0}")]
    HostExtract(ExtractError),
    /// The archive could not be written out (stdout closed, a pipe broken).
    #[error("{}", syscall::error_text(source))]
    ArchiveOutput {
        /// What the system said.
        #[source]
        source: std::io::Error,
    },

    // Processes (top.rs).
    /// `ps` options that would make another column read as `PID`.
    #[error("specifying \"{key}={value}\" is not allowed")]
    PsArgument {
        /// The field being renamed.
        key: String,
        /// Its new title.
        value: String,
    },
    /// `ps` failed: the first line of what it said.
    #[error("ps: {message}")]
    Ps {
        /// Its first line of stderr, or how it exited.
        message: String,
    },
    /// `ps` output without a PID column.
    #[error("Couldn't find PID field in ps output")]
    NoPidColumn,
    /// A PID column value that is not a number.
    #[error("Unexpected pid '{value}': strconv.Atoi: parsing \"{value}\": invalid syntax")]
    UnexpectedPid {
        /// The value.
        value: String,
    },
}

/// What is wrong with a mount, in the daemon's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountProblem {
    /// A required field is empty (`Target`, `Source`).
    MissingField(&'static str),
    /// A field that does not belong to the type (`VolumeOptions` on a bind).
    ExtraField(&'static str),
    /// A path that is not absolute.
    NotAbsolute(String),
    /// The destination is `/`.
    TargetIsRoot,
    /// A bind's source that does not exist.
    BindSourceMissing(String),
    /// A propagation mode that is not one.
    InvalidPropagation(String),
    /// A read-only anonymous volume.
    ReadOnlyAnonymous,
    /// A type that is not bind, volume or tmpfs.
    UnknownType,
}

impl std::fmt::Display for MountProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingField(field) => write!(f, "field {field} must not be empty"),
            Self::ExtraField(field) => write!(f, "field {field} must not be specified"),
            Self::NotAbsolute(path) => write!(
                f,
                "invalid mount path: '{path}' mount path must be absolute"
            ),
            Self::TargetIsRoot => f.write_str("invalid specification: destination can't be '/'"),
            Self::BindSourceMissing(path) => write!(f, "bind source path does not exist: {path}"),
            Self::InvalidPropagation(mode) => write!(f, "invalid propagation mode: {mode}"),
            Self::ReadOnlyAnonymous => {
                f.write_str("must not set ReadOnly mode when using anonymous volumes")
            }
            Self::UnknownType => f.write_str("mount type unknown"),
        }
    }
}

/// Why an archive could not be extracted; paths are named as the copy's
/// destination sees them (the container's view for a container).
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// A file-system call failed.
    #[error("{operation} {path}: {}", syscall::errno_text(errno.raw_os_error()))]
    Io {
        /// The system call, as Go names it (`unlinkat`, `open`).
        operation: &'static str,
        /// The path.
        path: String,
        /// What the kernel said.
        errno: rustix::io::Errno,
    },
    /// The stream is not a tar archive, or ends early.
    #[error("{}", go_archive_error(source))]
    Archive {
        /// The reader's error.
        #[source]
        source: std::io::Error,
    },
    /// An entry whose name leads out of the destination.
    #[error("\"{name}\" is outside of \"{destination}\"")]
    Outside {
        /// The entry's name.
        name: String,
        /// The destination directory.
        destination: String,
    },
    /// A hard link whose target is outside the destination.
    #[error("invalid hardlink \"{path}\" -> \"{target}\"")]
    InvalidHardlink {
        /// The link.
        path: String,
        /// Its target, as the archive has it.
        target: String,
    },
    /// A symlink whose target leads lexically out of the destination.
    #[error("invalid symlink \"{path}\" -> \"{target}\"")]
    InvalidSymlink {
        /// The link.
        path: String,
        /// Its target, as the archive has it.
        target: String,
    },
    /// A non-directory entry over an existing directory.
    #[error("cannot overwrite directory \"{path}\" with non-directory \"{name}\"")]
    OverwriteDirectory {
        /// The existing directory.
        path: String,
        /// The entry's name.
        name: String,
    },
    /// A directory entry over an existing non-directory.
    #[error("cannot overwrite non-directory \"{path}\" with directory \"{name}\"")]
    OverwriteNonDirectory {
        /// The existing file.
        path: String,
        /// The entry's name.
        name: String,
    },
    /// An entry type a copy cannot make (GNU sparse files, unknown types).
    #[error("unhandled tar header type {kind}")]
    UnhandledType {
        /// The type flag.
        kind: u8,
    },
}

/// A tar reader's error as Go's archive/tar reports it.
fn go_archive_error(error: &std::io::Error) -> String {
    let text = error.to_string();
    // The tar crate's word for a stream that ends inside a block.
    if error.kind() == std::io::ErrorKind::UnexpectedEof || text.contains("entire block") {
        return "unexpected EOF".to_owned();
    }
    if text.contains("checksum") || text.contains("cksum") || text.contains("header") {
        return "archive/tar: invalid tar header".to_owned();
    }
    syscall::error_text(error)
}

/// The result of a container operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether Docker's CLI, not its daemon, reports it: printed without
    /// the daemon's `Error response from daemon: ` (`Error: `) prefix.
    pub fn is_client_side(&self) -> bool {
        matches!(
            self,
            Error::CannotCopyDirectory
                | Error::NoSuchDirectory
                | Error::NotADirectory
                | Error::InvalidOutputPath { .. }
                | Error::IrregularOutputPath { .. }
                | Error::DestinationNotDirectory { .. }
                | Error::DestinationIrregular { .. }
                | Error::HostPath { .. }
                | Error::TooManySymlinks { .. }
                | Error::HostExtract(_)
                | Error::ArchiveOutput { .. }
        )
    }

    pub(crate) fn json(what: impl std::fmt::Display) -> impl FnOnce(serde_json::Error) -> Error {
        let what = what.to_string();
        move |source| Error::Json { what, source }
    }

    pub(crate) fn monitor(message: impl Into<String>) -> Error {
        Error::Monitor {
            message: message.into(),
        }
    }
}

impl From<strata_store::StoreError> for Error {
    fn from(error: strata_store::StoreError) -> Self {
        Error::Store(Box::new(error))
    }
}
