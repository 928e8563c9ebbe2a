//! The instructions that take plain words: ENV and LABEL pairs, the
//! one-argument MAINTAINER, WORKDIR, USER and STOPSIGNAL, EXPOSE, VOLUME and ARG.

use super::flags::Flags;
use super::typing::{Context, at_least_one, doc_comment, exactly_one};
use super::{
    Arg, ArgDefinition, Env, Expose, KeyValue, Label, Maintainer, StopSignal, User, Volume, Workdir,
};
use crate::error::{Error, ErrorKind};

pub(super) fn type_env(context: &Context<'_>) -> Result<Env, Error> {
    Flags::new(context).parse()?;
    Ok(Env {
        pairs: key_values(context, "ENV")?,
        location: context.location,
    })
}

pub(super) fn type_label(context: &Context<'_>) -> Result<Label, Error> {
    Flags::new(context).parse()?;
    Ok(Label {
        pairs: key_values(context, "LABEL")?,
        location: context.location,
    })
}

fn key_values(context: &Context<'_>, command: &str) -> Result<Vec<KeyValue>, Error> {
    let args = &context.args;
    if args.is_empty() {
        return Err(at_least_one(context, command));
    }
    if !args.len().is_multiple_of(3) {
        return Err(context.error(
            ErrorKind::Arguments,
            format!("Bad input to {command}, too many arguments"),
        ));
    }
    let mut pairs = Vec::new();
    for triple in args.chunks_exact(3) {
        if triple[0].is_empty() {
            return Err(context.error(
                ErrorKind::Arguments,
                format!("{command} names can not be blank"),
            ));
        }
        pairs.push(KeyValue {
            key: triple[0].clone(),
            value: triple[1].clone(),
            legacy: triple[2].is_empty(),
        });
    }
    Ok(pairs)
}

pub(super) fn type_maintainer(context: &Context<'_>) -> Result<Maintainer, Error> {
    Ok(Maintainer {
        name: single_argument(context, "MAINTAINER")?,
        location: context.location,
    })
}

pub(super) fn type_workdir(context: &Context<'_>) -> Result<Workdir, Error> {
    Ok(Workdir {
        path: single_argument(context, "WORKDIR")?,
        location: context.location,
    })
}

pub(super) fn type_user(context: &Context<'_>) -> Result<User, Error> {
    Ok(User {
        user: single_argument(context, "USER")?,
        location: context.location,
    })
}

/// The one argument of an instruction that takes one and no flags.
fn single_argument(context: &Context<'_>, command: &str) -> Result<String, Error> {
    exactly_one(context, command)?;
    Flags::new(context).parse()?;
    Ok(context.args[0].clone())
}

pub(super) fn type_stop_signal(context: &Context<'_>) -> Result<StopSignal, Error> {
    // BuildKit parses no flags for STOPSIGNAL.
    exactly_one(context, "STOPSIGNAL")?;
    Ok(StopSignal {
        signal: context.args[0].clone(),
        location: context.location,
    })
}

pub(super) fn type_expose(context: &Context<'_>) -> Result<Expose, Error> {
    if context.args.is_empty() {
        return Err(at_least_one(context, "EXPOSE"));
    }
    Flags::new(context).parse()?;
    let mut ports = context.args.clone();
    ports.sort();
    Ok(Expose {
        ports,
        location: context.location,
    })
}

pub(super) fn type_volume(context: &Context<'_>) -> Result<Volume, Error> {
    if context.args.is_empty() {
        return Err(at_least_one(context, "VOLUME"));
    }
    Flags::new(context).parse()?;
    let mut paths = Vec::new();
    for path in &context.args {
        let path = path.trim();
        if path.is_empty() {
            return Err(context.error(
                ErrorKind::Arguments,
                "VOLUME specified can not be an empty string",
            ));
        }
        paths.push(path.to_string());
    }
    Ok(Volume {
        paths,
        location: context.location,
    })
}

pub(super) fn type_arg(context: &Context<'_>) -> Result<Arg, Error> {
    if context.args.is_empty() {
        return Err(at_least_one(context, "ARG"));
    }
    let mut definitions = Vec::new();
    for arg in &context.args {
        let (key, value) = match arg.split_once('=') {
            Some((key, value)) => {
                if key.is_empty() {
                    return Err(context.error(ErrorKind::Arguments, "ARG names can not be blank"));
                }
                (key.to_string(), Some(value.to_string()))
            }
            None => (arg.clone(), None),
        };
        let doc_comment = doc_comment(&context.instruction.comments, &key);
        definitions.push(ArgDefinition {
            key,
            value,
            doc_comment,
        });
    }
    Ok(Arg {
        definitions,
        location: context.location,
    })
}
