//! One instruction dispatched, as BuildKit's `dispatch`: a function per
//! instruction updates the stage's configuration and history, and adds a
//! step when it changes the file system (RUN in `run`, COPY and ADD in
//! `copy`).

use strata_dockerfile::{
    self as dockerfile, Command, CommandLine, ErrorKind, Expander, Lexer, Location,
};

use super::Lowering;
use super::key_of;
use super::state::State;
use super::types::Operation;
use crate::error::Result;
use crate::history;

/// The instruction being dispatched: where it is, its text, the environment
/// it sees and its stage's name.
pub(super) struct Dispatch<'a> {
    /// Where the instruction is.
    pub(super) location: Location,
    /// The text BuildKit shows (the logical line or the ONBUILD trigger).
    pub(super) text: String,
    /// The stage's variables before the instruction.
    pub(super) environment: dockerfile::EnvironmentList,
    /// The stage's name in vertex names (`""` in a single-stage build).
    pub(super) stage_name: &'a str,
}

impl Lowering<'_> {
    /// Dispatches one instruction of a stage: updates its configuration and
    /// history, and adds a step when it changes the file system.
    pub(super) fn dispatch(
        &mut self,
        state: &mut State,
        command: &Command,
        trigger: Option<&str>,
        stage_name: &str,
    ) -> Result<()> {
        let location = command.location();
        let environment = state.scope.environment().clone();
        let expanded = match command {
            Command::Arg(_) | Command::Expose(_) => command.clone(),
            _ => command
                .expand(&mut Expander::new(self.dockerfile.escape, &environment))
                .map_err(|e| self.error_at(ErrorKind::Expansion, e.to_string(), location))?,
        };
        let text = match trigger {
            Some(trigger) => uppercase_command(trigger.trim()),
            None => self.instruction_text(command),
        };
        let at = Dispatch {
            location,
            text,
            environment,
            stage_name,
        };
        let epoch = self.options.source_date_epoch;
        match expanded {
            Command::Env(env) => dispatch_env(state, &env, epoch),
            Command::Label(label) => dispatch_label(state, &label, epoch),
            Command::Maintainer(maintainer) => {
                state.config.author = Some(maintainer.name.clone());
                state.history(format!("MAINTAINER {}", maintainer.name), false, epoch);
            }
            Command::Arg(arg) => self.dispatch_arg(state, &arg, location)?,
            Command::Workdir(workdir) => self.dispatch_workdir(state, &workdir, &at)?,
            Command::Run(run) => self.dispatch_run(state, &run, &at)?,
            Command::Copy(copy) => self.dispatch_copy(state, &copy, &at)?,
            Command::Add(add) => self.dispatch_add(state, &add, &at)?,
            Command::Cmd(cmd) => dispatch_cmd(state, &cmd, epoch),
            Command::Entrypoint(entrypoint) => dispatch_entrypoint(state, &entrypoint, epoch),
            Command::Healthcheck(check) => dispatch_healthcheck(state, &check, epoch),
            Command::Expose(expose) => self.dispatch_expose(state, &expose, &at)?,
            Command::User(user) => {
                state.container().user = user.user.clone();
                state.history(format!("USER {}", user.user), false, epoch);
            }
            Command::Volume(volume) => self.dispatch_volume(state, &volume, location)?,
            Command::StopSignal(signal) => self.dispatch_stop_signal(state, &signal, location)?,
            Command::Shell(shell) => {
                state.container().shell = shell.shell.clone();
                let created_by = format!("SHELL {}", history::plain_list(&shell.shell));
                state.history(created_by, false, epoch);
            }
            Command::Onbuild(onbuild) => {
                state.container().on_build.push(onbuild.expression.clone());
            }
        }
        Ok(())
    }

    /// ARG: BuildKit records the value in effect: a build argument's, else
    /// the expanded default, else the global one.
    fn dispatch_arg(
        &mut self,
        state: &mut State,
        arg: &dockerfile::Arg,
        location: Location,
    ) -> Result<()> {
        let declared = state
            .scope
            .declare(
                arg,
                &self.global,
                &self.frontend_options,
                self.dockerfile.escape,
            )
            .map_err(|e| self.error_at(ErrorKind::Expansion, e.to_string(), location))?;
        let mut commit = Vec::new();
        for definition in declared.definitions {
            commit.push(match &definition.value {
                Some(value) => format!("{}={value}", definition.key),
                None => definition.key.clone(),
            });
            self.used_args.insert(definition.key.clone());
            state.declared.push(definition);
        }
        let epoch = self.options.source_date_epoch;
        state.history(format!("ARG {}", commit.join(" ")), false, epoch);
        Ok(())
    }

    /// WORKDIR: a step creating the directory, unless it is `/`.
    fn dispatch_workdir(
        &mut self,
        state: &mut State,
        workdir: &dockerfile::Workdir,
        at: &Dispatch<'_>,
    ) -> Result<()> {
        let epoch = self.options.source_date_epoch;
        let path = normalize_workdir(&state.working_dir(), &workdir.path).ok_or_else(|| {
            self.error_at(
                ErrorKind::Arguments,
                "cannot normalize nothing",
                at.location,
            )
        })?;
        state.container().working_dir = path.clone();
        state.number += 1;
        if path == "/" {
            state.history(format!("WORKDIR {path}"), false, epoch);
            return Ok(());
        }
        let user = state.user();
        let parent = state.key;
        let key = key_of(&parent, &("mkdir", &path, &user));
        let inputs = vec![
            (
                "parent".to_owned(),
                format!("{} {parent}", state.parent_label),
            ),
            ("path".to_owned(), path.clone()),
            ("user".to_owned(), user.clone()),
        ];
        let name = self.vertex_name(at.stage_name, state.number, state.total, &at.text);
        let operation = Operation::Mkdir {
            path: path.clone(),
            user,
        };
        state.push_step(name, at.location, operation, key, inputs, at.stage_name);
        state.history(format!("WORKDIR {path}"), true, epoch);
        Ok(())
    }

    /// EXPOSE: its ports, expanded here (ranges and protocols as BuildKit).
    fn dispatch_expose(
        &self,
        state: &mut State,
        expose: &dockerfile::Expose,
        at: &Dispatch<'_>,
    ) -> Result<()> {
        let mut expander = Expander::new(self.dockerfile.escape, &at.environment);
        let specs = expose
            .expand_ports(&mut expander)
            .map_err(|e| self.error_at(ErrorKind::Arguments, e.to_string(), at.location))?;
        let ports: Vec<String> = specs.into_iter().flat_map(|spec| spec.ports).collect();
        for port in &ports {
            state
                .container()
                .exposed_ports
                .insert(port.clone(), strata_oci::Empty {});
        }
        state.history(
            format!("EXPOSE {}", history::plain_list(&ports)),
            false,
            self.options.source_date_epoch,
        );
        Ok(())
    }

    /// VOLUME: its paths, none of them empty.
    fn dispatch_volume(
        &self,
        state: &mut State,
        volume: &dockerfile::Volume,
        location: Location,
    ) -> Result<()> {
        for path in &volume.paths {
            if path.is_empty() {
                return Err(self.error_at(
                    ErrorKind::Arguments,
                    "VOLUME specified can not be an empty string",
                    location,
                ));
            }
            state
                .container()
                .volumes
                .insert(path.clone(), strata_oci::Empty {});
        }
        state.history(
            format!("VOLUME {}", history::plain_list(&volume.paths)),
            false,
            self.options.source_date_epoch,
        );
        Ok(())
    }

    /// STOPSIGNAL: a signal name or number the kernel knows.
    fn dispatch_stop_signal(
        &self,
        state: &mut State,
        signal: &dockerfile::StopSignal,
        location: Location,
    ) -> Result<()> {
        dockerfile::parse_signal(&signal.signal)
            .map_err(|message| self.error_at(ErrorKind::Arguments, message, location))?;
        state.container().stop_signal = signal.signal.clone();
        let epoch = self.options.source_date_epoch;
        state.history(format!("STOPSIGNAL {}", signal.signal), false, epoch);
        Ok(())
    }

    /// The instruction's text as BuildKit shows it: the logical line,
    /// keyword upper-cased.
    fn instruction_text(&self, command: &Command) -> String {
        let location = command.location();
        let original = self
            .dockerfile
            .instructions
            .get(location.index)
            .map(|i| i.original.clone())
            .unwrap_or_default();
        uppercase_command(original.trim())
    }

    /// A step's vertex name: `[stage n/total] text`, `[n/total] text` in a
    /// single-stage build.
    pub(super) fn vertex_name(
        &self,
        stage_name: &str,
        number: usize,
        total: usize,
        text: &str,
    ) -> String {
        if stage_name.is_empty() {
            format!("[{number}/{total}] {text}")
        } else {
            format!("[{stage_name} {number}/{total}] {text}")
        }
    }
}

