//! What a rule sees: the Dockerfile as a light model (each instruction
//! typed on its own, its stage, its RUN script), the stages, the facts and
//! the configuration; and the findings the rules record.

use strata_dockerfile::{
    Command, Dockerfile, From, Instruction, Kind, Source, Span, Typed, parse_instruction,
};

use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::facts::Facts;
use crate::rules::{Origin, Rule};
use crate::shell::Script;

/// One instruction and what the rules need of it.
pub(crate) struct Item<'a> {
    /// Its index in the Dockerfile.
    pub(crate) index: usize,
    /// The parsed instruction.
    pub(crate) instruction: &'a Instruction,
    /// The stage it belongs to (`None` before the first FROM).
    pub(crate) stage: Option<usize>,
    /// The typed instruction, when BuildKit accepts it.
    pub(crate) typed: Option<Typed>,
    /// For RUN (and ONBUILD RUN): the script's commands.
    pub(crate) script: Option<Script>,
}

impl Item<'_> {
    /// The instruction kind (ONBUILD for an ONBUILD, whatever it triggers).
    pub(crate) fn kind(&self) -> Option<Kind> {
        self.instruction.kind
    }

    /// The typed command, if this is one.
    pub(crate) fn command(&self) -> Option<&Command> {
        match &self.typed {
            Some(Typed::Command(command)) => Some(command),
            _ => None,
        }
    }

    /// The RUN script of a RUN instruction (not of an ONBUILD RUN).
    pub(crate) fn run_script(&self) -> Option<&Script> {
        if self.kind() == Some(Kind::Run) {
            self.script.as_ref()
        } else {
            None
        }
    }

    /// The instruction's span.
    pub(crate) fn span(&self) -> Span {
        self.instruction.span
    }
}

/// A build stage.
pub(crate) struct StageInfo {
    /// The item of its FROM.
    pub(crate) item: usize,
    /// One past its last item.
    pub(crate) end: usize,
    /// The typed FROM, when BuildKit accepts it.
    pub(crate) from: Option<From>,
    /// The FROM image argument as written.
    pub(crate) image: String,
    /// The stage name, lower-cased.
    pub(crate) name: Option<String>,
    /// The stage name as written.
    pub(crate) alias: Option<String>,
    /// The earlier stage this one is built on (`FROM build`).
    pub(crate) parent: Option<usize>,
}

/// A diagnostic and where its suppression comments are.
pub(crate) struct Finding {
    pub(crate) diagnostic: Diagnostic,
    /// Whether BuildKit's build reports it.
    pub(crate) buildkit: bool,
    /// The instruction whose `# check=` comments apply (`None`: only the
    /// file's directive, as for BuildKit's file-wide checks).
    pub(crate) comments_of: Option<usize>,
}

