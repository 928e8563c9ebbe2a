//! `run`/`create` flags and an image's config merged into a container
//! record, as Docker's CLI and daemon merge them.

use std::path::PathBuf;

use strata_oci::{ContainerConfig, Empty, Healthcheck};

use crate::ids::{new_id, random_name, short_id, validate_name};
use crate::record::{Config, Container, HostConfig, ImageSource, RestartPolicy};
use crate::restart::parse_restart_policy;
use crate::signals::is_stop_signal;
use crate::state::now;
use crate::{Error, Result};

/// What `strata run`/`create` was asked, flag by flag (Docker's meanings).
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The image as typed.
    pub image: String,
    /// `--name`.
    pub name: Option<String>,
    /// Arguments after the image (they replace CMD).
    pub command: Vec<String>,
    /// `--entrypoint` (`""` clears the image's).
    pub entrypoint: Option<String>,
    /// `-e`/`--env` values.
    pub env: Vec<String>,
    /// `--env-file` files.
    pub env_files: Vec<PathBuf>,
    /// `-u`.
    pub user: Option<String>,
    /// `-w`.
    pub workdir: Option<String>,
    /// `-p` values.
    pub publish: Vec<String>,
    /// `-P`.
    pub publish_all: bool,
    /// `--expose` values.
    pub expose: Vec<String>,
    /// `-v` values.
    pub volumes: Vec<String>,
    /// `--mount` values.
    pub mounts: Vec<String>,
    /// `--tmpfs` values.
    pub tmpfs: Vec<String>,
    /// `--read-only`.
    pub read_only: bool,
    /// `--network`.
    pub network: Option<String>,
    /// `-h`/`--hostname`.
    pub hostname: Option<String>,
    /// `--add-host` values.
    pub add_hosts: Vec<String>,
    /// `--restart`.
    pub restart: Option<String>,
    /// `--rm`.
    pub auto_remove: bool,
    /// `-i`.
    pub interactive: bool,
    /// `-t`.
    pub tty: bool,
    /// `-d` (run only: nothing attached).
    pub detach: bool,
    /// `--init`.
    pub init: bool,
    /// `--cap-add` values.
    pub cap_add: Vec<String>,
    /// `--cap-drop` values.
    pub cap_drop: Vec<String>,
    /// `--security-opt` values.
    pub security_opt: Vec<String>,
    /// `--stop-signal`.
    pub stop_signal: Option<String>,
    /// `--stop-timeout`.
    pub stop_timeout: Option<i64>,
    /// `--health-cmd`.
    pub health_cmd: Option<String>,
    /// `--health-interval`.
    pub health_interval: Option<String>,
    /// `--health-timeout`.
    pub health_timeout: Option<String>,
    /// `--health-retries`.
    pub health_retries: Option<i64>,
    /// `--health-start-period`.
    pub health_start_period: Option<String>,
    /// `--health-start-interval`.
    pub health_start_interval: Option<String>,
    /// `--no-healthcheck`.
    pub no_healthcheck: bool,
    /// `-l`/`--label` values.
    pub labels: Vec<String>,
    /// `-m`/`--memory`.
    pub memory: Option<String>,
    /// `--cpus`.
    pub cpus: Option<String>,
    /// `--pids-limit`.
    pub pids_limit: Option<i64>,
}

/// The image a container is made from, as the store has it.
#[derive(Debug, Clone)]
pub struct ImageInput {
    /// Where its content is.
    pub source: ImageSource,
    /// Its config (ENV, CMD, ENTRYPOINT ...).
    pub config: ContainerConfig,
}

fn invalid(flag: &'static str, message: impl Into<String>) -> Error {
    Error::InvalidFlag {
        flag,
        message: message.into(),
    }
}