/// ENV: each pair in the scope and the configuration.
fn dispatch_env(state: &mut State, env: &dockerfile::Env, epoch: Option<i64>) {
    let mut parts = Vec::new();
    for pair in &env.pairs {
        state.scope.set_env(&pair.key, &pair.value);
        add_env(
            state.container().env.get_or_insert_with(Vec::new),
            &pair.key,
            &pair.value,
        );
        parts.push(format!("{}={}", pair.key, pair.value));
    }
    state.history(format!("ENV {}", parts.join(" ")), false, epoch);
}

/// LABEL: each pair in the configuration.
fn dispatch_label(state: &mut State, label: &dockerfile::Label, epoch: Option<i64>) {
    let mut parts = Vec::new();
    for pair in &label.pairs {
        state
            .container()
            .labels
            .insert(pair.key.clone(), pair.value.clone());
        parts.push(format!("{}={}", pair.key, pair.value));
    }
    state.history(format!("LABEL {}", parts.join(" ")), false, epoch);
}

/// CMD: the stage's SHELL in front for shell form.
fn dispatch_cmd(state: &mut State, cmd: &dockerfile::Cmd, epoch: Option<i64>) {
    let args = with_shell(state, &cmd.command);
    let container = state.container();
    container.cmd = Some(args.clone());
    container.args_escaped = true;
    state.cmd_set = true;
    state.history(format!("CMD {}", history::quoted_list(&args)), false, epoch);
}

