//! The monitor's life: wait for the first client's Start, run the
//! container, serve clients (attach, stop, kill, wait, resize), log its
//! output, check its health, restart it by its policy, and record the end.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::linux::net::SocketAddrExt as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags};
use rustix::process::{Signal, WaitIdOptions};

use super::READY;
use super::health::Checker;
use super::launch::{self, Run, StartError};
use crate::containers::Containers;
use crate::logs::LogWriter;
use crate::protocol::{Attach, FrameBuffer, Kind, Reply, Request, write_frame, write_message};
use crate::record::Container;
use crate::restart::{next_delay, should_restart};
use crate::signals::parse_signal;
use crate::state::{State, Status, now};
use crate::{Error, Result};
use strata_sandbox::Stream as LogStream;

/// How long a new monitor waits for its first client.
const FIRST_CLIENT_TIMEOUT: Duration = Duration::from_secs(30);
/// A client that does not take its output within this time is dropped.
const CLIENT_WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// A connected client.
struct Client {
    stream: UnixStream,
    buffer: FrameBuffer,
    attach: Attach,
    /// Told when the container stops (attached, waiting or stopping clients).
    wants_exit: bool,
    closed: bool,
}

/// A stop in progress: SIGKILL at the deadline.
struct Stopping {
    deadline: Option<Instant>,
    killed: bool,
}

struct Monitor {
    containers: Containers,
    container: Container,
    state: State,
    listener: UnixListener,
    clients: Vec<Client>,
    log: LogWriter,
    run: Option<Run>,
    stopping: Option<Stopping>,
    restart_at: Option<Instant>,
    last_delay: Option<Duration>,
    health: Option<Checker>,
    /// Bytes for the container's standard input not yet taken.
    pending_stdin: Vec<u8>,
    close_stdin: bool,
    terminal_size: (u16, u16),
    /// Pidfds of `exec -d` processes, reaped as they end.
    detached: Vec<std::os::fd::OwnedFd>,
    /// Indexes into `detached` that ended in this turn of the loop.
    finished_detached: Vec<usize>,
}

/// The monitor of container `id` in `directory`, until the container ends
/// for good (or no client asks to start it).
pub(super) fn main(directory: &Path, id: &str) -> Result<()> {
    // Our own session: no terminal's hangup or Ctrl-C is for us.
    let _ = rustix::process::setsid();
    // Mounts we make (the netns file pasta opens) die with us and pasta.
    strata_sandbox::private_mount_namespace()?;
    let containers = Containers::open(directory)?;
    let Some(_lock) = containers.take_monitor_lock(id)? else {
        return Err(Error::monitor("another monitor runs this container"));
    };
    let address = crate::protocol::monitor_address(&containers.directory(id))?;
    let listener = UnixListener::bind_addr(&address)
        .map_err(|e| Error::monitor(format!("listen on {:?}: {e}", address.as_abstract_name())))?;
    let entry = containers.load(id)?;
    let log_path = containers.log_path(id);
    let log = LogWriter::open(&log_path)?;
    {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{READY}");
        let _ = stdout.flush();
    }
    // Nothing more goes to the command that started us.
    if let Ok(null) = std::fs::File::open("/dev/null") {
        let _ = rustix::stdio::dup2_stdout(&null);
    }
    let mut monitor = Monitor {
        containers,
        container: entry.container,
        state: entry.state,
        listener,
        clients: Vec::new(),
        log,
        run: None,
        stopping: None,
        restart_at: None,
        last_delay: None,
        health: None,
        pending_stdin: Vec::new(),
        close_stdin: false,
        terminal_size: (24, 80),
        detached: Vec::new(),
        finished_detached: Vec::new(),
    };
    let Some(first) = monitor.first_client()? else {
        return Ok(());
    };
    if let Some(size) = first.attach.terminal_size {
        monitor.terminal_size = size;
    }
    monitor.clients.push(first);
    monitor.begin();
    // What starting needed (argument parsing, the launch) is not needed again.
    strata_sandbox::trim_resident_memory();
    monitor.serve()
}

impl Monitor {
    fn id(&self) -> &str {
        &self.container.id
    }

