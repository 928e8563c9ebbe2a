//! Published ports: `-p`/`--expose` parsed as docker 20.10 does (go-connections
//! v0.4.0's `ParsePortSpecs`, with today's lower-case messages), resolved to host ports (ephemeral
//! ones from `ip_local_port_range`, each checked free by binding it), and
//! shown as Docker shows them (`NetworkSettings.Ports`, `docker port`, the
//! PORTS column of `docker ps`).
//!
//! The container network is IPv4-only (Docker's default bridge is, and pasta
//! runs with `-4`), so a binding without an address is published on
//! `0.0.0.0` only; Docker 20.10 also lists `::` on hosts with IPv6.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// A transport protocol of a container port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (the default when a port names none).
    Tcp,
    /// UDP.
    Udp,
    /// SCTP: accepted in specs as Docker does, but pasta cannot publish it.
    Sctp,
}

impl Protocol {
    /// The name Docker uses (`tcp`, `udp`, `sctp`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
            Self::Sctp => "sctp",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "tcp" => Some(Self::Tcp),
            "udp" => Some(Self::Udp),
            "sctp" => Some(Self::Sctp),
            _ => None,
        }
    }
}

/// A port of the container and its protocol, written `80/tcp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerPort {
    /// The port number.
    pub port: u16,
    /// Its protocol.
    pub protocol: Protocol,
}

impl ContainerPort {
    /// `port/protocol`.
    pub fn new(port: u16, protocol: Protocol) -> Self {
        Self { port, protocol }
    }
}

impl fmt::Display for ContainerPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.port, self.protocol.name())
    }
}

impl FromStr for ContainerPort {
    type Err = Error;

    /// An image config's `ExposedPorts` key: `80/tcp`, `443/udp`, `80` (tcp).
    fn from_str(text: &str) -> Result<Self> {
        let (protocol, port) = split_proto_port(text);
        let protocol_value = Protocol::parse(protocol).ok_or_else(|| Error::InvalidProto {
            proto: protocol.to_owned(),
        })?;
        let port = parse_port_number(port).ok_or_else(|| Error::InvalidContainerPort {
            port: port.to_owned(),
        })?;
        Ok(Self::new(port, protocol_value))
    }
}

impl Serialize for ContainerPort {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ContainerPort {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A requested host side of a published port, as Docker keeps it in
/// `HostConfig.PortBindings`: an address (empty: all) and a port (empty or
/// `0`: ephemeral; `8000-8010`: the first free one of the range).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortBinding {
    /// The host address, empty for all.
    #[serde(rename = "HostIp")]
    pub host_ip: String,
    /// The host port or range, empty for an ephemeral one.
    #[serde(rename = "HostPort")]
    pub host_port: String,
}

/// What `-p` and `--expose` ask for: the ports to expose
/// (`Config.ExposedPorts`) and their requested bindings (`HostConfig.PortBindings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortSpecs {
    /// Every port named, published or not.
    pub exposed: BTreeSet<ContainerPort>,
    /// The bindings asked for each published port, in the order given.
    pub bindings: BTreeMap<ContainerPort, Vec<PortBinding>>,
}

impl PortSpecs {
    /// `Config.ExposedPorts` as Docker writes it: `{"80/tcp":{}}`.
    pub fn exposed_ports_json(&self) -> Value {
        let map: Map<String, Value> = self
            .exposed
            .iter()
            .map(|port| (port.to_string(), json!({})))
            .collect();
        Value::Object(map)
    }

    /// `HostConfig.PortBindings` as Docker writes it:
    /// `{"80/tcp":[{"HostIp":"","HostPort":"8080"}]}`.
    pub fn port_bindings_json(&self) -> Value {
        let map: Map<String, Value> = self
            .bindings
            .iter()
            .map(|(port, bindings)| (port.to_string(), json!(bindings)))
            .collect();
        Value::Object(map)
    }
}

/// Parses `-p` values as docker 20.10's CLI does (`convertToStandardNotation`,
/// then go-connections v0.4.0's `ParsePortSpecs`):
/// `[ip:][hostPort:]containerPort[/proto]` with ranges and bracketed IPv6, or
/// the long form `target=80,published=8080,protocol=udp`.
pub fn parse_publish<S: AsRef<str>>(values: &[S]) -> Result<PortSpecs> {
    let mut specs = PortSpecs::default();
    for value in values {
        let standard = standard_notation(value.as_ref())?;
        for (port, binding) in parse_port_spec(&standard)? {
            specs.exposed.insert(port);
            specs.bindings.entry(port).or_default().push(binding);
        }
    }
    Ok(specs)
}

