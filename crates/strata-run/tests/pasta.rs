//! pasta connecting a real network namespace: published ports answer from
//! the host, the container reaches the host, stop leaves nothing behind.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use strata_run::{Pasta, PublishedPorts, parse_publish};

/// A process in a network namespace of its own (`unshare --net sleep`), as
/// a container's PID 1 would be.
struct Namespace {
    child: Child,
}

impl Namespace {
    fn new() -> Self {
        let child = Command::new("unshare")
            .args(["--net", "sleep", "60"])
            .spawn()
            .expect("unshare");
        let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        while std::fs::read_link(format!("/proc/{}/ns/net", child.id())).ok() == Some(ours.clone())
        {
            assert!(
                Instant::now() < deadline,
                "unshare did not make a namespace"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        Self { child }
    }

    fn pid(&self) -> i32 {
        self.child.id() as i32
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `work` on a thread that has entered the network namespace bound at `netns`.
fn in_namespace<T: Send + 'static>(
    netns: &Path,
    work: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let file = std::fs::File::open(netns).unwrap();
    std::thread::spawn(move || {
        rustix::thread::move_into_link_name_space(
            file.as_fd(),
            Some(rustix::thread::LinkNameSpaceType::Network),
        )
        .unwrap();
        work()
    })
}

/// Stops pasta even when an assertion fails, so no test leaves one behind.
struct StopOnDrop(PathBuf);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = Pasta::stop(&self.0);
    }
}

/// A free host port, published to `container` ("80" or "5353/udp").
fn publish_free(container: &str) -> (u16, PublishedPorts) {
    let port = strata_test::free_port();
    let specs = parse_publish(&[format!("{port}:{container}")]).unwrap();
    (port, PublishedPorts::resolve(&specs, false).unwrap())
}

/// The host's first global IPv4 address (not loopback).
fn host_address() -> Option<Ipv4Addr> {
    let output = Command::new("ip")
        .args(["-4", "-o", "addr", "show", "scope", "global"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let word = text
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)?;
    word.split('/').next()?.parse().ok()
}

/// Connects, sends `hello`, and reads the reply to its end.
fn request(address: SocketAddr) -> String {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(3)).unwrap();
    stream.write_all(b"hello").unwrap();
    read_to_end(stream)
}

/// Connects and reads what the server says to the end.
fn read_reply(address: SocketAddr) -> String {
    read_to_end(TcpStream::connect_timeout(&address, Duration::from_secs(3)).unwrap())
}

fn read_to_end(mut stream: TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

fn mounted(path: &Path) -> bool {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let wanted = path.display().to_string();
    mountinfo
        .lines()
        .any(|line| line.split(' ').nth(4) == Some(wanted.as_str()))
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z')
    })
}

