//! A container's network, Docker's default `bridge` made with Debian's
//! `pasta` (passt 2023-03): an IPv4-only interface `eth0` with an address of
//! its own (Docker's 172.17.0.2/16, or the next /16 the host does not use),
//! outbound TCP, UDP and ICMP through the host, the gateway address mapped
//! to the host (Docker's `host-gateway`), DNS as Docker's (the host's
//! resolvers minus loopback ones; a loopback-only host resolver is reached
//! through pasta's DNS forwarding at the gateway), and the published ports.
//!
//! pasta as root cannot open `/proc/PID/ns/net` itself, so the namespace is
//! bind-mounted onto `<directory>/netns` first; pasta daemonizes once the
//! namespace is configured and its ports are bound (its launcher's exit means
//! ready), and quits by itself when that file is unmounted. Measured here:
//! 10-20 ms to start with every `auto` scan off (`-t none` ...), ~60 ms with
//! them on; `-4` costs nothing and keeps the container IPv4-only as Docker's
//! bridge is (pasta of this version cannot carry host IPv6 connections to a
//! container's IPv4 socket anyway).
//!
//! Limits of this pasta, measured: a TCP connection to a published port at
//! a non-loopback host address completes its handshake in the container
//! only once the client sends (HTTP works; a server-speaks-first protocol
//! stalls until the client writes), and replies to UDP datagrams sent from
//! the host's loopback are lost (at the host's other addresses they arrive).

use std::fs::File;
use std::io::ErrorKind;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::mount::{UnmountFlags, mount_bind, unmount};
use rustix::process::{Pid, Signal, kill_process};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ports::PublishedPorts;

/// The file in a container's directory the network namespace is bound onto.
pub const NETNS_FILE: &str = "netns";

/// The file pasta writes its process id to.
pub const PID_FILE: &str = "pasta.pid";

/// The program started (Debian's `passt` package).
const PROGRAM: &str = "pasta";

/// The interface name inside the container, as Docker's.
const INTERFACE: &str = "eth0";

/// The container side of the network pasta set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAddresses {
    /// The container's address on `eth0` (`NetworkSettings.IPAddress`).
    pub address: Ipv4Addr,
    /// Its prefix length (`IPPrefixLen`, 16).
    pub prefix_length: u8,
    /// The gateway (`NetworkSettings.Gateway`), mapped to the host's loopback:
    /// Docker's `host-gateway`.
    pub gateway: Ipv4Addr,
    /// `eth0`'s MAC address, Docker's form (`02:42:` and the address).
    pub mac_address: [u8; 6],
    /// Whether DNS queries to the gateway are forwarded to the host's
    /// resolver (when the host has loopback resolvers only).
    pub dns_forward: bool,
}

impl NetworkAddresses {
    /// The MAC address as Docker prints it: `02:42:ac:11:00:02`.
    pub fn mac_address_text(&self) -> String {
        self.mac_address
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The container's `/etc/resolv.conf` from the host's, as Docker's
    /// `FilterResolvDNS` makes it: loopback and IPv6 nameservers dropped; with
    /// none left, the gateway (pasta forwards there) if the host had loopback
    /// ones, else Docker's 8.8.8.8 and 8.8.4.4.
    pub fn resolv_conf(&self, host: &str) -> String {
        let mut kept = String::new();
        let mut dropped_loopback = false;
        let mut skipping_blank = false;
        for line in host.split_inclusive('\n') {
            if skipping_blank && line.trim().is_empty() {
                continue;
            }
            skipping_blank = false;
            match nameserver(line) {
                Some(server) if server.is_loopback() => {
                    dropped_loopback = true;
                    skipping_blank = true;
                }
                Some(server) if server.is_ipv6() => skipping_blank = true,
                _ => kept.push_str(line),
            }
        }
        let has_nameserver = kept.lines().any(|line| nameserver(line).is_some());
        if !has_nameserver {
            if dropped_loopback && self.dns_forward {
                kept.push_str(&format!("\nnameserver {}", self.gateway));
            } else {
                kept.push_str("\nnameserver 8.8.8.8\nnameserver 8.8.4.4");
            }
        }
        kept
    }
}

/// The address of a `nameserver` line.
fn nameserver(line: &str) -> Option<std::net::IpAddr> {
    let mut words = line.split_whitespace();
    (words.next()? == "nameserver").then_some(())?;
    words.next()?.parse().ok()
}

/// A pasta configuring a container's network namespace: its launcher exits
/// (pasta daemonizes) once the namespace is configured and its ports bound.
#[derive(Debug)]
pub struct Starting {
    child: std::process::Child,
    addresses: NetworkAddresses,
    directory: PathBuf,
}

impl Starting {
    /// Waits until pasta is ready; its error (with what it said) otherwise,
    /// and then nothing of it is left.
    pub fn wait(self) -> Result<Pasta> {
        let output = self
            .child
            .wait_with_output()
            .map_err(|source| strata_fs::Error::new("wait for", PROGRAM, source))?;
        if !output.status.success() {
            let _ = Pasta::stop(&self.directory);
            return Err(Error::PastaFailed {
                status: output.status.to_string(),
                stderr: pasta_messages(&output.stderr),
            });
        }
        Ok(Pasta {
            pid: read_pid(&self.directory.join(PID_FILE)),
            addresses: self.addresses,
            directory: self.directory,
        })
    }
}

/// A running pasta serving one container's network namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pasta {
    /// pasta's process id (after it daemonized).
    pub pid: Option<i32>,
    /// The addresses it configured.
    pub addresses: NetworkAddresses,
    /// The container directory holding the `netns` and `pasta.pid` files.
    pub directory: PathBuf,
}

