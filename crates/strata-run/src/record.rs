//! What a container is made of, fixed when it is created: Docker's
//! `Config` and `HostConfig` (their JSON names, so `inspect` and templates
//! read them as Docker's), the image it came from and its mounts.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use strata_oci::{Descriptor, Digest, Empty, Healthcheck};

use crate::mounts::{ApiMount, ContainerMount};
use crate::ports::PortBinding;

/// A container's record (`containers/<id>/config.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    /// 64 hex digits.
    #[serde(rename = "ID")]
    pub id: String,
    /// Without Docker's leading `/`.
    pub name: String,
    /// RFC 3339 with nanoseconds, UTC.
    pub created: String,
    /// The program: the first word of entrypoint + command.
    pub path: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The image it was made from.
    pub image: ImageSource,
    /// Docker's container `Config`.
    pub config: Config,
    /// Docker's `HostConfig`.
    pub host_config: HostConfig,
    /// Its mounts (`-v`, `--mount`, `--tmpfs`, the image's VOLUMEs), in order.
    #[serde(default)]
    pub mounts: Vec<ContainerMount>,
}

/// The image a container runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSource {
    /// The image ID (its config digest).
    #[serde(rename = "ID")]
    pub id: Digest,
    /// The manifest, held in the store while the container exists.
    pub manifest: Descriptor,
    /// The layers' diff IDs, bottom first.
    pub diff_ids: Vec<Digest>,
    /// The layers' blob digests, bottom first.
    pub layers: Vec<Digest>,
}

/// Docker's container `Config`, in its JSON field order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Config {
    /// The container's hostname (its short ID unless `--hostname`).
    pub hostname: String,
    /// `--domainname`.
    pub domainname: String,
    /// `-u`, or the image's USER.
    pub user: String,
    /// Standard input attached (`-i` in the foreground).
    pub attach_stdin: bool,
    /// Standard output attached (the foreground).
    pub attach_stdout: bool,
    /// Standard error attached (the foreground).
    pub attach_stderr: bool,
    /// EXPOSEd and `--expose`d ports (`80/tcp`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, Empty>,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub open_stdin: bool,
    /// Standard input closed after the first attach ends (`-i` in the foreground).
    pub stdin_once: bool,
    /// The image's ENV with `-e`/`--env-file` over it.
    pub env: Vec<String>,
    /// The command (arguments after the image, or the image's CMD).
    pub cmd: Option<Vec<String>>,
    /// The health check in force (image's, overridden by `--health-*`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    /// The image as the user named it.
    pub image: String,
    /// The anonymous volumes' destinations (`-v /path`, the image's VOLUMEs).
    pub volumes: Option<BTreeMap<String, Empty>>,
    /// `-w`, or the image's WORKDIR.
    pub working_dir: String,
    /// `--entrypoint`, or the image's ENTRYPOINT.
    pub entrypoint: Option<Vec<String>>,
    /// The image's ONBUILD triggers (never run by a container).
    pub on_build: Option<Vec<String>>,
    /// The image's labels with `--label` over them.
    pub labels: BTreeMap<String, String>,
    /// `--stop-signal`, or the image's STOPSIGNAL.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    /// `--stop-timeout`, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
}

/// `HostConfig.RestartPolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    /// `""`/`no`, `always`, `unless-stopped` or `on-failure`.
    pub name: String,
    /// on-failure's limit; 0 is none.
    pub maximum_retry_count: i64,
}

/// Docker's `HostConfig`: what `run` flags asked of the host.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    /// `-v` values, as given.
    pub binds: Option<Vec<String>>,
    /// `default`, `host`, `none` (`--network`).
    pub network_mode: String,
    /// `-p`: container port (`80/tcp`) to host bindings.
    pub port_bindings: BTreeMap<String, Vec<PortBinding>>,
    /// `--restart`.
    pub restart_policy: RestartPolicy,
    /// `--rm`.
    pub auto_remove: bool,
    /// `--cap-add`.
    pub cap_add: Option<Vec<String>>,
    /// `--cap-drop`.
    pub cap_drop: Option<Vec<String>>,
    /// `--add-host` (`name:address`).
    pub extra_hosts: Option<Vec<String>>,
    /// `-P`.
    pub publish_all_ports: bool,
    /// `--read-only`.
    pub readonly_rootfs: bool,
    /// `--security-opt`.
    pub security_opt: Option<Vec<String>>,
    /// `--tmpfs`: destination to options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<BTreeMap<String, String>>,
    /// `-m`, bytes; 0 is none.
    pub memory: i64,
    /// `--cpus` × 10⁹; 0 is none.
    pub nano_cpus: i64,
    /// `--pids-limit`; None is none.
    pub pids_limit: Option<i64>,
    /// `--init`.
    pub init: Option<bool>,
    /// `--mount` values, as the API's mounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mounts: Option<Vec<ApiMount>>,
}

impl Container {
    /// The signal `stop` sends: `--stop-signal` or STOPSIGNAL, else SIGTERM.
    pub fn stop_signal(&self) -> &str {
        if self.config.stop_signal.is_empty() {
            "SIGTERM"
        } else {
            &self.config.stop_signal
        }
    }

    /// Seconds `stop` waits before SIGKILL: `--stop-timeout`, else 10.
    pub fn stop_timeout(&self) -> i64 {
        self.config.stop_timeout.unwrap_or(10)
    }
}
