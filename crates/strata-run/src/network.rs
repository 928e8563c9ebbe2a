//! A container's network as Docker makes it: the default (`bridge`), made
//! with pasta, or the host's, or none; its `/etc/hosts`, `/etc/resolv.conf`
//! and hostname; its published ports, resolved and checked before anything
//! starts.

use std::path::{Path, PathBuf};

use crate::Result;
use crate::pasta::{Pasta, Starting};

use crate::ports::{PublishedPorts, parse_expose, parse_publish};
use crate::record::Container;
use crate::state::{NetworkState, State};

/// Docker's `/etc/hosts` entries before the container's own.
const HOSTS_HEADER: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// What a container's network will be, decided before its PID 1 exists.
#[derive(Debug)]
pub(crate) struct Plan {
    /// `/etc/hosts` (without the container's own address on the default network).
    pub(crate) hosts: String,
    /// `/etc/resolv.conf` (rewritten once pasta's addresses are known).
    pub(crate) resolv_conf: String,
    /// The hostname (the host's on its network).
    pub(crate) hostname: String,
    ports: PublishedPorts,
    mode: String,
    directory: PathBuf,
    container_hostname: String,
    /// What pasta set up, once connected.
    addresses: std::cell::Cell<Option<crate::pasta::NetworkAddresses>>,
}

/// The `--add-host` lines (`name:address` → `address\tname`); `host-gateway`
/// is the gateway pasta maps to the host.
fn extra_hosts(container: &Container, gateway: &str) -> String {
    let mut lines = String::new();
    for entry in container.host_config.extra_hosts.iter().flatten() {
        let Some((name, address)) = entry.split_once(':') else {
            continue;
        };
        let address = if address == "host-gateway" {
            gateway
        } else {
            address
        };
        lines.push_str(&format!("{address}\t{name}\n"));
    }
    lines
}

/// The published ports the container's flags and image ask for.
pub(crate) fn published_ports(container: &Container) -> Result<PublishedPorts> {
    let mut specs = parse_publish::<&str>(&[])?;
    for port in parse_expose(
        &container
            .config
            .exposed_ports
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    )? {
        specs.exposed.insert(port);
    }
    for (port, bindings) in &container.host_config.port_bindings {
        let port: crate::ports::ContainerPort = port.parse()?;
        specs.exposed.insert(port);
        specs
            .bindings
            .entry(port)
            .or_default()
            .extend(bindings.iter().cloned());
    }
    PublishedPorts::resolve(&specs, container.host_config.publish_all_ports)
}

/// Decides the container's network: ports resolved and checked free (a
/// taken one fails here, before anything starts).
pub(crate) fn prepare(container: &Container, directory: &Path) -> Result<Plan> {
    let mode = container.host_config.network_mode.clone();
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let (hosts, hostname, ports) = match mode.as_str() {
        "host" => {
            let hostname = rustix::system::uname()
                .nodename()
                .to_string_lossy()
                .into_owned();
            let mut hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
            hosts.push_str(&extra_hosts(container, "127.0.0.1"));
            (hosts, hostname, PublishedPorts::default())
        }
        "none" => {
            let mut hosts = HOSTS_HEADER.to_owned();
            hosts.push_str(&extra_hosts(container, ""));
            (
                hosts,
                container.config.hostname.clone(),
                PublishedPorts::default(),
            )
        }
        _ => {
            let ports = published_ports(container)?;
            (
                HOSTS_HEADER.to_owned(),
                container.config.hostname.clone(),
                ports,
            )
        }
    };
    Ok(Plan {
        hosts,
        resolv_conf: host_resolv,
        hostname,
        ports,
        mode,
        directory: directory.to_path_buf(),
        container_hostname: container.config.hostname.clone(),
        addresses: std::cell::Cell::new(None),
    })
}

impl Plan {
    /// The network namespace PID 1 is to join (the default network's,
    /// made by [`Plan::begin`]); `None` for the host's or a new empty one.
    pub(crate) fn namespace_file(&self) -> Option<PathBuf> {
        self.connected()
            .then(|| self.directory.join(crate::pasta::NETNS_FILE))
    }

    fn connected(&self) -> bool {
        self.mode != "host" && self.mode != "none"
    }

    /// For the default network: makes the container's network namespace
    /// and starts pasta on it, before anything else of the container exists
    /// (pasta takes ~17 ms to start; the rest of the setup overlaps it).
    pub(crate) fn begin(&self) -> Result<Option<Starting>> {
        if !self.connected() {
            return Ok(None);
        }
        Pasta::stop(&self.directory)?;
        strata_sandbox::new_network_namespace(&self.directory.join(crate::pasta::NETNS_FILE))?;
        Ok(Some(Pasta::spawn(&self.ports, &self.directory)?))
    }

    /// Waits until pasta has connected the namespace, and records the ports
    /// and addresses in `state`.
    pub(crate) fn connect(&self, starting: Option<Starting>, state: &mut State) -> Result<()> {
        state.ports = self.ports.clone();
        state.network = NetworkState::default();
        let Some(starting) = starting else {
            return Ok(());
        };
        let addresses = starting.wait()?.addresses;
        state.network = NetworkState {
            ip_address: addresses.address.to_string(),
            ip_prefix_len: addresses.prefix_length,
            gateway: addresses.gateway.to_string(),
        };
        self.addresses.set(Some(addresses));
        Ok(())
    }

    /// Writes the container's own address into its `/etc/hosts` and its
    /// `/etc/resolv.conf` as pasta set it up; only once PID 1 is set up (its
    /// root is then the container's).
    pub(crate) fn write_files(&self, container: &Container, pid: i32) -> Result<()> {
        let Some(addresses) = self.addresses.get() else {
            return Ok(());
        };
        let gateway = addresses.gateway.to_string();
        let mut hosts = self.hosts.clone();
        hosts.push_str(&extra_hosts(container, &gateway));
        hosts.push_str(&format!(
            "{}\t{}\n",
            addresses.address,
            host_names(&self.container_hostname)
        ));
        write_in_container(pid, "etc/hosts", hosts.as_bytes())?;
        write_in_container(
            pid,
            "etc/resolv.conf",
            addresses.resolv_conf(&self.resolv_conf).as_bytes(),
        )
    }
}

/// `web.example.com web`: a dotted hostname with its first label, as Docker writes it.
fn host_names(hostname: &str) -> String {
    match hostname.split_once('.') {
        Some((short, _)) if !short.is_empty() => format!("{hostname} {short}"),
        _ => hostname.to_owned(),
    }
}

/// Rewrites `path` in the container whose PID 1 is `pid`, resolved inside
/// its root (an image's symlinks never lead out of it).
fn write_in_container(pid: i32, path: &str, contents: &[u8]) -> Result<()> {
    use rustix::fs::{Mode, OFlags};
    let root_path = PathBuf::from(format!("/proc/{pid}/root"));
    let described = root_path.join(path);
    let root = rustix::fs::open(
        &root_path,
        OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| strata_fs::Error::new("open", &root_path, e.into()))?;
    let file = crate::copy::root::open_in(&root, path, OFlags::WRONLY | OFlags::TRUNC)
        .map_err(|e| strata_fs::Error::new("open", &described, e.into()))?;
    std::io::Write::write_all(&mut std::fs::File::from(file), contents)
        .map_err(|e| strata_fs::Error::new("write", &described, e))?;
    Ok(())
}
