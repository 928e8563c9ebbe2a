//! RUN lowered: its process (heredocs resolved, shell prepended), its
//! environment and mounts, its key's inputs and its history entry.

use std::collections::BTreeMap;

use strata_context::CopySource;
use strata_dockerfile::{self as dockerfile, CommandLine, ErrorKind, Expander, Location};

use super::Lowering;
use super::dispatch::{Dispatch, absolute_in, display_text, with_shell};
use super::key_of;
use super::named::FromSource;
use super::state::State;
use super::types::{Operation, RunMount, RunMountKind, RunOperation};
use crate::error::{Error, Result};
use crate::history;
use crate::options::NetworkMode;

/// Heredoc files a RUN runs: name, content.
type Scripts = Vec<(String, String)>;

impl Lowering<'_> {
    /// RUN: a step running the process, its history the command with the
    /// stage's ARGs in front.
    pub(super) fn dispatch_run(
        &mut self,
        state: &mut State,
        run: &dockerfile::Run,
        at: &Dispatch<'_>,
    ) -> Result<()> {
        let environment = &at.environment;
        state.number += 1;
        let run_operation = self.lower_run(state, run, environment, at.location)?;
        let declared: Vec<(String, String)> = state
            .declared
            .iter()
            .map(|d| {
                let value = dockerfile::Environment::get(environment, &d.key)
                    .map(str::to_owned)
                    .or_else(|| d.value.clone())
                    .unwrap_or_default();
                (d.key.clone(), value)
            })
            .collect();
        let created_by = format!(
            "RUN {} # buildkit",
            history::run_command(&run_operation.args, &declared)
        );
        let parent = state.key;
        let key = key_of(&parent, &("run", &run_operation));
        let inputs = run_inputs(state, &run_operation);
        let masked = secrets_masked(environment, &run_operation);
        let expanded_text = display_text(&at.text, self.dockerfile.escape, &masked);
        let name = self.vertex_name(at.stage_name, state.number, state.total, &expanded_text);
        let operation = Operation::Run(run_operation);
        state.push_step(name, at.location, operation, key, inputs, at.stage_name);
        state.history(created_by, true, self.options.source_date_epoch);
        Ok(())
    }

    /// A RUN's process: arguments (heredocs resolved, shell prepended),
    /// environment, user, directory, network and mounts.
    fn lower_run(
        &mut self,
        state: &State,
        run: &dockerfile::Run,
        environment: &dockerfile::EnvironmentList,
        location: Location,
    ) -> Result<RunOperation> {
        let foreign = self.foreign_platform(state, location)?;
        let (mut args, scripts) = self.heredoc_arguments(run, location)?;
        // Current BuildKit runs a shebang heredoc through the shell too.
        if run.command.prepend_shell {
            args = with_shell(
                state,
                &CommandLine {
                    arguments: args,
                    prepend_shell: true,
                },
            );
        }
        let network = match run.network {
            dockerfile::Network::None => false,
            dockerfile::Network::Host => true,
            _ => self.options.network == NetworkMode::Host,
        };
        self.check_entitlements(run)?;
        let mut expander = Expander::new(self.dockerfile.escape, environment);
        let mounts = run
            .mounts(&mut expander)
            .map_err(|e| self.error_at(ErrorKind::Flag, e.to_string(), location))?;
        let mut run_mounts = Vec::new();
        for mount in mounts {
            run_mounts.push(self.lower_mount(state, &mount, location)?);
        }
        let mut env = environment.to_pairs();
        ssh_defaults(&mut run_mounts, &mut env);
        Ok(RunOperation {
            args,
            env,
            working_dir: state.working_dir(),
            user: state.user(),
            network,
            scripts,
            mounts: run_mounts,
            insecure: run.security == dockerfile::Security::Insecure,
            extra_hosts: self.options.extra_hosts.clone(),
            ulimits: self.options.ulimits.clone(),
            shm_size: self.options.shm_size,
            cgroup_parent: self.options.cgroup_parent.clone(),
            platform: foreign,
            proxy_env: proxy_env(&self.options.frontend.build_args),
        })
    }

    /// The stage's platform when it is not the host's. A foreign platform's
    /// RUN needs an emulator: say which and how. The stage's programs are
    /// its base's, whatever the build asked.
    fn foreign_platform(&self, state: &State, location: Location) -> Result<Option<String>> {
        let config = &state.config;
        let platform =
            strata_oci::Platform::new(&config.os, &config.architecture, config.variant.as_deref());
        match strata_sandbox::binfmt::runner(&platform) {
            Err(cannot) => Err(self.error_at(ErrorKind::Stage, cannot.to_string(), location)),
            Ok(strata_sandbox::binfmt::Runner::Native) => Ok(None),
            Ok(_) => Ok(Some(platform.to_string())),
        }
    }

    /// The RUN's arguments with its heredocs resolved, and the heredoc files
    /// it runs (a single heredoc with a shebang): name, content.
    fn heredoc_arguments(
        &self,
        run: &dockerfile::Run,
        location: Location,
    ) -> Result<(Vec<String>, Scripts)> {
        let args = run.command.arguments.clone();
        if run.files.is_empty() {
            return Ok((args, Vec::new()));
        }
        if args.len() != 1 || !run.command.prepend_shell {
            return Err(self.error_at(
                ErrorKind::Syntax,
                format!("parsing produced an invalid run command: {args:?}"),
                location,
            ));
        }
        let single = dockerfile::parse_heredoc(&args[0]).ok().flatten();
        if single.is_none() {
            let mut joined = args[0].clone();
            for file in &run.files {
                joined.push('\n');
                joined.push_str(&file.data);
                joined.push_str(&file.name);
            }
            return Ok((vec![joined], Vec::new()));
        }
        let file = &run.files[0];
        let data = if file.chomp {
            dockerfile::chomp(&file.data)
        } else {
            file.data.clone()
        };
        if data.starts_with("#!") {
            let args = vec![format!("/dev/pipes/{}", file.name)];
            Ok((args, vec![(file.name.clone(), data)]))
        } else {
            Ok((vec![data], Vec::new()))
        }
    }

    /// BuildKit's entitlement check: `RUN --network=host` needs
    /// `network.host`, `RUN --security=insecure` needs `security.insecure`.
    fn check_entitlements(&self, run: &dockerfile::Run) -> Result<()> {
        let allow = self.options.allow;
        if run.network == dockerfile::Network::Host && !allow.network_host {
            return Err(Error::NotAllowed {
                entitlement: "network.host",
            });
        }
        if run.security == dockerfile::Security::Insecure && !allow.security_insecure {
            return Err(Error::NotAllowed {
                entitlement: "security.insecure",
            });
        }
        Ok(())
    }

    /// A `RUN --mount`, with BuildKit's defaults.
    fn lower_mount(
        &mut self,
        state: &State,
        mount: &dockerfile::Mount,
        location: Location,
    ) -> Result<RunMount> {
        use dockerfile::MountType;
        let working_dir = state.working_dir();
        // BuildKit's secret id: the source, else the id, else the target's name.
        let secret_id = mount
            .source
            .clone()
            .or_else(|| mount.id.clone())
            .or_else(|| {
                let target = mount.target.as_deref()?;
                Some(target.rsplit('/').next().unwrap_or(target).to_owned())
            })
            .unwrap_or_default();
        let target = match &mount.target {
            Some(target) => absolute_in(&working_dir, target),
            None if mount.kind == MountType::Secret => {
                let name = secret_id.rsplit('/').next().unwrap_or(&secret_id);
                format!("/run/secrets/{name}")
            }
            // Numbered by `ssh_defaults` once the RUN's mounts are known.
            None if mount.kind == MountType::Ssh => String::new(),
            None => {
                return Err(self.error_at(ErrorKind::Flag, "mount target is required", location));
            }
        };
        let kind = match mount.kind {
            MountType::Cache => RunMountKind::Cache {
                id: mount.id.clone().unwrap_or_else(|| target.clone()),
                uid: mount.uid.unwrap_or(0),
                gid: mount.gid.unwrap_or(0),
                mode: mount.mode.unwrap_or(0o755),
            },
            MountType::Tmpfs => RunMountKind::Tmpfs {
                size: mount.size_limit,
            },
            MountType::Secret => RunMountKind::Secret {
                id: secret_id,
                required: mount.required,
                env: mount.env.clone(),
                file: mount.env.is_none() || mount.target.is_some(),
            },
            MountType::Bind => self.bind_mount(mount, location)?,
            MountType::Ssh if mount.source.is_some() => {
                return Err(self.error_at(
                    ErrorKind::Flag,
                    "ssh does not support source",
                    location,
                ));
            }
            MountType::Ssh => RunMountKind::Ssh {
                id: mount.id.clone().unwrap_or_else(|| "default".to_owned()),
                required: mount.required,
                uid: mount.uid.unwrap_or(0),
                gid: mount.gid.unwrap_or(0),
                mode: mount.mode.unwrap_or(0o600),
            },
        };
        Ok(RunMount {
            target,
            read_only: mount.read_only,
            kind,
        })
    }

    /// `type=bind`: from another stage, else from the build context (or a
    /// named local one), keyed by the digest of what it selects.
    fn bind_mount(
        &mut self,
        mount: &dockerfile::Mount,
        location: Location,
    ) -> Result<RunMountKind> {
        let source = mount.source.clone().unwrap_or_else(|| "/".to_owned());
        let named = match &mount.from {
            Some(from) => match self.copy_from_stage(from, location)? {
                FromSource::Stage(stage) => {
                    return Ok(RunMountKind::Stage {
                        stage,
                        key: self.plans[stage].key,
                        source,
                    });
                }
                FromSource::Context(context) => Some(context),
            },
            None => None,
        };
        let context = match &named {
            Some(context) => context.clone(),
            None => (self.context)()?,
        };
        let selection = context
            .select(&CopySource::new(source.clone()))
            .map_err(|e| self.error_at(ErrorKind::Flag, e.to_string(), location))?;
        Ok(RunMountKind::Context {
            source,
            digest: selection.digest,
            named,
        })
    }
}

