//! Lint rules over a Dockerfile plus facts about its context, and the
//! mechanical fixes.
//!
//! - [`lint`] runs the rules over a parsed [`Dockerfile`](strata_dockerfile::Dockerfile):
//!   BuildKit's build checks under BuildKit's names and messages (what
//!   `docker build --check` reports), the guide's common mistakes
//!   (unpinned base image, the whole context copied before a dependency
//!   install, root, no .dockerignore, `apt-get update` alone ...), and
//!   hadolint's rules with hadolint's semantics, each carrying its
//!   hadolint id as an alias. It honours `# check=skip=...;error=true`,
//!   `# hadolint ignore=...`, `# strata:ignore=...` and a [`Config`].
//! - [`Facts`] is what the rules may know of the build context (strata-context's
//!   `ContextFacts` has it) and the base images (the binary fills them in;
//!   [`PlainFacts`] is all of it as plain data).
//! - [`apply_fixes`] applies the fixes of the diagnostics, every other byte
//!   kept as it was; [`output`] writes JSON, SARIF and Checkstyle reports.
//! - [`Script`] is the shell reader the RUN rules use.
//!
//! No I/O; nothing here panics on any input.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod buildkit;
mod config;
mod context;
mod diagnostic;
mod engine;
mod facts;
mod fix;
mod guide;
mod hadolint;
mod images;
pub mod output;
mod predicates;
mod rules;
mod severity;
mod shell;
mod suppress;

pub use config::{CONFIG_FILE, Config, ConfigError, RuleSet};
pub use diagnostic::{Diagnostic, Edit, Fix};
pub use engine::{CheckDirectiveError, Report, lint};
pub use facts::{EmptyBaseImages, Facts, ImageFacts, NoFacts, PlainFacts};
pub use fix::apply_fixes;
pub use rules::{Origin, RULES, Rule, find_rule};
pub use severity::Severity;
pub use shell::{Script, ShellCommand};