/// Everything the rules see.
pub(crate) struct Context<'a> {
    pub(crate) dockerfile: &'a Dockerfile,
    pub(crate) source: &'a Source,
    pub(crate) facts: &'a dyn Facts,
    pub(crate) config: &'a Config,
    pub(crate) items: Vec<Item<'a>>,
    pub(crate) stages: Vec<StageInfo>,
    pub(crate) findings: Vec<Finding>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(
        dockerfile: &'a Dockerfile,
        facts: &'a dyn Facts,
        config: &'a Config,
    ) -> Context<'a> {
        let mut items = Vec::with_capacity(dockerfile.instructions.len());
        let mut stages: Vec<StageInfo> = Vec::new();
        for (index, instruction) in dockerfile.instructions.iter().enumerate() {
            let typed = parse_instruction(dockerfile, index).ok();
            if instruction.kind == Some(Kind::From) {
                if let Some(last) = stages.last_mut() {
                    last.end = index;
                }
                let image = instruction
                    .arguments
                    .first()
                    .map(|word| word.text.clone())
                    .unwrap_or_default();
                let (name, alias) = match &typed {
                    Some(Typed::From(from)) => (from.name.clone(), from.name_as_written.clone()),
                    _ => {
                        let arguments = instruction.argument_texts();
                        match arguments.as_slice() {
                            [_, keyword, name] if keyword.eq_ignore_ascii_case("as") => {
                                (Some(name.to_lowercase()), Some(name.to_string()))
                            }
                            _ => (None, None),
                        }
                    }
                };
                let lower = image.to_lowercase();
                let parent = stages
                    .iter()
                    .rposition(|stage| stage.name.as_deref() == Some(lower.as_str()));
                stages.push(StageInfo {
                    item: index,
                    end: dockerfile.instructions.len(),
                    from: match &typed {
                        Some(Typed::From(from)) => Some(from.clone()),
                        _ => None,
                    },
                    image,
                    name,
                    alias,
                    parent,
                });
            }
            let script = run_script(instruction);
            items.push(Item {
                index,
                instruction,
                stage: stages.len().checked_sub(1),
                typed,
                script,
            });
        }
        Context {
            dockerfile,
            source: &dockerfile.source,
            facts,
            config,
            items,
            stages,
            findings: Vec::new(),
        }
    }

    /// Records a finding about instruction `item` (its comments apply).
    pub(crate) fn report(&mut self, diagnostic: Diagnostic, item: usize) {
        let buildkit = diagnostic.rule.origin == Origin::BuildKit;
        self.findings.push(Finding {
            diagnostic,
            buildkit,
            comments_of: Some(item),
        });
    }

    /// Records a finding BuildKit does not make although its rule is one of
    /// BuildKit's (hadolint's wider reading of the same mistake).
    pub(crate) fn report_beyond_buildkit(&mut self, diagnostic: Diagnostic, item: usize) {
        self.findings.push(Finding {
            diagnostic,
            buildkit: false,
            comments_of: Some(item),
        });
    }

    /// Records a file-wide finding (only the file's `# check=` applies).
    pub(crate) fn report_global(&mut self, diagnostic: Diagnostic) {
        let buildkit = diagnostic.rule.origin == Origin::BuildKit;
        self.findings.push(Finding {
            diagnostic,
            buildkit,
            comments_of: None,
        });
    }

    /// A diagnostic of `rule` over `span`.
    pub(crate) fn diagnostic(
        &self,
        rule: &'static Rule,
        span: Span,
        message: String,
    ) -> Diagnostic {
        Diagnostic::new(rule, self.source, span, message)
    }

    /// The items of stage `stage`, FROM included.
    pub(crate) fn stage_items(&self, stage: usize) -> std::ops::Range<usize> {
        let info = &self.stages[stage];
        info.item..info.end
    }

    /// The stage built when no target is given.
    pub(crate) fn final_stage(&self) -> Option<usize> {
        self.stages.len().checked_sub(1)
    }

    /// The stages `stage` is built on, nearest first, itself included.
    pub(crate) fn lineage(&self, stage: usize) -> Vec<usize> {
        let mut chain = vec![stage];
        let mut current = stage;
        while let Some(parent) = self.stages[current].parent {
            if chain.contains(&parent) {
                break;
            }
            chain.push(parent);
            current = parent;
        }
        chain
    }
}

/// The shell script a RUN (or an ONBUILD RUN) runs, for the rules that read
/// commands: exec form joined with spaces (as hadolint reads it), a lone
/// heredoc's body, and the body of a heredoc fed to a shell.
fn run_script(instruction: &Instruction) -> Option<Script> {
    let run = match (instruction.kind, &instruction.trigger) {
        (Some(Kind::Run), _) => instruction,
        (Some(Kind::Onbuild), Some(trigger)) if trigger.kind == Some(Kind::Run) => trigger,
        _ => return None,
    };
    let text = run.argument_texts().join(" ");
    let heredocs = if instruction.heredocs.is_empty() {
        &run.heredocs
    } else {
        &instruction.heredocs
    };
    let trimmed = text.trim();
    let only_markers = !heredocs.is_empty()
        && trimmed
            .split_whitespace()
            .all(|word| word.starts_with("<<"));
    let script = if only_markers {
        heredocs
            .iter()
            .map(|heredoc| heredoc.content.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    } else {
        let first = trimmed.split_whitespace().next().unwrap_or("");
        let shell = first.rsplit('/').next().unwrap_or(first);
        if !heredocs.is_empty() && matches!(shell, "sh" | "bash" | "ash" | "dash" | "zsh") {
            let mut script = text.clone();
            for heredoc in heredocs {
                script.push('\n');
                script.push_str(&heredoc.content);
            }
            script
        } else {
            text
        }
    };
    Some(Script::parse(&script))
}