/// ENTRYPOINT: it clears an inherited CMD unless this stage set one.
fn dispatch_entrypoint(state: &mut State, entrypoint: &dockerfile::Entrypoint, epoch: Option<i64>) {
    let args = match &entrypoint.command {
        Some(command) => with_shell(state, command),
        None => Vec::new(),
    };
    let cmd_set = state.cmd_set;
    let container = state.container();
    container.entrypoint = Some(args.clone());
    if !cmd_set {
        container.cmd = None;
    }
    state.history(
        format!("ENTRYPOINT {}", history::quoted_list(&args)),
        false,
        epoch,
    );
}

/// HEALTHCHECK: its history text is Go's `%+v` of BuildKit's HealthcheckConfig.
fn dispatch_healthcheck(state: &mut State, check: &dockerfile::Healthcheck, epoch: Option<i64>) {
    let healthcheck = strata_oci::Healthcheck {
        test: check.test.clone(),
        interval: check.interval,
        timeout: check.timeout,
        start_period: check.start_period,
        start_interval: check.start_interval,
        retries: i64::from(check.retries),
    };
    let created_by = format!(
        "HEALTHCHECK {{Test:{} Interval:{} Timeout:{} StartPeriod:{} StartInterval:{} Retries:{}}}",
        history::plain_list(&healthcheck.test),
        strata_go::time::format_duration(healthcheck.interval),
        strata_go::time::format_duration(healthcheck.timeout),
        strata_go::time::format_duration(healthcheck.start_period),
        strata_go::time::format_duration(healthcheck.start_interval),
        healthcheck.retries,
    );
    state.container().healthcheck = Some(healthcheck);
    state.history(created_by, false, epoch);
}

/// Replaces `key`'s entry in place, or appends it.
fn add_env(env: &mut Vec<String>, key: &str, value: &str) {
    let entry = format!("{key}={value}");
    match env.iter_mut().find(|e| e.split('=').next() == Some(key)) {
        Some(existing) => *existing = entry,
        None => env.push(entry),
    }
}

/// The arguments with the stage's SHELL (default `/bin/sh -c`) in front for shell form.
pub(super) fn with_shell(state: &State, command: &CommandLine) -> Vec<String> {
    if !command.prepend_shell {
        return command.arguments.clone();
    }
    let shell = state
        .config
        .config
        .as_ref()
        .map(|c| c.shell.clone())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| vec!["/bin/sh".to_owned(), "-c".to_owned()]);
    shell
        .into_iter()
        .chain(command.arguments.iter().cloned())
        .collect()
}

/// Upper-cases the first word (BuildKit's `uppercaseCmd`).
fn uppercase_command(text: &str) -> String {
    match text.split_once(char::is_whitespace) {
        Some((keyword, rest)) => format!("{} {rest}", keyword.to_uppercase()),
        None => text.to_uppercase(),
    }
}

/// The instruction text with set variables expanded, quotes and unset
/// variables kept (BuildKit's `processCmdEnv`).
pub(super) fn display_text(
    text: &str,
    escape: char,
    environment: &dockerfile::EnvironmentList,
) -> String {
    let mut lexer = Lexer::new(escape);
    lexer.raw_quotes = true;
    lexer.skip_unset_env = true;
    lexer
        .expand_word(text, environment)
        .map(|e| e.value)
        .unwrap_or_else(|_| text.to_owned())
}

/// `path` made absolute against `directory` and cleaned.
pub(super) fn absolute_in(directory: &str, path: &str) -> String {
    if path.starts_with('/') {
        strata_go::path::clean_str(path)
    } else {
        strata_go::path::clean_str(&format!("{directory}/{path}"))
    }
}

/// BuildKit's `NormalizeWorkdir`; `None` for an empty path.
fn normalize_workdir(current: &str, requested: &str) -> Option<String> {
    if requested.is_empty() {
        return None;
    }
    Some(absolute_in(current, requested))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workdirs_normalise() {
        assert_eq!(
            normalize_workdir("/bin", "rel").as_deref(),
            Some("/bin/rel")
        );
        assert_eq!(
            normalize_workdir("/", "/a/b/../c/").as_deref(),
            Some("/a/c")
        );
        assert_eq!(normalize_workdir("/x", ""), None);
    }

    #[test]
    fn commands_upper_case_their_keyword() {
        assert_eq!(uppercase_command("run echo hi"), "RUN echo hi");
        assert_eq!(uppercase_command("workdir"), "WORKDIR");
    }
}
