//! Two views of a parsed Dockerfile that other tools already know: BuildKit's
//! `Node.Dump()` s-expressions, and the command list of the PyPI `dockerfile`
//! package (which wraps BuildKit's parser).

use serde::Serialize;

use crate::ast::{Dockerfile, Instruction};
use strata_go::{strconv, strings};

/// BuildKit's `Dump()` of the AST, one line per instruction, each ending in `\n`
/// (the format of BuildKit's parser test `result` files).
pub fn dump(dockerfile: &Dockerfile) -> String {
    let mut out = String::new();
    for instruction in &dockerfile.instructions {
        out.push('(');
        out.push_str(dump_instruction(instruction).trim());
        out.push_str(")\n");
    }
    out
}

fn dump_instruction(instruction: &Instruction) -> String {
    // ONBUILD nests: collect the chain, then build inside out.
    let mut chain = vec![instruction];
    let mut current = instruction;
    while let Some(trigger) = &current.trigger {
        chain.push(trigger);
        current = trigger;
    }
    let mut inner: Option<String> = None;
    while let Some(node) = chain.pop() {
        let mut text = strings::to_lower(&node.keyword.text);
        if !node.flags.is_empty() {
            let flags: Vec<String> = node
                .flags
                .iter()
                .map(|flag| strconv::quote(&flag.text))
                .collect();
            text.push_str(&format!(" [{}]", flags.join(" ")));
        }
        match inner.take() {
            Some(trigger) => {
                text.push_str(" (");
                text.push_str(trigger.trim());
                text.push(')');
            }
            None => {
                for argument in &node.arguments {
                    text.push(' ');
                    text.push_str(&strconv::quote(&argument.text));
                }
            }
        }
        inner = Some(text);
    }
    inner.unwrap_or_default()
}

/// One heredoc in the PyPI `dockerfile` package's shape.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CompatHeredoc {
    /// The delimiter.
    pub name: String,
    /// The number before `<<`, or 0.
    pub file_descriptor: u64,
    /// The body as written.
    pub content: String,
}

/// One instruction in the PyPI `dockerfile` package's shape (`Command`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CompatCommand {
    /// The instruction name as written (BuildKit's `Node.Value` keeps its case).
    pub cmd: String,
    /// For ONBUILD, the trigger's name as written; otherwise `None`.
    pub sub_cmd: Option<String>,
    /// Whether the (trigger's) arguments were in exec form.
    pub json: bool,
    /// The logical line, followed for RUN/COPY/ADD with heredocs by each body
    /// and delimiter (not for ONBUILD, exactly like the package).
    pub original: String,
    /// The first line, from 1.
    pub start_line: usize,
    /// The last line.
    pub end_line: usize,
    /// The raw flags (ONBUILD's own, not its trigger's).
    pub flags: Vec<String>,
    /// The (trigger's) arguments as BuildKit splits them.
    pub value: Vec<String>,
    /// The heredocs (empty for ONBUILD, like the package).
    pub heredocs: Vec<CompatHeredoc>,
}

/// The instructions in the PyPI `dockerfile` package's shape, the shape of
/// `strata parse --json`.
pub fn compat_commands(dockerfile: &Dockerfile) -> Vec<CompatCommand> {
    dockerfile.instructions.iter().map(compat_command).collect()
}

fn compat_command(instruction: &Instruction) -> CompatCommand {
    let (node, sub_cmd) = match &instruction.trigger {
        Some(trigger) => (trigger.as_ref(), Some(trigger.keyword.text.clone())),
        None => (instruction, None),
    };
    let mut original = instruction.original.clone();
    let mut heredocs = Vec::new();
    // The package reads heredocs from the trigger node, which has none.
    if instruction.trigger.is_none() && !instruction.heredocs.is_empty() {
        original.push('\n');
        for heredoc in &instruction.heredocs {
            original.push_str(&heredoc.content);
            original.push_str(&heredoc.name);
            original.push('\n');
            heredocs.push(CompatHeredoc {
                name: heredoc.name.clone(),
                file_descriptor: heredoc.file_descriptor,
                content: heredoc.content.clone(),
            });
        }
    }
    CompatCommand {
        cmd: instruction.keyword.text.clone(),
        sub_cmd,
        json: node.json,
        original,
        start_line: instruction.start_line,
        end_line: instruction.end_line,
        flags: instruction
            .flags
            .iter()
            .map(|flag| flag.text.clone())
            .collect(),
        // A nested ONBUILD's value is the node holding its trigger: one empty string.
        value: if node.trigger.is_some() {
            vec![String::new()]
        } else {
            node.arguments
                .iter()
                .map(|word| word.text.clone())
                .collect()
        },
        heredocs,
    }
}
