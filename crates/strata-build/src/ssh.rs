//! `RUN --mount=type=ssh`, as BuildKit's sshforward does it: the step gets a
//! unix socket (owner and mode as asked) in a private directory of the host,
//! and a thread of the build process, outside the sandbox, relays each of
//! its connections to the `--ssh` agent, one agent message at a time, so
//! that a user's own agent can be kept read-only.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::error::{Error, Result};
use crate::options::SshAgent;

/// The agent protocol's reply to a request that was refused.
const FAILURE: u8 = 5;
/// Requests a read-only agent passes: list identities, sign, unlock
/// (BuildKit's `readOnlyAgent` refuses the rest).
const READ_ONLY_REQUESTS: [u8; 3] = [11, 13, 23];
/// The longest message relayed (Go's agent client's limit).
const MAX_MESSAGE: usize = 16 << 20;

/// A socket for one step, relaying to an agent until dropped.
pub(crate) struct Relay {
    /// The private directory holding the socket, kept to be removed on drop.
    _directory: tempfile::TempDir,
    socket: PathBuf,
    stop: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<UnixStream>>>,
    accepter: Option<JoinHandle<()>>,
}

impl Relay {
    /// Listens on a new socket owned by `uid`:`gid` with `mode` (its
    /// permission bits) and starts relaying to `agent`.
    pub(crate) fn start(agent: &SshAgent, uid: u32, gid: u32, mode: u32) -> Result<Self> {
        let directory = tempfile::Builder::new()
            .prefix(".strata-ssh-sock")
            .tempdir()
            .map_err(|e| Error::io("create", &std::env::temp_dir(), e))?;
        set_mode(directory.path(), 0o711)?;
        let socket = directory.path().join("ssh_auth_sock");
        let listener = UnixListener::bind(&socket).map_err(|e| Error::io("bind", &socket, e))?;
        std::os::unix::fs::chown(&socket, Some(uid), Some(gid))
            .map_err(|e| Error::io("chown", &socket, e))?;
        set_mode(&socket, mode & 0o777)?;
        let stop = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let accepter = {
            let (agent, stop, connections) = (agent.clone(), stop.clone(), connections.clone());
            std::thread::spawn(move || accept(&listener, &agent, &stop, &connections))
        };
        Ok(Self {
            _directory: directory,
            socket,
            stop,
            connections,
            accepter: Some(accepter),
        })
    }

    /// The socket to bind into the step.
    pub(crate) fn socket(&self) -> &Path {
        &self.socket
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // A connection of our own wakes the accepting thread; should it
        // fail, the thread is left blocked on a socket nobody can reach.
        if UnixStream::connect(&self.socket).is_ok()
            && let Some(accepter) = self.accepter.take()
        {
            let _ = accepter.join();
        }
        if let Ok(connections) = self.connections.lock() {
            for connection in connections.iter() {
                let _ = connection.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("chmod", path, e))
}

/// Accepts connections until stopped, each relayed in a thread of its own.
fn accept(
    listener: &UnixListener,
    agent: &SshAgent,
    stop: &AtomicBool,
    connections: &Mutex<Vec<UnixStream>>,
) {
    for client in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(client) = client else { continue };
        if let (Ok(mut list), Ok(clone)) = (connections.lock(), client.try_clone()) {
            list.push(clone);
        }
        let agent = agent.clone();
        std::thread::spawn(move || {
            // As BuildKit, a connection that fails is closed; the step sees EOF.
            let _ = relay(client, &agent);
        });
    }
}

/// Relays one connection: each request to the agent and its reply back,
/// refused requests answered with a failure without reaching the agent.
fn relay(mut client: UnixStream, agent: &SshAgent) -> std::io::Result<()> {
    let mut upstream = UnixStream::connect(&agent.socket)?;
    while let Some(request) = read_message(&mut client)? {
        if agent.read_only && !READ_ONLY_REQUESTS.contains(&request[0]) {
            write_message(&mut client, &[FAILURE])?;
            continue;
        }
        write_message(&mut upstream, &request)?;
        let Some(reply) = read_message(&mut upstream)? else {
            return Ok(());
        };
        write_message(&mut client, &reply)?;
    }
    Ok(())
}

/// One agent message (a big-endian length, then as many bytes); `None` at
/// the end of the stream. An empty or oversized message is an error.
fn read_message(stream: &mut impl Read) -> std::io::Result<Option<Vec<u8>>> {
    let mut length = [0u8; 4];
    match stream.read_exact(&mut length) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(error) => return Err(error),
    }
    let length = u32::from_be_bytes(length) as usize;
    if length == 0 || length > MAX_MESSAGE {
        return Err(std::io::Error::other(format!(
            "agent message of {length} bytes"
        )));
    }
    let mut message = vec![0u8; length];
    stream.read_exact(&mut message)?;
    Ok(Some(message))
}

fn write_message(stream: &mut impl Write, message: &[u8]) -> std::io::Result<()> {
    let length = u32::try_from(message.len()).map_err(std::io::Error::other)?;
    let mut framed = Vec::with_capacity(4 + message.len());
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(message);
    stream.write_all(&framed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake agent answering every request with `[request type + 100]`.
    fn fake_agent(directory: &Path) -> SshAgent {
        let socket = directory.join("agent");
        let listener = UnixListener::bind(&socket).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let mut stream = stream.unwrap();
                std::thread::spawn(move || {
                    while let Some(request) = read_message(&mut stream).unwrap() {
                        write_message(&mut stream, &[request[0] + 100]).unwrap();
                    }
                });
            }
        });
        SshAgent {
            socket,
            read_only: true,
        }
    }

    fn ask(socket: &Path, request: u8) -> Vec<u8> {
        let mut stream = UnixStream::connect(socket).unwrap();
        write_message(&mut stream, &[request, 0, 0]).unwrap();
        read_message(&mut stream).unwrap().unwrap()
    }

    #[test]
    fn requests_are_relayed_and_a_read_only_agent_refuses_changes() {
        let directory = tempfile::tempdir().unwrap();
        let mut agent = fake_agent(directory.path());
        let relay = Relay::start(&agent, 0, 0, 0o600).unwrap();
        let metadata = std::fs::metadata(relay.socket()).unwrap();
        assert_eq!(metadata.permissions().mode() & 0o777, 0o600);
        // List identities and sign pass; add identity (17) is refused.
        assert_eq!(ask(relay.socket(), 11), [111]);
        assert_eq!(ask(relay.socket(), 13), [113]);
        assert_eq!(ask(relay.socket(), 17), [FAILURE]);
        agent.read_only = false;
        let writable = Relay::start(&agent, 0, 0, 0o600).unwrap();
        assert_eq!(ask(writable.socket(), 17), [117]);
        let socket = relay.socket().to_path_buf();
        drop(relay);
        assert!(!socket.exists());
    }

    #[test]
    fn messages_are_length_framed() {
        let mut framed = Vec::new();
        write_message(&mut framed, b"\x0bab").unwrap();
        assert_eq!(framed, b"\0\0\0\x03\x0bab");
        assert_eq!(
            read_message(&mut framed.as_slice()).unwrap().unwrap(),
            b"\x0bab"
        );
        assert!(read_message(&mut &b""[..]).unwrap().is_none());
        assert!(read_message(&mut &b"\0\0\0\0"[..]).is_err());
    }
}
