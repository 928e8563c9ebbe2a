//! `docker inspect` for containers: Docker's container JSON (docker 20.10's
//! `ContainerJSON`) made from a container's record and state, in Docker's
//! field order, so that templates and `{{json .X}}` print what Docker's do.
//! What strata does not have (SELinux labels, Docker's network IDs, blkio
//! limits ...) is Docker's zero value.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};
use strata_oci::{Digest, Empty, Healthcheck};

use crate::containers::{Containers, Entry};
use crate::pasta::NETNS_FILE;
use crate::ports::PortBinding;
use crate::record::{Config, Container, HostConfig, RestartPolicy};
use crate::state::{Health, State, Status, ZERO_TIME};

/// Docker's daemon default for `--shm-size`.
const SHM_SIZE: i64 = 64 * 1024 * 1024;

/// A container as `docker inspect` shows it; serialise it (field order is
/// Docker's) for the JSON or a template.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerInspect {
    #[serde(rename = "Id")]
    id: String,
    created: String,
    path: String,
    args: Vec<String>,
    state: InspectState,
    image: String,
    resolv_conf_path: String,
    hostname_path: String,
    hosts_path: String,
    log_path: String,
    name: String,
    restart_count: u32,
    driver: String,
    platform: String,
    mount_label: String,
    process_label: String,
    app_armor_profile: String,
    #[serde(rename = "ExecIDs")]
    exec_ids: Option<Vec<String>>,
    host_config: InspectHostConfig,
    graph_driver: GraphDriver,
    mounts: Vec<crate::mounts::MountPoint>,
    config: InspectConfig,
    network_settings: NetworkSettings,
}

/// `State`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectState {
    status: &'static str,
    running: bool,
    paused: bool,
    restarting: bool,
    #[serde(rename = "OOMKilled")]
    oom_killed: bool,
    dead: bool,
    pid: i32,
    exit_code: i32,
    error: String,
    started_at: String,
    finished_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    health: Option<Health>,
}

/// `HostConfig.LogConfig`: strata logs only to json-file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct LogConfig {
    #[serde(rename = "Type")]
    kind: &'static str,
    config: BTreeMap<String, String>,
}

/// `HostConfig`, every field Docker prints, in its order.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectHostConfig {
    binds: Option<Vec<String>>,
    #[serde(rename = "ContainerIDFile")]
    container_id_file: String,
    log_config: LogConfig,
    network_mode: String,
    port_bindings: BTreeMap<String, Vec<PortBinding>>,
    restart_policy: RestartPolicy,
    auto_remove: bool,
    volume_driver: String,
    volumes_from: Option<Vec<String>>,
    cap_add: Option<Vec<String>>,
    cap_drop: Option<Vec<String>>,
    cgroupns_mode: &'static str,
    dns: Vec<String>,
    dns_options: Vec<String>,
    dns_search: Vec<String>,
    extra_hosts: Option<Vec<String>>,
    group_add: Option<Vec<String>>,
    ipc_mode: &'static str,
    cgroup: String,
    links: Option<Vec<String>>,
    oom_score_adj: i64,
    pid_mode: String,
    privileged: bool,
    publish_all_ports: bool,
    readonly_rootfs: bool,
    security_opt: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tmpfs: Option<BTreeMap<String, String>>,
    #[serde(rename = "UTSMode")]
    uts_mode: String,
    userns_mode: String,
    shm_size: i64,
    runtime: &'static str,
    console_size: [u32; 2],
    isolation: String,
    cpu_shares: i64,
    memory: i64,
    nano_cpus: i64,
    cgroup_parent: String,
    blkio_weight: u16,
    blkio_weight_device: Vec<Value>,
    blkio_device_read_bps: Vec<Value>,
    blkio_device_write_bps: Vec<Value>,
    #[serde(rename = "BlkioDeviceReadIOps")]
    blkio_device_read_iops: Vec<Value>,
    #[serde(rename = "BlkioDeviceWriteIOps")]
    blkio_device_write_iops: Vec<Value>,
    cpu_period: i64,
    cpu_quota: i64,
    cpu_realtime_period: i64,
    cpu_realtime_runtime: i64,
    cpuset_cpus: String,
    cpuset_mems: String,
    devices: Vec<Value>,
    device_cgroup_rules: Option<Vec<String>>,
    device_requests: Option<Vec<Value>>,
    kernel_memory: i64,
    #[serde(rename = "KernelMemoryTCP")]
    kernel_memory_tcp: i64,
    memory_reservation: i64,
    memory_swap: i64,
    memory_swappiness: Option<i64>,
    oom_kill_disable: bool,
    pids_limit: Option<i64>,
    ulimits: Vec<Value>,
    cpu_count: i64,
    cpu_percent: i64,
    #[serde(rename = "IOMaximumIOps")]
    io_maximum_iops: u64,
    #[serde(rename = "IOMaximumBandwidth")]
    io_maximum_bandwidth: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    mounts: Option<Vec<crate::mounts::ApiMount>>,
    masked_paths: Vec<String>,
    readonly_paths: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    init: Option<bool>,
}