/// What a RUN's key covers, for miss explanations: parent, command,
/// environment (build args named as such), user, directory, network,
/// security and mounts.
fn run_inputs(state: &State, run_operation: &RunOperation) -> Vec<(String, String)> {
    let declared_names: std::collections::BTreeSet<&str> =
        state.declared.iter().map(|d| d.key.as_str()).collect();
    let mut inputs = vec![
        (
            "parent".to_owned(),
            format!("{} {}", state.parent_label, state.key),
        ),
        (
            "command".to_owned(),
            serde_json::to_string(&run_operation.args).unwrap_or_default(),
        ),
    ];
    for entry in &run_operation.env {
        let (name, value) = entry.split_once('=').unwrap_or((entry.as_str(), ""));
        let label = if declared_names.contains(name) {
            "build arg"
        } else {
            "env"
        };
        inputs.push((format!("{label} {name}"), value.to_owned()));
    }
    inputs.push(("user".to_owned(), run_operation.user.clone()));
    inputs.push(("workdir".to_owned(), run_operation.working_dir.clone()));
    inputs.push(("network".to_owned(), run_operation.network.to_string()));
    if run_operation.insecure {
        inputs.push(("security".to_owned(), "insecure".to_owned()));
    }
    for mount in &run_operation.mounts {
        inputs.push((
            format!("mount {}", mount.target),
            serde_json::to_string(&mount.kind).unwrap_or_default(),
        ));
    }
    inputs
}

