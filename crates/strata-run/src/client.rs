//! Commands talking to containers: start one (spawning its monitor), attach
//! to it, stop, kill and wait for it, through its monitor's socket.

use std::io::Write;
use std::os::fd::BorrowedFd;
use std::os::unix::net::UnixStream;

use rustix::event::{PollFd, PollFlags};

use crate::containers::{Containers, Entry};
use crate::protocol::{
    Attach, FrameBuffer, Kind, Reply, Request, connect, read_frame, write_frame, write_message,
};
use crate::{Error, Result};

/// A client's connection to a container's monitor.
#[derive(Debug)]
pub struct Session {
    stream: UnixStream,
}

/// Where attached output goes.
pub trait Output {
    /// Bytes the container wrote to its standard output (or terminal).
    fn stdout(&mut self, bytes: &[u8]);
    /// Bytes it wrote to its standard error.
    fn stderr(&mut self, bytes: &[u8]);
}

/// A descriptor polled beside the session, and what to do when it is
/// readable (a signal pipe: resize, forward the signal).
pub type Extra<'a> = (BorrowedFd<'a>, &'a mut dyn FnMut(&mut Session));

/// How a pumped session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The container stopped with this code (`removed` by `--rm`).
    Exited {
        /// Its exit code.
        exit_code: i32,
        /// Whether it was removed.
        removed: bool,
    },
    /// The monitor went away without saying (it was killed).
    Lost,
}

fn read_reply(stream: &mut UnixStream) -> Result<Reply> {
    loop {
        match read_frame(stream) {
            Ok(Some((Kind::Message, payload))) => {
                return serde_json::from_slice(&payload).map_err(Error::json("monitor reply"));
            }
            Ok(Some(_)) => continue,
            Ok(None) => return Err(Error::monitor("the monitor closed the connection")),
            Err(e) => return Err(Error::monitor(format!("read from the monitor: {e}"))),
        }
    }
}

impl Session {
    /// Connects to the running container `entry`'s monitor.
    pub fn connect(containers: &Containers, entry: &Entry) -> Result<Session> {
        let stream = connect(&containers.directory(&entry.container.id))?;
        Ok(Session { stream })
    }

    /// Sends `request` without waiting for the reply (while pumping, the
    /// reply comes among the output and is skipped there).
    pub fn send(&mut self, request: &Request) -> Result<()> {
        write_message(&mut self.stream, request)
            .map_err(|e| Error::monitor(format!("write to the monitor: {e}")))
    }

    /// Sends `request` and reads the monitor's reply.
    pub fn request(&mut self, request: &Request) -> Result<Reply> {
        write_message(&mut self.stream, request)
            .map_err(|e| Error::monitor(format!("write to the monitor: {e}")))?;
        read_reply(&mut self.stream)
    }

    /// Sends `request` and waits for the container to stop.
    pub fn request_until_exit(&mut self, request: &Request) -> Result<Ended> {
        write_message(&mut self.stream, request)
            .map_err(|e| Error::monitor(format!("write to the monitor: {e}")))?;
        loop {
            match read_reply(&mut self.stream) {
                Ok(Reply::Exited { exit_code, removed }) => {
                    return Ok(Ended::Exited { exit_code, removed });
                }
                Ok(Reply::Failed { message, exit_code }) => {
                    return Err(Error::StartFailed { message, exit_code });
                }
                Ok(Reply::Ok) => continue,
                Err(_) => return Ok(Ended::Lost),
            }
        }
    }

    /// Tells the monitor the terminal's size.
    pub fn resize(&mut self, rows: u16, columns: u16) -> Result<()> {
        write_message(&mut self.stream, &Request::Resize { rows, columns })
            .map_err(|e| Error::monitor(format!("write to the monitor: {e}")))
    }