impl Pasta {
    /// Connects the network namespace of process `netns_pid` (the
    /// container's PID 1, not yet running its command) and publishes `ports`;
    /// returns once the namespace is configured and the ports are bound. The
    /// namespace is bound onto `directory/netns`; [`Pasta::stop`] undoes it all.
    pub fn start(netns_pid: i32, ports: &PublishedPorts, directory: &Path) -> Result<Self> {
        Self::stop(directory)?;
        let netns = directory.join(NETNS_FILE);
        bind_namespace(netns_pid, &netns)?;
        Self::spawn(ports, directory)?.wait()
    }

    /// Starts connecting the network namespace already bound onto
    /// `directory/netns` (by [`strata_sandbox::new_network_namespace`]) and
    /// publishing `ports`, without waiting: [`Starting::wait`] says when it
    /// is done. The container's PID 1 can be set up meanwhile.
    pub fn spawn(ports: &PublishedPorts, directory: &Path) -> Result<Starting> {
        // Rootless, /dev/net/tun is opened with the user's own rights.
        if strata_fs::in_user_namespace() && !tun_usable() {
            return Err(Error::TunUnavailable);
        }
        let netns = directory.join(NETNS_FILE);
        let addresses = choose_addresses()?;
        let pid_file = directory.join(PID_FILE);
        let mut command = pasta_command();
        command
            .args(["-q", "--runas", "0", "--config-net", "-4", "-I", INTERFACE])
            .arg("--ns-mac-addr")
            .arg(addresses.mac_address_text())
            .arg("-a")
            .arg(addresses.address.to_string())
            .arg("-n")
            .arg(addresses.prefix_length.to_string())
            .arg("-g")
            .arg(addresses.gateway.to_string());
        if addresses.dns_forward {
            command
                .arg("--dns-forward")
                .arg(addresses.gateway.to_string());
        }
        command
            .args(ports.pasta_arguments())
            .args(["-T", "none", "-U", "none", "--netns"])
            .arg(&netns)
            .arg("--pid")
            .arg(&pid_file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let child = command.spawn().map_err(|source| match source.kind() {
            ErrorKind::NotFound => Error::PastaMissing,
            _ => strata_fs::Error::new("run", PROGRAM, source).into(),
        });
        let child = match child {
            Ok(child) => child,
            Err(error) => {
                let _ = Self::stop(directory);
                return Err(error);
            }
        };
        Ok(Starting {
            child,
            addresses,
            directory: directory.to_owned(),
        })
    }

    /// Disconnects the container's network: unmounts and removes the
    /// `netns` file (pasta then quits by itself) and ends the pasta whose
    /// pid is in the pid file if it still runs. Idempotent, and works from any
    /// process (`strata rm` after the monitor was killed).
    pub fn stop(directory: &Path) -> Result<()> {
        Self::stop_and_wait(directory, true)
    }

    /// [`Pasta::stop`], waiting for pasta's exit only when `wait`: a pasta
    /// that publishes no port holds nothing another container could want,
    /// and its exit takes ~20 ms.
    pub fn stop_and_wait(directory: &Path, wait: bool) -> Result<()> {
        let netns = directory.join(NETNS_FILE);
        unmount_all(&netns)?;
        match std::fs::remove_file(&netns) {
            Err(error) if error.kind() != ErrorKind::NotFound => {
                return Err(strata_fs::Error::new("remove", &netns, error).into());
            }
            _ => {}
        }
        let pid_file = directory.join(PID_FILE);
        if let Some(pid) = read_pid(&pid_file) {
            end_pasta(pid, wait);
        }
        match std::fs::remove_file(&pid_file) {
            Err(error) if error.kind() != ErrorKind::NotFound => {
                Err(strata_fs::Error::new("remove", &pid_file, error).into())
            }
            _ => Ok(()),
        }
    }
}

/// Whether this process may open `/dev/net/tun`, which pasta needs (root
/// always; rootless, only when the device is open to the user).
pub fn tun_usable() -> bool {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
        .is_ok()
}

/// Whether pasta is installed (`pasta` on the `PATH`).
pub fn pasta_installed() -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|directory| directory.join(PROGRAM).is_file())
    })
}

