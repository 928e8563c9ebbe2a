//! ADD and COPY: their flags, and their sources split from the destination,
//! heredoc sources read into [`SourceContent`]s.

use super::flags::{FlagType, Flags};
use super::typing::{Context, no_destination};
use super::{Add, Copy, SourceContent};
use crate::ast::Heredoc;
use crate::error::{Error, ErrorKind};
use crate::heredoc::{chomp, parse_heredoc};

pub(super) fn type_add(context: &Context<'_>) -> Result<Add, Error> {
    if context.args.len() < 2 {
        return Err(no_destination(context, "ADD"));
    }
    let flags = Flags::new(context)
        .define("chown", FlagType::String)
        .define("chmod", FlagType::String)
        .define("link", FlagType::Bool)
        .define("keep-git-dir", FlagType::Bool)
        .define("checksum", FlagType::String)
        .define("unpack", FlagType::Bool)
        .define("exclude", FlagType::Strings)
        .parse()?;
    let (sources, contents, destination) = sources_and_destination(context, "ADD")?;
    Ok(Add {
        sources,
        contents,
        destination,
        chown: flags.string("chown").filter(|v| !v.is_empty()),
        chmod: flags.string("chmod").filter(|v| !v.is_empty()),
        link: flags.boolean("link"),
        keep_git_dir: flags.optional_boolean("keep-git-dir"),
        checksum: flags.string("checksum").filter(|v| !v.is_empty()),
        unpack: flags.optional_boolean("unpack"),
        exclude: flags.strings("exclude"),
        location: context.location,
    })
}

pub(super) fn type_copy(context: &Context<'_>) -> Result<Copy, Error> {
    if context.args.len() < 2 {
        return Err(no_destination(context, "COPY"));
    }
    let flags = Flags::new(context)
        .define("chown", FlagType::String)
        .define("from", FlagType::String)
        .define("chmod", FlagType::String)
        .define("link", FlagType::Bool)
        .define("exclude", FlagType::Strings)
        .define("parents", FlagType::Bool)
        .parse()?;
    let (sources, contents, destination) = sources_and_destination(context, "COPY")?;
    Ok(Copy {
        sources,
        contents,
        destination,
        from: flags.string("from").filter(|v| !v.is_empty()),
        chown: flags.string("chown").filter(|v| !v.is_empty()),
        chmod: flags.string("chmod").filter(|v| !v.is_empty()),
        link: flags.boolean("link"),
        parents: flags.boolean("parents"),
        exclude: flags.strings("exclude"),
        location: context.location,
    })
}

type SourcesAndDestination = (Vec<String>, Vec<SourceContent>, String);

fn sources_and_destination(
    context: &Context<'_>,
    command: &str,
) -> Result<SourcesAndDestination, Error> {
    let args = &context.args;
    let (destination, sources) = match args.split_last() {
        Some((destination, sources)) => (destination.clone(), sources),
        None => return Err(no_destination(context, command)),
    };
    if let Ok(Some(_)) = parse_heredoc(&destination) {
        return Err(context.error(
            ErrorKind::Arguments,
            format!("{command} cannot accept a heredoc as a destination"),
        ));
    }
    let heredocs: &[Heredoc] = &context.instruction.heredocs;
    let mut paths = Vec::new();
    let mut contents = Vec::new();
    for source in sources {
        match parse_heredoc(source) {
            Ok(Some(marker)) => {
                // The last heredoc with that name wins, as in BuildKit's map.
                let content = heredocs
                    .iter()
                    .rev()
                    .find(|heredoc| heredoc.name == marker.name)
                    .map(|heredoc| heredoc.content.clone())
                    .unwrap_or_default();
                let data = if marker.chomp {
                    chomp(&content)
                } else {
                    content
                };
                contents.push(SourceContent {
                    path: marker.name,
                    data,
                    expand: marker.expand,
                });
            }
            _ => paths.push(source.clone()),
        }
    }
    Ok((paths, contents, destination))
}
