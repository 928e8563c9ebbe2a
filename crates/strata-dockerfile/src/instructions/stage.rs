//! FROM, which starts a stage, and ONBUILD, whose trigger runs in the stages
//! built from this one.

use super::flags::{FlagType, Flags};
use super::typing::{Context, at_least_one, doc_comment};
use super::{From, Onbuild};
use crate::error::{Error, ErrorKind};
use crate::text::equal_fold_ascii;
use strata_go::{strconv, strings};

pub(super) fn type_from(context: &Context<'_>) -> Result<From, Error> {
    let args = &context.args;
    let (name, name_as_written) = if args.len() == 3 && equal_fold_ascii(&args[1], "as") {
        let name = strings::to_lower(&args[2]);
        if !valid_stage_name(&name) {
            return Err(context.error(
                ErrorKind::Arguments,
                format!("invalid name for build stage: {}, name can't start with a number or contain symbols", strconv::quote(&args[2])),
            ));
        }
        (Some(name), Some(args[2].clone()))
    } else if args.len() != 1 {
        return Err(context.error(
            ErrorKind::Arguments,
            "FROM requires either one or three arguments",
        ));
    } else {
        (None, None)
    };
    let flags = Flags::new(context)
        .define("platform", FlagType::String)
        .parse()?;
    let doc_comment = doc_comment(
        &context.instruction.comments,
        name.as_deref().unwrap_or_default(),
    );
    Ok(From {
        image: args[0].clone(),
        platform: flags.string("platform").filter(|v| !v.is_empty()),
        doc_comment,
        name,
        name_as_written,
        keyword: context.instruction.keyword.text.clone(),
        location: context.location,
    })
}

/// `^[a-z][a-z0-9-_.]*$`
fn valid_stage_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters.next().is_some_and(|c| c.is_ascii_lowercase())
        && characters
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.'))
}

pub(super) fn type_onbuild(context: &Context<'_>) -> Result<Onbuild, Error> {
    let args = &context.args;
    if args.is_empty() {
        return Err(at_least_one(context, "ONBUILD"));
    }
    Flags::new(context).parse()?;
    let trigger = strings::to_upper(args[0].trim());
    match trigger.as_str() {
        "ONBUILD" => {
            return Err(context.error(
                ErrorKind::Arguments,
                "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed",
            ));
        }
        "MAINTAINER" | "FROM" => {
            return Err(context.error(
                ErrorKind::Arguments,
                format!("{trigger} isn't allowed as an ONBUILD trigger"),
            ));
        }
        _ => {}
    }
    let instruction = context.instruction;
    let mut expression = strip_onbuild(&instruction.original).to_string();
    for heredoc in &instruction.heredocs {
        expression.push('\n');
        expression.push_str(&heredoc.content);
        expression.push_str(&heredoc.name);
    }
    Ok(Onbuild {
        expression,
        trigger,
        location: context.location,
    })
}

fn strip_onbuild(original: &str) -> &str {
    // (?i)^\s*ONBUILD\s*
    let trimmed = original.trim_start_matches(['\t', '\n', '\u{0C}', '\r', ' ']);
    match trimmed.get(..7) {
        Some(word) if word.eq_ignore_ascii_case("onbuild") => {
            trimmed[7..].trim_start_matches(['\t', '\n', '\u{0C}', '\r', ' '])
        }
        _ => original,
    }
}
