//! `-v`, `--mount` and `--tmpfs` parsed and checked as docker 20.10's CLI
//! and daemon do (`opts/mount.go`, `volume/mounts/linux_parser.go`, their
//! messages), into [`ContainerMount`]s that become the sandbox's mounts and
//! render as Docker's `Mounts`, `HostConfig.Binds/Mounts/Tmpfs` and
//! `Config.Volumes`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use strata_go::path::clean_str;
use strata_sandbox::{Mount, MountKind};

use crate::error::{Error, MountProblem, Result};
use crate::units::parse_memory;
use crate::volumes::Volumes;

/// The kinds of container mounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MountType {
    /// A host file or directory.
    Bind,
    /// A named or anonymous volume of the store.
    Volume,
    /// A tmpfs.
    Tmpfs,
}

impl MountType {
    /// Docker's name (`bind`, `volume`, `tmpfs`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Bind => "bind",
            Self::Volume => "volume",
            Self::Tmpfs => "tmpfs",
        }
    }
}

/// A tmpfs's options: Docker's defaults are `noexec,nosuid,nodev` and the
/// kernel's size (half of memory) and mode (1777).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TmpfsOptions {
    /// Its size limit in bytes.
    pub size: Option<u64>,
    /// Its root's mode (`mode=1777`).
    pub mode: Option<u32>,
    /// Every option, merged as Docker merges them (defaults first, later wins).
    pub options: Vec<String>,
}

/// Where a mount came from, for rendering Docker's host config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MountOrigin {
    /// `-v SPEC` with a source (`HostConfig.Binds`).
    Bind(String),
    /// `-v /path` alone: an anonymous volume (`Config.Volumes`).
    AnonymousVolume,
    /// `--mount`, as the API's `mount.Mount` (`HostConfig.Mounts`).
    Mount(ApiMount),
    /// `--tmpfs PATH[:OPTIONS]` (`HostConfig.Tmpfs`).
    Tmpfs(String),
    /// A `VOLUME` of the image without a mount of its own.
    Image,
}

/// One mount of a container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerMount {
    /// Bind, volume or tmpfs.
    pub kind: MountType,
    /// Binds: the host path; volumes: the volume's `_data` once prepared.
    pub source: Option<PathBuf>,
    /// Volumes: the name (64 hex digits for an anonymous one).
    pub volume_name: Option<String>,
    /// Where it appears in the container (absolute, cleaned).
    pub destination: String,
    /// Read-only.
    pub read_only: bool,
    /// `-v`'s mode text (`ro,z`), Docker's `Mode`.
    pub mode: String,
    /// Binds: `rprivate` unless asked otherwise.
    pub propagation: Option<String>,
    /// Volumes: fill a new empty volume with the image's content (not `nocopy`).
    pub copy_image_data: bool,
    /// Binds from `-v`: a missing host path is created (Docker's legacy behaviour).
    pub create_missing_source: bool,
    /// Tmpfs options.
    pub tmpfs: Option<TmpfsOptions>,
    /// Where it came from.
    pub origin: MountOrigin,
}

impl ContainerMount {
    fn new(kind: MountType, destination: String, origin: MountOrigin) -> Self {
        Self {
            kind,
            source: None,
            volume_name: None,
            destination,
            read_only: false,
            mode: String::new(),
            propagation: None,
            copy_image_data: kind == MountType::Volume,
            create_missing_source: false,
            tmpfs: None,
            origin,
        }
    }

