//! Typing one instruction, BuildKit's `ParseInstruction`: what every
//! instruction's typing sees ([`Context`]), the dispatch on its kind, the
//! argument-count errors they share, and ONBUILD triggers typed when they fire.

use super::commands::{type_cmd, type_entrypoint, type_healthcheck, type_run, type_shell};
use super::files::{type_add, type_copy};
use super::settings::{
    type_arg, type_env, type_expose, type_label, type_maintainer, type_stop_signal, type_user,
    type_volume, type_workdir,
};
use super::stage::{type_from, type_onbuild};
use super::{Command, Location, Typed};
use crate::ast::{Dockerfile, Instruction, Kind};
use crate::error::{Error, ErrorKind};
use crate::source::{Source, Span};
use strata_go::suggest::with_suggestion;

/// What an instruction's typing sees: the instruction and its argument texts.
pub(super) struct Context<'a> {
    source: &'a Source,
    pub(super) instruction: &'a Instruction,
    /// For an ONBUILD trigger being typed on its own, the outer instruction.
    pub(super) location: Location,
    pub(super) args: Vec<String>,
}

impl Context<'_> {
    pub(super) fn error(&self, kind: ErrorKind, message: impl Into<String>) -> Error {
        self.error_at(kind, message, self.location.span)
    }

    pub(super) fn error_at(
        &self,
        kind: ErrorKind,
        message: impl Into<String>,
        span: Span,
    ) -> Error {
        let mut error = Error::new(kind, message, self.source, span);
        error.end_line = error.end_line.max(self.location.end_line).max(error.line);
        error
    }
}

/// BuildKit's `nodeArgs`: the argument texts, an ONBUILD's trigger flattened.
fn node_arguments(instruction: &Instruction) -> Vec<String> {
    let mut result = Vec::new();
    let mut current = instruction;
    loop {
        result.extend(current.arguments.iter().map(|word| word.text.clone()));
        match &current.trigger {
            Some(trigger) => {
                result.push(trigger.keyword.text.clone());
                current = trigger;
            }
            None => return result,
        }
    }
}

/// The instruction names upper-cased and sorted, for did-you-mean (BuildKit
/// ranges over a map of them).
fn instruction_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = Kind::ALL.iter().map(|kind| kind.uppercase()).collect();
    names.sort_unstable();
    names
}

/// Types one instruction of `dockerfile` (BuildKit's `ParseInstruction`).
pub fn parse_instruction(dockerfile: &Dockerfile, index: usize) -> Result<Typed, Error> {
    let Some(instruction) = dockerfile.instructions.get(index) else {
        return Err(Error::new(
            ErrorKind::Stage,
            format!("no instruction {index}"),
            &dockerfile.source,
            Span::default(),
        ));
    };
    let location = Location {
        index,
        span: instruction.span,
        start_line: instruction.start_line,
        end_line: instruction.end_line,
    };
    let context = Context {
        source: &dockerfile.source,
        instruction,
        location,
        args: node_arguments(instruction),
    };
    type_instruction(&context)
}

