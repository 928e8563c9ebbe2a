//! The image configuration, with Docker's extensions to the OCI one
//! (Healthcheck, OnBuild, Shell, ArgsEscaped) and the history.
//!
//! Field order and omission rules follow BuildKit's output: the top-level keys
//! sorted (BuildKit re-marshals them through a Go map), `config` in the order
//! of BuildKit's `dockerspec.ImageConfig`. Serialised with [`crate::to_go_json`],
//! a configuration BuildKit wrote comes back byte for byte. Pulled
//! configurations are always kept as the registry's bytes, never re-encoded.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

use crate::Digest;

/// An image configuration (`application/vnd.oci.image.config.v1+json`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImageConfiguration {
    /// CPU architecture (`amd64`).
    pub architecture: String,
    /// The author (`MAINTAINER`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// What a container of this image runs with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<ContainerConfig>,
    /// Creation time, RFC 3339, kept as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// One entry per Dockerfile instruction, base image first.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub history: Vec<History>,
    /// strata's inline build cache (`--cache-to type=inline`): the image's
    /// steps by cache key, as BuildKit keeps its own under
    /// `moby.buildkit.cache.v0`; a stage built on the image drops it.
    #[serde(
        rename = "io.strata.build.cache.v1",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub build_cache: Option<serde_json::Value>,
    /// Operating system (`linux`).
    pub os: String,
    /// Required OS features.
    #[serde(rename = "os.features", default, skip_serializing_if = "Vec::is_empty")]
    pub os_features: Vec<String>,
    /// OS version.
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// The layers' uncompressed digests.
    pub rootfs: RootFs,
    /// CPU variant (`v7`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// The runtime configuration; Docker's field names (capitalised) and BuildKit's order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContainerConfig {
    /// `USER`.
    #[serde(rename = "User", default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// `EXPOSE`: `"80/tcp"` keys with empty-object values.
    #[serde(
        rename = "ExposedPorts",
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub exposed_ports: BTreeMap<String, Empty>,
    /// `ENV`, as `KEY=value`.
    #[serde(rename = "Env", default, skip_serializing_if = "none_or_empty")]
    pub env: Option<Vec<String>>,
    /// `ENTRYPOINT`; `None` is unset, which differs from empty when inherited.
    #[serde(rename = "Entrypoint", default, skip_serializing_if = "none_or_empty")]
    pub entrypoint: Option<Vec<String>>,
    /// `CMD`.
    #[serde(rename = "Cmd", default, skip_serializing_if = "none_or_empty")]
    pub cmd: Option<Vec<String>>,
    /// `VOLUME`: paths with empty-object values.
    #[serde(
        rename = "Volumes",
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub volumes: BTreeMap<String, Empty>,
    /// `WORKDIR`.
    #[serde(
        rename = "WorkingDir",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub working_dir: String,
    /// `LABEL`.
    #[serde(
        rename = "Labels",
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub labels: BTreeMap<String, String>,
    /// `STOPSIGNAL`.
    #[serde(
        rename = "StopSignal",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub stop_signal: String,
    /// Whether Cmd/Entrypoint are already escaped (Windows; BuildKit sets it for shell form).
    #[serde(rename = "ArgsEscaped", default, skip_serializing_if = "is_false")]
    pub args_escaped: bool,
    /// `HEALTHCHECK`.
    #[serde(
        rename = "Healthcheck",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub healthcheck: Option<Healthcheck>,
    /// `ONBUILD` triggers, as written.
    #[serde(
        rename = "OnBuild",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub on_build: Vec<String>,
    /// `SHELL`.
    #[serde(
        rename = "Shell",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub shell: Vec<String>,
}

/// `HEALTHCHECK`: durations in nanoseconds, zero meaning "inherit/default".
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Healthcheck {
    /// `["NONE"]`, `["CMD", args...]` or `["CMD-SHELL", command]`.
    #[serde(
        rename = "Test",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub test: Vec<String>,
    /// Time between checks, ns.
    #[serde(rename = "Interval", default, skip_serializing_if = "is_zero")]
    pub interval: i64,
    /// Time a check may take, ns.
    #[serde(rename = "Timeout", default, skip_serializing_if = "is_zero")]
    pub timeout: i64,
    /// Grace period after start, ns.
    #[serde(rename = "StartPeriod", default, skip_serializing_if = "is_zero")]
    pub start_period: i64,
    /// Time between checks during the start period, ns.
    #[serde(rename = "StartInterval", default, skip_serializing_if = "is_zero")]
    pub start_interval: i64,
    /// Consecutive failures before unhealthy.
    #[serde(rename = "Retries", default, skip_serializing_if = "is_zero")]
    pub retries: i64,
}