    /// Makes the host side exist before the container starts: a volume is
    /// created in `volumes` (idempotent) and its `_data` becomes the source;
    /// a `-v` bind's missing host path is created as a directory.
    pub fn prepare(&mut self, volumes: &Volumes) -> Result<()> {
        match self.kind {
            MountType::Volume => {
                let volume = match &self.volume_name {
                    Some(name) => volumes.create(name, BTreeMap::new())?,
                    None => {
                        let volume = volumes.create_anonymous()?;
                        self.volume_name = Some(volume.name.clone());
                        volume
                    }
                };
                self.source = Some(volume.mountpoint);
            }
            MountType::Bind if self.create_missing_source => {
                if let Some(source) = &self.source
                    && std::fs::symlink_metadata(source).is_err()
                {
                    strata_fs::create_dir_all(source)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The sandbox's mount (volumes must be prepared first: their source is
    /// their `_data`). The tmpfs mode and flags are not in the sandbox's spec yet.
    pub fn to_sandbox(&self) -> Result<Mount> {
        let kind = match self.kind {
            MountType::Tmpfs => MountKind::Tmpfs {
                size: self.tmpfs.as_ref().and_then(|tmpfs| tmpfs.size),
            },
            MountType::Bind | MountType::Volume => MountKind::Bind {
                source: self
                    .source
                    .clone()
                    .ok_or_else(|| Error::VolumeNotPrepared {
                        destination: self.destination.clone(),
                    })?,
            },
        };
        Ok(Mount {
            destination: self.destination.clone(),
            kind,
            readonly: self.read_only,
        })
    }

    /// The entry of `docker inspect`'s `Mounts`, or `None` for `--tmpfs`
    /// mounts (Docker lists those in `HostConfig.Tmpfs` only).
    pub fn inspect(&self) -> Option<MountPoint> {
        if matches!(self.origin, MountOrigin::Tmpfs(_)) {
            return None;
        }
        Some(MountPoint {
            kind: self.kind.name().to_owned(),
            name: self.volume_name.clone().unwrap_or_default(),
            source: self
                .source
                .as_ref()
                .map(|source| source.display().to_string())
                .unwrap_or_default(),
            destination: self.destination.clone(),
            driver: if self.kind == MountType::Volume {
                "local".to_owned()
            } else {
                String::new()
            },
            mode: self.inspect_mode(),
            rw: !self.read_only,
            propagation: self.propagation.clone().unwrap_or_default(),
        })
    }

    /// Docker's `Mode`: `-v`'s text; named volumes with none show `z`
    /// (`setBindModeIfNull`), anonymous `-v` and image volumes nothing.
    fn inspect_mode(&self) -> String {
        let named_volume = self.kind == MountType::Volume
            && matches!(self.origin, MountOrigin::Bind(_) | MountOrigin::Mount(_));
        if named_volume && self.mode.is_empty() {
            return "z".to_owned();
        }
        self.mode.clone()
    }
}

/// The mode words `-v` accepts, one of each class at most.
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let mut counts = [0; 5];
    for word in mode.split(',') {
        let class = match word {
            "rw" | "ro" => 0,
            "z" | "Z" => 1,
            "private" | "rprivate" | "slave" | "rslave" | "shared" | "rshared" => 2,
            "nocopy" => 3,
            "consistent" | "cached" | "delegated" => 4,
            _ => return false,
        };
        counts[class] += 1;
    }
    counts.iter().all(|count| *count <= 1)
}

fn is_propagation(word: &str) -> bool {
    matches!(
        word,
        "private" | "rprivate" | "slave" | "rslave" | "shared" | "rshared"
    )
}

/// The daemon's checks of a destination: absolute and not `/`.
fn check_destination(target: &str) -> Result<(), MountProblem> {
    if target.is_empty() {
        return Err(MountProblem::MissingField("Target"));
    }
    let target = target.replace('\\', "/");
    if clean_str(&target) == "/" {
        return Err(MountProblem::TargetIsRoot);
    }
    if !target.starts_with('/') {
        return Err(MountProblem::NotAbsolute(target));
    }
    Ok(())
}

/// `-v` as docker 20.10 reads it: `/host:/ctr[:mode]` (a bind),
/// `name:/ctr[:mode]` (a named volume), `/ctr` (an anonymous volume).
pub fn parse_volume(spec: &str) -> Result<ContainerMount> {
    let invalid = || Error::InvalidVolumeSpec {
        spec: spec.to_owned(),
    };
    if spec.matches(':').count() > 2 {
        return Err(invalid());
    }
    let parts: Vec<&str> = spec.splitn(3, ':').collect();
    if parts[0].is_empty() {
        return Err(invalid());
    }
    let (source, target, mode) = match parts.as_slice() {
        [target] => ("", *target, ""),
        [_, second] if valid_mode(second) => return Err(invalid()),
        [source, target] => (*source, *target, ""),
        [source, target, mode] => (*source, *target, *mode),
        _ => return Err(invalid()),
    };
    if !valid_mode(mode) {
        return Err(Error::InvalidMountMode {
            mode: mode.to_owned(),
        });
    }
    let kind = if source.starts_with('/') {
        MountType::Bind
    } else {
        MountType::Volume
    };
    let words: Vec<&str> = mode.split(',').collect();
    let read_only = words.contains(&"ro");
    let nocopy = words.contains(&"nocopy");
    let propagation = words
        .iter()
        .find(|word| is_propagation(word))
        .map(|word| (*word).to_owned());
    let checked = check_volume_spec(
        kind,
        source,
        target,
        read_only,
        nocopy,
        propagation.is_some(),
    );
    checked.map_err(|problem| Error::InvalidVolumeSpecBecause {
        spec: spec.to_owned(),
        source: Box::new(Error::InvalidMountConfig {
            kind: kind.name().to_owned(),
            problem,
        }),
    })?;
    let origin = if source.is_empty() {
        MountOrigin::AnonymousVolume
    } else {
        MountOrigin::Bind(spec.to_owned())
    };
    let mut mount = ContainerMount::new(kind, clean_str(&target.replace('\\', "/")), origin);
    mount.read_only = read_only;
    mount.mode = mode.to_owned();
    match kind {
        MountType::Bind => {
            mount.source = Some(PathBuf::from(clean_str(source)));
            mount.propagation = Some(propagation.unwrap_or_else(|| "rprivate".to_owned()));
            mount.create_missing_source = true;
        }
        _ => {
            mount.volume_name = (!source.is_empty()).then(|| source.to_owned());
            mount.copy_image_data = !nocopy;
        }
    }
    Ok(mount)
}

/// The daemon's `validateMountConfigImpl` for `-v` (no bind source check).
fn check_volume_spec(
    kind: MountType,
    source: &str,
    target: &str,
    read_only: bool,
    nocopy: bool,
    propagation: bool,
) -> Result<(), MountProblem> {
    if target.is_empty() {
        return Err(MountProblem::MissingField("Target"));
    }
    check_destination(target)?;
    match kind {
        MountType::Bind if nocopy => Err(MountProblem::ExtraField("VolumeOptions")),
        MountType::Volume if propagation => Err(MountProblem::ExtraField("BindOptions")),
        MountType::Volume if source.is_empty() && read_only => Err(MountProblem::ReadOnlyAnonymous),
        _ => Ok(()),
    }
}

/// The fields `--mount` was given, as docker/cli's `MountOpt` keeps them.
#[derive(Default)]
struct MountFields {
    kind: String,
    source: String,
    target: String,
    read_only: bool,
    consistency: String,
    propagation: Option<String>,
    nonrecursive: bool,
    bind_options: bool,
    nocopy: bool,
    labels: BTreeMap<String, String>,
    driver: String,
    volume_options: bool,
    tmpfs_size: Option<u64>,
    tmpfs_mode: Option<u32>,
    tmpfs_options: bool,
}

/// `--mount type=bind|volume|tmpfs,source=…,target=…,readonly,…` as
/// docker/cli parses it and the daemon checks it (a bind's source must exist).
pub fn parse_mount(value: &str) -> Result<ContainerMount> {
    let fields = mount_fields(value)?;
    let api = api_mount(&fields);
    let kind = match fields.kind.as_str() {
        "bind" => MountType::Bind,
        "volume" => MountType::Volume,
        "tmpfs" => MountType::Tmpfs,
        other => {
            return Err(Error::InvalidMountConfig {
                kind: other.to_owned(),
                problem: MountProblem::UnknownType,
            });
        }
    };
    check_mount(kind, &fields).map_err(|problem| Error::InvalidMountConfig {
        kind: kind.name().to_owned(),
        problem,
    })?;
    let mut mount = ContainerMount::new(kind, clean_str(&fields.target), MountOrigin::Mount(api));
    mount.read_only = fields.read_only;
    match kind {
        MountType::Bind => {
            mount.source = Some(PathBuf::from(clean_str(&fields.source)));
            mount.propagation = Some(
                fields
                    .propagation
                    .clone()
                    .unwrap_or_else(|| "rprivate".to_owned()),
            );
        }
        MountType::Volume => {
            mount.volume_name = (!fields.source.is_empty()).then(|| fields.source.clone());
            mount.copy_image_data = !fields.nocopy;
        }
        MountType::Tmpfs => {
            let mut data = Vec::new();
            if fields.read_only {
                data.push("ro".to_owned());
            }
            if let Some(mode) = fields.tmpfs_mode.filter(|mode| *mode != 0) {
                data.push(format!("mode={mode:o}"));
            }
            if let Some(size) = fields.tmpfs_size.filter(|size| *size != 0) {
                data.push(format!("size={}", size_with_suffix(size)));
            }
            mount.tmpfs = Some(tmpfs_options(&data.join(","))?);
        }
    }
    Ok(mount)
}

/// docker/cli's `MountOpt.Set`, field by field, with its messages.
fn mount_fields(value: &str) -> Result<MountFields> {
    let mut fields = MountFields {
        kind: "volume".to_owned(),
        ..Default::default()
    };
    for field in split_csv(value)? {
        match field.split_once('=') {
            Some((key, value)) => fields.set(&key.to_ascii_lowercase(), value, &field)?,
            None => fields.set_flag(&field.to_ascii_lowercase(), &field)?,
        }
    }
    check_mount_fields(&fields)?;
    Ok(fields)
}

impl MountFields {
    /// A field without `=`: one of the three flags.
    fn set_flag(&mut self, key: &str, field: &str) -> Result<()> {
        match key {
            "readonly" | "ro" => self.read_only = true,
            "volume-nocopy" => (self.nocopy, self.volume_options) = (true, true),
            "bind-nonrecursive" => (self.nonrecursive, self.bind_options) = (true, true),
            _ => {
                return Err(Error::MountFieldNotPair {
                    field: field.to_owned(),
                });
            }
        }
        Ok(())
    }

    /// A `key=value` field.
    fn set(&mut self, key: &str, value: &str, field: &str) -> Result<()> {
        let bad_value = || Error::MountFieldValue {
            key: key.to_owned(),
            value: value.to_owned(),
        };
        let boolean = || strata_go::strconv::parse_bool(value).ok_or_else(bad_value);
        match key {
            "type" => self.kind = value.to_ascii_lowercase(),
            "source" | "src" => self.source = value.to_owned(),
            "target" | "dst" | "destination" => self.target = value.to_owned(),
            "readonly" | "ro" => self.read_only = boolean()?,
            "consistency" => self.consistency = value.to_ascii_lowercase(),
            "bind-propagation" => {
                (self.propagation, self.bind_options) = (Some(value.to_ascii_lowercase()), true);
            }
            "bind-nonrecursive" => (self.nonrecursive, self.bind_options) = (boolean()?, true),
            "volume-nocopy" => (self.nocopy, self.volume_options) = (boolean()?, true),
            "volume-label" => {
                let (name, label) = value.split_once('=').unwrap_or((value, ""));
                self.labels.insert(name.to_owned(), label.to_owned());
                self.volume_options = true;
            }
            "volume-driver" => (self.driver, self.volume_options) = (value.to_owned(), true),
            "volume-opt" => self.volume_options = true,
            "tmpfs-size" => {
                let size = parse_memory(value).map_err(|_| bad_value())?;
                (self.tmpfs_size, self.tmpfs_options) = (Some(size), true);
            }
            "tmpfs-mode" => {
                let mode = u32::from_str_radix(value, 8).map_err(|_| bad_value())?;
                (self.tmpfs_mode, self.tmpfs_options) = (Some(mode), true);
            }
            _ => {
                return Err(Error::MountFieldUnexpected {
                    key: key.to_owned(),
                    field: field.to_owned(),
                });
            }
        }
        Ok(())
    }
}

/// The last checks of `MountOpt.Set`.
fn check_mount_fields(fields: &MountFields) -> Result<()> {
    if fields.kind.is_empty() {
        return Err(Error::MountTypeRequired);
    }
    if fields.target.is_empty() {
        return Err(Error::MountTargetRequired);
    }
    for (present, options, kind) in [
        (fields.volume_options, "volume", "volume"),
        (fields.bind_options, "bind", "bind"),
        (fields.tmpfs_options, "tmpfs", "tmpfs"),
    ] {
        if present && fields.kind != kind {
            return Err(Error::MountOptionsMixed {
                options,
                kind: fields.kind.clone(),
            });
        }
    }
    Ok(())
}

/// The daemon's `validateMountConfigImpl` with the bind source checked.
fn check_mount(kind: MountType, fields: &MountFields) -> Result<(), MountProblem> {
    check_destination(&fields.target)?;
    match kind {
        MountType::Bind => {
            if fields.source.is_empty() {
                return Err(MountProblem::MissingField("Source"));
            }
            if let Some(propagation) = &fields.propagation
                && !is_propagation(propagation)
            {
                return Err(MountProblem::InvalidPropagation(propagation.clone()));
            }
            if !fields.source.starts_with('/') {
                return Err(MountProblem::NotAbsolute(fields.source.clone()));
            }
            if std::fs::symlink_metadata(&fields.source).is_err() {
                return Err(MountProblem::BindSourceMissing(fields.source.clone()));
            }
        }
        MountType::Volume if fields.source.is_empty() && fields.read_only => {
            return Err(MountProblem::ReadOnlyAnonymous);
        }
        MountType::Tmpfs if !fields.source.is_empty() => {
            return Err(MountProblem::ExtraField("Source"));
        }
        _ => {}
    }
    Ok(())
}

/// The API's `mount.Mount` for `HostConfig.Mounts`, as docker/cli fills it.
fn api_mount(fields: &MountFields) -> ApiMount {
    ApiMount {
        kind: fields.kind.clone(),
        source: fields.source.clone(),
        target: fields.target.clone(),
        read_only: fields.read_only,
        consistency: fields.consistency.clone(),
        bind_options: fields.bind_options.then(|| ApiBindOptions {
            propagation: fields.propagation.clone().unwrap_or_default(),
            non_recursive: fields.nonrecursive,
        }),
        volume_options: fields.volume_options.then(|| ApiVolumeOptions {
            no_copy: fields.nocopy,
            labels: fields.labels.clone(),
            driver_config: Some(ApiDriver {
                name: fields.driver.clone(),
            }),
        }),
        tmpfs_options: fields.tmpfs_options.then(|| ApiTmpfsOptions {
            size_bytes: fields.tmpfs_size.unwrap_or(0),
            mode: fields.tmpfs_mode.unwrap_or(0),
        }),
    }
}

/// One line of CSV as Go's `encoding/csv` reads it (quotes allowed, `""` inside them).
fn split_csv(line: &str) -> Result<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut characters = line.char_indices().peekable();
    let mut at_start = true;
    while let Some((index, character)) = characters.next() {
        match character {
            '"' if at_start => {
                loop {
                    match characters.next() {
                        Some((_, '"'))
                            if characters.peek().is_some_and(|(_, next)| *next == '"') =>
                        {
                            characters.next();
                            field.push('"');
                        }
                        Some((_, '"')) => break,
                        Some((_, other)) => field.push(other),
                        None => {
                            return Err(csv_error(
                                line.len(),
                                "extraneous or missing \" in quoted-field",
                            ));
                        }
                    }
                }
                if characters.peek().is_some_and(|(_, next)| *next != ',') {
                    let column = characters.peek().map_or(line.len(), |(at, _)| *at);
                    return Err(csv_error(
                        column,
                        "extraneous or missing \" in quoted-field",
                    ));
                }
                at_start = false;
            }
            '"' => return Err(csv_error(index, "bare \" in non-quoted-field")),
            ',' => {
                fields.push(std::mem::take(&mut field));
                at_start = true;
            }
            other => {
                field.push(other);
                at_start = false;
            }
        }
    }
    fields.push(field);
    Ok(fields)
}

fn csv_error(index: usize, why: &str) -> Error {
    Error::MountCsv {
        message: format!("parse error on line 1, column {}: {why}", index + 1),
    }
}

/// The daemon's tmpfs size text: the largest of g, m, k dividing it.
fn size_with_suffix(size: u64) -> String {
    for (suffix, divisor) in [("g", 1u64 << 30), ("m", 1 << 20), ("k", 1 << 10)] {
        if size.is_multiple_of(divisor) {
            return format!("{}{suffix}", size / divisor);
        }
    }
    size.to_string()
}

/// `--tmpfs /path[:options]` (`size=64m,mode=1777,noexec,…`).
pub fn parse_tmpfs(spec: &str) -> Result<ContainerMount> {
    let (destination, data) = spec.split_once(':').unwrap_or((spec, ""));
    check_destination(destination).map_err(|problem| match problem {
        MountProblem::MissingField(_) => Error::TmpfsDestination {
            problem: MountProblem::NotAbsolute(String::new()),
        },
        problem => Error::TmpfsDestination { problem },
    })?;
    let options = tmpfs_options(data)?;
    let mut mount = ContainerMount::new(
        MountType::Tmpfs,
        destination.to_owned(),
        MountOrigin::Tmpfs(data.to_owned()),
    );
    mount.read_only = options.options.iter().any(|option| option == "ro");
    mount.tmpfs = Some(options);
    Ok(mount)
}

/// Docker's tmpfs options: `noexec,nosuid,nodev,rprivate` then `data`,
/// merged as `MergeTmpfsOptions` does (later wins, one of each).
fn tmpfs_options(data: &str) -> Result<TmpfsOptions> {
    let mut all: Vec<&str> = vec!["noexec", "nosuid", "nodev", "rprivate"];
    if !data.is_empty() {
        all.extend(data.split(','));
    }
    let mut merged: Vec<String> = Vec::new();
    let mut seen_flags: Vec<&str> = Vec::new();
    let mut seen_data: Vec<&str> = Vec::new();
    let mut tmpfs = TmpfsOptions::default();
    for option in all.iter().rev() {
        if *option == "defaults" {
            continue;
        }
        if let Some(flag) = tmpfs_flag(option) {
            if !seen_flags.contains(&flag) {
                seen_flags.push(flag);
                merged.insert(0, (*option).to_owned());
            }
            continue;
        }
        let Some((key, value)) = option.split_once('=') else {
            return Err(Error::InvalidTmpfsOption {
                option: (*option).to_owned(),
            });
        };
        if !matches!(
            key,
            "size" | "mode" | "uid" | "gid" | "nr_inodes" | "nr_blocks" | "mpol"
        ) {
            return Err(Error::InvalidTmpfsOption {
                option: (*option).to_owned(),
            });
        }
        if seen_data.contains(&key) {
            continue;
        }
        seen_data.push(key);
        merged.insert(0, (*option).to_owned());
        match key {
            "size" => {
                tmpfs.size = Some(kernel_size(value).ok_or_else(|| Error::InvalidTmpfsOption {
                    option: (*option).to_owned(),
                })?)
            }
            "mode" => {
                tmpfs.mode =
                    Some(
                        u32::from_str_radix(value, 8).map_err(|_| Error::InvalidTmpfsOption {
                            option: (*option).to_owned(),
                        })?,
                    )
            }
            _ => {}
        }
    }
    tmpfs.options = merged;
    Ok(tmpfs)
}

/// The flag a mount option sets or clears (options setting the same flag
/// collide), or `None` for a `key=value` option.
fn tmpfs_flag(option: &str) -> Option<&'static str> {
    Some(match option {
        "ro" | "rw" => "ro",
        "suid" | "nosuid" => "nosuid",
        "dev" | "nodev" => "nodev",
        "exec" | "noexec" => "noexec",
        "sync" | "async" => "sync",
        "dirsync" => "dirsync",
        "remount" => "remount",
        "mand" | "nomand" => "mand",
        "atime" | "noatime" => "noatime",
        "diratime" | "nodiratime" => "nodiratime",
        "relatime" | "norelatime" => "relatime",
        "strictatime" | "nostrictatime" => "strictatime",
        "bind" | "rbind" | "unbindable" | "runbindable" | "private" | "rprivate" | "shared"
        | "rshared" | "slave" | "rslave" => "propagation",
        _ => return None,
    })
}

/// A tmpfs size as the kernel reads it: bytes with an optional k, m, g, t,
/// p or e (binary), or a percentage of memory.
fn kernel_size(text: &str) -> Option<u64> {
    if let Some(percent) = text.strip_suffix('%') {
        let percent: u64 = percent.parse().ok()?;
        return Some(total_memory()? / 100 * percent);
    }
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let number: u64 = text[..digits].parse().ok()?;
    let shift = match &text[digits..] {
        "" => 0,
        "k" | "K" => 10,
        "m" | "M" => 20,
        "g" | "G" => 30,
        "t" | "T" => 40,
        "p" | "P" => 50,
        "e" | "E" => 60,
        _ => return None,
    };
    number.checked_mul(1 << shift)
}

fn total_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|line| line.starts_with("MemTotal:"))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes * 1024)
}

