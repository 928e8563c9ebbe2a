//! HEALTHCHECK as Docker runs it: a probe every interval (the start
//! interval during the start period), each with a timeout; healthy on exit
//! 0, unhealthy after `retries` failures in a row (failures during the start
//! period do not count while it is still starting); the last five results
//! kept, each output cut at 4 KiB.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use rustix::process::{Signal, WaitId, WaitIdOptions};
use strata_sandbox::Stdio;

use crate::record::Container;
use crate::state::{Health, HealthResult, HealthStatus, now};

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: u32 = 3;
/// Docker keeps this many results.
const LOG_ENTRIES: usize = 5;
/// And this much of each output.
const MAX_OUTPUT: usize = 4096;

struct Probe {
    pidfd: OwnedFd,
    output: Option<OwnedFd>,
    captured: Vec<u8>,
    started: Instant,
    start_time: String,
    timed_out: bool,
}

/// A container's health checker.
pub(super) struct Checker {
    test: Vec<String>,
    interval: Duration,
    timeout: Duration,
    start_period: Duration,
    start_interval: Duration,
    retries: u32,
    container_started: Instant,
    next_probe: Instant,
    probe: Option<Probe>,
    health: Health,
    changed: bool,
}

fn duration(nanoseconds: i64, default: Duration) -> Duration {
    if nanoseconds > 0 {
        Duration::from_nanos(nanoseconds.unsigned_abs())
    } else {
        default
    }
}

impl Checker {
    /// The checker of a container that just started, if it has a check.
    pub(super) fn new(container: &Container, started: Instant) -> Option<Checker> {
        let check = container.config.healthcheck.as_ref()?;
        let test = match check.test.first().map(String::as_str) {
            Some("CMD") => check.test[1..].to_vec(),
            Some("CMD-SHELL") => {
                let mut shell = vec!["/bin/sh".to_owned(), "-c".to_owned()];
                shell.extend(check.test[1..].iter().cloned());
                shell
            }
            _ => return None,
        };
        if test.is_empty() {
            return None;
        }
        let mut checker = Checker {
            test,
            interval: duration(check.interval, DEFAULT_INTERVAL),
            timeout: duration(check.timeout, DEFAULT_TIMEOUT),
            start_period: duration(check.start_period, Duration::ZERO),
            start_interval: duration(check.start_interval, DEFAULT_START_INTERVAL),
            retries: u32::try_from(check.retries)
                .ok()
                .filter(|r| *r > 0)
                .unwrap_or(DEFAULT_RETRIES),
            container_started: started,
            next_probe: started,
            probe: None,
            health: Health::default(),
            changed: true,
        };
        checker.next_probe = started + checker.current_interval(started);
        Some(checker)
    }

    /// The start interval applies only when set and within the start period.
    fn current_interval(&self, now: Instant) -> Duration {
        let in_start_period = now.duration_since(self.container_started) < self.start_period;
        if in_start_period && self.start_interval != DEFAULT_START_INTERVAL {
            self.start_interval
        } else {
            self.interval
        }
    }

    /// When the checker next needs the loop: the next probe, or the running
    /// probe's timeout.
    pub(super) fn next_event(&self) -> Instant {
        match &self.probe {
            Some(probe) => probe.started + self.timeout,
            None => self.next_probe,
        }
    }

    /// The running probe's output (until its end) and pidfd, to poll. The
    /// pidfd is polled to the end: an unreaped probe would keep the
    /// container's PID 1 from ever finishing its exit.
    pub(super) fn probe_fds(&self) -> Option<(Option<BorrowedFd<'_>>, BorrowedFd<'_>)> {
        let probe = self.probe.as_ref()?;
        Some((
            probe.output.as_ref().map(std::os::fd::AsFd::as_fd),
            std::os::fd::AsFd::as_fd(&probe.pidfd),
        ))
    }