/// The command that runs pasta. Debian's `pasta` is `passt` named so; on
/// a CPU with AVX2 it first re-executes itself as `passt.avx2`: that build is
/// started directly (named `pasta`, which is what makes it pasta), one exec
/// fewer on every container start.
fn pasta_command() -> Command {
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = Path::new("/usr/bin/passt.avx2");
        if std::arch::is_x86_feature_detected!("avx2") && avx2.is_file() {
            let mut command = Command::new(avx2);
            std::os::unix::process::CommandExt::arg0(&mut command, PROGRAM);
            return command;
        }
    }
    Command::new(PROGRAM)
}

/// Binds `/proc/PID/ns/net` onto `target` (created empty).
fn bind_namespace(pid: i32, target: &Path) -> Result<()> {
    File::create(target).map_err(|source| strata_fs::Error::new("create", target, source))?;
    let source = PathBuf::from(format!("/proc/{pid}/ns/net"));
    mount_bind(&source, target).map_err(|error| {
        strata_fs::Error::new("bind network namespace onto", target, error.into()).into()
    })
}

/// Unmounts every mount stacked on `path`; nothing mounted is fine.
fn unmount_all(path: &Path) -> Result<()> {
    loop {
        match unmount(path, UnmountFlags::DETACH) {
            Ok(()) => continue,
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOENT) => return Ok(()),
            Err(error) => {
                return Err(strata_fs::Error::new("unmount", path, error.into()).into());
            }
        }
    }
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Ends pasta `pid` if that process is still pasta: SIGKILL at once (it
/// holds nothing worth a graceful end, and its own exit once its namespace
/// file goes took ~30 ms), then waits briefly until it is gone, so that its
/// published ports are free when this returns.
fn end_pasta(pid: i32, wait: bool) {
    let Some(process) = Pid::from_raw(pid) else {
        return;
    };
    if !is_pasta(pid) {
        return;
    }
    let _ = kill_process(process, Signal::KILL);
    if !wait {
        return;
    }
    let deadline = Instant::now() + Duration::from_secs(1);
    while is_pasta(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// Whether `pid` is a live (not zombie) pasta, so that a recycled pid is never signalled.
fn is_pasta(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) state ...": comm may hold spaces and parentheses.
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let command = &stat[open + 1..close];
    let state = stat[close + 1..].split_whitespace().next().unwrap_or("");
    (command.starts_with("pasta") || command.starts_with("passt")) && state != "Z" && state != "X"
}

/// pasta's stderr without the noise of its failed syslog sends.
fn pasta_messages(stderr: &[u8]) -> String {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|line| !(line.starts_with("Failed to send") && line.ends_with("to syslog")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Docker's `172.17.0.0/16` unless the host routes it (its own docker0, say):
/// then the next of 172.18-31.0.0/16, then podman's 10.88.0.0/16 and a few
/// more; the container is `.0.2`, the gateway `.0.1`.
fn choose_addresses() -> Result<NetworkAddresses> {
    let routes = host_routes();
    let candidates = (17..=31)
        .map(|second| Ipv4Addr::new(172, second, 0, 0))
        .chain((88..=99).map(|second| Ipv4Addr::new(10, second, 0, 0)));
    for network in candidates {
        let overlaps = routes.iter().any(|&(destination, mask)| {
            let common = mask & 0xffff_0000;
            u32::from(network) & common == destination & common
        });
        if !overlaps {
            let base = u32::from(network);
            let address = Ipv4Addr::from(base + 2);
            let octets = address.octets();
            return Ok(NetworkAddresses {
                address,
                prefix_length: 16,
                gateway: Ipv4Addr::from(base + 1),
                mac_address: [0x02, 0x42, octets[0], octets[1], octets[2], octets[3]],
                dns_forward: host_resolvers_are_loopback(),
            });
        }
    }
    Err(Error::NoFreeSubnet)
}

/// The host's IPv4 routes (destination, mask) but the default one, from `/proc/net/route`.
fn host_routes() -> Vec<(u32, u32)> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let destination = u32::from_str_radix(fields.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(fields.get(7)?, 16).ok()?;
            // The file prints the network-order bytes as a native-endian word.
            let host_order = |word: u32| u32::from_be_bytes(word.to_ne_bytes());
            Some((host_order(destination), host_order(mask)))
        })
        .filter(|&(_, mask)| mask != 0)
        .collect()
}

/// Whether the host's resolv.conf names loopback resolvers only (systemd-resolved's 127.0.0.53).
fn host_resolvers_are_loopback() -> bool {
    let text = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let servers: Vec<_> = text.lines().filter_map(nameserver).collect();
    !servers.is_empty() && servers.iter().all(|server| server.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addresses(dns_forward: bool) -> NetworkAddresses {
        NetworkAddresses {
            address: Ipv4Addr::new(172, 17, 0, 2),
            prefix_length: 16,
            gateway: Ipv4Addr::new(172, 17, 0, 1),
            mac_address: [0x02, 0x42, 172, 17, 0, 2],
            dns_forward,
        }
    }

    #[test]
    fn resolv_conf_is_dockers_filtered_copy() {
        let host = "search example.com\nnameserver 127.0.0.53\n\nnameserver 10.0.0.1\nnameserver fd00::1\noptions edns0\n";
        assert_eq!(
            addresses(false).resolv_conf(host),
            "search example.com\nnameserver 10.0.0.1\noptions edns0\n"
        );
        assert_eq!(
            addresses(false).resolv_conf("nameserver 127.0.0.53\n"),
            "\nnameserver 8.8.8.8\nnameserver 8.8.4.4"
        );
        assert_eq!(
            addresses(true).resolv_conf("search lan\nnameserver 127.0.0.53\n"),
            "search lan\n\nnameserver 172.17.0.1"
        );
        assert_eq!(
            addresses(true).resolv_conf(""),
            "\nnameserver 8.8.8.8\nnameserver 8.8.4.4"
        );
    }

    #[test]
    fn mac_addresses_are_dockers_form() {
        assert_eq!(addresses(false).mac_address_text(), "02:42:ac:11:00:02");
    }

    #[test]
    fn the_subnet_avoids_the_hosts_routes() {
        let chosen = choose_addresses().unwrap();
        let network = u32::from(chosen.address) & 0xffff_0000;
        for (destination, mask) in host_routes() {
            let common = mask & 0xffff_0000;
            assert_ne!(network & common, destination & common, "{chosen:?}");
        }
        assert_eq!(u32::from(chosen.gateway) + 1, u32::from(chosen.address));
        // Every connected route the host has is among them (eth0's, docker0's ...).
        let text = std::fs::read_to_string("/proc/net/route").unwrap();
        let connected = text
            .lines()
            .skip(1)
            .filter(|line| line.split_whitespace().nth(7) != Some("00000000"));
        assert_eq!(connected.count(), host_routes().len());
    }

    #[test]
    fn syslog_noise_is_dropped_from_pastas_messages() {
        let stderr =
            b"Failed to send 57 bytes to syslog\nFailed to bind any port for '-t 80:80', exiting\n";
        assert_eq!(
            pasta_messages(stderr),
            "Failed to bind any port for '-t 80:80', exiting"
        );
    }
}