fn type_instruction(context: &Context<'_>) -> Result<Typed, Error> {
    let instruction = context.instruction;
    let Some(kind) = instruction.kind else {
        let message = with_suggestion(
            format!("unknown instruction: {}", instruction.keyword.text),
            &instruction.keyword.text,
            &instruction_names(),
            false,
        );
        return Err(context.error_at(
            ErrorKind::UnknownInstruction,
            message,
            instruction.keyword.span,
        ));
    };
    let command = match kind {
        Kind::From => return type_from(context).map(Typed::From),
        Kind::Env => Command::Env(type_env(context)?),
        Kind::Maintainer => Command::Maintainer(type_maintainer(context)?),
        Kind::Label => Command::Label(type_label(context)?),
        Kind::Add => Command::Add(type_add(context)?),
        Kind::Copy => Command::Copy(type_copy(context)?),
        Kind::Onbuild => Command::Onbuild(type_onbuild(context)?),
        Kind::Workdir => Command::Workdir(type_workdir(context)?),
        Kind::Run => Command::Run(type_run(context)?),
        Kind::Cmd => Command::Cmd(type_cmd(context)?),
        Kind::Entrypoint => Command::Entrypoint(type_entrypoint(context)?),
        Kind::Healthcheck => Command::Healthcheck(type_healthcheck(context)?),
        Kind::Expose => Command::Expose(type_expose(context)?),
        Kind::User => Command::User(type_user(context)?),
        Kind::Volume => Command::Volume(type_volume(context)?),
        Kind::Stopsignal => Command::StopSignal(type_stop_signal(context)?),
        Kind::Arg => Command::Arg(type_arg(context)?),
        Kind::Shell => Command::Shell(type_shell(context)?),
    };
    Ok(Typed::Command(command))
}

pub(super) fn doc_comment(comments: &[String], name: &str) -> String {
    if name.is_empty() {
        return String::new();
    }
    let prefix = format!("{name} ");
    comments
        .iter()
        .find_map(|line| line.strip_prefix(&prefix))
        .map(str::to_string)
        .unwrap_or_default()
}

pub(super) fn at_least_one(context: &Context<'_>, command: &str) -> Error {
    context.error(
        ErrorKind::Arguments,
        format!("{command} requires at least one argument"),
    )
}

pub(super) fn exactly_one(context: &Context<'_>, command: &str) -> Result<(), Error> {
    if context.args.len() != 1 {
        return Err(context.error(
            ErrorKind::Arguments,
            format!("{command} requires exactly one argument"),
        ));
    }
    Ok(())
}

pub(super) fn no_destination(context: &Context<'_>, command: &str) -> Error {
    context.error(
        ErrorKind::Arguments,
        format!("{command} requires at least two arguments, but only one was provided. Destination could not be determined"),
    )
}

/// Types an ONBUILD trigger when it fires (BuildKit parses the expression
/// as a one-instruction Dockerfile, located at the FROM that inherited it).
///
/// Errors point at `location` (the FROM), as BuildKit's do.
pub fn parse_trigger(expression: &str, location: Location) -> Result<Command, Error> {
    type_trigger(expression, location).map_err(|mut error| {
        error.span = location.span;
        error.line = location.start_line;
        error.column = 1;
        error.end_line = location.end_line;
        error
    })
}

fn type_trigger(expression: &str, location: Location) -> Result<Command, Error> {
    let dockerfile = crate::parse(expression.as_bytes().to_vec())?;
    if dockerfile.instructions.len() != 1 {
        return Err(Error::new(
            ErrorKind::Syntax,
            "onbuild trigger should be a single expression",
            &dockerfile.source,
            Span::default(),
        ));
    }
    let instruction = &dockerfile.instructions[0];
    let context = Context {
        source: &dockerfile.source,
        instruction,
        location: Location {
            index: location.index,
            ..Location::default()
        },
        args: node_arguments(instruction),
    };
    match type_instruction(&context)? {
        Typed::Command(command) => Ok(relocate(command, location)),
        Typed::From(_) => Err(Error::new(
            ErrorKind::Stage,
            "*instructions.Stage is not a command type",
            &dockerfile.source,
            Span::default(),
        )),
    }
}

fn relocate(mut command: Command, location: Location) -> Command {
    macro_rules! set {
        ($($variant:ident),*) => {
            match &mut command {
                $(Command::$variant(c) => c.location = location,)*
            }
        };
    }
    set!(
        Add,
        Arg,
        Cmd,
        Copy,
        Entrypoint,
        Env,
        Expose,
        Healthcheck,
        Label,
        Maintainer,
        Onbuild,
        Run,
        Shell,
        StopSignal,
        User,
        Volume,
        Workdir
    );
    command
}
