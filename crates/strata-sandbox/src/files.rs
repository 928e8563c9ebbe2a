//! The /etc files a sandbox gets mounted over its root file system.

use crate::spec::Network;

/// `/etc/hosts`: localhost with the hostname, IPv6 localhost, then the extra
/// hosts, as BuildKit writes it.
pub(crate) fn hosts(hostname: &str, extra_hosts: &[(String, String)]) -> String {
    let mut text =
        format!("127.0.0.1\tlocalhost {hostname}\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    for (host, address) in extra_hosts {
        text.push_str(&format!("{address}\t{host}\n"));
    }
    text
}

/// `/etc/resolv.conf` from the host's: as is on the host network; without
/// loopback name servers (unreachable in a new network namespace) otherwise,
/// falling back to Docker's public defaults when none is left.
pub(crate) fn resolv_conf(host: &str, network: Network) -> String {
    if network == Network::Host {
        return host.to_owned();
    }
    let mut kept = String::new();
    let mut servers = 0;
    for line in host.lines() {
        let mut words = line.split_whitespace();
        if words.next() == Some("nameserver") {
            let address = words.next().unwrap_or("");
            if address.starts_with("127.") || address == "::1" {
                continue;
            }
            servers += 1;
        }
        kept.push_str(line);
        kept.push('\n');
    }
    if servers == 0 {
        kept.push_str("nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_is_buildkits() {
        assert_eq!(
            hosts("buildkitsandbox", &[("db".into(), "10.0.0.2".into())]),
            "127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.0.2\tdb\n"
        );
    }

    #[test]
    fn loopback_servers_are_dropped_off_the_host_network() {
        let host = "search lan\nnameserver 127.0.0.53\n";
        assert_eq!(resolv_conf(host, Network::Host), host);
        assert_eq!(
            resolv_conf(host, Network::None),
            "search lan\nnameserver 8.8.8.8\nnameserver 8.8.4.4\n"
        );
    }
}