/// A container's mounts from its flags, in Docker's order (`-v`, then
/// `--mount`, then `--tmpfs`), checked for duplicate destinations as the
/// daemon does; an anonymous `-v /path` under another mount is dropped.
pub fn parse_mounts<S: AsRef<str>>(
    volumes: &[S],
    mounts: &[S],
    tmpfs: &[S],
) -> Result<Vec<ContainerMount>> {
    let mut result: Vec<ContainerMount> = Vec::new();
    let mut anonymous = Vec::new();
    for spec in volumes {
        let mount = parse_volume(spec.as_ref())?;
        if mount.origin == MountOrigin::AnonymousVolume {
            anonymous.push(mount);
        } else {
            push_unique(&mut result, mount)?;
        }
    }
    for spec in mounts {
        push_unique(&mut result, parse_mount(spec.as_ref())?)?;
    }
    for spec in tmpfs {
        push_unique(&mut result, parse_tmpfs(spec.as_ref())?)?;
    }
    for mount in anonymous {
        if !result
            .iter()
            .any(|other| other.destination == mount.destination)
        {
            result.push(mount);
        }
    }
    Ok(result)
}

fn push_unique(mounts: &mut Vec<ContainerMount>, mount: ContainerMount) -> Result<()> {
    if mounts
        .iter()
        .any(|other| other.destination == mount.destination)
    {
        return Err(Error::DuplicateMountPoint {
            destination: mount.destination,
        });
    }
    mounts.push(mount);
    Ok(())
}