/// `GraphDriver`: where the container's file system lives.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct GraphDriver {
    data: Option<OverlayDirectories>,
    name: String,
}

/// `GraphDriver.Data` of an overlay.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct OverlayDirectories {
    lower_dir: String,
    merged_dir: String,
    upper_dir: String,
    work_dir: String,
}

/// `Config`: the record's, with Docker's nulls for empty lists.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct InspectConfig {
    hostname: String,
    domainname: String,
    user: String,
    attach_stdin: bool,
    attach_stdout: bool,
    attach_stderr: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    exposed_ports: BTreeMap<String, Empty>,
    tty: bool,
    open_stdin: bool,
    stdin_once: bool,
    env: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    healthcheck: Option<Healthcheck>,
    image: String,
    volumes: Option<BTreeMap<String, Empty>>,
    working_dir: String,
    entrypoint: Option<Vec<String>>,
    on_build: Option<Vec<String>>,
    labels: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "String::is_empty")]
    stop_signal: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    stop_timeout: Option<i64>,
}

/// `NetworkSettings`: Docker's base and default-network settings, then `Networks`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkSettings {
    bridge: String,
    #[serde(rename = "SandboxID")]
    sandbox_id: String,
    hairpin_mode: bool,
    #[serde(rename = "LinkLocalIPv6Address")]
    link_local_ipv6_address: String,
    #[serde(rename = "LinkLocalIPv6PrefixLen")]
    link_local_ipv6_prefix_len: u8,
    ports: Value,
    sandbox_key: String,
    #[serde(rename = "SecondaryIPAddresses")]
    secondary_ip_addresses: Option<Vec<Value>>,
    #[serde(rename = "SecondaryIPv6Addresses")]
    secondary_ipv6_addresses: Option<Vec<Value>>,
    #[serde(rename = "EndpointID")]
    endpoint_id: String,
    gateway: String,
    #[serde(rename = "GlobalIPv6Address")]
    global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    global_ipv6_prefix_len: u8,
    #[serde(rename = "IPAddress")]
    ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    ip_prefix_len: u8,
    #[serde(rename = "IPv6Gateway")]
    ipv6_gateway: String,
    mac_address: String,
    networks: BTreeMap<String, EndpointSettings>,
}

/// One of `NetworkSettings.Networks`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointSettings {
    #[serde(rename = "IPAMConfig")]
    ipam_config: Option<Value>,
    links: Option<Vec<String>>,
    aliases: Option<Vec<String>>,
    #[serde(rename = "NetworkID")]
    network_id: String,
    #[serde(rename = "EndpointID")]
    endpoint_id: String,
    gateway: String,
    #[serde(rename = "IPAddress")]
    ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    ip_prefix_len: u8,
    #[serde(rename = "IPv6Gateway")]
    ipv6_gateway: String,
    #[serde(rename = "GlobalIPv6Address")]
    global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    global_ipv6_prefix_len: u8,
    mac_address: String,
    driver_opts: Option<BTreeMap<String, String>>,
}

/// Container `entry` (of `containers`) as `docker inspect` shows it.
pub fn inspect(containers: &Containers, entry: &Entry) -> ContainerInspect {
    let container = &entry.container;
    let state = &entry.state;
    let directory = containers.directory(&container.id);
    let path_in = |name: &str| directory.join(name).display().to_string();
    let graph_driver = graph_driver(containers, container, state);
    ContainerInspect {
        id: container.id.clone(),
        created: container.created.clone(),
        path: container.path.clone(),
        args: container.args.clone(),
        state: inspect_state(state),
        image: container.image.id.to_string(),
        // Docker's places; strata writes these files inside the container.
        resolv_conf_path: path_in("resolv.conf"),
        hostname_path: path_in("hostname"),
        hosts_path: path_in("hosts"),
        log_path: containers.log_path(&container.id).display().to_string(),
        name: format!("/{}", container.name),
        restart_count: state.restart_count,
        driver: graph_driver.name.clone(),
        platform: "linux".to_owned(),
        mount_label: String::new(),
        process_label: String::new(),
        app_armor_profile: String::new(),
        exec_ids: None,
        host_config: host_config(&container.host_config),
        graph_driver,
        mounts: container
            .mounts
            .iter()
            .filter_map(|m| m.inspect())
            .collect(),
        config: config(&container.config),
        network_settings: network_settings(container, state, &directory),
    }
}