/// Builds the record of a new container; `taken` says whether a name is
/// already used (for a generated name).
pub fn container_record(
    options: &CreateOptions,
    image: &ImageInput,
    taken: impl Fn(&str) -> bool,
) -> Result<Container> {
    let restart_policy = match &options.restart {
        Some(text) => parse_restart_policy(text)?,
        None => RestartPolicy {
            name: "no".to_owned(),
            maximum_retry_count: 0,
        },
    };
    if options.auto_remove && !matches!(restart_policy.name.as_str(), "no" | "") {
        return Err(invalid(
            "--restart",
            "conflicting options: cannot specify both --restart and --rm",
        ));
    }
    let id = new_id()?;
    let name = match &options.name {
        Some(name) => validate_name(name)?,
        None => random_name(taken)?,
    };
    let image_config = &image.config;
    let (entrypoint, cmd) = command_line(options, image_config);
    let mut words = entrypoint.clone().unwrap_or_default();
    words.extend(cmd.clone().unwrap_or_default());
    let Some((path, args)) = words.split_first() else {
        return Err(invalid("command", "No command specified"));
    };
    let hostname = options
        .hostname
        .clone()
        .unwrap_or_else(|| short_id(&id).to_owned());
    if let Some(workdir) = &options.workdir
        && !workdir.starts_with('/')
    {
        return Err(invalid(
            "--workdir",
            format!(
                "the working directory '{workdir}' is invalid, it needs to be an absolute path"
            ),
        ));
    }
    let stop_signal = match &options.stop_signal {
        Some(signal) => {
            if !is_stop_signal(signal) {
                return Err(invalid(
                    "--stop-signal",
                    format!("Invalid signal: {signal}"),
                ));
            }
            signal.clone()
        }
        None => image_config.stop_signal.clone(),
    };
    let mut labels = image_config.labels.clone();
    for label in &options.labels {
        let (key, value) = label.split_once('=').unwrap_or((label.as_str(), ""));
        labels.insert(key.to_owned(), value.to_owned());
    }
    let mut exposed_ports = image_config.exposed_ports.clone();
    for port in crate::ports::parse_expose(&options.expose)? {
        exposed_ports.insert(port.to_string(), Empty {});
    }
    let published = crate::ports::parse_publish(&options.publish)?;
    for port in &published.exposed {
        exposed_ports.insert(port.to_string(), Empty {});
    }
    let port_bindings = published
        .bindings
        .iter()
        .map(|(port, bindings)| (port.to_string(), bindings.clone()))
        .collect();
    let extra_hosts = check_extra_hosts(&options.add_hosts)?;
    let mut mounts =
        crate::mounts::parse_mounts(&options.volumes, &options.mounts, &options.tmpfs)?;
    let image_volumes: Vec<&String> = image_config.volumes.keys().collect();
    crate::mounts::add_image_volumes(&mut mounts, &image_volumes);
    let mount_config = crate::mounts::MountConfig::of(&mounts);
    let mut volumes = image_config.volumes.clone();
    for destination in mount_config.volumes.iter().flat_map(|v| v.keys()) {
        volumes.insert(destination.clone(), Empty {});
    }
    let env = merge_env(
        image_config.env.clone().unwrap_or_default(),
        &environment_flags(options)?,
    );
    let config = Config {
        hostname,
        domainname: String::new(),
        user: options
            .user
            .clone()
            .unwrap_or_else(|| image_config.user.clone()),
        attach_stdin: options.interactive && !options.detach,
        attach_stdout: !options.detach,
        attach_stderr: !options.detach,
        exposed_ports,
        tty: options.tty,
        open_stdin: options.interactive,
        stdin_once: options.interactive && !options.detach,
        env,
        cmd,
        healthcheck: healthcheck(options, image_config.healthcheck.as_ref())?,
        image: options.image.clone(),
        volumes: (!volumes.is_empty()).then_some(volumes),
        working_dir: options
            .workdir
            .clone()
            .unwrap_or_else(|| image_config.working_dir.clone()),
        entrypoint,
        on_build: (!image_config.on_build.is_empty()).then(|| image_config.on_build.clone()),
        labels,
        stop_signal,
        stop_timeout: options.stop_timeout,
    };
    let network_mode = match options.network.as_deref() {
        None | Some("default") | Some("bridge") => "default".to_owned(),
        Some("host") => "host".to_owned(),
        Some("none") => "none".to_owned(),
        Some(other) => {
            return Err(invalid("--network", format!("network {other} not found")));
        }
    };
    let host_config = HostConfig {
        binds: mount_config.binds,
        network_mode,
        port_bindings,
        restart_policy,
        auto_remove: options.auto_remove,
        cap_add: (!options.cap_add.is_empty()).then(|| options.cap_add.clone()),
        cap_drop: (!options.cap_drop.is_empty()).then(|| options.cap_drop.clone()),
        extra_hosts,
        publish_all_ports: options.publish_all,
        readonly_rootfs: options.read_only,
        security_opt: (!options.security_opt.is_empty()).then(|| options.security_opt.clone()),
        tmpfs: mount_config.tmpfs,
        memory: match &options.memory {
            Some(text) => i64::try_from(crate::units::parse_memory(text).map_err(|e| {
                invalid(
                    "--memory",
                    format!("invalid argument \"{text}\" for \"-m, --memory\" flag: {e}"),
                )
            })?)
            .unwrap_or(i64::MAX),
            None => 0,
        },
        nano_cpus: match &options.cpus {
            Some(text) => crate::units::parse_cpus(text).map_err(|e| {
                invalid(
                    "--cpus",
                    format!("invalid argument \"{text}\" for \"--cpus\" flag: {e}"),
                )
            })?,
            None => 0,
        },
        pids_limit: options.pids_limit.filter(|limit| *limit != 0),
        init: options.init.then_some(true),
        mounts: mount_config.mounts,
    };
    Ok(Container {
        id,
        name,
        created: now(),
        path: path.clone(),
        args: args.to_vec(),
        image: image.source.clone(),
        config,
        host_config,
        mounts,
    })
}

