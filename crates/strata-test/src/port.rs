//! Free host ports for tests that listen or publish.

use std::net::{Ipv4Addr, Ipv6Addr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The lowest port handed out: above the well-known services.
const LOWEST: u32 = 10_000;

/// A port free right now for TCP and UDP, on IPv4 and (where it exists) IPv6.
///
/// It is taken from below the kernel's ephemeral range: every port the
/// kernel picks itself (`bind(0)`, the local end of a connection) comes from
/// that range, so a parallel test's connection cannot take this port between
/// the check and the test's use of it (the pasta test once lost that race).
pub fn free_port() -> u16 {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    let span = ephemeral_start().saturating_sub(LOWEST);
    if span < 1_000 {
        return kernel_port();
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let seed = std::process::id().wrapping_mul(7_919) ^ nanos;
    for _ in 0..1_000 {
        let call = CALLS.fetch_add(1, Ordering::Relaxed);
        let offset = seed.wrapping_add(call.wrapping_mul(7_919)) % span;
        let Ok(port) = u16::try_from(LOWEST + offset) else {
            continue;
        };
        if is_free(port) {
            return port;
        }
    }
    kernel_port()
}

/// The first port of `/proc/sys/net/ipv4/ip_local_port_range`.
fn ephemeral_start() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

fn is_free(port: u16) -> bool {
    let ipv6_free = match TcpListener::bind((Ipv6Addr::UNSPECIFIED, port)) {
        Ok(_) => UdpSocket::bind((Ipv6Addr::UNSPECIFIED, port)).is_ok(),
        Err(error) => error.kind() == std::io::ErrorKind::AddrNotAvailable,
    };
    ipv6_free
        && TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok()
        && UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).is_ok()
}

/// A port the kernel picks: free, but from the range connections use.
fn kernel_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_port_is_below_the_ephemeral_range_and_binds() {
        let port = free_port();
        if ephemeral_start() >= LOWEST + 1_000 {
            assert!(u32::from(port) >= LOWEST);
            assert!(u32::from(port) < ephemeral_start(), "{port}");
        }
        TcpListener::bind((Ipv4Addr::UNSPECIFIED, port)).unwrap();
        UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).unwrap();
    }
}
