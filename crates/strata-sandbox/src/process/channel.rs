//! The channel between a caller and the process it starts: a seqpacket
//! socket pair, close-on-exec on both sides, so that the caller sees the end
//! of it when the process executes (or dies). The process says it is ready
//! (handing over a terminal's master) or why it failed; the caller releases it.

use std::io::{IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::event::{PollFd, PollFlags};
use rustix::io::Errno;
use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};
use serde::{Deserialize, Serialize};

use super::Failure;
use crate::wire::FailureKind;

/// The longest message (a failure's text included).
const MAX_MESSAGE: usize = 64 * 1024;

/// What goes over the channel.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Message {
    /// The process is set up and waits (a terminal's master attached).
    Ready,
    /// It could not be set up or executed.
    Failed { kind: FailureKind, message: String },
    /// The caller lets it execute.
    Release,
}

impl From<Failure> for Message {
    fn from(failure: Failure) -> Self {
        Message::Failed {
            kind: failure.kind,
            message: failure.message,
        }
    }
}

/// One end of the channel.
#[derive(Debug)]
pub(crate) struct Channel {
    socket: OwnedFd,
}

/// A connected pair: (the caller's end, the process's end).
pub(crate) fn pair() -> Result<(Channel, Channel), Errno> {
    let (caller, process) = rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?;
    Ok((Channel { socket: caller }, Channel { socket: process }))
}

impl Channel {
    /// Sends `message`, with `fd` attached when given.
    pub(crate) fn send(&self, message: &Message, fd: Option<BorrowedFd<'_>>) -> Result<(), Errno> {
        let body = serde_json::to_vec(message).map_err(|_| Errno::INVAL)?;
        let fds: Vec<BorrowedFd<'_>> = fd.into_iter().collect();
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(&fds)) {
            return Err(Errno::NOBUFS);
        }
        loop {
            match rustix::net::sendmsg(
                &self.socket,
                &[IoSlice::new(&body)],
                &mut control,
                SendFlags::NOSIGNAL,
            ) {
                Err(Errno::INTR) => continue,
                result => return result.map(drop),
            }
        }
    }

    /// The next message and the descriptor attached to it; `None` once the
    /// other end is closed everywhere.
    pub(crate) fn receive(&self) -> Result<Option<(Message, Option<OwnedFd>)>, Errno> {
        let mut body = vec![0u8; MAX_MESSAGE];
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        let received = loop {
            match rustix::net::recvmsg(
                &self.socket,
                &mut [IoSliceMut::new(&mut body)],
                &mut control,
                RecvFlags::CMSG_CLOEXEC,
            ) {
                Err(Errno::INTR) => continue,
                result => break result?,
            }
        };
        let mut fd = None;
        for message in control.drain() {
            if let RecvAncillaryMessage::ScmRights(fds) = message {
                for received_fd in fds {
                    fd.get_or_insert(received_fd);
                }
            }
        }
        if received.bytes == 0 {
            return Ok(None);
        }
        let message = serde_json::from_slice(&body[..received.bytes]).map_err(|_| Errno::PROTO)?;
        Ok(Some((message, fd)))
    }

    /// Whether the other end is closed everywhere (without waiting).
    pub(crate) fn peer_closed(&self) -> bool {
        let mut fds = [PollFd::new(&self.socket, PollFlags::IN)];
        let zero = rustix::event::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let _ = rustix::event::poll(&mut fds, Some(&zero));
        fds[0].revents().intersects(PollFlags::HUP | PollFlags::ERR)
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_a_descriptor_cross_and_the_end_shows() {
        let (caller, process) = pair().unwrap();
        let null = rustix::fs::open(
            "/dev/null",
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        process.send(&Message::Ready, Some(null.as_fd())).unwrap();
        let (message, fd) = caller.receive().unwrap().unwrap();
        assert!(matches!(message, Message::Ready));
        assert!(fd.is_some());
        assert!(!process.peer_closed());
        caller.send(&Message::Release, None).unwrap();
        let (message, fd) = process.receive().unwrap().unwrap();
        assert!(matches!(message, Message::Release) && fd.is_none());
        drop(caller);
        assert!(process.peer_closed());
        assert!(process.receive().unwrap().is_none());
    }
}
