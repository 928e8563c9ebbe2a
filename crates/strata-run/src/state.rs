//! What a container is doing: Docker's `State` plus what the monitor needs
//! to remember across restarts (`containers/<id>/state.json`, replaced
//! atomically; the monitor writes it while it lives, commands otherwise).

use serde::{Deserialize, Serialize};

use crate::ports::PublishedPorts;

/// Go's zero time, which Docker prints for times that never happened.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `State.Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Made, never started.
    #[default]
    Created,
    /// Its process runs.
    Running,
    /// Between an exit and the restart its policy asks for.
    Restarting,
    /// Stopped.
    Exited,
    /// Being removed.
    Removing,
    /// Could not be stopped or removed cleanly.
    Dead,
}

impl Status {
    /// Docker's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Restarting => "restarting",
            Status::Exited => "exited",
            Status::Removing => "removing",
            Status::Dead => "dead",
        }
    }
}

/// `State.Health.Status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// No check has decided yet.
    #[default]
    Starting,
    /// The last check passed.
    Healthy,
    /// `Retries` checks in a row failed.
    Unhealthy,
}

impl HealthStatus {
    /// Docker's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// One check's result (`State.Health.Log[]`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthResult {
    /// When it started (RFC 3339 with nanoseconds).
    pub start: String,
    /// When it ended.
    pub end: String,
    /// 0 healthy, 1 unhealthy, -1 when it could not run or timed out.
    pub exit_code: i64,
    /// Its output, at most 4 KiB.
    pub output: String,
}

/// `State.Health`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Health {
    /// starting, healthy or unhealthy.
    pub status: HealthStatus,
    /// Failures in a row.
    pub failing_streak: u32,
    /// The last five results, oldest first.
    pub log: Vec<HealthResult>,
}

/// The addresses a container's network gave it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkState {
    /// The container's IPv4 address (`""` on the host's network or none).
    pub ip_address: String,
    /// Its prefix length.
    pub ip_prefix_len: u8,
    /// The gateway, which leads to the host.
    pub gateway: String,
}

/// A container's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct State {
    /// What it is doing.
    pub status: Status,
    /// PID 1's host pid while running, else 0.
    pub pid: i32,
    /// The last exit code (128+N for a signal N).
    pub exit_code: i32,
    /// Why it could not start, or what went wrong.
    pub error: String,
    /// Whether the kernel's OOM killer ended it.
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    /// When it last started.
    pub started_at: String,
    /// When it last stopped.
    pub finished_at: String,
    /// The health check's state, when it has one.
    pub health: Option<Health>,
    /// Restarts by its policy since it was last started by hand.
    pub restart_count: u32,
    /// Stopped by `stop`/`kill`: its restart policy stands down.
    pub manually_stopped: bool,
    /// The exposed ports and where the host serves the published ones.
    pub ports: PublishedPorts,
    /// Its addresses.
    pub network: NetworkState,
    /// The `cgroup.procs` files its processes go in.
    pub cgroup_procs: Vec<std::path::PathBuf>,
}

impl Default for State {
    fn default() -> Self {
        Self {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            oom_killed: false,
            started_at: ZERO_TIME.to_owned(),
            finished_at: ZERO_TIME.to_owned(),
            health: None,
            restart_count: 0,
            manually_stopped: false,
            ports: PublishedPorts::default(),
            network: NetworkState::default(),
            cgroup_procs: Vec::new(),
        }
    }
}

impl State {
    /// Whether its process runs.
    pub fn running(&self) -> bool {
        matches!(self.status, Status::Running | Status::Restarting)
    }
}

/// The current time as Go's RFC3339Nano prints it (UTC).
pub fn now() -> String {
    crate::logs::format_rfc3339_nano(jiff::Timestamp::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_state_is_dockers_created_state() {
        let json = serde_json::to_value(State::default()).unwrap();
        assert_eq!(json["Status"], "created");
        assert_eq!(json["StartedAt"], ZERO_TIME);
        assert_eq!(json["OOMKilled"], false);
    }
}