    /// Starts a probe when one is due; kills one that ran past its timeout.
    pub(super) fn on_timer(
        &mut self,
        now: Instant,
        container: &Container,
        pid: i32,
        cgroup_procs: &[PathBuf],
    ) {
        if let Some(probe) = &mut self.probe {
            if !probe.timed_out && now >= probe.started + self.timeout {
                probe.timed_out = true;
                let _ = rustix::process::pidfd_send_signal(&probe.pidfd, Signal::KILL);
            }
            return;
        }
        if now < self.next_probe {
            return;
        }
        let start_time = crate::state::now();
        match self.spawn(container, pid, cgroup_procs) {
            Ok((pidfd, output)) => {
                self.probe = Some(Probe {
                    pidfd,
                    output: Some(output),
                    captured: Vec::new(),
                    started: now,
                    start_time,
                    timed_out: false,
                });
            }
            Err(message) => {
                self.record(HealthResult {
                    start: start_time,
                    end: crate::state::now(),
                    exit_code: -1,
                    output: message,
                });
                self.next_probe = now + self.current_interval(now);
            }
        }
    }

    fn spawn(
        &self,
        container: &Container,
        pid: i32,
        cgroup_procs: &[PathBuf],
    ) -> Result<(OwnedFd, OwnedFd), String> {
        let spec =
            crate::process::spec(container, self.test.clone(), false).map_err(|e| e.to_string())?;
        let (read, write) =
            rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(|e| e.to_string())?;
        let write_again = rustix::io::dup(&write).map_err(|e| e.to_string())?;
        let stdio = Stdio::Fds {
            stdin: None,
            stdout: write,
            stderr: write_again,
        };
        let started =
            strata_sandbox::exec_in(pid, &spec, stdio, cgroup_procs).map_err(|e| e.to_string())?;
        let _ = rustix::io::ioctl_fionbio(&read, true);
        Ok((started.pidfd, read))
    }

    /// Takes what the probe wrote (at most 4 KiB is kept).
    pub(super) fn read_output(&mut self) {
        let Some(probe) = &mut self.probe else { return };
        let Some(output) = &probe.output else { return };
        let mut chunk = [0u8; 4096];
        match rustix::io::read(output, &mut chunk) {
            Ok(0) => probe.output = None,
            Ok(read) => {
                let room = MAX_OUTPUT.saturating_sub(probe.captured.len());
                probe.captured.extend_from_slice(&chunk[..read.min(room)]);
            }
            Err(rustix::io::Errno::AGAIN) => {}
            Err(_) => probe.output = None,
        }
    }

    /// The probe ended: record its result.
    pub(super) fn on_probe_exit(&mut self) {
        let Some(probe) = &self.probe else { return };
        let status = rustix::process::waitid(
            WaitId::PidFd(std::os::fd::AsFd::as_fd(&probe.pidfd)),
            WaitIdOptions::EXITED | WaitIdOptions::NOHANG,
        );
        let exit_code = match status {
            Ok(Some(status)) => status.exit_status().map_or(-1, i64::from),
            Ok(None) => return,
            Err(_) => -1,
        };
        self.read_output();
        let Some(probe) = self.probe.take() else {
            return;
        };
        let now_instant = Instant::now();
        let result = if probe.timed_out {
            HealthResult {
                start: probe.start_time,
                end: now(),
                exit_code: -1,
                output: format!(
                    "Health check exceeded timeout ({})",
                    strata_go::time::format_duration(
                        i64::try_from(self.timeout.as_nanos()).unwrap_or(i64::MAX)
                    )
                ),
            }
        } else {
            HealthResult {
                start: probe.start_time,
                end: now(),
                exit_code,
                output: String::from_utf8_lossy(&probe.captured).into_owned(),
            }
        };
        let started_after = probe.started.duration_since(self.container_started);
        self.record_with_start(result, started_after);
        self.next_probe = now_instant + self.current_interval(now_instant);
    }

    fn record(&mut self, result: HealthResult) {
        let since = Instant::now().duration_since(self.container_started);
        self.record_with_start(result, since);
    }