/// The CLI's `convertToStandardNotation`: `published:target/protocol` from the long form.
fn standard_notation(value: &str) -> Result<String> {
    if !value.contains('=') {
        return Ok(value.to_owned());
    }
    let mut params: BTreeMap<&str, &str> = BTreeMap::from([("protocol", "tcp")]);
    for param in value.split(',') {
        let mut parts = param.split('=');
        match (parts.next(), parts.next()) {
            (Some(key), Some(value)) => params.insert(key, value),
            _ => {
                return Err(Error::InvalidPublishOption {
                    param: param.to_owned(),
                });
            }
        };
    }
    let get = |key| params.get(key).copied().unwrap_or_default();
    Ok(format!(
        "{}:{}/{}",
        get("published"),
        get("target"),
        get("protocol")
    ))
}

/// One spec, go-connections v0.4.0's `ParsePortSpec`, checks in its order.
fn parse_port_spec(raw: &str) -> Result<Vec<(ContainerPort, PortBinding)>> {
    let (raw_ip, host_port, container_port) = split_parts(raw);
    let (protocol, container_port) = split_proto_port(container_port);
    let ip = split_host(raw_ip).map_err(|reason| Error::InvalidPortIp {
        address: raw_ip.to_owned(),
        reason,
    })?;
    if !ip.is_empty() && ip.parse::<IpAddr>().is_err() {
        return Err(Error::InvalidIpAddress { address: ip });
    }
    if container_port.is_empty() {
        return Err(Error::NoPortSpecified {
            spec: raw.to_owned(),
        });
    }
    let (start, end) =
        parse_port_range(container_port).ok_or_else(|| Error::InvalidContainerPort {
            port: container_port.to_owned(),
        })?;
    let mut host_range = (0, 0);
    if !host_port.is_empty() {
        host_range = parse_port_range(host_port).ok_or_else(|| Error::InvalidHostPort {
            port: host_port.to_owned(),
        })?;
        // A host range for one container port is a range to pick from.
        if end - start != host_range.1 - host_range.0 && end != start {
            return Err(Error::InvalidPortRanges {
                container: container_port.to_owned(),
                host: host_port.to_owned(),
            });
        }
    }
    let protocol_value = Protocol::parse(protocol).ok_or_else(|| Error::InvalidProto {
        proto: protocol.to_owned(),
    })?;
    let mappings = (start..=end).map(|number| {
        let offset = number - start;
        let mut binding_port = String::new();
        if !host_port.is_empty() {
            binding_port = (host_range.0 + offset).to_string();
            if start == end && host_range.0 != host_range.1 {
                binding_port = format!("{binding_port}-{}", host_range.1);
            }
        }
        let binding = PortBinding {
            host_ip: ip.clone(),
            host_port: binding_port,
        };
        (ContainerPort::new(number, protocol_value), binding)
    });
    Ok(mappings.collect())
}

/// `ip:host:container` split on colons; an IPv6 address keeps its own.
fn split_parts(raw: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = raw.split(':').collect();
    match parts.as_slice() {
        [container] => ("", "", container),
        [host, container] => ("", host, container),
        [.., host, container] => {
            let ip_length = raw.len() - host.len() - container.len() - 2;
            (&raw[..ip_length], host, container)
        }
        [] => ("", "", ""),
    }
}

/// go-connections v0.4.0's `SplitProtoPort`: (protocol, port), tcp by default.
fn split_proto_port(raw: &str) -> (&str, &str) {
    let mut parts = raw.split('/');
    let port = parts.next().unwrap_or_default();
    if port.is_empty() {
        return ("", "");
    }
    match parts.next() {
        None | Some("") => ("tcp", port),
        Some(protocol) => (protocol, port),
    }
}

/// A port number as Go's `ParseUint(s, 10, 16)`: digits only.
fn parse_port_number(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// go-connections v0.4.0's `ParsePortRange`: `80` or `8000-8010` (what
/// follows a second `-` is ignored, as there).
fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    if !text.contains('-') {
        let port = parse_port_number(text)?;
        return Some((port, port));
    }
    let mut parts = text.split('-');
    let start = parse_port_number(parts.next()?)?;
    let end = parse_port_number(parts.next()?)?;
    (end >= start).then_some((start, end))
}