/// BuildKit's `proxyEnvFromBuildArgs` then `proxyEnvList`: each proxy build
/// arg (any case; the last in sorted order wins) as `UPPER=v` and `lower=v`.
fn proxy_env(build_args: &BTreeMap<String, String>) -> Vec<String> {
    const NAMES: [&str; 5] = [
        "http_proxy",
        "https_proxy",
        "ftp_proxy",
        "no_proxy",
        "all_proxy",
    ];
    let mut values: [Option<&str>; 5] = [None; 5];
    for (key, value) in build_args {
        if let Some(index) = NAMES.iter().position(|n| n.eq_ignore_ascii_case(key)) {
            values[index] = Some(value);
        }
    }
    let mut env = Vec::new();
    for (name, value) in NAMES.iter().zip(values) {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            env.push(format!("{}={value}", name.to_uppercase()));
            env.push(format!("{name}={value}"));
        }
    }
    env
}

/// BuildKit's ExecOp defaults for SSH sockets: the n-th one without a
/// target at `/run/buildkit/ssh_agent.n`, and `SSH_AUTH_SOCK` (unless the
/// step has one) naming the first, even when its agent turns out missing.
fn ssh_defaults(mounts: &mut [RunMount], env: &mut Vec<String>) {
    let sockets = mounts
        .iter_mut()
        .filter(|mount| matches!(mount.kind, RunMountKind::Ssh { .. }));
    let mut first = None;
    for (index, mount) in sockets.enumerate() {
        if mount.target.is_empty() {
            mount.target = format!("/run/buildkit/ssh_agent.{index}");
        }
        first.get_or_insert_with(|| mount.target.clone());
    }
    let has_variable = env.iter().any(|pair| pair.starts_with("SSH_AUTH_SOCK="));
    if let Some(target) = first
        && !has_variable
    {
        env.push(format!("SSH_AUTH_SOCK={target}"));
    }
}

/// The environment a RUN's name is expanded in: its secrets' variables
/// shown as `****`, as BuildKit does to make clear they come from secrets.
fn secrets_masked(
    environment: &dockerfile::EnvironmentList,
    run: &RunOperation,
) -> dockerfile::EnvironmentList {
    let mut shown = environment.clone();
    for mount in &run.mounts {
        if let RunMountKind::Secret {
            env: Some(name), ..
        } = &mount.kind
        {
            shown.set(name, "****");
        }
    }
    shown
}