/// Adds an anonymous volume for each of the image's `VOLUME`s that no mount covers.
pub fn add_image_volumes<S: AsRef<str>>(mounts: &mut Vec<ContainerMount>, image_volumes: &[S]) {
    for volume in image_volumes {
        let destination = clean_str(volume.as_ref());
        if mounts.iter().any(|mount| mount.destination == destination) {
            continue;
        }
        mounts.push(ContainerMount::new(
            MountType::Volume,
            destination,
            MountOrigin::Image,
        ));
    }
}

/// What Docker records of a container's mounts in its configuration;
/// `None` where Docker has a nil slice or map (`null`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountConfig {
    /// `HostConfig.Binds`: the `-v` specs with a source, as given.
    pub binds: Option<Vec<String>>,
    /// `HostConfig.Mounts`: the `--mount`s.
    pub mounts: Option<Vec<ApiMount>>,
    /// `HostConfig.Tmpfs`: destination to options.
    pub tmpfs: Option<BTreeMap<String, String>>,
    /// `Config.Volumes`: the anonymous `-v` destinations (`{"/cache":{}}`).
    pub volumes: Option<BTreeMap<String, Map<String, Value>>>,
}

impl MountConfig {
    /// The configuration Docker records for these mounts.
    pub fn of(mounts: &[ContainerMount]) -> Self {
        let mut config = Self::default();
        for mount in mounts {
            match &mount.origin {
                MountOrigin::Bind(spec) => {
                    config.binds.get_or_insert_with(Vec::new).push(spec.clone())
                }
                MountOrigin::Mount(api) => {
                    config.mounts.get_or_insert_with(Vec::new).push(api.clone())
                }
                MountOrigin::Tmpfs(data) => {
                    config
                        .tmpfs
                        .get_or_insert_with(BTreeMap::new)
                        .insert(mount.destination.clone(), data.clone());
                }
                MountOrigin::AnonymousVolume => {
                    config
                        .volumes
                        .get_or_insert_with(BTreeMap::new)
                        .insert(mount.destination.clone(), Map::new());
                }
                MountOrigin::Image => {}
            }
        }
        config
    }
}