/// The container's resource limits, from its HostConfig.
pub(crate) fn limits(container: &Container) -> crate::cgroups::Limits {
    let host = &container.host_config;
    crate::cgroups::Limits {
        memory: u64::try_from(host.memory).ok().filter(|m| *m > 0),
        memory_swap: None,
        nano_cpus: (host.nano_cpus > 0).then_some(host.nano_cpus),
        pids: host.pids_limit.filter(|p| *p > 0),
    }
}

/// The daemon's checks of a new container's limits against this host:
/// Docker's errors, or its warnings (`WARNING: ...` lines) for limits the
/// host cannot apply.
pub fn check_limits(container: &Container) -> Result<Vec<String>> {
    let limits = limits(container);
    if !limits.any() {
        return Ok(Vec::new());
    }
    let host = crate::cgroups::Hierarchies::detect()?;
    Ok(limits.verify(&host)?.1)
}

/// ENTRYPOINT and CMD as the daemon merges them: a given entrypoint drops
/// the image's CMD; arguments replace CMD; `--entrypoint ""` clears it.
fn command_line(
    options: &CreateOptions,
    image: &ContainerConfig,
) -> (Option<Vec<String>>, Option<Vec<String>>) {
    let user_entrypoint: Option<Vec<String>> = options.entrypoint.as_ref().map(|e| {
        if e.is_empty() {
            Vec::new()
        } else {
            vec![e.clone()]
        }
    });
    let user_cmd = (!options.command.is_empty()).then(|| options.command.clone());
    match user_entrypoint {
        Some(entrypoint) if !entrypoint.is_empty() => (Some(entrypoint), user_cmd),
        Some(empty) => (Some(empty), user_cmd.or_else(|| image.cmd.clone())),
        None => (
            image.entrypoint.clone(),
            user_cmd.or_else(|| image.cmd.clone()),
        ),
    }
}

/// `--add-host name:address` values checked as Docker's CLI does (an IP
/// address, or `host-gateway`); `None` when there are none.
fn check_extra_hosts(values: &[String]) -> Result<Option<Vec<String>>> {
    for value in values {
        let flag_error = |reason: String| {
            invalid(
                "--add-host",
                format!("invalid argument \"{value}\" for \"--add-host\" flag: {reason}"),
            )
        };
        let Some((name, address)) = value.split_once([':', '=']) else {
            return Err(flag_error(format!("bad format for add-host: \"{value}\"")));
        };
        if name.is_empty() {
            return Err(flag_error(format!("bad format for add-host: \"{value}\"")));
        }
        if address != "host-gateway" && address.parse::<std::net::IpAddr>().is_err() {
            return Err(flag_error(format!(
                "invalid IP address in add-host: \"{address}\""
            )));
        }
    }
    Ok((!values.is_empty()).then(|| values.to_vec()))
}