#[test]
fn published_ports_answer_and_the_container_reaches_the_host() {
    if !strata_test::should_run_as_root("pasta_published_ports") {
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let namespace = Namespace::new();
    let (host_port, ports) = publish_free("80");
    let started = Instant::now();
    let pasta = Pasta::start(namespace.pid(), &ports, directory.path()).unwrap();
    let startup = started.elapsed();
    let _stop = StopOnDrop(directory.path().to_owned());
    assert!(startup < Duration::from_secs(2), "{startup:?}");
    let netns = directory.path().join(strata_run::NETNS_FILE);
    assert!(mounted(&netns));
    let pasta_pid = pasta.pid.expect("pasta's pid file");
    assert!(alive(pasta_pid));

    // A server in the container answering two clients that speak first.
    // (pasta 2023-03 completes a handshake into the container over its tap
    // only once the client sends: a server-speaks-first protocol reached at
    // a non-loopback host address stalls; loopback connections do not.)
    let server = in_namespace(&netns, || {
        let listener = TcpListener::bind("0.0.0.0:80").unwrap();
        for _ in 0..2 {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0; 5];
            stream.read_exact(&mut request).unwrap();
            stream.write_all(b"hello from the container\n").unwrap();
        }
    });
    std::thread::sleep(Duration::from_millis(50));
    let loopback = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), host_port);
    assert_eq!(request(loopback), "hello from the container\n");
    let host = host_address().expect("a global IPv4 address on the host");
    assert_eq!(
        request(SocketAddr::new(IpAddr::V4(host), host_port)),
        "hello from the container\n"
    );
    server.join().unwrap();

    // A host listener reached from inside: through the gateway (the
    // host's loopback) and at the host's own address.
    let listener = TcpListener::bind("0.0.0.0:0").unwrap();
    let listening = listener.local_addr().unwrap().port();
    let host_server = std::thread::spawn(move || {
        let mut peers = Vec::new();
        for _ in 0..2 {
            let (mut stream, peer) = listener.accept().unwrap();
            stream.write_all(b"hello from the host\n").unwrap();
            peers.push(peer);
        }
        peers
    });
    let gateway = pasta.addresses.gateway;
    let replies = in_namespace(&netns, move || {
        [IpAddr::V4(gateway), IpAddr::V4(host)]
            .map(|address| read_reply(SocketAddr::new(address, listening)))
    })
    .join()
    .unwrap();
    assert_eq!(replies, ["hello from the host\n", "hello from the host\n"]);
    let peers = host_server.join().unwrap();
    assert!(peers[0].ip().is_loopback(), "{peers:?}");

    // The container's side as Docker's bridge shows it.
    let link = in_namespace(&netns, || {
        Command::new("ip")
            .args(["-o", "-4", "addr", "show", "eth0"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    });
    if let Ok(text) = link.join().unwrap() {
        let expected = format!(
            "inet {}/{}",
            pasta.addresses.address, pasta.addresses.prefix_length
        );
        assert!(text.contains(&expected), "{text}");
    }

    Pasta::stop(directory.path()).unwrap();
    assert!(!mounted(&netns));
    assert!(!netns.exists());
    assert!(!alive(pasta_pid), "pasta {pasta_pid} still runs");
    assert!(
        TcpListener::bind(("0.0.0.0", host_port)).is_ok(),
        "the host port is still bound"
    );
    Pasta::stop(directory.path()).unwrap();
}

#[test]
fn a_published_udp_port_answers() {
    if !strata_test::should_run_as_root("pasta_udp") {
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let namespace = Namespace::new();
    let (host_port, ports) = publish_free("5353/udp");
    Pasta::start(namespace.pid(), &ports, directory.path()).unwrap();
    let _stop = StopOnDrop(directory.path().to_owned());
    let netns = directory.path().join(strata_run::NETNS_FILE);
    let server = in_namespace(&netns, || {
        let socket = std::net::UdpSocket::bind("0.0.0.0:5353").unwrap();
        let mut buffer = [0; 64];
        let (length, peer) = socket.recv_from(&mut buffer).unwrap();
        let mut reply = b"echo ".to_vec();
        reply.extend_from_slice(&buffer[..length]);
        socket.send_to(&reply, peer).unwrap();
    });
    std::thread::sleep(Duration::from_millis(50));
    // At the host's address: pasta 2023-03 loses the replies of datagrams
    // it splices from the host's loopback (measured), so 127.0.0.1 would not do.
    let host = host_address().expect("a global IPv4 address on the host");
    let client = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    client.send_to(b"ping", (host, host_port)).unwrap();
    let mut buffer = [0; 64];
    let (length, _) = client.recv_from(&mut buffer).unwrap();
    assert_eq!(&buffer[..length], b"echo ping");
    server.join().unwrap();
}

#[test]
fn pasta_failing_to_bind_reports_why_and_leaves_nothing() {
    if !strata_test::should_run_as_root("pasta_bind_failure") {
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let namespace = Namespace::new();
    let (port, ports) = publish_free("80");
    // Taken between the check and the start.
    let _holder = TcpListener::bind(("0.0.0.0", port)).unwrap();
    let error = Pasta::start(namespace.pid(), &ports, directory.path()).unwrap_err();
    assert!(error.to_string().starts_with("pasta failed"), "{error}");
    assert!(error.to_string().contains(&port.to_string()), "{error}");
    let netns: PathBuf = directory.path().join(strata_run::NETNS_FILE);
    assert!(!mounted(&netns));
    assert!(!netns.exists());
}

#[test]
fn stop_without_a_start_is_fine() {
    let directory = tempfile::tempdir().unwrap();
    Pasta::stop(directory.path()).unwrap();
    Pasta::stop(directory.path()).unwrap();
}