/// An entry of `docker inspect`'s `Mounts` (Docker's `types.MountPoint`,
/// fields in its order, empty ones omitted where Docker omits them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    /// `bind`, `volume` or `tmpfs`.
    #[serde(rename = "Type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The volume's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The host path (a volume's `_data`).
    pub source: String,
    /// The path in the container.
    pub destination: String,
    /// `local` for volumes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver: String,
    /// `-v`'s mode text (`z` for named volumes without one).
    pub mode: String,
    /// Read-write.
    #[serde(rename = "RW")]
    pub rw: bool,
    /// Binds' propagation (`rprivate`).
    pub propagation: String,
}

/// The API's `mount.Mount` (`HostConfig.Mounts`), fields in Docker's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiMount {
    /// `bind`, `volume`, `tmpfs` as given.
    #[serde(rename = "Type", default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The source as given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The target as given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// Read-only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// `consistency=` as given.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub consistency: String,
    /// `bind-*` options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_options: Option<ApiBindOptions>,
    /// `volume-*` options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub volume_options: Option<ApiVolumeOptions>,
    /// `tmpfs-*` options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tmpfs_options: Option<ApiTmpfsOptions>,
}

/// The API's `mount.BindOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiBindOptions {
    /// `bind-propagation=`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub propagation: String,
    /// `bind-nonrecursive`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub non_recursive: bool,
}