fn inspect_state(state: &State) -> InspectState {
    InspectState {
        status: state.status.as_str(),
        running: state.running(),
        paused: false,
        restarting: state.status == Status::Restarting,
        oom_killed: state.oom_killed,
        dead: state.status == Status::Dead,
        pid: state.pid,
        exit_code: state.exit_code,
        error: state.error.clone(),
        started_at: state.started_at.clone(),
        finished_at: state.finished_at.clone(),
        health: state.health.clone(),
    }
}

/// `NET_ADMIN` and `net_admin` as Docker prints them: `CAP_NET_ADMIN` (`ALL` stays).
fn capability_names(names: Option<&Vec<String>>) -> Option<Vec<String>> {
    let normalized = |name: &String| {
        let upper = name.to_uppercase();
        if upper == "ALL" || upper.starts_with("CAP_") {
            upper
        } else {
            format!("CAP_{upper}")
        }
    };
    names.map(|names| names.iter().map(normalized).collect())
}

fn host_config(host: &HostConfig) -> InspectHostConfig {
    let strings = |paths: &[&str]| paths.iter().map(|p| (*p).to_owned()).collect();
    InspectHostConfig {
        binds: host.binds.clone(),
        container_id_file: String::new(),
        log_config: LogConfig {
            kind: "json-file",
            config: BTreeMap::new(),
        },
        network_mode: host.network_mode.clone(),
        port_bindings: host.port_bindings.clone(),
        restart_policy: host.restart_policy.clone(),
        auto_remove: host.auto_remove,
        volume_driver: String::new(),
        volumes_from: None,
        cap_add: capability_names(host.cap_add.as_ref()),
        cap_drop: capability_names(host.cap_drop.as_ref()),
        // The sandbox keeps the host's cgroup namespace and makes an IPC one.
        cgroupns_mode: "host",
        dns: Vec::new(),
        dns_options: Vec::new(),
        dns_search: Vec::new(),
        extra_hosts: host.extra_hosts.clone(),
        group_add: None,
        ipc_mode: "private",
        cgroup: String::new(),
        links: None,
        oom_score_adj: 0,
        pid_mode: String::new(),
        privileged: false,
        publish_all_ports: host.publish_all_ports,
        readonly_rootfs: host.readonly_rootfs,
        security_opt: host.security_opt.clone(),
        tmpfs: host.tmpfs.clone().filter(|tmpfs| !tmpfs.is_empty()),
        uts_mode: String::new(),
        userns_mode: String::new(),
        shm_size: SHM_SIZE,
        // Not runc: strata's own sandbox runs the container.
        runtime: "strata",
        console_size: [0, 0],
        isolation: String::new(),
        cpu_shares: 0,
        memory: host.memory,
        nano_cpus: host.nano_cpus,
        cgroup_parent: String::new(),
        blkio_weight: 0,
        blkio_weight_device: Vec::new(),
        blkio_device_read_bps: Vec::new(),
        blkio_device_write_bps: Vec::new(),
        blkio_device_read_iops: Vec::new(),
        blkio_device_write_iops: Vec::new(),
        cpu_period: 0,
        cpu_quota: 0,
        cpu_realtime_period: 0,
        cpu_realtime_runtime: 0,
        cpuset_cpus: String::new(),
        cpuset_mems: String::new(),
        devices: Vec::new(),
        device_cgroup_rules: None,
        device_requests: None,
        kernel_memory: 0,
        kernel_memory_tcp: 0,
        memory_reservation: 0,
        // The daemon's default: swap as large as the memory limit.
        memory_swap: host.memory.saturating_mul(2),
        memory_swappiness: None,
        oom_kill_disable: false,
        pids_limit: host.pids_limit,
        ulimits: Vec::new(),
        cpu_count: 0,
        cpu_percent: 0,
        io_maximum_iops: 0,
        io_maximum_bandwidth: 0,
        mounts: host.mounts.clone(),
        masked_paths: strings(strata_sandbox::MASKED_PATHS),
        readonly_paths: strings(strata_sandbox::READONLY_PATHS),
        init: host.init,
    }
}

/// The overlay's directories (`overlay`), or nothing for whole-tree copies
/// (`copy`, shown as Docker shows vfs). The kind is the container layer's
/// when it was ever mounted, else the one the store's snapshots use.
fn graph_driver(containers: &Containers, container: &Container, state: &State) -> GraphDriver {
    let layer = containers.directory(&container.id).join("layer");
    let snapshots = containers.root().with_file_name("snapshots");
    if is_copy(&layer, &snapshots) {
        return GraphDriver {
            data: None,
            name: "copy".to_owned(),
        };
    }
    let text = |path: PathBuf| path.display().to_string();
    // The root is mounted on `rootfs` only in the container's mount
    // namespace: from the host, a running container's is its PID 1's root.
    let merged_dir = if state.running() && state.pid > 0 {
        format!("/proc/{}/root", state.pid)
    } else {
        text(containers.directory(&container.id).join("rootfs"))
    };
    GraphDriver {
        data: Some(OverlayDirectories {
            lower_dir: lower_directories(&snapshots.join("overlay"), &container.image.diff_ids),
            merged_dir,
            upper_dir: text(layer.join("upper")),
            work_dir: text(layer.join("work")),
        }),
        name: "overlay".to_owned(),
    }
}

