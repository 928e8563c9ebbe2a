//! The instructions that carry a command: RUN (with its mounts, network,
//! security and devices), CMD, ENTRYPOINT, SHELL and HEALTHCHECK.

use super::flags::{FlagType, Flags};
use super::typing::{Context, at_least_one};
use super::{Cmd, CommandLine, Entrypoint, Healthcheck, InlineFile, Network, Run, Security, Shell};
use crate::ast::Kind;
use crate::error::{Error, ErrorKind};
use crate::mount::{Device, MountError, parse_device, parse_mount};
use strata_go::strconv::{self, parse_int};
use strata_go::strings;
use strata_go::time::parse_duration;

pub(super) fn type_run(context: &Context<'_>) -> Result<Run, Error> {
    let flags = Flags::new(context)
        .define("device", FlagType::Strings)
        .define("mount", FlagType::Strings)
        .define("network", FlagType::String)
        .define("security", FlagType::String)
        .parse()?;
    let flags_used = flags.used_names();
    let command = command_line(context);
    let files = context
        .instruction
        .heredocs
        .iter()
        .map(|heredoc| InlineFile {
            name: heredoc.name.clone(),
            data: heredoc.content.clone(),
            chomp: heredoc.chomp,
        })
        .collect();
    let devices = devices(context, &flags)?;
    let mounts = flags.strings("mount");
    check_mounts(context, &mounts)?;
    let network = network(context, &flags)?;
    let security = security(context, &flags)?;
    Ok(Run {
        command,
        files,
        mounts,
        network,
        security,
        devices,
        flags_used,
        location: context.location,
    })
}

fn devices(context: &Context<'_>, flags: &Flags<'_>) -> Result<Vec<Device>, Error> {
    let mut devices = Vec::new();
    for value in flags.strings("device") {
        devices
            .push(parse_device(&value).map_err(|message| context.error(ErrorKind::Flag, message))?);
    }
    Ok(devices)
}

/// Mounts are kept as written (expanded at dispatch), but must parse unexpanded.
fn check_mounts(context: &Context<'_>, mounts: &[String]) -> Result<(), Error> {
    for value in mounts {
        parse_mount(value, None).map_err(|error| match error {
            MountError::Invalid(message) => context.error(ErrorKind::Flag, message),
            MountError::Expand(error) => context.error(ErrorKind::Expansion, error.to_string()),
        })?;
    }
    Ok(())
}

fn network(context: &Context<'_>, flags: &Flags<'_>) -> Result<Network, Error> {
    match flags.string("network").as_deref().unwrap_or("default") {
        "default" => Ok(Network::Default),
        "none" => Ok(Network::None),
        "host" => Ok(Network::Host),
        other => Err(context.error(
            ErrorKind::Flag,
            format!("invalid network mode {}", strconv::quote(other)),
        )),
    }
}

fn security(context: &Context<'_>, flags: &Flags<'_>) -> Result<Security, Error> {
    match flags.string("security").as_deref().unwrap_or("sandbox") {
        "sandbox" => Ok(Security::Sandbox),
        "insecure" => Ok(Security::Insecure),
        other => Err(context.error(
            ErrorKind::Flag,
            format!("security {} is not valid", strconv::quote(other)),
        )),
    }
}

pub(super) fn type_cmd(context: &Context<'_>) -> Result<Cmd, Error> {
    Flags::new(context).parse()?;
    Ok(Cmd {
        command: command_line(context),
        location: context.location,
    })
}

pub(super) fn type_entrypoint(context: &Context<'_>) -> Result<Entrypoint, Error> {
    Flags::new(context).parse()?;
    let command = command_line(context);
    let command = if command.arguments.is_empty() {
        None
    } else {
        Some(command)
    };
    Ok(Entrypoint {
        command,
        location: context.location,
    })
}