    /// Relays until the container stops: `stdin` (when given) to the
    /// container, its output to `output`; `extra` is polled too and its
    /// handler called when readable (a signal pipe: resize, forward).
    pub fn pump(
        &mut self,
        stdin: Option<BorrowedFd<'_>>,
        mut extra: Option<Extra<'_>>,
        output: &mut dyn Output,
    ) -> Result<Ended> {
        let mut buffer = FrameBuffer::default();
        let mut stdin_open = stdin.is_some();
        let mut chunk = vec![0u8; 32 * 1024];
        loop {
            let mut fds = vec![PollFd::new(&self.stream, PollFlags::IN)];
            if let (true, Some(stdin)) = (stdin_open, stdin) {
                fds.push(PollFd::from_borrowed_fd(stdin, PollFlags::IN));
            }
            let extra_index = fds.len();
            if let Some((fd, _)) = &extra {
                fds.push(PollFd::from_borrowed_fd(*fd, PollFlags::IN));
            }
            match rustix::event::poll(&mut fds, None) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::monitor(format!("poll: {e}"))),
            }
            let socket_ready = !fds[0].revents().is_empty();
            let stdin_ready = stdin_open && fds.len() > 1 && !fds[1].revents().is_empty();
            let extra_ready = extra.is_some() && !fds[extra_index].revents().is_empty();
            drop(fds);
            if extra_ready && let Some((_, handler)) = &mut extra {
                handler(self);
            }
            if stdin_ready && let Some(stdin) = stdin {
                match rustix::io::read(stdin, &mut chunk) {
                    Ok(0) | Err(_) => {
                        stdin_open = false;
                        let _ = write_frame(&mut self.stream, Kind::StdinEnd, &[]);
                    }
                    Ok(read) => {
                        let _ = write_frame(&mut self.stream, Kind::Stdin, &chunk[..read]);
                    }
                }
            }
            if !socket_ready {
                continue;
            }
            match rustix::io::read(&self.stream, &mut chunk) {
                Ok(0) | Err(_) => return Ok(Ended::Lost),
                Ok(read) => buffer.extend(&chunk[..read]),
            }
            while let Some((kind, payload)) = buffer
                .next_frame()
                .map_err(|e| Error::monitor(format!("read from the monitor: {e}")))?
            {
                match kind {
                    Kind::Stdout => output.stdout(&payload),
                    Kind::Stderr => output.stderr(&payload),
                    Kind::Message => {
                        if let Ok(Reply::Exited { exit_code, removed }) =
                            serde_json::from_slice(&payload)
                        {
                            return Ok(Ended::Exited { exit_code, removed });
                        }
                    }
                    Kind::Stdin | Kind::StdinEnd => {}
                }
            }
        }
    }
}

/// Starts a stopped container: spawns its monitor and asks it to start,
/// attached to the streams in `attach`. Fails with `run`'s exit code
/// (125/126/127) when the process cannot start.
pub fn start(containers: &Containers, id: &str, attach: Attach) -> Result<Session> {
    let _lock = containers.lock(id)?;
    if containers.monitor_alive(id) {
        return Err(Error::Running {
            message: format!("container {id} is already running"),
        });
    }
    crate::monitor::spawn(containers, id)?;
    let mut stream = connect(&containers.directory(id))?;
    write_message(&mut stream, &Request::Start(attach))
        .map_err(|e| Error::monitor(format!("write to the monitor: {e}")))?;
    match read_reply(&mut stream)? {
        Reply::Ok => Ok(Session { stream }),
        Reply::Failed { message, exit_code } => Err(Error::StartFailed { message, exit_code }),
        Reply::Exited { exit_code, .. } => Err(Error::StartFailed {
            message: format!("the container exited at once ({exit_code})"),
            exit_code,
        }),
    }
}

/// Stops a container: its stop signal (or `signal`), SIGKILL after
/// `timeout` seconds (or its own), returning once it stopped. A stopped
/// container is left as it is.
pub fn stop(
    containers: &Containers,
    entry: &Entry,
    signal: Option<String>,
    timeout: Option<i64>,
) -> Result<()> {
    if !containers.monitor_alive(&entry.container.id) {
        return Ok(());
    }
    let Ok(mut session) = Session::connect(containers, entry) else {
        return Ok(());
    };
    session.request_until_exit(&Request::Stop { signal, timeout })?;
    // The monitor ends right after it told us.
    wait_for_monitor(containers, &entry.container.id);
    Ok(())
}

/// Waits (briefly) until a container's monitor has let go of its lock.
pub fn wait_for_monitor(containers: &Containers, id: &str) {
    for _ in 0..500 {
        if !containers.monitor_alive(id) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// Sends `signal` to a running container's PID 1 (Docker's `kill`).
pub fn kill(containers: &Containers, entry: &Entry, signal: &str) -> Result<()> {
    crate::signals::parse_signal(signal)?;
    if !entry.state.running() || !containers.monitor_alive(&entry.container.id) {
        return Err(Error::NotRunning {
            id: entry.container.id.clone(),
        });
    }
    let mut session = Session::connect(containers, entry)?;
    match session.request(&Request::Kill {
        signal: signal.to_owned(),
    })? {
        Reply::Failed { message, .. } => Err(Error::monitor(message)),
        _ => Ok(()),
    }
}

/// Blocks until the container stops; its exit code.
pub fn wait(containers: &Containers, entry: &Entry) -> Result<i32> {
    if containers.monitor_alive(&entry.container.id)
        && let Ok(mut session) = Session::connect(containers, entry)
    {
        match session.request_until_exit(&Request::Wait)? {
            Ended::Exited { exit_code, .. } => return Ok(exit_code),
            Ended::Lost => {}
        }
    }
    Ok(containers.load(&entry.container.id)?.state.exit_code)
}

/// Writes attached output to this process's standard output and error.
#[derive(Debug, Default)]
pub struct StdOutput;

impl Output for StdOutput {
    fn stdout(&mut self, bytes: &[u8]) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(bytes);
        let _ = out.flush();
    }

    fn stderr(&mut self, bytes: &[u8]) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(bytes);
        let _ = err.flush();
    }
}