/// `-e` and `--env-file` entries, in order: `K=V` as is, `K` from this
/// process's environment (kept bare, which unsets K, when it is not set).
fn environment_flags(options: &CreateOptions) -> Result<Vec<String>> {
    environment_entries(&options.env, &options.env_files)
}

/// The entries of `--env-file` files then `-e` values (Docker's order).
pub(crate) fn environment_entries(env: &[String], files: &[PathBuf]) -> Result<Vec<String>> {
    let mut entries = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(file).map_err(|e| strata_fs::Error::new("open", file, e))?;
        for line in text.lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let name = line.split_once('=').map_or(line, |(name, _)| name);
            if name.contains(char::is_whitespace) {
                return Err(invalid(
                    "--env-file",
                    format!("variable '{name}' contains whitespaces"),
                ));
            }
            entries.push(expand_env(line, "--env-file")?);
        }
    }
    for entry in env {
        entries.push(expand_env(entry, "--env")?);
    }
    Ok(entries)
}

fn expand_env(entry: &str, flag: &'static str) -> Result<String> {
    if entry.starts_with('=') || entry.is_empty() {
        let flag_name = if flag == "--env" { "-e, --env" } else { flag };
        return Err(invalid(
            flag,
            format!(
                "invalid argument \"{entry}\" for \"{flag_name}\" flag: invalid environment variable: {entry}"
            ),
        ));
    }
    if entry.contains('=') {
        return Ok(entry.to_owned());
    }
    Ok(match std::env::var(entry) {
        Ok(value) => format!("{entry}={value}"),
        Err(_) => entry.to_owned(),
    })
}

/// Docker's `ReplaceOrAppendEnvValues`: an entry replaces the one with the
/// same name in place or is appended; a bare `K` removes K.
pub fn merge_env(mut base: Vec<String>, overrides: &[String]) -> Vec<String> {
    let name = |entry: &str| entry.split_once('=').map_or(entry, |(n, _)| n).to_owned();
    for entry in overrides {
        let key = name(entry);
        let position = base.iter().position(|e| name(e) == key);
        match (entry.contains('='), position) {
            (true, Some(index)) => base[index] = entry.clone(),
            (true, None) => base.push(entry.clone()),
            (false, Some(index)) => {
                base.remove(index);
            }
            (false, None) => {}
        }
    }
    base
}