pub(super) fn type_shell(context: &Context<'_>) -> Result<Shell, Error> {
    Flags::new(context).parse()?;
    let command = command_line(context);
    if command.arguments.is_empty() {
        return Err(at_least_one(context, "SHELL"));
    }
    if command.prepend_shell {
        return Err(context.error(
            ErrorKind::Arguments,
            "SHELL requires the arguments to be in JSON form",
        ));
    }
    Ok(Shell {
        shell: command.arguments,
        location: context.location,
    })
}

/// `handleJSONArgs` plus the shell-form flag.
fn command_line(context: &Context<'_>) -> CommandLine {
    let node = match (&context.instruction.trigger, context.instruction.kind) {
        (Some(trigger), Some(Kind::Onbuild)) => trigger.as_ref(),
        _ => context.instruction,
    };
    let json = node.json;
    let args = &context.args;
    let arguments = if args.is_empty() {
        Vec::new()
    } else if json {
        args.clone()
    } else {
        vec![args.join(" ")]
    };
    CommandLine {
        arguments,
        prepend_shell: !json,
    }
}

pub(super) fn type_healthcheck(context: &Context<'_>) -> Result<Healthcheck, Error> {
    let args = &context.args;
    let location = context.location;
    let Some(first) = args.first() else {
        return Err(at_least_one(context, "HEALTHCHECK"));
    };
    let kind = strings::to_upper(first);
    let rest = &args[1..];
    let mut health = Healthcheck {
        test: Vec::new(),
        interval: 0,
        timeout: 0,
        start_period: 0,
        start_interval: 0,
        retries: 0,
        location,
    };
    if kind == "NONE" {
        if !rest.is_empty() {
            return Err(context.error(ErrorKind::Arguments, "HEALTHCHECK NONE takes no arguments"));
        }
        health.test = vec![kind];
        return Ok(health);
    }
    let flags = Flags::new(context)
        .define("interval", FlagType::String)
        .define("timeout", FlagType::String)
        .define("start-period", FlagType::String)
        .define("start-interval", FlagType::String)
        .define("retries", FlagType::String)
        .parse()?;
    if kind != "CMD" {
        return Err(context.error(
            ErrorKind::Arguments,
            format!(
                "Unknown type {} in HEALTHCHECK (try CMD)",
                strconv::quote(&kind)
            ),
        ));
    }
    let json = context.instruction.json;
    let command: Vec<String> = if rest.is_empty() {
        Vec::new()
    } else if json {
        rest.to_vec()
    } else {
        vec![rest.join(" ")]
    };
    if command.is_empty() {
        return Err(context.error(
            ErrorKind::Arguments,
            "Missing command after HEALTHCHECK CMD",
        ));
    }
    health.test = std::iter::once(if json {
        "CMD".to_string()
    } else {
        "CMD-SHELL".to_string()
    })
    .chain(command)
    .collect();
    health.interval = interval(context, &flags, "interval")?;
    health.timeout = interval(context, &flags, "timeout")?;
    health.start_period = interval(context, &flags, "start-period")?;
    health.start_interval = interval(context, &flags, "start-interval")?;
    if let Some(retries) = flags.string("retries").filter(|v| !v.is_empty()) {
        let retries =
            parse_int(&retries, 32).map_err(|message| context.error(ErrorKind::Flag, message))?;
        if retries < 0 {
            return Err(context.error(
                ErrorKind::Flag,
                format!("--retries cannot be negative ({retries})"),
            ));
        }
        health.retries = retries as i32;
    }
    Ok(health)
}

/// A HEALTHCHECK duration flag in nanoseconds: 0 when unset or zero, else at least 1ms.
fn interval(context: &Context<'_>, flags: &Flags<'_>, name: &'static str) -> Result<i64, Error> {
    let Some(value) = flags.string(name).filter(|v| !v.is_empty()) else {
        return Ok(0);
    };
    let duration = parse_duration(&value)
        .map_err(|error| context.error(ErrorKind::Flag, error.to_string()))?;
    if duration == 0 {
        return Ok(0);
    }
    if duration < 1_000_000 {
        return Err(context.error(
            ErrorKind::Flag,
            format!("Interval {} cannot be less than 1ms", strconv::quote(name)),
        ));
    }
    Ok(duration)
}
