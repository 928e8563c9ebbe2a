//! `strata parse`: parse a Dockerfile and print its instructions, as a readable
//! listing or (`--json`) in the shape of the PyPI `dockerfile` package.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use strata_dockerfile::{Dockerfile, Instruction, compat_commands};

use super::Global;
use crate::report::{Rendered, Severity, colour_stderr, render, render_error};

/// Arguments of `strata parse`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The Dockerfile to read, or `-` for standard input
    #[arg(
        short = 'f',
        long = "file",
        value_name = "FILE",
        default_value = "Dockerfile"
    )]
    file: PathBuf,
    /// Print `{"commands": [...]}`: one object per instruction with cmd, sub_cmd,
    /// json, original, start_line, end_line, flags, value and heredocs (the
    /// parser's view only, like the PyPI `dockerfile` package)
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: Args, _global: &Global) -> anyhow::Result<ExitCode> {
    let (name, bytes) = if args.file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("read standard input")?;
        ("<stdin>".to_string(), bytes)
    } else {
        (
            args.file.display().to_string(),
            strata_fs::read(&args.file)?,
        )
    };
    let source = strata_dockerfile::Source::new(bytes.clone());
    let dockerfile = match strata_dockerfile::parse(bytes) {
        Ok(dockerfile) => dockerfile,
        Err(error) => {
            return Err(Rendered(render_error(&name, &source, &error, colour_stderr())).into());
        }
    };
    let colour = colour_stderr();
    let mut stderr = std::io::stderr().lock();
    for warning in &dockerfile.warnings {
        let text = render(
            &name,
            &dockerfile.source,
            warning.span,
            Severity::Warning,
            &warning.message,
            colour,
        );
        let _ = stderr.write_all(text.as_bytes());
    }
    // The listing also types every instruction, so that flags, argument counts
    // and unknown instructions are checked as BuildKit checks them.
    if !args.json {
        match strata_dockerfile::Stages::parse(&dockerfile) {
            Ok(stages) => {
                for warning in &stages.warnings {
                    let text = render(
                        &name,
                        &dockerfile.source,
                        warning.location.span,
                        Severity::Warning,
                        &format!("{} ({})", warning.message, warning.rule),
                        colour,
                    );
                    let _ = stderr.write_all(text.as_bytes());
                }
            }
            Err(error) => {
                return Err(
                    Rendered(render_error(&name, &dockerfile.source, &error, colour)).into(),
                );
            }
        }
    }
    let output = if args.json {
        let output = JsonOutput {
            commands: compat_commands(&dockerfile),
        };
        let mut text =
            serde_json::to_string_pretty(&output).context("serialise the instructions")?;
        text.push('\n');
        text
    } else {
        listing(&dockerfile)
    };
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(output.as_bytes())
        .context("write standard output")?;
    Ok(ExitCode::SUCCESS)
}

/// `strata parse --json`: the PyPI `dockerfile` package's fields, in its order.
#[derive(serde::Serialize)]
struct JsonOutput {
    commands: Vec<strata_dockerfile::CompatCommand>,
}

/// The readable listing: directives, then one line per instruction with its
/// lines, name, flags and arguments (exec form as a JSON array, shell form
/// quoted), and each heredoc under its instruction.
fn listing(dockerfile: &Dockerfile) -> String {
    let mut out = String::new();
    for directive in &dockerfile.directives {
        let _ = writeln!(out, "# {}={}", directive.name, directive.value);
    }
    let width = dockerfile
        .instructions
        .iter()
        .map(|instruction| lines(instruction).len())
        .max()
        .unwrap_or(1);
    for instruction in &dockerfile.instructions {
        let _ = write!(out, "{:<width$}  ", lines(instruction));
        describe(&mut out, instruction);
        out.push('\n');
        for heredoc in &instruction.heredocs {
            let line_count = heredoc.content.lines().count();
            let _ = writeln!(
                out,
                "{:<width$}    heredoc {}{}{} ({} line{}{})",
                "",
                if heredoc.file_descriptor != 0 {
                    heredoc.file_descriptor.to_string()
                } else {
                    String::new()
                },
                if heredoc.chomp { "<<-" } else { "<<" },
                heredoc.name,
                line_count,
                if line_count == 1 { "" } else { "s" },
                if heredoc.expand { "" } else { ", not expanded" },
            );
        }
    }
    out
}

fn lines(instruction: &Instruction) -> String {
    if instruction.start_line == instruction.end_line {
        instruction.start_line.to_string()
    } else {
        format!("{}-{}", instruction.start_line, instruction.end_line)
    }
}

fn describe(out: &mut String, instruction: &Instruction) {
    out.push_str(&instruction.name());
    if instruction.kind.is_none() {
        out.push_str(" (unknown instruction)");
    }
    for flag in &instruction.flags {
        let _ = write!(out, " {}", flag.text);
    }
    if let Some(trigger) = &instruction.trigger {
        out.push(' ');
        describe(out, trigger);
        return;
    }
    if instruction.kind.is_none() {
        return;
    }
    let mut arguments = instruction.argument_texts();
    if instruction.kind == Some(strata_dockerfile::Kind::Healthcheck) && !arguments.is_empty() {
        // The type (CMD, NONE), then the command.
        let _ = write!(out, " {}", arguments.remove(0));
    }
    if instruction.json {
        let _ = write!(
            out,
            " {}",
            serde_json::to_string(&arguments).unwrap_or_default()
        );
    } else if matches!(
        instruction.kind,
        Some(strata_dockerfile::Kind::Env | strata_dockerfile::Kind::Label)
    ) {
        for pair in instruction.key_values() {
            let separator = if pair.legacy { " " } else { "=" };
            let _ = write!(out, " {}{separator}{}", pair.key.text, pair.value.text);
        }
    } else {
        for argument in arguments {
            let _ = write!(out, " {}", quote_if_needed(argument));
        }
    }
}

fn quote_if_needed(text: &str) -> String {
    if !text.is_empty() && !text.contains(char::is_whitespace) && !text.contains('"') {
        text.to_string()
    } else {
        serde_json::to_string(text).unwrap_or_default()
    }
}
