//! What the parent and the helper say to each other over the control socket.

use std::io::{self, Read, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ExecProblem};
use crate::spec::{ExitStatus, Spec};

/// The argument that turns a binary into the sandbox helper.
pub const INIT_ARGUMENT: &str = "__strata-sandbox-init";
/// The helper's control socket.
pub(crate) const CONTROL_FD: i32 = 3;
/// The helper's detached root mount, when there is one.
pub(crate) const ROOT_MOUNT_FD: i32 = 4;

/// The root file system as the helper sees it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum WireRootFs {
    Directory(PathBuf),
    /// The mount is fd [`ROOT_MOUNT_FD`].
    Detached {
        mount_point: PathBuf,
    },
}

/// Everything the helper needs.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Request {
    pub(crate) spec: Spec,
    pub(crate) rootfs: WireRootFs,
    /// The parent's pid: the helper checks it still has that parent.
    pub(crate) parent_pid: i32,
}

/// Why setup failed, for the parent's error type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum FailureKind {
    NotRoot,
    User,
    Exec(ExecProblem),
    Setup,
}

impl FailureKind {
    /// The public error for a failure of this kind.
    pub(crate) fn into_error(self, message: String) -> Error {
        match self {
            FailureKind::NotRoot => Error::NotRoot,
            FailureKind::User => Error::User { message },
            FailureKind::Exec(problem) => Error::Exec { message, problem },
            FailureKind::Setup => Error::Setup { message },
        }
    }
}

/// The helper's reports, one JSON object per line.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Report {
    /// The process runs: its pid in the parent's pid namespace.
    Started { pid: i32 },
    /// It could not start.
    Failed { kind: FailureKind, message: String },
    /// It ended, and everything in the sandbox with it.
    Ended { status: ExitStatus },
}

pub(crate) fn send_request(writer: &mut impl Write, request: &Request) -> io::Result<()> {
    let body = serde_json::to_vec(request).map_err(io::Error::other)?;
    let length = u32::try_from(body.len()).map_err(io::Error::other)?;
    writer.write_all(&length.to_le_bytes())?;
    writer.write_all(&body)?;
    writer.flush()
}

pub(crate) fn read_request(reader: &mut impl Read) -> io::Result<Request> {
    let mut length = [0u8; 4];
    reader.read_exact(&mut length)?;
    let mut body = vec![0u8; u32::from_le_bytes(length) as usize];
    reader.read_exact(&mut body)?;
    serde_json::from_slice(&body).map_err(io::Error::other)
}

pub(crate) fn send_report(writer: &mut impl Write, report: &Report) -> io::Result<()> {
    let mut line = serde_json::to_vec(report).map_err(io::Error::other)?;
    line.push(b'\n');
    writer.write_all(&line)?;
    writer.flush()
}