/// The API's `mount.VolumeOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiVolumeOptions {
    /// `volume-nocopy`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_copy: bool,
    /// `volume-label=`s.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `volume-driver=` (docker/cli always sets it, empty or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_config: Option<ApiDriver>,
}

/// The API's `mount.Driver`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiDriver {
    /// The driver's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
}

/// The API's `mount.TmpfsOptions`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ApiTmpfsOptions {
    /// `tmpfs-size=` in bytes.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub size_bytes: u64,
    /// `tmpfs-mode=`.
    #[serde(default, skip_serializing_if = "is_zero_mode")]
    pub mode: u32,
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn is_zero_mode(value: &u32) -> bool {
    *value == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binds_parse_with_their_modes() {
        let mount = parse_volume("/host/data:/data").unwrap();
        assert_eq!(mount.kind, MountType::Bind);
        assert_eq!(mount.source, Some(PathBuf::from("/host/data")));
        assert_eq!(mount.destination, "/data");
        assert!(!mount.read_only);
        assert_eq!(mount.propagation.as_deref(), Some("rprivate"));
        assert!(mount.create_missing_source);

        let mount = parse_volume("/host/./x/../data/:/data/:ro,rshared").unwrap();
        assert_eq!(mount.source, Some(PathBuf::from("/host/data")));
        assert_eq!(mount.destination, "/data");
        assert!(mount.read_only);
        assert_eq!(mount.mode, "ro,rshared");
        assert_eq!(mount.propagation.as_deref(), Some("rshared"));
        for mode in ["rw", "z", "Z", "ro,z", "rw,Z,slave,cached", "consistent"] {
            assert!(parse_volume(&format!("/a:/b:{mode}")).is_ok(), "{mode}");
        }
    }

    #[test]
    fn named_and_anonymous_volumes_parse() {
        let mount = parse_volume("data:/var/lib/data:ro").unwrap();
        assert_eq!(mount.kind, MountType::Volume);
        assert_eq!(mount.volume_name.as_deref(), Some("data"));
        assert!(mount.read_only);
        assert!(mount.copy_image_data);
        assert_eq!(
            mount.origin,
            MountOrigin::Bind("data:/var/lib/data:ro".into())
        );
        let mount = parse_volume("data:/x:nocopy").unwrap();
        assert!(!mount.copy_image_data);
        let mount = parse_volume("/cache").unwrap();
        assert_eq!(mount.kind, MountType::Volume);
        assert_eq!(mount.volume_name, None);
        assert_eq!(mount.origin, MountOrigin::AnonymousVolume);
        // Relative "sources" are volume names; the name is checked when created.
        assert_eq!(
            parse_volume("rel:/x").unwrap().volume_name.as_deref(),
            Some("rel")
        );
        assert_eq!(
            parse_volume("./rel:/x").unwrap().volume_name.as_deref(),
            Some("./rel")
        );
    }

    #[test]
    fn bad_volume_specs_get_docker_2010s_messages() {
        let table = [
            ("/a:/b:zz", "invalid mode: zz"),
            (
                "/a:rel",
                r#"invalid volume specification: '/a:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute"#,
            ),
            ("/a:/b:ro:z", "invalid volume specification: '/a:/b:ro:z'"),
            ("/a:", "invalid volume specification: '/a:'"),
            ("", "invalid volume specification: ''"),
            (":/x", "invalid volume specification: ':/x'"),
            ("/foo:rw", "invalid volume specification: '/foo:rw'"),
            ("/a:/b:ro,rw", "invalid mode: ro,rw"),
            (
                "/a:/",
                r#"invalid volume specification: '/a:/': invalid mount config for type "bind": invalid specification: destination can't be '/'"#,
            ),
            (
                "rel",
                r#"invalid volume specification: 'rel': invalid mount config for type "volume": invalid mount path: 'rel' mount path must be absolute"#,
            ),
            ("/x:ro", "invalid volume specification: '/x:ro'"),
            (
                "/a:/b:nocopy",
                r#"invalid volume specification: '/a:/b:nocopy': invalid mount config for type "bind": field VolumeOptions must not be specified"#,
            ),
            (
                "v:/b:shared",
                r#"invalid volume specification: 'v:/b:shared': invalid mount config for type "volume": field BindOptions must not be specified"#,
            ),
        ];
        for (spec, message) in table {
            assert_eq!(
                parse_volume(spec).unwrap_err().to_string(),
                message,
                "{spec}"
            );
        }
    }

    #[test]
    fn mount_flags_parse_as_docker_clis() {
        let mount = parse_mount("type=bind,source=/tmp,target=/x,readonly").unwrap();
        assert_eq!(mount.kind, MountType::Bind);
        assert_eq!(mount.source, Some(PathBuf::from("/tmp")));
        assert!(mount.read_only);
        assert!(!mount.create_missing_source);
        assert_eq!(
            mount.origin,
            MountOrigin::Mount(ApiMount {
                kind: "bind".into(),
                source: "/tmp".into(),
                target: "/x".into(),
                read_only: true,
                ..Default::default()
            })
        );
        let mount =
            parse_mount("type=bind,src=/tmp,dst=/x,ro=false,bind-propagation=rslave").unwrap();
        assert!(!mount.read_only);
        assert_eq!(mount.propagation.as_deref(), Some("rslave"));
        let mount = parse_mount("source=cache,destination=/cache,volume-nocopy").unwrap();
        assert_eq!(mount.kind, MountType::Volume);
        assert_eq!(mount.volume_name.as_deref(), Some("cache"));
        assert!(!mount.copy_image_data);
        assert_eq!(
            mount.origin,
            MountOrigin::Mount(ApiMount {
                kind: "volume".into(),
                source: "cache".into(),
                target: "/cache".into(),
                volume_options: Some(ApiVolumeOptions {
                    no_copy: true,
                    labels: BTreeMap::new(),
                    driver_config: Some(ApiDriver::default()),
                }),
                ..Default::default()
            })
        );
        let mount = parse_mount("type=tmpfs,target=/run,tmpfs-size=64m,tmpfs-mode=1770").unwrap();
        let tmpfs = mount.tmpfs.unwrap();
        assert_eq!(tmpfs.size, Some(64 << 20));
        assert_eq!(tmpfs.mode, Some(0o1770));
        assert_eq!(
            tmpfs.options,
            [
                "noexec",
                "nosuid",
                "nodev",
                "rprivate",
                "mode=1770",
                "size=64m"
            ]
        );
        let mount = parse_mount("\"type=bind\",\"source=/tmp\",target=/with,comma").unwrap_err();
        assert_eq!(
            mount.to_string(),
            "invalid field 'comma' must be a key=value pair"
        );
        let mount = parse_mount("type=bind,\"source=/tmp\",\"target=/a,b\"").unwrap();
        assert_eq!(mount.destination, "/a,b");
    }

    #[test]
    fn bad_mount_flags_get_docker_2010s_messages() {
        let table = [
            (
                "type=bind,source=/tmp,target=/x,foo=bar",
                "unexpected key 'foo' in 'foo=bar'",
            ),
            ("type=bind,source=/tmp", "target is required"),
            (
                "target=/x,readonly=maybe",
                "invalid value for readonly: maybe",
            ),
            (
                "target=/x,volume-nocopy=maybe",
                "invalid value for volume-nocopy: maybe",
            ),
            ("type=,target=/x", "type is required"),
            (
                "target=/x,bogus",
                "invalid field 'bogus' must be a key=value pair",
            ),
            (
                "type=tmpfs,target=/x,tmpfs-size=huge",
                "invalid value for tmpfs-size: huge",
            ),
            (
                "type=tmpfs,target=/x,tmpfs-mode=9",
                "invalid value for tmpfs-mode: 9",
            ),
            (
                "type=bind,source=/tmp,target=/x,volume-nocopy",
                "cannot mix 'volume-*' options with mount type 'bind'",
            ),
            (
                "type=volume,target=/x,bind-propagation=shared",
                "cannot mix 'bind-*' options with mount type 'volume'",
            ),
            (
                "type=bind,source=/tmp,target=/x,tmpfs-size=1m",
                "cannot mix 'tmpfs-*' options with mount type 'bind'",
            ),
            (
                "type=bind,source=/nonexistent-strata-test,target=/x",
                r#"invalid mount config for type "bind": bind source path does not exist: /nonexistent-strata-test"#,
            ),
            (
                "type=nosuch,target=/x",
                r#"invalid mount config for type "nosuch": mount type unknown"#,
            ),
            (
                "type=bind,src=/tmp,dst=rel",
                r#"invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute"#,
            ),
            (
                "type=bind,src=rel,dst=/x",
                r#"invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute"#,
            ),
            (
                "type=bind,dst=/x",
                r#"invalid mount config for type "bind": field Source must not be empty"#,
            ),
            (
                "type=bind,src=/tmp,dst=/x,bind-propagation=sideways",
                r#"invalid mount config for type "bind": invalid propagation mode: sideways"#,
            ),
            (
                "type=volume,dst=/x,ro",
                r#"invalid mount config for type "volume": must not set ReadOnly mode when using anonymous volumes"#,
            ),
            (
                "type=tmpfs,src=x,dst=/x",
                r#"invalid mount config for type "tmpfs": field Source must not be specified"#,
            ),
            (
                "type=bind,src=/tmp,dst=/",
                r#"invalid mount config for type "bind": invalid specification: destination can't be '/'"#,
            ),
            (
                "target=/x,\"a",
                "parse error on line 1, column 13: extraneous or missing \" in quoted-field",
            ),
            (
                "target=/x,a\"b",
                "parse error on line 1, column 12: bare \" in non-quoted-field",
            ),
        ];
        for (value, message) in table {
            assert_eq!(
                parse_mount(value).unwrap_err().to_string(),
                message,
                "{value}"
            );
        }
    }

    #[test]
    fn tmpfs_flags_parse_with_dockers_defaults() {
        let mount = parse_tmpfs("/run").unwrap();
        assert_eq!(mount.kind, MountType::Tmpfs);
        assert_eq!(mount.destination, "/run");
        let tmpfs = mount.tmpfs.clone().unwrap();
        assert_eq!(tmpfs.options, ["noexec", "nosuid", "nodev", "rprivate"]);
        assert_eq!(tmpfs.size, None);
        assert_eq!(mount.origin, MountOrigin::Tmpfs(String::new()));
        let mount = parse_tmpfs("/run:size=64m,mode=1777,exec,ro").unwrap();
        let tmpfs = mount.tmpfs.clone().unwrap();
        assert_eq!(tmpfs.size, Some(64 << 20));
        assert_eq!(tmpfs.mode, Some(0o1777));
        assert!(mount.read_only);
        assert_eq!(
            tmpfs.options,
            [
                "nosuid",
                "nodev",
                "rprivate",
                "size=64m",
                "mode=1777",
                "exec",
                "ro"
            ]
        );
        assert!(
            parse_tmpfs("/run:size=50%")
                .unwrap()
                .tmpfs
                .unwrap()
                .size
                .unwrap()
                > 0
        );
        assert_eq!(
            parse_tmpfs("/run:bogus").unwrap_err().to_string(),
            r#"Invalid tmpfs option ["bogus"]"#
        );
        assert_eq!(
            parse_tmpfs("/run:color=blue").unwrap_err().to_string(),
            r#"Invalid tmpfs option ["color" "blue"]"#
        );
        assert_eq!(
            parse_tmpfs("run").unwrap_err().to_string(),
            "invalid mount path: 'run' mount path must be absolute"
        );
        assert_eq!(
            parse_tmpfs("/").unwrap_err().to_string(),
            "invalid specification: destination can't be '/'"
        );
    }

    #[test]
    fn duplicates_are_refused_and_anonymous_volumes_give_way() {
        let error = parse_mounts(&["/a:/x", "/b:/x"], &[], &[]).unwrap_err();
        assert_eq!(error.to_string(), "Duplicate mount point: /x");
        let error = parse_mounts(&["/a:/x/"], &[], &["/x"]).unwrap_err();
        assert_eq!(error.to_string(), "Duplicate mount point: /x");
        let error = parse_mounts(&["/a:/x"], &["type=tmpfs,target=/x"], &[]).unwrap_err();
        assert_eq!(error.to_string(), "Duplicate mount point: /x");
        let mounts = parse_mounts(&["/x", "/a:/x", "/y"], &[], &[]).unwrap();
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].kind, MountType::Bind);
        assert_eq!(mounts[1].destination, "/y");
        let mut mounts = mounts;
        add_image_volumes(&mut mounts, &["/y", "/data/", "/x"]);
        assert_eq!(mounts.len(), 3);
        assert_eq!(mounts[2].destination, "/data");
        assert_eq!(mounts[2].origin, MountOrigin::Image);
    }

    #[test]
    fn mounts_render_as_docker_inspect_shows_them() {
        let text = |value: &dyn erased::Json| value.json();
        let mut bind = parse_volume("/srv:/srv:ro").unwrap();
        assert_eq!(
            text(&bind.inspect().unwrap()),
            r#"{"Type":"bind","Source":"/srv","Destination":"/srv","Mode":"ro","RW":false,"Propagation":"rprivate"}"#
        );
        let mut named = parse_volume("data:/data").unwrap();
        named.source = Some(PathBuf::from("/store/volumes/data/_data"));
        assert_eq!(
            text(&named.inspect().unwrap()),
            r#"{"Type":"volume","Name":"data","Source":"/store/volumes/data/_data","Destination":"/data","Driver":"local","Mode":"z","RW":true,"Propagation":""}"#
        );
        let anonymous = parse_volume("/cache").unwrap();
        assert_eq!(anonymous.inspect().unwrap().mode, "");
        assert_eq!(parse_tmpfs("/run").unwrap().inspect(), None);
        let tmpfs = parse_mount("type=tmpfs,target=/t").unwrap();
        assert_eq!(tmpfs.inspect().unwrap().kind, "tmpfs");
        bind.read_only = false;
        let mounts = vec![
            bind,
            named,
            anonymous,
            parse_tmpfs("/run:size=1m").unwrap(),
            parse_mount("type=bind,src=/tmp,dst=/t,bind-propagation=shared,ro").unwrap(),
        ];
        let config = MountConfig::of(&mounts);
        assert_eq!(config.binds.unwrap(), ["/srv:/srv:ro", "data:/data"]);
        assert_eq!(
            text(&config.mounts.unwrap()),
            r#"[{"Type":"bind","Source":"/tmp","Target":"/t","ReadOnly":true,"BindOptions":{"Propagation":"shared"}}]"#
        );
        assert_eq!(text(&config.tmpfs.unwrap()), r#"{"/run":"size=1m"}"#);
        assert_eq!(text(&config.volumes.unwrap()), r#"{"/cache":{}}"#);
        assert_eq!(
            text(&MountConfig::of(&[])),
            r#"{"binds":null,"mounts":null,"tmpfs":null,"volumes":null}"#
        );
    }

    /// Serialises anything for comparing JSON text.
    mod erased {
        pub(super) trait Json {
            fn json(&self) -> String;
        }

        impl<T: serde::Serialize> Json for T {
            fn json(&self) -> String {
                serde_json::to_string(self).unwrap()
            }
        }
    }

    #[test]
    fn sandbox_mounts_come_from_prepared_mounts() {
        let bind = parse_volume("/srv:/srv:ro").unwrap();
        assert_eq!(
            bind.to_sandbox().unwrap(),
            Mount {
                destination: "/srv".into(),
                kind: MountKind::Bind {
                    source: "/srv".into()
                },
                readonly: true
            }
        );
        let volume = parse_volume("data:/data").unwrap();
        assert!(volume.to_sandbox().is_err());
        let tmpfs = parse_tmpfs("/run:size=1m").unwrap();
        assert_eq!(
            tmpfs.to_sandbox().unwrap().kind,
            MountKind::Tmpfs {
                size: Some(1 << 20)
            }
        );
    }

    #[test]
    fn paths_clean_as_go_does() {
        for (path, cleaned) in [
            ("/a/b/../c/", "/a/c"),
            ("/../x", "/x"),
            ("a/./b", "a/b"),
            ("", "."),
            ("//x//y", "/x/y"),
        ] {
            assert_eq!(clean_str(path), cleaned);
        }
        assert_eq!(size_with_suffix(3 << 30), "3g");
        assert_eq!(size_with_suffix(1536), "1536");
        assert_eq!(size_with_suffix(1536 << 10), "1536k");
    }
}