/// Go's `net.SplitHostPort(ip + ":")`'s host, with its errors (for `[::1]`).
fn split_host(raw_ip: &str) -> std::result::Result<String, String> {
    let host_port = format!("{raw_ip}:");
    let error = |why: &str| Err(format!("address {host_port}: {why}"));
    let last_colon = host_port.len() - 1;
    let (host, after_open, after_close) = if host_port.starts_with('[') {
        let Some(end) = host_port.find(']') else {
            return error("missing ']' in address");
        };
        if end + 1 != last_colon {
            return match host_port.as_bytes()[end + 1] {
                b':' => error("too many colons in address"),
                _ => error("missing port in address"),
            };
        }
        (&host_port[1..end], 1, end + 1)
    } else {
        let host = &host_port[..last_colon];
        if host.contains(':') {
            return error("too many colons in address");
        }
        (host, 0, 0)
    };
    if host_port[after_open..].contains('[') {
        return error("unexpected '[' in address");
    }
    if host_port[after_close..].contains(']') {
        return error("unexpected ']' in address");
    }
    Ok(host.to_owned())
}

/// Parses `--expose` values as docker 20.10's CLI does: `80`, `80/udp`,
/// `8000-8010/tcp`.
pub fn parse_expose<S: AsRef<str>>(values: &[S]) -> Result<BTreeSet<ContainerPort>> {
    let mut exposed = BTreeSet::new();
    for value in values {
        let value = value.as_ref();
        if value.contains(':') {
            return Err(Error::InvalidExposeFormat {
                value: value.to_owned(),
            });
        }
        let (protocol, port) = split_proto_port(value);
        let (start, end) = expose_range(port).map_err(|reason| Error::InvalidExposeRange {
            value: value.to_owned(),
            reason,
        })?;
        let protocol = Protocol::parse(protocol).ok_or_else(|| Error::InvalidProto {
            proto: protocol.to_owned(),
        })?;
        exposed.extend((start..=end).map(|port| ContainerPort::new(port, protocol)));
    }
    Ok(exposed)
}

/// `ParsePortRange` with the messages Go's errors would give.
fn expose_range(text: &str) -> std::result::Result<(u16, u16), String> {
    if text.is_empty() {
        return Err("Empty string specified for ports.".to_owned());
    }
    let number = |part: &str| {
        parse_port_number(part).ok_or_else(|| {
            let why = if part.bytes().all(|b| b.is_ascii_digit()) && !part.is_empty() {
                "value out of range"
            } else {
                "invalid syntax"
            };
            format!("strconv.ParseUint: parsing \"{part}\": {why}")
        })
    };
    let mut parts = text.split('-');
    let start = number(parts.next().unwrap_or_default())?;
    let Some(end) = parts.next() else {
        return Ok((start, start));
    };
    let end = number(end)?;
    if end < start {
        return Err(format!("Invalid range specified for the Port: {text}"));
    }
    Ok((start, end))
}

/// A published port's host side once resolved: the address and the port pasta listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PublishedBinding {
    /// The host address (`0.0.0.0` for all IPv4 addresses).
    pub host_ip: IpAddr,
    /// The host port.
    pub host_port: u16,
}

/// Every exposed port and, for the published ones, where the host serves it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedPorts {
    /// Each exposed port; an empty list means exposed but not published.
    pub ports: BTreeMap<ContainerPort, Vec<PublishedBinding>>,
}

impl PublishedPorts {
    /// Resolves what to publish before the container starts, as Docker's
    /// daemon does: each requested binding (its address, or `0.0.0.0`; its
    /// port, or an ephemeral one, or the first free one of its range), and
    /// with `publish_all` (`-P`) every exposed port without a binding on an
    /// ephemeral port. Every host port is checked free by binding it; a taken
    /// one is Docker's "port is already allocated", nothing is started.
    pub fn resolve(specs: &PortSpecs, publish_all: bool) -> Result<Self> {
        let ephemeral = ephemeral_port_range();
        let mut resolved = Self::default();
        for port in &specs.exposed {
            let requested = specs.bindings.get(port).cloned().unwrap_or_default();
            let requested = if requested.is_empty() && publish_all {
                vec![PortBinding::default()]
            } else {
                requested
            };
            let mut bindings = Vec::new();
            for binding in &requested {
                if port.protocol == Protocol::Sctp {
                    return Err(Error::SctpNotPublishable { port: *port });
                }
                bindings.push(resolve_binding(*port, binding, ephemeral, &resolved)?);
            }
            resolved.ports.insert(*port, bindings);
        }
        Ok(resolved)
    }

    /// Whether any port is published.
    pub fn is_published(&self) -> bool {
        self.ports.values().any(|bindings| !bindings.is_empty())
    }

