//! The syntax tree of a Dockerfile: what BuildKit's parser keeps of each
//! instruction, with byte spans back into the source.

use crate::directive::Directive;
use crate::source::{Source, Span};

/// The instructions BuildKit knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `ADD`
    Add,
    /// `ARG`
    Arg,
    /// `CMD`
    Cmd,
    /// `COPY`
    Copy,
    /// `ENTRYPOINT`
    Entrypoint,
    /// `ENV`
    Env,
    /// `EXPOSE`
    Expose,
    /// `FROM`
    From,
    /// `HEALTHCHECK`
    Healthcheck,
    /// `LABEL`
    Label,
    /// `MAINTAINER` (deprecated)
    Maintainer,
    /// `ONBUILD`
    Onbuild,
    /// `RUN`
    Run,
    /// `SHELL`
    Shell,
    /// `STOPSIGNAL`
    Stopsignal,
    /// `USER`
    User,
    /// `VOLUME`
    Volume,
    /// `WORKDIR`
    Workdir,
}

impl Kind {
    /// Every instruction, alphabetically.
    pub const ALL: [Kind; 18] = [
        Kind::Add,
        Kind::Arg,
        Kind::Cmd,
        Kind::Copy,
        Kind::Entrypoint,
        Kind::Env,
        Kind::Expose,
        Kind::From,
        Kind::Healthcheck,
        Kind::Label,
        Kind::Maintainer,
        Kind::Onbuild,
        Kind::Run,
        Kind::Shell,
        Kind::Stopsignal,
        Kind::User,
        Kind::Volume,
        Kind::Workdir,
    ];

    /// The instruction for a lower-case name (`"run"`), if BuildKit knows it.
    pub fn from_lowercase(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.lowercase() == name)
    }

    /// The instruction for a name as written, compared the way BuildKit
    /// compares (`strings.ToLower`, so `ENTRYPO\u{130}NT` is ENTRYPOINT).
    pub fn from_name(name: &str) -> Option<Kind> {
        if name.is_ascii() {
            return Kind::ALL
                .into_iter()
                .find(|kind| kind.lowercase().eq_ignore_ascii_case(name));
        }
        Kind::from_lowercase(&strata_go::strings::to_lower(name))
    }

    /// The name in lower case, as BuildKit's `command` package spells it.
    pub fn lowercase(self) -> &'static str {
        match self {
            Kind::Add => "add",
            Kind::Arg => "arg",
            Kind::Cmd => "cmd",
            Kind::Copy => "copy",
            Kind::Entrypoint => "entrypoint",
            Kind::Env => "env",
            Kind::Expose => "expose",
            Kind::From => "from",
            Kind::Healthcheck => "healthcheck",
            Kind::Label => "label",
            Kind::Maintainer => "maintainer",
            Kind::Onbuild => "onbuild",
            Kind::Run => "run",
            Kind::Shell => "shell",
            Kind::Stopsignal => "stopsignal",
            Kind::User => "user",
            Kind::Volume => "volume",
            Kind::Workdir => "workdir",
        }
    }

    /// The name in upper case, as the Dockerfile reference spells it.
    pub fn uppercase(self) -> &'static str {
        match self {
            Kind::Add => "ADD",
            Kind::Arg => "ARG",
            Kind::Cmd => "CMD",
            Kind::Copy => "COPY",
            Kind::Entrypoint => "ENTRYPOINT",
            Kind::Env => "ENV",
            Kind::Expose => "EXPOSE",
            Kind::From => "FROM",
            Kind::Healthcheck => "HEALTHCHECK",
            Kind::Label => "LABEL",
            Kind::Maintainer => "MAINTAINER",
            Kind::Onbuild => "ONBUILD",
            Kind::Run => "RUN",
            Kind::Shell => "SHELL",
            Kind::Stopsignal => "STOPSIGNAL",
            Kind::User => "USER",
            Kind::Volume => "VOLUME",
            Kind::Workdir => "WORKDIR",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.uppercase())
    }
}

/// A piece of text and where it came from. The text is what BuildKit keeps
/// (quotes and escapes as written, continuation lines joined); the span covers
/// the source bytes it was read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// The text.
    pub text: String,
    /// The source bytes it was read from.
    pub span: Span,
}

/// An instruction flag such as `--from=build`, as written before the arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flag {
    /// BuildKit's raw flag: quotes removed, e.g. `--mount=type=cache,target=/x`.
    pub text: String,
    /// The source bytes of the flag word.
    pub span: Span,
}

impl Flag {
    /// The name without dashes (`from` for `--from=x`).
    pub fn name(&self) -> &str {
        let body = self.text.strip_prefix("--").unwrap_or(&self.text);
        body.split_once('=').map_or(body, |(name, _)| name)
    }

    /// The value after `=`, or `None` for a bare `--link`.
    pub fn value(&self) -> Option<&str> {
        self.text.split_once('=').map(|(_, value)| value)
    }
}