    /// Waits for the client that asks to start the container.
    fn first_client(&mut self) -> Result<Option<Client>> {
        let deadline = Instant::now() + FIRST_CLIENT_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let mut fds = [PollFd::new(&self.listener, PollFlags::IN)];
            let timeout = rustix::event::Timespec::try_from(left).ok();
            let _ = rustix::event::poll(&mut fds, timeout.as_ref());
            if fds[0].revents().is_empty() {
                continue;
            }
            let Ok((stream, _)) = self.listener.accept() else {
                continue;
            };
            if !peer_allowed(&stream) {
                continue;
            }
            let _ = stream.set_write_timeout(Some(CLIENT_WRITE_TIMEOUT));
            let mut reader = &stream;
            match crate::protocol::read_frame(&mut reader) {
                Ok(Some((Kind::Message, payload))) => {
                    if let Ok(Request::Start(attach)) = serde_json::from_slice(&payload) {
                        return Ok(Some(Client {
                            stream,
                            buffer: FrameBuffer::default(),
                            attach,
                            wants_exit: true,
                            closed: false,
                        }));
                    }
                }
                _ => continue,
            }
        }
    }

    /// A manual start: a new run, the restart count and stop mark reset.
    fn begin(&mut self) {
        self.state.restart_count = 0;
        self.state.manually_stopped = false;
        self.state.error.clear();
        self.start_run();
    }

    fn start_run(&mut self) {
        let size = self.terminal_size;
        match launch::start(&self.containers, &self.container, &mut self.state, size) {
            Ok(run) => {
                self.state.status = Status::Running;
                self.state.pid = run.pid;
                self.state.started_at = now();
                self.state.exit_code = 0;
                self.state.oom_killed = false;
                self.health = Checker::new(&self.container, Instant::now());
                self.state.health = self.health.as_ref().map(|_| Default::default());
                self.run = Some(run);
                self.save_state();
                self.reply_all(|c| c.wants_exit, &Reply::Ok);
            }
            Err(StartError { message, exit_code }) => {
                self.cleanup_resources();
                self.state.status = if self.state.started_at == crate::state::ZERO_TIME {
                    Status::Created
                } else {
                    Status::Exited
                };
                self.state.error = message;
                self.state.exit_code = exit_code;
                self.state.pid = 0;
                self.save_state();
                // The monitor ends: `finish` tells the clients.
            }
        }
    }

    fn save_state(&self) {
        if let Err(error) = self.containers.write_state(self.id(), &self.state) {
            super::eprintln_error(&error);
        }
    }

    fn reply_all(&mut self, to: impl Fn(&Client) -> bool, reply: &Reply) {
        for client in self.clients.iter_mut().filter(|c| !c.closed && to(c)) {
            if write_message(&mut client.stream, reply).is_err() {
                client.closed = true;
            }
        }
    }

    /// The event loop, until the container ended for good.
    fn serve(&mut self) -> Result<()> {
        loop {
            self.clients.retain(|c| !c.closed);
            if self.run.is_none() && self.restart_at.is_none() {
                return self.finish();
            }
            let timeout = self.next_timeout();
            let mut fds: Vec<PollFd<'_>> = Vec::new();
            let mut roles: Vec<Role> = Vec::new();
            fds.push(PollFd::new(&self.listener, PollFlags::IN));
            roles.push(Role::Listener);
            for (index, client) in self.clients.iter().enumerate() {
                fds.push(PollFd::new(&client.stream, PollFlags::IN));
                roles.push(Role::Client(index));
            }
            if let Some(run) = &self.run {
                fds.push(PollFd::new(&run.pidfd, PollFlags::IN));
                roles.push(Role::Exit);
                if let Some(out) = &run.stdout {
                    fds.push(PollFd::new(out, PollFlags::IN));
                    roles.push(Role::Output(LogStream::Stdout));
                }
                if let Some(err) = &run.stderr {
                    fds.push(PollFd::new(err, PollFlags::IN));
                    roles.push(Role::Output(LogStream::Stderr));
                }
                if let Some(terminal) = &run.terminal {
                    let mut flags = PollFlags::IN;
                    if !self.pending_stdin.is_empty() {
                        flags |= PollFlags::OUT;
                    }
                    fds.push(PollFd::new(terminal, flags));
                    roles.push(Role::Terminal);
                }
                if let Some(stdin) = &run.stdin
                    && !self.pending_stdin.is_empty()
                {
                    fds.push(PollFd::new(stdin, PollFlags::OUT));
                    roles.push(Role::Stdin);
                }
            }
            for (index, pidfd) in self.detached.iter().enumerate() {
                fds.push(PollFd::new(pidfd, PollFlags::IN));
                roles.push(Role::Detached(index));
            }
            if let Some((output, pidfd)) = self.health.as_ref().and_then(Checker::probe_fds) {
                if let Some(output) = output {
                    fds.push(PollFd::from_borrowed_fd(output, PollFlags::IN));
                    roles.push(Role::ProbeOutput);
                }
                fds.push(PollFd::from_borrowed_fd(pidfd, PollFlags::IN));
                roles.push(Role::ProbeExit);
            }
            let timespec = timeout.and_then(|t| rustix::event::Timespec::try_from(t).ok());
            match rustix::event::poll(&mut fds, timespec.as_ref()) {
                Ok(_) | Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::monitor(format!("poll: {e}"))),
            }
            let ready: Vec<(Role, PollFlags)> = fds
                .iter()
                .zip(roles)
                .filter(|(fd, _)| !fd.revents().is_empty())
                .map(|(fd, role)| (role, fd.revents()))
                .collect();
            drop(fds);
            for (role, flags) in ready {
                self.handle(role, flags);
            }
            let mut finished = std::mem::take(&mut self.finished_detached);
            finished.sort_unstable_by(|a, b| b.cmp(a));
            for index in finished {
                if index < self.detached.len() {
                    self.detached.remove(index);
                }
            }
            self.on_timers();
        }
    }

    fn next_timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        [
            self.stopping.as_ref().and_then(|s| s.deadline),
            self.restart_at,
            self.health.as_ref().map(Checker::next_event),
        ]
        .into_iter()
        .flatten()
        .map(|at| at.saturating_duration_since(now))
        .min()
    }

    fn handle(&mut self, role: Role, flags: PollFlags) {
        match role {
            Role::Listener => self.accept(),
            Role::Client(index) => self.read_client(index),
            Role::Exit => self.on_exit(),
            Role::Output(stream) => {
                self.read_output(stream);
            }
            Role::Terminal => {
                if flags.intersects(PollFlags::OUT) {
                    self.write_stdin();
                }
                if flags.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
                    self.read_output(LogStream::Stdout);
                }
            }
            Role::Stdin => self.write_stdin(),
            Role::ProbeOutput => {
                if let Some(health) = &mut self.health {
                    health.read_output();
                }
            }
            Role::ProbeExit => self.on_probe_exit(),
            Role::Detached(index) => {
                if let Some(pidfd) = self.detached.get(index) {
                    let _ = rustix::process::waitid(
                        rustix::process::WaitId::PidFd(pidfd.as_fd()),
                        WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
                    );
                }
                // Marked, then dropped after the loop: indexes stay valid meanwhile.
                self.finished_detached.push(index);
            }
        }
    }

    fn accept(&mut self) {
        let Ok((stream, _)) = self.listener.accept() else {
            return;
        };
        if !peer_allowed(&stream) {
            return;
        }
        let _ = stream.set_write_timeout(Some(CLIENT_WRITE_TIMEOUT));
        let _ = stream.set_nonblocking(true);
        self.clients.push(Client {
            stream,
            buffer: FrameBuffer::default(),
            attach: Attach::default(),
            wants_exit: false,
            closed: false,
        });
    }

    fn read_client(&mut self, index: usize) {
        let mut chunk = [0u8; 16 * 1024];
        let client = &mut self.clients[index];
        let _ = client.stream.set_nonblocking(true);
        let read = client.stream.read(&mut chunk);
        let _ = client.stream.set_nonblocking(false);
        match read {
            Ok(0) => {
                client.closed = true;
                if client.attach.stdin && self.container.config.stdin_once {
                    self.close_stdin = true;
                    self.flush_stdin_close();
                }
                return;
            }
            Ok(read) => client.buffer.extend(&chunk[..read]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
            Err(_) => {
                client.closed = true;
                return;
            }
        }
        loop {
            let frame = match self.clients[index].buffer.next_frame() {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(_) => {
                    self.clients[index].closed = true;
                    break;
                }
            };
            self.on_frame(index, frame);
        }
    }

    fn on_frame(&mut self, index: usize, (kind, payload): (Kind, Vec<u8>)) {
        match kind {
            Kind::Stdin => {
                if self.clients[index].attach.stdin {
                    self.pending_stdin.extend_from_slice(&payload);
                    self.write_stdin();
                }
            }
            Kind::StdinEnd => {
                if self.clients[index].attach.stdin {
                    self.close_stdin = true;
                    self.flush_stdin_close();
                }
            }
            Kind::Message => match serde_json::from_slice::<Request>(&payload) {
                Ok(request) => self.on_request(index, request),
                Err(_) => self.clients[index].closed = true,
            },
            Kind::Stdout | Kind::Stderr => {}
        }
    }

    fn on_request(&mut self, index: usize, request: Request) {
        let reply = |monitor: &mut Monitor, reply: Reply| {
            let client = &mut monitor.clients[index];
            if write_message(&mut client.stream, &reply).is_err() {
                client.closed = true;
            }
        };
        match request {
            Request::Start(_) => reply(
                self,
                Reply::Failed {
                    message: format!("container {} is already running", self.id()),
                    exit_code: 1,
                },
            ),
            Request::Attach(attach) => {
                self.clients[index].attach = attach;
                self.clients[index].wants_exit = true;
                reply(self, Reply::Ok);
            }
            Request::Wait => self.clients[index].wants_exit = true,
            Request::Exec(options) => {
                let answer = self.exec_detached(&options);
                reply(self, answer);
            }
            Request::Resize { rows, columns } => {
                self.terminal_size = (rows, columns);
                if let Some(terminal) = self.run.as_ref().and_then(|r| r.terminal.as_ref()) {
                    let size = rustix::termios::Winsize {
                        ws_row: rows,
                        ws_col: columns,
                        ws_xpixel: 0,
                        ws_ypixel: 0,
                    };
                    let _ = rustix::termios::tcsetwinsize(terminal, size);
                }
                reply(self, Reply::Ok);
            }
            Request::Kill { signal } => match parse_signal(&signal) {
                Ok(number) => {
                    self.state.manually_stopped = true;
                    self.save_state();
                    if self.run.is_some() {
                        self.signal(number);
                    } else {
                        self.restart_at = None;
                    }
                    reply(self, Reply::Ok);
                }
                Err(error) => reply(
                    self,
                    Reply::Failed {
                        message: error.to_string(),
                        exit_code: 1,
                    },
                ),
            },
            Request::Stop { signal, timeout } => {
                let signal = signal.unwrap_or_else(|| self.container.stop_signal().to_owned());
                let number = parse_signal(&signal).unwrap_or(libc_sigterm());
                let timeout = timeout.unwrap_or_else(|| self.container.stop_timeout());
                self.clients[index].wants_exit = true;
                self.state.manually_stopped = true;
                self.save_state();
                if self.run.is_none() {
                    // Between restarts: it simply stays down.
                    self.restart_at = None;
                    return;
                }
                if timeout == 0 {
                    self.signal(9);
                } else {
                    self.signal(number);
                }
                let deadline = (timeout > 0)
                    .then(|| Instant::now() + Duration::from_secs(timeout.unsigned_abs()));
                self.stopping = Some(Stopping {
                    deadline,
                    killed: timeout == 0,
                });
            }
        }
    }

    /// Starts an `exec -d` process, which this monitor owns and reaps.
    fn exec_detached(&mut self, options: &crate::exec::ExecOptions) -> Reply {
        let Some(run) = &self.run else {
            return Reply::Failed {
                message: format!("Container {} is not running", self.id()),
                exit_code: 1,
            };
        };
        let started = crate::exec::exec_spec(&self.container, options).and_then(|spec| {
            let null = |write: bool| {
                std::fs::OpenOptions::new()
                    .read(!write)
                    .write(write)
                    .open("/dev/null")
                    .map(std::os::fd::OwnedFd::from)
                    .map_err(|e| Error::from(strata_fs::Error::new("open", "/dev/null", e)))
            };
            let stdio = strata_sandbox::Stdio::Fds {
                stdin: Some(null(false)?),
                stdout: null(true)?,
                stderr: null(true)?,
            };
            Ok(strata_sandbox::exec_in(
                run.pid,
                &spec,
                stdio,
                &self.state.cgroup_procs,
            )?)
        });
        match started {
            Ok(started) => {
                self.detached.push(started.pidfd);
                Reply::Ok
            }
            Err(Error::Sandbox(error)) => Reply::Failed {
                message: crate::exec::exec_failure_message(&error),
                exit_code: 126,
            },
            Err(error) => Reply::Failed {
                message: error.to_string(),
                exit_code: 126,
            },
        }
    }

    /// Sends `signal` to PID 1 (through its pidfd: never a recycled pid).
    fn signal(&self, signal: i32) {
        if let Some(run) = &self.run
            && let Some(signal) = Signal::from_named_raw(signal)
        {
            let _ = rustix::process::pidfd_send_signal(&run.pidfd, signal);
        }
    }

    fn on_timers(&mut self) {
        let now = Instant::now();
        if let Some(stopping) = &mut self.stopping
            && !stopping.killed
            && stopping.deadline.is_some_and(|d| d <= now)
        {
            stopping.killed = true;
            self.signal(9);
        }
        if self.restart_at.is_some_and(|at| at <= now) {
            self.restart_at = None;
            self.state.restart_count += 1;
            self.start_run();
        }
        if self.run.is_some() {
            let (pid, procs) = match &self.run {
                Some(run) => (run.pid, self.state.cgroup_procs.clone()),
                None => return,
            };
            if let Some(health) = &mut self.health {
                health.on_timer(now, &self.container, pid, &procs);
            }
            self.publish_health();
        }
    }

    fn on_probe_exit(&mut self) {
        if let Some(health) = &mut self.health {
            health.on_probe_exit();
        }
        self.publish_health();
        // A probe's start (exec_in, the fork) touches code the loop does not need.
        strata_sandbox::trim_resident_memory();
    }

    /// Records the health checker's state when it changed.
    fn publish_health(&mut self) {
        let Some(health) = &mut self.health else {
            return;
        };
        if health.take_changed() {
            self.state.health = Some(health.state().clone());
            self.save_state();
        }
    }

    /// Reads what is there on `stream` (the terminal, when there is one);
    /// whether anything was read. Its end stops it being polled.
    fn read_output(&mut self, stream: LogStream) -> bool {
        let Some(run) = &mut self.run else {
            return false;
        };
        let fd = match stream {
            _ if run.terminal.is_some() => run.terminal.as_ref(),
            LogStream::Stdout => run.stdout.as_ref(),
            LogStream::Stderr => run.stderr.as_ref(),
        };
        let Some(fd) = fd else { return false };
        let mut chunk = [0u8; 32 * 1024];
        match rustix::io::read(fd, &mut chunk) {
            Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => false,
            Ok(0) | Err(_) => {
                // End of output (EIO on a terminal whose last user left):
                // polled no more, or the loop would spin on it.
                match stream {
                    _ if run.terminal.is_some() => run.terminal = None,
                    LogStream::Stdout => run.stdout = None,
                    LogStream::Stderr => run.stderr = None,
                }
                false
            }
            Ok(read) => {
                self.output(stream, &chunk[..read]);
                true
            }
        }
    }

    fn output(&mut self, stream: LogStream, bytes: &[u8]) {
        if let Err(error) = self.log.write(stream, bytes, jiff::Timestamp::now()) {
            super::eprintln_error(&error);
        }
        let kind = match stream {
            LogStream::Stdout => Kind::Stdout,
            LogStream::Stderr => Kind::Stderr,
        };
        for client in self.clients.iter_mut().filter(|c| !c.closed) {
            let wanted = match stream {
                LogStream::Stdout => client.attach.stdout,
                LogStream::Stderr => client.attach.stderr,
            };
            if wanted && write_frame(&mut client.stream, kind, bytes).is_err() {
                client.closed = true;
            }
        }
    }

    fn write_stdin(&mut self) {
        let Some(run) = &mut self.run else {
            self.pending_stdin.clear();
            return;
        };
        let Some(target) = run.terminal.as_ref().or(run.stdin.as_ref()) else {
            self.pending_stdin.clear();
            return;
        };
        let _ = rustix::io::ioctl_fionbio(target, true);
        match rustix::io::write(target, &self.pending_stdin) {
            Ok(written) => {
                self.pending_stdin.drain(..written);
            }
            Err(rustix::io::Errno::AGAIN) => {}
            Err(_) => self.pending_stdin.clear(),
        }
        self.flush_stdin_close();
    }

    /// Closes the container's standard input once everything was written
    /// (a terminal has no end of input: Ctrl-D is a byte on it).
    fn flush_stdin_close(&mut self) {
        if self.close_stdin
            && self.pending_stdin.is_empty()
            && let Some(run) = &mut self.run
        {
            run.stdin = None;
        }
    }

    /// PID 1 ended: drain its output, record the end, restart or finish.
    fn on_exit(&mut self) {
        let Some(run) = &self.run else { return };
        let status = rustix::process::waitid(
            rustix::process::WaitId::PidFd(run.pidfd.as_fd()),
            WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
        );
        let status = match status {
            Ok(Some(status)) => status,
            Ok(None) => return,
            Err(_) => return self.ended(255),
        };
        let code = if let Some(code) = status.exit_status() {
            code
        } else if let Some(signal) = status.terminating_signal() {
            128 + signal
        } else {
            255
        };
        self.drain_output();
        self.ended(code);
    }

    /// Takes what PID 1's processes left in their output after it ended,
    /// without waiting for more.
    fn drain_output(&mut self) {
        let Some(run) = &self.run else { return };
        let streams: &[LogStream] = if run.terminal.is_some() {
            &[LogStream::Stdout]
        } else {
            &[LogStream::Stdout, LogStream::Stderr]
        };
        for fd in [&run.terminal, &run.stdout, &run.stderr]
            .into_iter()
            .flatten()
        {
            let _ = rustix::io::ioctl_fionbio(fd, true);
        }
        for _ in 0..10_000 {
            let mut progressed = false;
            for stream in streams {
                progressed |= self.read_output(*stream);
            }
            if !progressed {
                break;
            }
        }
        if let Some(run) = &mut self.run {
            (run.terminal, run.stdout, run.stderr) = (None, None, None);
        }
    }

    fn ended(&mut self, exit_code: i32) {
        let Some(run) = self.run.take() else { return };
        let ran_for = run.started.elapsed();
        let time = jiff::Timestamp::now();
        let _ = self.log.flush_partial(LogStream::Stdout, time);
        let _ = self.log.flush_partial(LogStream::Stderr, time);
        self.state.oom_killed = run.cgroups.oom_killed();
        drop(run);
        self.cleanup_resources();
        if let Some(health) = self.health.take() {
            let mut final_health = health.state().clone();
            final_health.status = crate::state::HealthStatus::Unhealthy;
            self.state.health = Some(final_health);
        }
        self.stopping = None;
        self.state.pid = 0;
        self.state.exit_code = exit_code;
        self.state.finished_at = now();
        self.pending_stdin.clear();
        let restart = should_restart(
            &self.container.host_config.restart_policy,
            exit_code,
            self.state.restart_count,
            self.state.manually_stopped,
        );
        if restart {
            let delay = next_delay(self.last_delay, ran_for);
            self.last_delay = Some(delay);
            self.restart_at = Some(Instant::now() + delay);
            self.state.status = Status::Restarting;
        } else {
            self.state.status = Status::Exited;
        }
        self.save_state();
        if restart {
            // Attached clients see each exit, as `docker run` does.
            self.reply_all(
                |c| c.wants_exit,
                &Reply::Exited {
                    exit_code,
                    removed: false,
                },
            );
            for client in &mut self.clients {
                client.closed = client.wants_exit;
            }
        }
    }

    /// Releases what a run holds outside the container (pasta, cgroups).
    fn cleanup_resources(&mut self) {
        let published = self.state.ports.is_published();
        if let Err(error) = crate::remove::release_run(&self.containers, self.id(), published) {
            super::eprintln_error(&error);
        }
    }

    /// The container ended for good, or did not start: tell the clients
    /// after removing it when it was `--rm` (Docker's CLI waits for that
    /// too), and let the monitor end.
    fn finish(&mut self) -> Result<()> {
        let mut removed = false;
        if self.container.host_config.auto_remove {
            removed =
                crate::remove::remove_stopped(&self.containers, &self.container, true).is_ok();
        }
        let exit_code = self.state.exit_code;
        // `begin` clears the error and a failed start ends the monitor: an
        // error here is the last start's.
        let reply = if self.state.error.is_empty() {
            Reply::Exited { exit_code, removed }
        } else {
            Reply::Failed {
                message: self.state.error.clone(),
                exit_code,
            }
        };
        self.reply_all(|c| c.wants_exit, &reply);
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Role {
    Listener,
    Client(usize),
    Exit,
    Output(LogStream),
    Terminal,
    Stdin,
    ProbeOutput,
    ProbeExit,
    Detached(usize),
}

fn libc_sigterm() -> i32 {
    15
}

/// Only our own user, or root, may talk to the monitor.
fn peer_allowed(stream: &UnixStream) -> bool {
    let Ok(credentials) = rustix::net::sockopt::socket_peercred(stream) else {
        return false;
    };
    let us = rustix::process::geteuid();
    credentials.uid == us || credentials.uid.is_root()
}