    /// `NetworkSettings.Ports` as Docker writes it:
    /// `{"443/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}`.
    pub fn network_settings_json(&self) -> Value {
        let map: Map<String, Value> = self
            .ports
            .iter()
            .map(|(port, bindings)| {
                let value = if bindings.is_empty() {
                    Value::Null
                } else {
                    bindings
                        .iter()
                        .map(|binding| {
                            json!({"HostIp": binding.host_ip.to_string(), "HostPort": binding.host_port.to_string()})
                        })
                        .collect()
                };
                (port.to_string(), value)
            })
            .collect();
        Value::Object(map)
    }

    /// `docker port CONTAINER` lines (docker 20.10's form, in port order):
    /// `80/tcp -> 0.0.0.0:8080`.
    pub fn port_lines(&self) -> Vec<String> {
        self.ports
            .iter()
            .flat_map(|(port, bindings)| {
                bindings.iter().map(move |binding| {
                    format!("{port} -> {}:{}", binding.host_ip, binding.host_port)
                })
            })
            .collect()
    }

    /// `docker port CONTAINER PORT` lines (`0.0.0.0:8080`), or `None` when
    /// the port is not published (Docker's "No public port '80/tcp' published for …").
    pub fn host_addresses(&self, port: ContainerPort) -> Option<Vec<String>> {
        let bindings = self
            .ports
            .get(&port)
            .filter(|bindings| !bindings.is_empty())?;
        Some(
            bindings
                .iter()
                .map(|binding| format!("{}:{}", binding.host_ip, binding.host_port))
                .collect(),
        )
    }

    /// The PORTS column of `docker ps` (docker/cli's `DisplayablePorts`):
    /// `0.0.0.0:8080->80/tcp, 443/udp`, runs of ports collapsed into ranges.
    pub fn ps_column(&self) -> String {
        let mut ports: Vec<DisplayPort> = self
            .ports
            .iter()
            .flat_map(|(port, bindings)| {
                let unpublished = bindings.is_empty().then_some(DisplayPort {
                    private: port.port,
                    public: 0,
                    protocol: port.protocol.name(),
                    ip: String::new(),
                });
                unpublished
                    .into_iter()
                    .chain(bindings.iter().map(|binding| DisplayPort {
                        private: port.port,
                        public: binding.host_port,
                        protocol: port.protocol.name(),
                        ip: binding.host_ip.to_string(),
                    }))
            })
            .collect();
        displayable_ports(&mut ports)
    }

    /// pasta's `-t`/`-u` arguments for the published ports (`none` when
    /// there are none, which also spares pasta's scan of bound ports).
    pub fn pasta_arguments(&self) -> Vec<String> {
        let mut tcp = Vec::new();
        let mut udp = Vec::new();
        for (port, bindings) in &self.ports {
            for binding in bindings {
                let address = if binding.host_ip.is_unspecified() {
                    String::new()
                } else {
                    format!("{}/", binding.host_ip)
                };
                let spec = format!("{address}{}:{}", binding.host_port, port.port);
                match port.protocol {
                    Protocol::Udp => udp.push(spec),
                    _ => tcp.push(spec),
                }
            }
        }
        let mut arguments = Vec::new();
        for (flag, specs) in [("-t", tcp), ("-u", udp)] {
            if specs.is_empty() {
                arguments.extend([flag.to_owned(), "none".to_owned()]);
            }
            for spec in specs {
                arguments.extend([flag.to_owned(), spec]);
            }
        }
        arguments
    }
}

/// One row of docker/cli's `types.Port` list.
struct DisplayPort {
    private: u16,
    public: u16,
    protocol: &'static str,
    ip: String,
}

/// docker/cli's `DisplayablePorts`, step by step (its grouping quirks included).
fn displayable_ports(ports: &mut [DisplayPort]) -> String {
    ports.sort_by(|a, b| {
        (a.private, &a.ip, a.public, a.protocol).cmp(&(b.private, &b.ip, b.public, b.protocol))
    });
    let mut groups: BTreeMap<String, (u16, u16)> = BTreeMap::new();
    let mut group_order: Vec<String> = Vec::new();
    let mut result = Vec::new();
    let mut host_mappings = Vec::new();
    for port in ports.iter() {
        let mut key = port.protocol.to_owned();
        if !port.ip.is_empty() {
            if port.public != port.private {
                host_mappings.push(format!(
                    "{}:{}->{}/{}",
                    port.ip, port.public, port.private, port.protocol
                ));
                continue;
            }
            key = format!("{}/{}", port.ip, port.protocol);
        }
        let current = port.private;
        match groups.get_mut(&key) {
            None => {
                groups.insert(key.clone(), (current, current));
                group_order.push(key);
            }
            Some(group) if u32::from(current) == u32::from(group.1) + 1 => group.1 = current,
            Some(group) => {
                result.push(form_group(&key, group.0, group.1));
                *group = (current, current);
            }
        }
    }
    for key in &group_order {
        if let Some(&(first, last)) = groups.get(key) {
            result.push(form_group(key, first, last));
        }
    }
    result.extend(host_mappings);
    result.join(", ")
}