    /// Docker's `handleProbeResult`.
    fn record_with_start(&mut self, result: HealthResult, since_start: Duration) {
        let passed = result.exit_code == 0;
        self.health.log.push(result);
        if self.health.log.len() > LOG_ENTRIES {
            let excess = self.health.log.len() - LOG_ENTRIES;
            self.health.log.drain(..excess);
        }
        if passed {
            self.health.failing_streak = 0;
            self.health.status = HealthStatus::Healthy;
        } else {
            let grace =
                self.health.status == HealthStatus::Starting && since_start < self.start_period;
            if !grace {
                self.health.failing_streak += 1;
                if self.health.failing_streak >= self.retries {
                    self.health.status = HealthStatus::Unhealthy;
                }
            }
        }
        self.changed = true;
    }

    /// Whether the health changed since the last call.
    pub(super) fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// The health as it stands.
    pub(super) fn state(&self) -> &Health {
        &self.health
    }
}

impl Drop for Checker {
    fn drop(&mut self) {
        if let Some(probe) = &self.probe {
            let _ = rustix::process::pidfd_send_signal(&probe.pidfd, Signal::KILL);
            let _ = rustix::process::waitid(
                WaitId::PidFd(std::os::fd::AsFd::as_fd(&probe.pidfd)),
                WaitIdOptions::EXITED,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checker(retries: i64, start_period: Duration) -> Checker {
        let mut container: Container = serde_json::from_value(serde_json::json!({
            "ID": "x", "Name": "x", "Created": "", "Path": "", "Args": [],
            "Image": {"ID": strata_oci::Digest::of(b"x"), "Manifest": {"mediaType": "m", "digest": strata_oci::Digest::of(b"m"), "size": 1}, "DiffIds": [], "Layers": []},
            "Config": {}, "HostConfig": {}
        }))
        .unwrap();
        container.config.healthcheck = Some(strata_oci::Healthcheck {
            test: vec!["CMD-SHELL".into(), "true".into()],
            retries,
            start_period: i64::try_from(start_period.as_nanos()).unwrap(),
            ..Default::default()
        });
        Checker::new(&container, Instant::now()).unwrap()
    }

    fn result(code: i64) -> HealthResult {
        HealthResult {
            exit_code: code,
            ..Default::default()
        }
    }

    #[test]
    fn health_moves_as_dockers_state_machine() {
        let mut check = checker(2, Duration::ZERO);
        assert_eq!(check.test, vec!["/bin/sh", "-c", "true"]);
        assert_eq!(check.state().status, HealthStatus::Starting);
        check.record_with_start(result(1), Duration::from_secs(1));
        assert_eq!(check.state().status, HealthStatus::Starting);
        assert_eq!(check.state().failing_streak, 1);
        check.record_with_start(result(0), Duration::from_secs(2));
        assert_eq!(check.state().status, HealthStatus::Healthy);
        assert_eq!(check.state().failing_streak, 0);
        check.record_with_start(result(1), Duration::from_secs(3));
        check.record_with_start(result(1), Duration::from_secs(4));
        assert_eq!(check.state().status, HealthStatus::Unhealthy);
        for _ in 0..5 {
            check.record_with_start(result(1), Duration::from_secs(5));
        }
        assert_eq!(check.state().log.len(), LOG_ENTRIES);
        assert!(check.take_changed());
        assert!(!check.take_changed());
    }

    #[test]
    fn failures_in_the_start_period_do_not_count_while_starting() {
        let mut check = checker(1, Duration::from_secs(10));
        check.record_with_start(result(1), Duration::from_secs(1));
        assert_eq!(check.state().status, HealthStatus::Starting);
        assert_eq!(check.state().failing_streak, 0);
        check.record_with_start(result(1), Duration::from_secs(11));
        assert_eq!(check.state().status, HealthStatus::Unhealthy);
    }
}