/// A here-document attached to a RUN, COPY or ADD instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heredoc {
    /// The delimiter with quotes removed (`EOF` for `<<'EOF'`).
    pub name: String,
    /// The number before `<<` (`3<<EOF`), or 0.
    pub file_descriptor: u64,
    /// False when any part of the delimiter was quoted: the body is then not expanded.
    pub expand: bool,
    /// True for `<<-`: leading tabs are removed from each line (see [`chomp`](crate::chomp)).
    pub chomp: bool,
    /// The body exactly as written, line endings included, terminator excluded.
    pub content: String,
    /// The body's bytes.
    pub content_span: Span,
    /// The terminator line's bytes.
    pub terminator_span: Span,
}

/// A comment line (`# ...`), outside or inside an instruction's continuation
/// lines. Parser directives are not comments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The text after `#`, with blanks at both ends removed.
    pub text: String,
    /// The 1-based line.
    pub line: usize,
    /// The line's bytes from `#` to the end of the line.
    pub span: Span,
    /// Whether the comment sits among an instruction's continuation lines.
    pub in_continuation: bool,
}

/// A parser warning (BuildKit's: an empty line among continuation lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// BuildKit's short text: `Empty continuation line found in: RUN ...`.
    pub message: String,
    /// BuildKit's detail line.
    pub detail: String,
    /// The documentation page BuildKit links.
    pub url: String,
    /// The line BuildKit reports (the instruction's last line).
    pub line: usize,
    /// The empty lines found.
    pub empty_lines: Vec<usize>,
    /// The instruction's bytes.
    pub span: Span,
}

/// One instruction as BuildKit's parser keeps it (a child of its AST root).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instruction {
    /// The instruction name as written (`run`, `RUN`, `Run`).
    pub keyword: Word,
    /// The instruction, when BuildKit knows the name (case-insensitively).
    pub kind: Option<Kind>,
    /// The flags before the arguments (a lone `--` is not kept).
    pub flags: Vec<Flag>,
    /// The arguments as BuildKit's parser splits them, before expansion. For
    /// ENV and LABEL: triples of name, value and separator (`=`, or empty for
    /// the legacy `ENV name value` form). For HEALTHCHECK: the type, then the
    /// command. For an unknown instruction: one empty argument. For ONBUILD:
    /// empty (see [`Instruction::trigger`]).
    pub arguments: Vec<Word>,
    /// Whether the arguments were a JSON array (exec form).
    pub json: bool,
    /// The here-documents, in order (attached to ONBUILD itself for `ONBUILD RUN <<EOF`).
    pub heredocs: Vec<Heredoc>,
    /// The logical line as BuildKit keeps it: leading blanks removed,
    /// continuation lines joined, comment and empty lines among them dropped.
    pub original: String,
    /// The first line, from 1.
    pub start_line: usize,
    /// The last line (a heredoc's terminator included).
    pub end_line: usize,
    /// From the keyword to the end of the last line (heredocs included).
    pub span: Span,
    /// BuildKit's comments before the instruction (`PrevComment`): comment
    /// lines since the previous instruction, reset by an empty `#` line.
    pub comments: Vec<String>,
    /// For ONBUILD: the instruction it registers.
    pub trigger: Option<Box<Instruction>>,
}

impl Drop for Instruction {
    fn drop(&mut self) {
        // ONBUILD ONBUILD ... can nest deeply: unlink iteratively.
        let mut next = self.trigger.take();
        while let Some(mut instruction) = next {
            next = instruction.trigger.take();
        }
    }
}

impl Instruction {
    /// The instruction name in upper case (as written, upper-cased).
    pub fn name(&self) -> String {
        strata_go::strings::to_upper(&self.keyword.text)
    }

    /// The argument texts.
    pub fn argument_texts(&self) -> Vec<&str> {
        self.arguments
            .iter()
            .map(|word| word.text.as_str())
            .collect()
    }

    /// For ENV and LABEL: the name/value pairs, with whether each is in the
    /// legacy `name value` form.
    pub fn key_values(&self) -> Vec<KeyValueWords<'_>> {
        self.arguments
            .chunks_exact(3)
            .map(|triple| KeyValueWords {
                key: &triple[0],
                value: &triple[1],
                legacy: triple[2].text.is_empty(),
            })
            .collect()
    }

    /// The flags named `name`, in order.
    pub fn flags_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Flag> + 'a {
        self.flags.iter().filter(move |flag| flag.name() == name)
    }
}

/// One `name=value` (or legacy `name value`) of an ENV or LABEL instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyValueWords<'a> {
    /// The name as written.
    pub key: &'a Word,
    /// The value as written (quotes kept).
    pub value: &'a Word,
    /// True for the legacy `ENV name value` form.
    pub legacy: bool,
}

/// A parsed Dockerfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dockerfile {
    /// The source, byte for byte.
    pub source: Source,
    /// The escape character: `\` unless `# escape=` set `` ` ``.
    pub escape: char,
    /// The parser directives at the top, in order.
    pub directives: Vec<Directive>,
    /// The instructions, in order.
    pub instructions: Vec<Instruction>,
    /// Every comment line, in order.
    pub comments: Vec<Comment>,
    /// Parser warnings.
    pub warnings: Vec<Warning>,
}

impl Dockerfile {
    /// The directive called `name` (`syntax`, `escape`, `check`).
    pub fn directive(&self, name: &str) -> Option<&Directive> {
        self.directives
            .iter()
            .find(|directive| directive.name == name)
    }
}
