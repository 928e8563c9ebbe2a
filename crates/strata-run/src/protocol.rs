//! What commands and a container's monitor say to each other: frames on a
//! Unix stream socket, `[kind: u8][length: u32 LE][payload]`. Requests and
//! replies are JSON; output and input are raw bytes.
//!
//! The monitor listens on an abstract socket named after its container's
//! directory (no path to clean up, no length limit of socket paths), and
//! answers only clients of its own user or root.

use std::io::{self, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixStream};
use std::path::Path;

use serde::{Deserialize, Serialize};
use strata_oci::Digest;

use crate::{Error, Result};

/// Frame kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    /// A JSON [`Request`] (client) or [`Reply`] (monitor).
    Message = 0,
    /// The container's standard output (monitor).
    Stdout = 1,
    /// The container's standard error (monitor).
    Stderr = 2,
    /// The client's standard input ended.
    StdinEnd = 3,
    /// Standard input for the container.
    Stdin = 4,
}

impl Kind {
    fn from_byte(byte: u8) -> Option<Kind> {
        Some(match byte {
            0 => Kind::Message,
            1 => Kind::Stdout,
            2 => Kind::Stderr,
            3 => Kind::StdinEnd,
            4 => Kind::Stdin,
            _ => return None,
        })
    }
}

/// The largest frame accepted.
pub const MAX_FRAME: usize = 1 << 20;

/// What a client asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// Start the container (the first client of a new monitor only),
    /// attached to the streams it names.
    Start(Attach),
    /// Attach to the running container's streams.
    Attach(Attach),
    /// Stop: the signal, then SIGKILL after the timeout (seconds);
    /// the reply comes once it stopped. `None`s are the container's own.
    Stop {
        /// The signal's name or number.
        signal: Option<String>,
        /// Seconds before SIGKILL; negative waits forever.
        timeout: Option<i64>,
    },
    /// Send a signal (a manual stop as far as restart policies go).
    Kill {
        /// The signal's name or number.
        signal: String,
    },
    /// Reply when the container next stops.
    Wait,
    /// Start a process in the container that the monitor owns and reaps
    /// (`exec -d`: it must not outlive its parent as PID 1's orphan).
    Exec(crate::exec::ExecOptions),
    /// The terminal's new size.
    Resize {
        /// Rows.
        rows: u16,
        /// Columns.
        columns: u16,
    },
}

/// Which streams a client wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Attach {
    /// The client sends standard input.
    pub stdin: bool,
    /// The client wants standard output.
    pub stdout: bool,
    /// The client wants standard error.
    pub stderr: bool,
    /// The client's terminal size (rows, columns), for a container with a
    /// terminal started by this request; `None` keeps 24x80.
    #[serde(default)]
    pub terminal_size: Option<(u16, u16)>,
}

/// What the monitor answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// Done (for Start: the process runs).
    Ok,
    /// It failed: Docker's message, and the exit code `run` gives for it.
    Failed {
        /// The message.
        message: String,
        /// 125, 126 or 127.
        exit_code: i32,
    },
    /// The container stopped with this code; `removed` when `--rm` removed it.
    Exited {
        /// Its exit code.
        exit_code: i32,
        /// Whether it is gone.
        removed: bool,
    },
}

/// The abstract socket address of the monitor of the container in `directory`.
pub fn monitor_address(directory: &Path) -> Result<SocketAddr> {
    let digest = Digest::of(directory.as_os_str().as_encoded_bytes());
    let name = format!("strata-monitor-{}", &digest.hex()[..32]);
    SocketAddr::from_abstract_name(name.as_bytes())
        .map_err(|e| Error::monitor(format!("socket address: {e}")))
}