fn is_copy(layer: &Path, snapshots: &Path) -> bool {
    if layer.join("tree").exists() {
        return true;
    }
    if layer.join("upper").exists() {
        return false;
    }
    // The snapshotter's remembered probe: `copy <device>` or `overlay <device>`.
    std::fs::read_to_string(snapshots.join("kind"))
        .is_ok_and(|text| text.split_whitespace().next() == Some("copy"))
}

/// The image's layer directories, topmost first, joined with `:` as
/// overlayfs's `lowerdir` (the empty directory for an image without layers).
fn lower_directories(overlay: &Path, diff_ids: &[Digest]) -> String {
    let mut parent = None;
    let mut directories = Vec::new();
    for diff_id in diff_ids {
        let chain_id = strata_snapshot::chain_id(parent.as_ref(), diff_id);
        let layer = overlay.join("layers").join(chain_id.hex()).join("diff");
        directories.push(layer.display().to_string());
        parent = Some(chain_id);
    }
    if directories.is_empty() {
        return overlay.join("empty").display().to_string();
    }
    directories.reverse();
    directories.join(":")
}

fn config(config: &Config) -> InspectConfig {
    InspectConfig {
        hostname: config.hostname.clone(),
        domainname: config.domainname.clone(),
        user: config.user.clone(),
        attach_stdin: config.attach_stdin,
        attach_stdout: config.attach_stdout,
        attach_stderr: config.attach_stderr,
        exposed_ports: config.exposed_ports.clone(),
        tty: config.tty,
        open_stdin: config.open_stdin,
        stdin_once: config.stdin_once,
        env: (!config.env.is_empty()).then(|| config.env.clone()),
        cmd: config.cmd.clone(),
        healthcheck: config.healthcheck.clone(),
        image: config.image.clone(),
        volumes: config.volumes.clone().filter(|volumes| !volumes.is_empty()),
        working_dir: config.working_dir.clone(),
        entrypoint: config.entrypoint.clone(),
        on_build: config
            .on_build
            .clone()
            .filter(|triggers| !triggers.is_empty()),
        labels: config.labels.clone(),
        stop_signal: config.stop_signal.clone(),
        stop_timeout: config.stop_timeout,
    }
}

/// Docker's network name for a `NetworkMode`.
fn network_name(mode: &str) -> &str {
    match mode {
        "host" | "none" => mode,
        _ => "bridge",
    }
}

/// `eth0`'s MAC address, made from the IPv4 address as pasta is told to
/// (Docker's `02:42:` form).
fn mac_address(address: &str) -> String {
    let Ok(address) = address.parse::<Ipv4Addr>() else {
        return String::new();
    };
    let [a, b, c, d] = address.octets();
    format!("02:42:{a:02x}:{b:02x}:{c:02x}:{d:02x}")
}