fn healthcheck(
    options: &CreateOptions,
    image: Option<&Healthcheck>,
) -> Result<Option<Healthcheck>> {
    let flags_given = options.health_cmd.is_some()
        || options.health_interval.is_some()
        || options.health_timeout.is_some()
        || options.health_retries.is_some()
        || options.health_start_period.is_some()
        || options.health_start_interval.is_some();
    if options.no_healthcheck {
        if flags_given {
            return Err(invalid(
                "--no-healthcheck",
                "--no-healthcheck conflicts with --health-* options",
            ));
        }
        return Ok(Some(Healthcheck {
            test: vec!["NONE".to_owned()],
            ..Healthcheck::default()
        }));
    }
    if !flags_given {
        return Ok(image.cloned());
    }
    let mut check = image.cloned().unwrap_or_default();
    if let Some(command) = &options.health_cmd {
        check.test = vec!["CMD-SHELL".to_owned(), command.clone()];
    }
    let duration = |text: &Option<String>, flag: &'static str| -> Result<Option<i64>> {
        let Some(text) = text else { return Ok(None) };
        let nanoseconds = strata_go::time::parse_duration(text).map_err(|e| {
            invalid(
                flag,
                format!("invalid argument \"{text}\" for \"{flag}\" flag: {e}"),
            )
        })?;
        if nanoseconds < 0 {
            return Err(invalid(flag, format!("{flag} cannot be negative")));
        }
        Ok(Some(nanoseconds))
    };
    if let Some(interval) = duration(&options.health_interval, "--health-interval")? {
        check.interval = interval;
    }
    if let Some(timeout) = duration(&options.health_timeout, "--health-timeout")? {
        check.timeout = timeout;
    }
    if let Some(period) = duration(&options.health_start_period, "--health-start-period")? {
        check.start_period = period;
    }
    if let Some(interval) = duration(&options.health_start_interval, "--health-start-interval")? {
        check.start_interval = interval;
    }
    if let Some(retries) = options.health_retries {
        if retries < 0 {
            return Err(invalid(
                "--health-retries",
                "--health-retries cannot be negative",
            ));
        }
        check.retries = retries;
    }
    Ok(Some(check))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(entrypoint: Option<&[&str]>, cmd: Option<&[&str]>) -> ContainerConfig {
        let words = |w: &[&str]| w.iter().map(|s| s.to_string()).collect();
        ContainerConfig {
            entrypoint: entrypoint.map(words),
            cmd: cmd.map(words),
            env: Some(vec!["PATH=/bin".into(), "A=1".into()]),
            ..ContainerConfig::default()
        }
    }

    fn options(entrypoint: Option<&str>, command: &[&str]) -> CreateOptions {
        CreateOptions {
            entrypoint: entrypoint.map(str::to_owned),
            command: command.iter().map(|s| s.to_string()).collect(),
            ..CreateOptions::default()
        }
    }

    #[test]
    fn entrypoint_and_cmd_merge_as_the_daemon_merges_them() {
        let both = image(Some(&["/entry"]), Some(&["serve"]));
        let merged = |o: &CreateOptions, i: &ContainerConfig| command_line(o, i);
        assert_eq!(
            merged(&options(None, &[]), &both),
            (Some(vec!["/entry".into()]), Some(vec!["serve".into()]))
        );
        assert_eq!(
            merged(&options(None, &["test.js"]), &both),
            (Some(vec!["/entry".into()]), Some(vec!["test.js".into()]))
        );
        // A new entrypoint drops the image's CMD.
        assert_eq!(
            merged(&options(Some("sh"), &[]), &both),
            (Some(vec!["sh".into()]), None)
        );
        assert_eq!(
            merged(&options(Some(""), &[]), &both),
            (Some(vec![]), Some(vec!["serve".into()]))
        );
    }

    #[test]
    fn env_overrides_replace_in_place_and_bare_names_unset() {
        let merged = merge_env(
            vec!["PATH=/bin".into(), "A=1".into(), "B=2".into()],
            &["A=9".into(), "C=3".into(), "B".into()],
        );
        assert_eq!(merged, vec!["PATH=/bin", "A=9", "C=3"]);
        assert_eq!(
            expand_env("=x", "--env").unwrap_err().to_string(),
            "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment variable: =x"
        );
    }

    #[test]
    fn records_take_the_image_defaults_and_the_flags() {
        let input = ImageInput {
            source: ImageSource {
                id: strata_oci::Digest::of(b"config"),
                manifest: strata_oci::Descriptor::new("m", strata_oci::Digest::of(b"m"), 1),
                diff_ids: Vec::new(),
                layers: Vec::new(),
            },
            config: image(None, Some(&["/bin/sh"])),
        };
        let mut flags = options(None, &[]);
        flags.image = "busybox".into();
        flags.env = vec!["PORT=8080".into()];
        let record = container_record(&flags, &input, |_| false).unwrap();
        assert_eq!(record.path, "/bin/sh");
        assert_eq!(record.config.hostname, short_id(&record.id));
        assert_eq!(record.config.env, vec!["PATH=/bin", "A=1", "PORT=8080"]);
        assert_eq!(record.host_config.network_mode, "default");
        flags.auto_remove = true;
        flags.restart = Some("always".into());
        assert_eq!(
            container_record(&flags, &input, |_| false)
                .unwrap_err()
                .to_string(),
            "conflicting options: cannot specify both --restart and --rm"
        );
        let none = ImageInput {
            config: ContainerConfig::default(),
            ..input
        };
        assert_eq!(
            container_record(&options(None, &[]), &none, |_| false)
                .unwrap_err()
                .to_string(),
            "No command specified"
        );
    }
}