/// Writes one frame.
pub fn write_frame(stream: &mut impl Write, kind: Kind, payload: &[u8]) -> io::Result<()> {
    let length = u32::try_from(payload.len()).map_err(io::Error::other)?;
    let mut frame = Vec::with_capacity(5 + payload.len());
    frame.push(kind as u8);
    frame.extend_from_slice(&length.to_le_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}

/// Writes one JSON message frame.
pub fn write_message(stream: &mut impl Write, message: &impl Serialize) -> io::Result<()> {
    let payload = serde_json::to_vec(message).map_err(io::Error::other)?;
    write_frame(stream, Kind::Message, &payload)
}

/// Reads one frame; `None` at the end of the stream.
pub fn read_frame(stream: &mut impl Read) -> io::Result<Option<(Kind, Vec<u8>)>> {
    let mut header = [0u8; 5];
    match stream.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let kind = Kind::from_byte(header[0])
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unknown frame kind"))?;
    let length = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if length > MAX_FRAME {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too long"));
    }
    let mut payload = vec![0u8; length];
    stream.read_exact(&mut payload)?;
    Ok(Some((kind, payload)))
}

/// Accumulates bytes read without blocking and yields whole frames.
#[derive(Debug, Default)]
pub struct FrameBuffer {
    bytes: Vec<u8>,
}

impl FrameBuffer {
    /// Adds what was read.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.bytes.extend_from_slice(bytes);
    }

    /// The next whole frame, if there is one; an error for a bad frame.
    pub fn next_frame(&mut self) -> io::Result<Option<(Kind, Vec<u8>)>> {
        if self.bytes.len() < 5 {
            return Ok(None);
        }
        let kind = Kind::from_byte(self.bytes[0])
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "unknown frame kind"))?;
        let length =
            u32::from_le_bytes([self.bytes[1], self.bytes[2], self.bytes[3], self.bytes[4]])
                as usize;
        if length > MAX_FRAME {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "frame too long"));
        }
        if self.bytes.len() < 5 + length {
            return Ok(None);
        }
        let payload = self.bytes[5..5 + length].to_vec();
        self.bytes.drain(..5 + length);
        Ok(Some((kind, payload)))
    }
}

/// Connects to the monitor of the container in `directory`.
pub fn connect(directory: &Path) -> Result<UnixStream> {
    let address = monitor_address(directory)?;
    UnixStream::connect_addr(&address)
        .map_err(|e| Error::monitor(format!("connect to the container's monitor: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_whole_or_in_pieces() {
        let mut bytes = Vec::new();
        write_message(
            &mut bytes,
            &Request::Kill {
                signal: "HUP".into(),
            },
        )
        .unwrap();
        write_frame(&mut bytes, Kind::Stdout, b"hello\n").unwrap();
        let mut reader = &bytes[..];
        let (kind, payload) = read_frame(&mut reader).unwrap().unwrap();
        assert_eq!(kind, Kind::Message);
        let request: Request = serde_json::from_slice(&payload).unwrap();
        assert_eq!(
            request,
            Request::Kill {
                signal: "HUP".into()
            }
        );
        assert_eq!(
            read_frame(&mut reader).unwrap(),
            Some((Kind::Stdout, b"hello\n".to_vec()))
        );
        assert_eq!(read_frame(&mut reader).unwrap(), None);

        let mut buffer = FrameBuffer::default();
        for byte in &bytes {
            buffer.extend(&[*byte]);
        }
        assert_eq!(buffer.next_frame().unwrap().unwrap().0, Kind::Message);
        assert_eq!(buffer.next_frame().unwrap().unwrap().1, b"hello\n");
        assert!(buffer.next_frame().unwrap().is_none());
        buffer.extend(&[9, 0, 0, 0, 0]);
        assert!(buffer.next_frame().is_err());
    }

    #[test]
    fn each_container_directory_has_its_own_address() {
        let one = monitor_address(Path::new("/s/containers/a")).unwrap();
        let two = monitor_address(Path::new("/s/containers/b")).unwrap();
        assert_ne!(one.as_abstract_name(), two.as_abstract_name());
    }
}