/// The addresses while the container runs on the default network, Docker's
/// empty values otherwise (and after it stops, as Docker's).
fn network_settings(container: &Container, state: &State, directory: &Path) -> NetworkSettings {
    let mode = container.host_config.network_mode.as_str();
    let default_network = network_name(mode) == "bridge";
    let connected = default_network && state.status == Status::Running;
    let network = &state.network;
    let value = |text: &str| {
        if connected {
            text.to_owned()
        } else {
            String::new()
        }
    };
    let endpoint = EndpointSettings {
        ipam_config: None,
        links: None,
        aliases: None,
        network_id: String::new(),
        endpoint_id: String::new(),
        gateway: value(&network.gateway),
        ip_address: value(&network.ip_address),
        ip_prefix_len: if connected { network.ip_prefix_len } else { 0 },
        ipv6_gateway: String::new(),
        global_ipv6_address: String::new(),
        global_ipv6_prefix_len: 0,
        mac_address: value(&mac_address(&network.ip_address)),
        driver_opts: None,
    };
    let ports = if state.status == Status::Running {
        state.ports.network_settings_json()
    } else {
        json!({})
    };
    // Docker keeps the sandbox's path once it has one; strata's is the
    // namespace file pasta serves.
    let sandbox_key = if default_network && state.started_at != ZERO_TIME {
        directory.join(NETNS_FILE).display().to_string()
    } else {
        String::new()
    };
    NetworkSettings {
        bridge: String::new(),
        sandbox_id: String::new(),
        hairpin_mode: false,
        link_local_ipv6_address: String::new(),
        link_local_ipv6_prefix_len: 0,
        ports,
        sandbox_key,
        secondary_ip_addresses: None,
        secondary_ipv6_addresses: None,
        endpoint_id: String::new(),
        gateway: endpoint.gateway.clone(),
        global_ipv6_address: String::new(),
        global_ipv6_prefix_len: 0,
        ip_address: endpoint.ip_address.clone(),
        ip_prefix_len: endpoint.ip_prefix_len,
        ipv6_gateway: String::new(),
        mac_address: endpoint.mac_address.clone(),
        networks: BTreeMap::from([(network_name(mode).to_owned(), endpoint)]),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
    use strata_oci::{ContainerConfig, Descriptor};

    use super::*;
    use crate::create::{CreateOptions, ImageInput, container_record};
    use crate::ports::{ContainerPort, Protocol, PublishedBinding, PublishedPorts};
    use crate::record::ImageSource;
    use crate::state::{HealthResult, HealthStatus, NetworkState};

    /// An object's keys in the order they were written.
    struct Keys(Vec<String>);

    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct KeysVisitor;
            impl<'de> Visitor<'de> for KeysVisitor {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                        keys.push(key);
                    }
                    Ok(Keys(keys))
                }
            }
            deserializer.deserialize_map(KeysVisitor)
        }
    }

    fn keys(value: &impl Serialize) -> Vec<String> {
        let text = serde_json::to_string(value).unwrap();
        serde_json::from_str::<Keys>(&text).unwrap().0
    }

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_owned).collect()
    }

    fn busybox(diff_ids: Vec<Digest>) -> ImageInput {
        ImageInput {
            source: ImageSource {
                id: Digest::of(b"config"),
                manifest: Descriptor::new("m", Digest::of(b"m"), 1),
                layers: diff_ids.clone(),
                diff_ids,
            },
            config: ContainerConfig {
                cmd: Some(vec!["/bin/sh".to_owned()]),
                ..ContainerConfig::default()
            },
        }
    }

    /// The record of Docker's `full` container (docker-reference.md §4),
    /// without its volumes.
    fn full_record() -> Container {
        let strings = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        let options = CreateOptions {
            image: "busybox".to_owned(),
            name: Some("full".to_owned()),
            command: strings(&["-c", "sleep 1000"]),
            entrypoint: Some("/bin/sh".to_owned()),
            env: strings(&["FOO=bar", "EMPTY="]),
            user: Some("1000:1000".to_owned()),
            workdir: Some("/tmp".to_owned()),
            publish: strings(&["8080:80", "127.0.0.1:8081:81/udp"]),
            tmpfs: strings(&["/run:size=64k"]),
            read_only: true,
            hostname: Some("myhost".to_owned()),
            add_hosts: strings(&["foo:1.2.3.4"]),
            restart: Some("on-failure:3".to_owned()),
            detach: true,
            init: true,
            cap_add: strings(&["NET_ADMIN"]),
            cap_drop: strings(&["chown"]),
            health_cmd: Some("true".to_owned()),
            health_interval: Some("2s".to_owned()),
            labels: strings(&["a=b"]),
            memory: Some("64m".to_owned()),
            cpus: Some("0.5".to_owned()),
            pids_limit: Some(50),
            ..CreateOptions::default()
        };
        let mut record = container_record(&options, &busybox(Vec::new()), |_| false).unwrap();
        // What `-p` and `--tmpfs` record, until create records them itself.
        let specs = crate::ports::parse_publish(&options.publish).unwrap();
        for (port, bindings) in specs.bindings {
            record
                .host_config
                .port_bindings
                .insert(port.to_string(), bindings);
        }
        let exposed = specs
            .exposed
            .iter()
            .map(|port| (port.to_string(), Empty {}));
        record.config.exposed_ports.extend(exposed);
        record.host_config.tmpfs = Some(BTreeMap::from([("/run".into(), "size=64k".into())]));
        record
    }

    fn running_state() -> State {
        let binding = |address: [u8; 4], port| PublishedBinding {
            host_ip: Ipv4Addr::from(address).into(),
            host_port: port,
        };
        State {
            status: Status::Running,
            pid: 26199,
            started_at: "2026-12-06T12:49:42.059794515Z".to_owned(),
            health: Some(Health {
                status: HealthStatus::Healthy,
                failing_streak: 0,
                log: vec![HealthResult {
                    start: "2026-12-06T12:49:44.061150289Z".to_owned(),
                    end: "2026-12-06T12:49:44.116834584Z".to_owned(),
                    exit_code: 0,
                    output: String::new(),
                }],
            }),
            ports: PublishedPorts {
                ports: BTreeMap::from([
                    (
                        ContainerPort::new(80, Protocol::Tcp),
                        vec![binding([0, 0, 0, 0], 8080)],
                    ),
                    (
                        ContainerPort::new(81, Protocol::Udp),
                        vec![binding([127, 0, 0, 1], 8081)],
                    ),
                ]),
            },
            network: NetworkState {
                ip_address: "172.17.0.2".to_owned(),
                ip_prefix_len: 16,
                gateway: "172.17.0.1".to_owned(),
            },
            ..State::default()
        }
    }

    fn containers() -> (tempfile::TempDir, Containers) {
        let directory = tempfile::tempdir().unwrap();
        let containers = Containers::open(&directory.path().join("areas/containers")).unwrap();
        (directory, containers)
    }

    fn inspected(containers: &Containers, container: Container, state: State) -> Value {
        let entry = Entry { container, state };
        serde_json::to_value(inspect(containers, &entry)).unwrap()
    }

    #[test]
    fn the_running_full_container_has_dockers_keys_in_dockers_order() {
        let (_directory, containers) = containers();
        let entry = Entry {
            container: full_record(),
            state: running_state(),
        };
        let inspect = inspect(&containers, &entry);
        assert_eq!(
            keys(&inspect),
            words(
                "Id Created Path Args State Image ResolvConfPath HostnamePath HostsPath LogPath \
                 Name RestartCount Driver Platform MountLabel ProcessLabel AppArmorProfile ExecIDs \
                 HostConfig GraphDriver Mounts Config NetworkSettings"
            )
        );
        assert_eq!(
            keys(&inspect.state),
            words(
                "Status Running Paused Restarting OOMKilled Dead Pid ExitCode Error StartedAt \
                 FinishedAt Health"
            )
        );
        assert_eq!(
            keys(&inspect.state.health),
            words("Status FailingStreak Log")
        );
        assert_eq!(
            keys(&inspect.state.health.as_ref().unwrap().log[0]),
            words("Start End ExitCode Output")
        );
        assert_eq!(
            keys(&inspect.host_config),
            words(
                "Binds ContainerIDFile LogConfig NetworkMode PortBindings RestartPolicy AutoRemove \
                 VolumeDriver VolumesFrom CapAdd CapDrop CgroupnsMode Dns DnsOptions DnsSearch \
                 ExtraHosts GroupAdd IpcMode Cgroup Links OomScoreAdj PidMode Privileged \
                 PublishAllPorts ReadonlyRootfs SecurityOpt Tmpfs UTSMode UsernsMode ShmSize \
                 Runtime ConsoleSize Isolation CpuShares Memory NanoCpus CgroupParent BlkioWeight \
                 BlkioWeightDevice BlkioDeviceReadBps BlkioDeviceWriteBps BlkioDeviceReadIOps \
                 BlkioDeviceWriteIOps CpuPeriod CpuQuota CpuRealtimePeriod CpuRealtimeRuntime \
                 CpusetCpus CpusetMems Devices DeviceCgroupRules DeviceRequests KernelMemory \
                 KernelMemoryTCP MemoryReservation MemorySwap MemorySwappiness OomKillDisable \
                 PidsLimit Ulimits CpuCount CpuPercent IOMaximumIOps IOMaximumBandwidth \
                 MaskedPaths ReadonlyPaths Init"
            )
        );
        assert_eq!(keys(&inspect.graph_driver), words("Data Name"));
        assert_eq!(
            keys(&inspect.graph_driver.data),
            words("LowerDir MergedDir UpperDir WorkDir")
        );
        assert_eq!(
            keys(&inspect.config),
            words(
                "Hostname Domainname User AttachStdin AttachStdout AttachStderr ExposedPorts Tty \
                 OpenStdin StdinOnce Env Cmd Healthcheck Image Volumes WorkingDir Entrypoint \
                 OnBuild Labels"
            )
        );
        assert_eq!(
            keys(&inspect.network_settings),
            words(
                "Bridge SandboxID HairpinMode LinkLocalIPv6Address LinkLocalIPv6PrefixLen Ports \
                 SandboxKey SecondaryIPAddresses SecondaryIPv6Addresses EndpointID Gateway \
                 GlobalIPv6Address GlobalIPv6PrefixLen IPAddress IPPrefixLen IPv6Gateway \
                 MacAddress Networks"
            )
        );
        assert_eq!(
            keys(&inspect.network_settings.networks["bridge"]),
            words(
                "IPAMConfig Links Aliases NetworkID EndpointID Gateway IPAddress IPPrefixLen \
                 IPv6Gateway GlobalIPv6Address GlobalIPv6PrefixLen MacAddress DriverOpts"
            )
        );
    }

    #[test]
    fn the_running_full_container_shows_its_flags_as_docker() {
        let (_directory, containers) = containers();
        let record = full_record();
        let id = record.id.clone();
        let json = inspected(&containers, record, running_state());
        assert_eq!(json["Name"], "/full");
        assert_eq!(json["Image"], Digest::of(b"config").to_string());
        assert_eq!(json["Path"], "/bin/sh");
        assert_eq!(json["Args"], json!(["-c", "sleep 1000"]));
        let directory = containers.directory(&id);
        assert_eq!(
            json["LogPath"],
            directory
                .join(format!("{id}-json.log"))
                .display()
                .to_string()
        );
        assert_eq!(
            json["HostsPath"],
            directory.join("hosts").display().to_string()
        );
        assert_eq!(json["ExecIDs"], Value::Null);
        let state = &json["State"];
        assert_eq!(state["Status"], "running");
        assert_eq!(state["Running"], true);
        assert_eq!(state["Pid"], 26199);
        assert_eq!(state["FinishedAt"], ZERO_TIME);
        assert_eq!(state["Health"]["Status"], "healthy");
        let host = &json["HostConfig"];
        assert_eq!(host["Binds"], Value::Null);
        assert_eq!(
            host["LogConfig"],
            json!({"Type": "json-file", "Config": {}})
        );
        assert_eq!(host["NetworkMode"], "default");
        assert_eq!(
            host["PortBindings"],
            json!({
                "80/tcp": [{"HostIp": "", "HostPort": "8080"}],
                "81/udp": [{"HostIp": "127.0.0.1", "HostPort": "8081"}]
            })
        );
        assert_eq!(
            host["RestartPolicy"],
            json!({"Name": "on-failure", "MaximumRetryCount": 3})
        );
        assert_eq!(host["CapAdd"], json!(["CAP_NET_ADMIN"]));
        assert_eq!(host["CapDrop"], json!(["CAP_CHOWN"]));
        assert_eq!(host["Dns"], json!([]));
        assert_eq!(host["ExtraHosts"], json!(["foo:1.2.3.4"]));
        assert_eq!(host["ReadonlyRootfs"], true);
        assert_eq!(host["SecurityOpt"], Value::Null);
        assert_eq!(host["Tmpfs"], json!({"/run": "size=64k"}));
        assert_eq!(host["ShmSize"], 67108864);
        assert_eq!(host["ConsoleSize"], json!([0, 0]));
        assert_eq!(host["Memory"], 67108864);
        assert_eq!(host["MemorySwap"], 134217728);
        assert_eq!(host["NanoCpus"], 500000000);
        assert_eq!(host["PidsLimit"], 50);
        assert_eq!(host["MemorySwappiness"], Value::Null);
        assert_eq!(host["MaskedPaths"][0], "/proc/asound");
        assert_eq!(host["ReadonlyPaths"][4], "/proc/sysrq-trigger");
        assert_eq!(host["Init"], true);
        let config = &json["Config"];
        assert_eq!(config["Hostname"], "myhost");
        assert_eq!(config["User"], "1000:1000");
        assert_eq!(config["AttachStdout"], false);
        assert_eq!(config["ExposedPorts"], json!({"80/tcp": {}, "81/udp": {}}));
        assert_eq!(config["Env"], json!(["FOO=bar", "EMPTY="]));
        assert_eq!(config["Cmd"], json!(["-c", "sleep 1000"]));
        assert_eq!(
            config["Healthcheck"],
            json!({"Test": ["CMD-SHELL", "true"], "Interval": 2000000000})
        );
        assert_eq!(config["Volumes"], Value::Null);
        assert_eq!(config["WorkingDir"], "/tmp");
        assert_eq!(config["Entrypoint"], json!(["/bin/sh"]));
        assert_eq!(config["OnBuild"], Value::Null);
        assert_eq!(config["Labels"], json!({"a": "b"}));
        let network = &json["NetworkSettings"];
        assert_eq!(
            network["Ports"],
            json!({
                "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}],
                "81/udp": [{"HostIp": "127.0.0.1", "HostPort": "8081"}]
            })
        );
        assert_eq!(
            network["SandboxKey"],
            directory.join("netns").display().to_string()
        );
        assert_eq!(network["Gateway"], "172.17.0.1");
        assert_eq!(network["IPAddress"], "172.17.0.2");
        assert_eq!(network["IPPrefixLen"], 16);
        assert_eq!(network["MacAddress"], "02:42:ac:11:00:02");
        assert_eq!(network["SecondaryIPAddresses"], Value::Null);
        let bridge = &network["Networks"]["bridge"];
        assert_eq!(bridge["IPAddress"], "172.17.0.2");
        assert_eq!(bridge["Gateway"], "172.17.0.1");
        assert_eq!(bridge["MacAddress"], "02:42:ac:11:00:02");
        assert_eq!(bridge["DriverOpts"], Value::Null);
    }

    #[test]
    fn a_stopped_container_keeps_its_config_and_loses_its_addresses() {
        let (_directory, containers) = containers();
        let mut state = running_state();
        state.status = Status::Exited;
        state.pid = 0;
        state.exit_code = 143;
        state.finished_at = "2026-12-06T12:49:45.142832394Z".to_owned();
        let json = inspected(&containers, full_record(), state);
        assert_eq!(json["State"]["Status"], "exited");
        assert_eq!(json["State"]["Running"], false);
        assert_eq!(json["State"]["Pid"], 0);
        assert_eq!(json["State"]["ExitCode"], 143);
        assert_eq!(
            json["State"]["FinishedAt"],
            "2026-12-06T12:49:45.142832394Z"
        );
        let network = &json["NetworkSettings"];
        assert_eq!(network["Ports"], json!({}));
        assert_eq!(network["IPAddress"], "");
        assert_eq!(network["IPPrefixLen"], 0);
        assert_eq!(network["MacAddress"], "");
        assert_eq!(network["Networks"]["bridge"]["IPAddress"], "");
        assert_ne!(network["SandboxKey"], "", "Docker keeps the sandbox key");
        let merged = json["GraphDriver"]["Data"]["MergedDir"].as_str().unwrap();
        assert!(merged.ends_with("/rootfs"), "{merged}");
        assert_eq!(json["HostConfig"]["Memory"], 67108864);
    }

    #[test]
    fn a_plain_container_has_dockers_nulls_and_omissions() {
        let (_directory, containers) = containers();
        let options = CreateOptions {
            image: "busybox".to_owned(),
            command: words("sleep 1000"),
            network: Some("host".to_owned()),
            ..CreateOptions::default()
        };
        let record = container_record(&options, &busybox(Vec::new()), |_| false).unwrap();
        let name = record.name.clone();
        let json = inspected(&containers, record, State::default());
        assert_eq!(json["Name"], format!("/{name}"));
        assert_eq!(json["State"]["Status"], "created");
        assert!(json["State"].get("Health").is_none());
        let host = &json["HostConfig"];
        assert_eq!(
            host["RestartPolicy"],
            json!({"Name": "no", "MaximumRetryCount": 0})
        );
        for null in [
            "Binds",
            "CapAdd",
            "CapDrop",
            "ExtraHosts",
            "PidsLimit",
            "Links",
        ] {
            assert_eq!(host[null], Value::Null, "{null}");
        }
        assert_eq!(host["PortBindings"], json!({}));
        assert_eq!(host["MemorySwap"], 0);
        for omitted in ["Tmpfs", "Init", "Mounts"] {
            assert!(host.get(omitted).is_none(), "{omitted}");
        }
        let config = &json["Config"];
        assert_eq!(config["Env"], Value::Null);
        assert_eq!(config["Entrypoint"], Value::Null);
        assert_eq!(config["Labels"], json!({}));
        for omitted in ["ExposedPorts", "Healthcheck", "StopSignal", "StopTimeout"] {
            assert!(config.get(omitted).is_none(), "{omitted}");
        }
        let network = &json["NetworkSettings"];
        let names: BTreeSet<&String> = network["Networks"].as_object().unwrap().keys().collect();
        assert_eq!(names, BTreeSet::from([&"host".to_owned()]));
        assert_eq!(network["SandboxKey"], "");
        assert_eq!(network["Ports"], json!({}));
    }

    #[test]
    fn the_graph_driver_names_the_snapshots_under_the_container() {
        let (directory, containers) = containers();
        let diff_ids = vec![Digest::of(b"bottom"), Digest::of(b"top")];
        let options = CreateOptions {
            image: "busybox".to_owned(),
            ..CreateOptions::default()
        };
        let record = container_record(&options, &busybox(diff_ids.clone()), |_| false).unwrap();
        let id = record.id.clone();
        let mut state = running_state();
        state.pid = 4242;
        let json = inspected(&containers, record.clone(), state);
        let overlay = directory.path().join("areas/snapshots/overlay/layers");
        let bottom = strata_snapshot::chain_id(None, &diff_ids[0]);
        let top = strata_snapshot::chain_id(Some(&bottom), &diff_ids[1]);
        let layer = |chain: Digest| overlay.join(chain.hex()).join("diff").display().to_string();
        let data = &json["GraphDriver"]["Data"];
        assert_eq!(json["Driver"], "overlay");
        assert_eq!(json["GraphDriver"]["Name"], "overlay");
        assert_eq!(
            data["LowerDir"],
            format!("{}:{}", layer(top), layer(bottom))
        );
        assert_eq!(data["MergedDir"], "/proc/4242/root");
        let upper = containers.directory(&id).join("layer/upper");
        assert_eq!(data["UpperDir"], upper.display().to_string());
        // A container whose layer is a whole-tree copy.
        std::fs::create_dir_all(containers.directory(&id).join("layer/tree")).unwrap();
        let json = inspected(&containers, record, State::default());
        assert_eq!(json["Driver"], "copy");
        assert_eq!(json["GraphDriver"], json!({"Data": null, "Name": "copy"}));
    }
}