fn form_group(key: &str, first: u16, last: u16) -> String {
    let parts: Vec<&str> = key.split('/').collect();
    let (ip, protocol) = match parts.as_slice() {
        [ip, protocol, ..] => (*ip, *protocol),
        _ => ("", key),
    };
    let mut group = first.to_string();
    if first != last {
        group = format!("{group}-{last}");
    }
    if !ip.is_empty() {
        group = format!("{ip}:{group}->{group}");
    }
    format!("{group}/{protocol}")
}

/// The kernel's ephemeral port range (`/proc/sys/net/ipv4/ip_local_port_range`),
/// Docker's 49153-65535 when it cannot be read.
pub fn ephemeral_port_range() -> (u16, u16) {
    let text =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let mut numbers = text.split_whitespace().map(str::parse::<u16>);
    match (numbers.next(), numbers.next()) {
        (Some(Ok(start)), Some(Ok(end))) if start <= end && start > 0 => (start, end),
        _ => (49153, 65535),
    }
}

/// One requested binding made concrete: its address and a free port.
fn resolve_binding(
    port: ContainerPort,
    binding: &PortBinding,
    ephemeral: (u16, u16),
    taken: &PublishedPorts,
) -> Result<PublishedBinding> {
    let host_ip = match binding.host_ip.as_str() {
        "" => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        text => text.parse().map_err(|_| Error::InvalidIpAddress {
            address: text.to_owned(),
        })?,
    };
    if host_ip.is_ipv6() {
        return Err(Error::Ipv6NotPublishable {
            port,
            address: host_ip,
        });
    }
    let (start, end) = match binding.host_port.as_str() {
        "" | "0" => ephemeral,
        text => parse_port_range(text).ok_or_else(|| Error::InvalidHostPort {
            port: text.to_owned(),
        })?,
    };
    let is_range = start != end || binding.host_port.is_empty() || binding.host_port == "0";
    let unprivileged = unprivileged_port_start();
    for candidate in start..=end {
        if candidate < unprivileged {
            if is_range {
                continue;
            }
            return Err(Error::PrivilegedPort {
                port: candidate,
                start: unprivileged,
            });
        }
        let chosen = PublishedBinding {
            host_ip,
            host_port: candidate,
        };
        let ours = taken_by(taken, port.protocol, chosen);
        if !ours && port_is_free(port.protocol, host_ip, candidate) {
            return Ok(chosen);
        }
        if !is_range {
            return Err(Error::PortAllocated {
                address: host_ip,
                port: candidate,
            });
        }
    }
    Err(Error::NoFreePort { port })
}

/// The lowest host port a container may publish: 0 for root; rootless,
/// pasta binds as the user, so the system's
/// `net.ipv4.ip_unprivileged_port_start` (1024 by default).
fn unprivileged_port_start() -> u16 {
    if !strata_fs::in_user_namespace() {
        return 0;
    }
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(1024)
}

/// Whether an earlier binding of the same container already holds this host port.
fn taken_by(published: &PublishedPorts, protocol: Protocol, candidate: PublishedBinding) -> bool {
    published.ports.iter().any(|(port, bindings)| {
        port.protocol == protocol
            && bindings.iter().any(|binding| {
                binding.host_port == candidate.host_port
                    && (binding.host_ip == candidate.host_ip
                        || binding.host_ip.is_unspecified()
                        || candidate.host_ip.is_unspecified())
            })
    })
}