/// The rootfs section: always type `layers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Uncompressed layer digests, base first.
    #[serde(default, deserialize_with = "null_as_default")]
    pub diff_ids: Vec<Digest>,
}

impl Default for RootFs {
    fn default() -> Self {
        Self {
            kind: "layers".to_owned(),
            diff_ids: Vec::new(),
        }
    }
}

/// One history entry; `empty_layer` marks instructions that made no layer.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct History {
    /// When, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The instruction (`RUN /bin/sh -c make # buildkit`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Who.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// A comment (`buildkit.dockerfile.v0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// True when the instruction made no layer.
    #[serde(default, skip_serializing_if = "is_false")]
    pub empty_layer: bool,
}

/// The `{}` value of ExposedPorts and Volumes entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Empty {}

/// Why bytes are not an image configuration.
#[derive(Debug, thiserror::Error)]
#[error("invalid image configuration: {0}")]
pub struct ConfigurationError(#[from] pub serde_json::Error);

impl ImageConfiguration {
    /// Parses a configuration.
    pub fn parse(bytes: &[u8]) -> Result<Self, ConfigurationError> {
        Ok(serde_json::from_slice(bytes)?)
    }

    /// Compact JSON as Go writes it: what gets hashed (its digest is the image ID).
    pub fn to_json(&self) -> Vec<u8> {
        crate::to_go_json(self).unwrap_or_default()
    }

    /// The runtime configuration, or an empty one.
    pub fn container_config(&self) -> ContainerConfig {
        self.config.clone().unwrap_or_default()
    }
}

fn none_or_empty(value: &Option<Vec<String>>) -> bool {
    value.as_ref().is_none_or(Vec::is_empty)
}

fn is_false(value: &bool) -> bool {
    !*value
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration in the shape BuildKit writes, with every Docker extension.
    const BUILDKIT: &str = r#"{"architecture":"amd64","author":"me \u003cme@example.com\u003e","config":{"User":"app","ExposedPorts":{"443/tcp":{},"80/tcp":{}},"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Entrypoint":["/entry"],"Cmd":["/bin/sh","-c","a \u0026\u0026 b"],"Volumes":{"/data":{}},"WorkingDir":"/app","Labels":{"a":"1","b":"2"},"StopSignal":"SIGTERM","ArgsEscaped":true,"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3},"OnBuild":["RUN echo hi"],"Shell":["/bin/bash","-c"]},"created":"2024-01-02T03:04:05.123456789Z","history":[{"created":"2024-01-02T03:04:05Z","created_by":"ADD x / # buildkit","comment":"buildkit.dockerfile.v0"},{"created":"2024-01-02T03:04:05Z","created_by":"CMD [\"x\"]","comment":"buildkit.dockerfile.v0","empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]}}"#;

    #[test]
    fn round_trips_buildkit_config_byte_for_byte() {
        let config = ImageConfiguration::parse(BUILDKIT.as_bytes()).unwrap();
        let container = config.container_config();
        assert_eq!(container.stop_signal, "SIGTERM");
        assert_eq!(container.healthcheck.as_ref().unwrap().retries, 3);
        assert_eq!(container.on_build, vec!["RUN echo hi"]);
        assert!(container.args_escaped);
        assert!(config.history[1].empty_layer);
        assert_eq!(String::from_utf8(config.to_json()).unwrap(), BUILDKIT);
    }

    #[test]
    fn accepts_nulls_docker_writes() {
        let text = r#"{"architecture":"amd64","os":"linux","config":{"Env":null,"Cmd":null,"Labels":null,"OnBuild":null,"Volumes":null},"rootfs":{"type":"layers","diff_ids":null},"history":null}"#;
        let config = ImageConfiguration::parse(text.as_bytes()).unwrap();
        assert_eq!(
            String::from_utf8(config.to_json()).unwrap(),
            r#"{"architecture":"amd64","config":{},"os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
        );
    }
}