/// Binds the port (and closes it) to learn whether it is free: on the
/// address, and for `0.0.0.0` also on `::` as Docker would bind both.
fn port_is_free(protocol: Protocol, address: IpAddr, port: u16) -> bool {
    let mut addresses = vec![address];
    if address.is_unspecified() && ipv6_listenable() {
        addresses.push(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
    }
    addresses.into_iter().all(|address| {
        let socket = SocketAddr::new(address, port);
        match protocol {
            Protocol::Udp => UdpSocket::bind(socket).is_ok(),
            // std sets SO_REUSEADDR, as Docker's proxy and pasta do.
            _ => TcpListener::bind(socket).is_ok(),
        }
    })
}

/// Whether the host can listen on IPv6 (Docker's `IsV6Listenable`).
fn ipv6_listenable() -> bool {
    TcpListener::bind((Ipv6Addr::LOCALHOST, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(port: u16) -> ContainerPort {
        ContainerPort::new(port, Protocol::Tcp)
    }

    fn udp(port: u16) -> ContainerPort {
        ContainerPort::new(port, Protocol::Udp)
    }

    fn binding(ip: &str, port: &str) -> PortBinding {
        PortBinding {
            host_ip: ip.to_owned(),
            host_port: port.to_owned(),
        }
    }

    fn parsed(spec: &str) -> Vec<(String, String, String)> {
        let specs = parse_publish(&[spec]).unwrap();
        specs
            .bindings
            .iter()
            .flat_map(|(port, bindings)| {
                bindings
                    .iter()
                    .map(|b| (port.to_string(), b.host_ip.clone(), b.host_port.clone()))
            })
            .collect()
    }

    fn row(port: &str, ip: &str, host: &str) -> (String, String, String) {
        (port.to_owned(), ip.to_owned(), host.to_owned())
    }

    #[test]
    fn every_spec_form_parses_as_dockers() {
        assert_eq!(parsed("80"), [row("80/tcp", "", "")]);
        assert_eq!(parsed("8080:80"), [row("80/tcp", "", "8080")]);
        assert_eq!(parsed("8080:80/udp"), [row("80/udp", "", "8080")]);
        assert_eq!(parsed("8080:80/UDP"), [row("80/udp", "", "8080")]);
        assert_eq!(parsed("80/tcp"), [row("80/tcp", "", "")]);
        assert_eq!(
            parsed("127.0.0.1:8080:80"),
            [row("80/tcp", "127.0.0.1", "8080")]
        );
        assert_eq!(parsed("127.0.0.1::80"), [row("80/tcp", "127.0.0.1", "")]);
        assert_eq!(parsed("[::1]:8080:80"), [row("80/tcp", "::1", "8080")]);
        assert_eq!(parsed(":80"), [row("80/tcp", "", "")]);
        assert_eq!(parsed("0:80"), [row("80/tcp", "", "0")]);
        assert_eq!(parsed("8080:0"), [row("0/tcp", "", "8080")]);
        assert_eq!(
            parsed("8000-8001:80-81"),
            [row("80/tcp", "", "8000"), row("81/tcp", "", "8001")]
        );
        assert_eq!(
            parsed("80-81"),
            [row("80/tcp", "", ""), row("81/tcp", "", "")]
        );
        assert_eq!(parsed("8080-8081:80"), [row("80/tcp", "", "8080-8081")]);
        assert_eq!(
            parsed("80-81-99"),
            [row("80/tcp", "", ""), row("81/tcp", "", "")]
        );
        assert_eq!(parsed("80/tcp/extra"), [row("80/tcp", "", "")]);
        assert_eq!(
            parsed("target=80,published=8080,protocol=udp"),
            [row("80/udp", "", "8080")]
        );
        assert_eq!(parsed("target=80"), [row("80/tcp", "", "")]);
        assert_eq!(parsed("80/sctp"), [row("80/sctp", "", "")]);
    }

    #[test]
    fn repeated_ports_collect_their_bindings() {
        let specs = parse_publish(&["8080:80", "127.0.0.1:9090:80", "53:53/udp"]).unwrap();
        assert_eq!(specs.exposed, BTreeSet::from([tcp(80), udp(53)]));
        assert_eq!(
            specs.bindings[&tcp(80)],
            [binding("", "8080"), binding("127.0.0.1", "9090")]
        );
        assert_eq!(
            specs.port_bindings_json().to_string(),
            r#"{"53/udp":[{"HostIp":"","HostPort":"53"}],"80/tcp":[{"HostIp":"","HostPort":"8080"},{"HostIp":"127.0.0.1","HostPort":"9090"}]}"#
        );
        assert_eq!(
            specs.exposed_ports_json().to_string(),
            r#"{"53/udp":{},"80/tcp":{}}"#
        );
    }

    #[test]
    fn bad_specs_get_docker_2010s_messages() {
        let table = [
            ("abc", "invalid containerPort: abc"),
            ("99999:80", "invalid hostPort: 99999"),
            ("80:abc", "invalid containerPort: abc"),
            ("1.2.3:80:80", "invalid IP address: 1.2.3"),
            ("8080:80/sctpx", "invalid proto: sctpx"),
            ("80/tcp:80", "invalid hostPort: 80/tcp"),
            ("8080:", "no port specified: 8080:<empty>"),
            ("", "no port specified: <empty>"),
            (
                "8000-8001:80-82",
                "invalid ranges specified for container and host Ports: 80-82 and 8000-8001",
            ),
            ("81-80", "invalid containerPort: 81-80"),
            ("+80", "invalid containerPort: +80"),
            (
                "[::1:80:80",
                "invalid IP address [::1: address [::1:: missing ']' in address",
            ),
            (
                "::1:80:80",
                "invalid IP address ::1: address ::1:: too many colons in address",
            ),
            (
                "[::1]x:80:80",
                "invalid IP address [::1]x: address [::1]x:: missing port in address",
            ),
            (
                "published=80,x",
                "invalid publish opts format (should be name=value but got 'x')",
            ),
        ];
        for (spec, message) in table {
            assert_eq!(
                parse_publish(&[spec]).unwrap_err().to_string(),
                message,
                "{spec}"
            );
        }
    }

    #[test]
    fn expose_reads_ports_and_ranges() {
        let exposed = parse_expose(&["80", "443/udp", "8000-8002/tcp"]).unwrap();
        assert_eq!(
            exposed,
            BTreeSet::from([tcp(80), udp(443), tcp(8000), tcp(8001), tcp(8002)])
        );
        assert_eq!(
            parse_expose(&["80:80"]).unwrap_err().to_string(),
            "invalid port format for --expose: 80:80"
        );
        assert_eq!(
            parse_expose(&["abc"]).unwrap_err().to_string(),
            r#"invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax"#
        );
        assert_eq!(
            parse_expose(&["90-80"]).unwrap_err().to_string(),
            "invalid range format for --expose: 90-80, error: Invalid range specified for the Port: 90-80"
        );
        assert_eq!("443/udp".parse::<ContainerPort>().unwrap(), udp(443));
        assert_eq!("80".parse::<ContainerPort>().unwrap(), tcp(80));
    }

    fn published(entries: &[(ContainerPort, &[(&str, u16)])]) -> PublishedPorts {
        PublishedPorts {
            ports: entries
                .iter()
                .map(|(port, bindings)| {
                    let bindings = bindings
                        .iter()
                        .map(|(ip, host_port)| PublishedBinding {
                            host_ip: ip.parse().unwrap(),
                            host_port: *host_port,
                        })
                        .collect();
                    (*port, bindings)
                })
                .collect(),
        }
    }

    #[test]
    fn published_ports_show_as_docker_shows_them() {
        let ports = published(&[
            (tcp(80), &[("0.0.0.0", 8080)]),
            (udp(443), &[]),
            (tcp(22), &[("127.0.0.1", 2222)]),
        ]);
        assert_eq!(
            ports.network_settings_json().to_string(),
            r#"{"22/tcp":[{"HostIp":"127.0.0.1","HostPort":"2222"}],"443/udp":null,"80/tcp":[{"HostIp":"0.0.0.0","HostPort":"8080"}]}"#
        );
        assert_eq!(
            ports.port_lines(),
            ["22/tcp -> 127.0.0.1:2222", "80/tcp -> 0.0.0.0:8080"]
        );
        assert_eq!(ports.host_addresses(tcp(80)).unwrap(), ["0.0.0.0:8080"]);
        assert_eq!(ports.host_addresses(udp(443)), None);
        assert_eq!(ports.host_addresses(tcp(81)), None);
        assert_eq!(
            ports.ps_column(),
            "443/udp, 127.0.0.1:2222->22/tcp, 0.0.0.0:8080->80/tcp"
        );
        assert_eq!(
            ports.pasta_arguments(),
            ["-t", "127.0.0.1/2222:22", "-t", "8080:80", "-u", "none"]
        );
    }

    #[test]
    fn ps_collapses_runs_as_docker_cli_does() {
        // Same host and container ports are grouped into ranges per address;
        // a group broken by a gap is written first (docker/cli's order).
        let ports = published(&[
            (tcp(8000), &[("0.0.0.0", 8000)]),
            (tcp(8001), &[("0.0.0.0", 8001)]),
            (tcp(8002), &[("0.0.0.0", 8002)]),
            (tcp(9000), &[]),
            (tcp(9001), &[]),
            (tcp(9005), &[]),
            (udp(53), &[("0.0.0.0", 5353)]),
        ]);
        assert_eq!(
            ports.ps_column(),
            "9000-9001/tcp, 0.0.0.0:8000-8002->8000-8002/tcp, 9005/tcp, 0.0.0.0:5353->53/udp"
        );
        assert_eq!(PublishedPorts::default().ps_column(), "");
        // Docker's display for both families (what 20.10 shows with IPv6 on).
        let both = published(&[(tcp(80), &[("0.0.0.0", 8080), ("::", 8080)])]);
        assert_eq!(both.ps_column(), "0.0.0.0:8080->80/tcp, :::8080->80/tcp");
    }

    #[test]
    fn requested_ports_are_kept_and_ephemeral_ones_come_from_the_kernels_range() {
        let port = strata_test::free_port();
        let specs = parse_publish(&[
            format!("{port}:80"),
            "443".to_owned(),
            "127.0.0.1::53/udp".to_owned(),
        ])
        .unwrap();
        let resolved = PublishedPorts::resolve(&specs, false).unwrap();
        assert_eq!(
            resolved.host_addresses(tcp(80)).unwrap(),
            [format!("0.0.0.0:{port}")]
        );
        let (start, end) = ephemeral_port_range();
        let ephemeral = resolved.ports[&tcp(443)][0];
        assert!(
            (start..=end).contains(&ephemeral.host_port),
            "{ephemeral:?}"
        );
        assert!(ephemeral.host_ip.is_unspecified());
        let dns = resolved.ports[&udp(53)][0];
        assert_eq!(dns.host_ip, IpAddr::V4(Ipv4Addr::LOCALHOST));
        assert!((start..=end).contains(&dns.host_port));
    }

    #[test]
    fn publish_all_publishes_every_exposed_port() {
        let port = strata_test::free_port();
        let mut specs = parse_publish(&[format!("{port}:80")]).unwrap();
        specs.exposed.extend([udp(443), tcp(22)]);
        let without = PublishedPorts::resolve(&specs, false).unwrap();
        assert!(without.ports[&udp(443)].is_empty());
        assert!(without.ports[&tcp(22)].is_empty());
        assert!(without.is_published());
        let with = PublishedPorts::resolve(&specs, true).unwrap();
        assert_eq!(with.ports[&tcp(80)][0].host_port, port);
        let (start, end) = ephemeral_port_range();
        for exposed in [udp(443), tcp(22)] {
            let bindings = &with.ports[&exposed];
            assert_eq!(bindings.len(), 1);
            assert!(bindings[0].host_ip.is_unspecified());
            assert!((start..=end).contains(&bindings[0].host_port));
        }
        assert!(
            !PublishedPorts::resolve(&PortSpecs::default(), true)
                .unwrap()
                .is_published()
        );
    }

    #[test]
    fn a_taken_port_is_dockers_allocated_error() {
        let listener = TcpListener::bind("0.0.0.0:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let specs = parse_publish(&[format!("{port}:80")]).unwrap();
        assert_eq!(
            PublishedPorts::resolve(&specs, false)
                .unwrap_err()
                .to_string(),
            format!("Bind for 0.0.0.0:{port} failed: port is already allocated")
        );
        // A range moves past it.
        let specs = parse_publish(&[format!("{port}-{}:80", port + 1)]).unwrap();
        if let Ok(resolved) = PublishedPorts::resolve(&specs, false) {
            assert_eq!(resolved.ports[&tcp(80)][0].host_port, port + 1);
        }
        // The same host port twice in one container is taken too.
        let other = strata_test::free_port();
        let specs = parse_publish(&[format!("{other}:80"), format!("{other}:81")]).unwrap();
        assert_eq!(
            PublishedPorts::resolve(&specs, false)
                .unwrap_err()
                .to_string(),
            format!("Bind for 0.0.0.0:{other} failed: port is already allocated")
        );
        drop(listener);
    }

    #[test]
    fn what_pasta_cannot_publish_is_a_clear_error() {
        let specs = parse_publish(&["80/sctp"]).unwrap();
        assert!(
            PublishedPorts::resolve(&specs, false)
                .unwrap_err()
                .to_string()
                .contains("sctp")
        );
        let mut unpublished = specs.clone();
        unpublished.bindings.clear();
        assert!(
            PublishedPorts::resolve(&unpublished, false).unwrap().ports
                [&ContainerPort::new(80, Protocol::Sctp)]
                .is_empty()
        );
        let specs = parse_publish(&["[::1]:8080:80"]).unwrap();
        assert!(
            PublishedPorts::resolve(&specs, false)
                .unwrap_err()
                .to_string()
                .contains("IPv4-only")
        );
    }
}
