//! The plan's types: stages of file-system steps, each with its cache key,
//! and what each step does.

use std::sync::Arc;

use serde::Serialize;
use strata_context::{Context, Selection};
use strata_dockerfile::{Chmod, Span};
use strata_oci::{Digest, ImageConfiguration};

use crate::images::ResolvedImage;
use crate::remote::{Checksum, Downloads};

/// A whole build, lowered.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The stages the target needs (and images `COPY --from` names), each
    /// after the stages it depends on.
    pub(crate) stages: Vec<StagePlan>,
    /// The stage whose image is the result.
    pub(crate) target: usize,
    /// Warnings for the user (unused build arguments, ...).
    pub(crate) warnings: Vec<String>,
}

/// Where a stage starts.
#[derive(Debug, Clone)]
pub(crate) enum Base {
    /// `FROM scratch`: nothing.
    Scratch,
    /// An image's layers.
    Image(Arc<ResolvedImage>),
    /// Another stage's result.
    Stage(usize),
}

/// One stage, lowered.
#[derive(Debug)]
pub(crate) struct StagePlan {
    /// The stage's name for messages (`build`, `stage-1`), or the image name
    /// for an image that only `COPY --from` uses.
    pub(crate) name: String,
    /// Whether `--no-cache` or `--no-cache-filter` forces its steps to run.
    pub(crate) no_cache: bool,
    /// Where it starts.
    pub(crate) base: Base,
    /// The `FROM` vertex name (`[1/6] FROM docker.io/library/x:1@sha256:…`),
    /// when the stage starts from an image.
    pub(crate) from_name: Option<String>,
    /// Its file-system steps, in order.
    pub(crate) steps: Vec<Step>,
    /// Its image configuration at the end, history included (new entries
    /// have no time yet: export gives them their layers' times).
    pub(crate) config: ImageConfiguration,
    /// How many history entries the base image brought (they keep their times).
    pub(crate) inherited_history: usize,
    /// Layers of its chain no history entry stands for (a named local
    /// context's): the exporter adds entries for as many at the end.
    pub(crate) unrecorded_layers: usize,
    /// Its key at the end: its last step's key, or its base's.
    pub(crate) key: Digest,
    /// The environment its steps saw at the end (ENV and ARG values): what a
    /// stage built on it starts with.
    pub(crate) environment: Vec<String>,
}

/// A file-system step: it makes a layer.
#[derive(Debug)]
pub(crate) struct Step {
    /// The vertex name (`[2/6] RUN make`).
    pub(crate) name: String,
    /// Where the instruction is.
    pub(crate) span: Span,
    /// What it does.
    pub(crate) operation: Operation,
    /// Its cache key.
    pub(crate) key: Digest,
    /// Where it is in the Dockerfile, for miss explanations (`build/3`).
    pub(crate) position: String,
    /// What its key covers, in order, for miss explanations; a COPY's
    /// context files stand in it as one [`CONTEXT_FILES`] entry (see
    /// [`Step::inputs`]).
    pub(crate) inputs: Vec<(String, String)>,
}

/// The input entry that stands for the files a COPY selects from the build
/// context; its value is the source's index in the operation. Listed only
/// when a miss is explained or a result recorded: a rebuild's plan does not
/// format a name and a digest for each of thousands of files.
pub(crate) const CONTEXT_FILES: &str = "context files";

impl Step {
    /// What its key covers, in order: `file <path>` and its digest for each
    /// file a COPY selects from `context`.
    pub(crate) fn inputs(&self, context: Option<&Context>) -> Vec<(String, String)> {
        let mut all = Vec::with_capacity(self.inputs.len());
        for (name, value) in &self.inputs {
            if name == CONTEXT_FILES
                && let Operation::Copy(copy) = &self.operation
                && let Some(CopyInput::Context { selection, named }) = value
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| copy.sources.get(i))
                && let Some(context) = named.as_deref().or(context)
            {
                for root in &selection.roots {
                    for selected in &root.entries {
                        let entry = &context.entries()[selected.index];
                        if entry.kind() == strata_context::EntryKind::Directory {
                            continue;
                        }
                        let digest = entry
                            .content_digest()
                            .or(entry.digest())
                            .map(|d| d.to_string())
                            .unwrap_or_default();
                        all.push((format!("file {}", entry.path().display()), digest));
                    }
                }
                continue;
            }
            all.push((name.clone(), value.clone()));
        }
        all
    }
}

/// What a step does.
#[derive(Debug)]
pub(crate) enum Operation {
    /// Runs a command (RUN).
    Run(RunOperation),
    /// Copies files in (COPY, ADD).
    Copy(CopyOperation),
    /// Creates a directory (WORKDIR).
    Mkdir {
        /// The absolute path.
        path: String,
        /// Its owner (the stage's USER at that point), `""` for root.
        user: String,
    },
}

/// A RUN step.
#[derive(Debug, Serialize)]
pub(crate) struct RunOperation {
    /// The process's arguments (the shell already prepended for shell form).
    pub(crate) args: Vec<String>,
    /// Its environment, `KEY=value`, in definition order.
    pub(crate) env: Vec<String>,
    /// Its working directory.
    pub(crate) working_dir: String,
    /// Its user, `""` for root.
    pub(crate) user: String,
    /// Whether it gets a network.
    pub(crate) network: bool,
    /// Heredoc files the step runs (`RUN <<EOF` with a shebang): name, content.
    pub(crate) scripts: Vec<(String, String)>,
    /// `--mount`s.
    pub(crate) mounts: Vec<RunMount>,
    /// `RUN --security=insecure`: all capabilities, no seccomp filter,
    /// kernel paths unmasked, BuildKit's extra devices.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) insecure: bool,
    /// `--add-host` entries: (host, address).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) extra_hosts: Vec<(String, String)>,
    /// `--ulimit`s.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) ulimits: Vec<strata_sandbox::Ulimit>,
    /// `--shm-size`: /dev/shm's size in bytes (a tmpfs mount in BuildKit's op).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) shm_size: Option<u64>,
    /// `--cgroup-parent` (in BuildKit's op metadata, so in the key; no effect).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cgroup_parent: Option<String>,
    /// The platform its programs are for, when not the host's (in
    /// BuildKit's op, so in the key: `FROM scratch` + `COPY` of a binary
    /// gives the same parent on every platform).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) platform: Option<String>,
    /// The proxy build args (`http_proxy`, ... given with --build-arg, declared
    /// or not), as BuildKit adds them to every RUN: upper and lower case,
    /// after `env`, outside the cache key and the history.
    #[serde(skip)]
    pub(crate) proxy_env: Vec<String>,
}

/// A `RUN --mount`.
#[derive(Debug, Serialize)]
pub(crate) struct RunMount {
    /// Where it appears in the step's file system.
    pub(crate) target: String,
    /// Whether the step may write to it.
    pub(crate) read_only: bool,
    /// What it is.
    pub(crate) kind: RunMountKind,
}

/// What a `RUN --mount` mounts.
#[derive(Debug, Serialize)]
pub(crate) enum RunMountKind {
    /// `type=cache`: a directory kept in the store between builds.
    Cache {
        /// The cache's id (default: the target).
        id: String,
        /// Owner and mode the directory is created with.
        uid: u32,
        /// Group.
        gid: u32,
        /// Mode.
        mode: u32,
    },
    /// `type=tmpfs`.
    Tmpfs {
        /// Size limit in bytes (0: none).
        size: i64,
    },
    /// `type=secret`: a `--secret`, as a file, an environment variable or
    /// both; its value is never part of a layer or a key.
    Secret {
        /// The secret's id.
        id: String,
        /// Whether a missing secret is an error.
        required: bool,
        /// Also (or only) the step's environment variable of this name.
        env: Option<String>,
        /// Mounted as a file at the target (false: `env=` without `target=`).
        #[serde(skip_serializing_if = "is_true")]
        file: bool,
    },
    /// `type=ssh`: a socket relayed to the `--ssh` agent of this id; which
    /// keys it holds is no part of the key.
    Ssh {
        /// The agent's id (`default` when none is given).
        id: String,
        /// Whether a missing agent is an error.
        required: bool,
        /// The socket's owner.
        uid: u32,
        /// Its group.
        gid: u32,
        /// Its mode (BuildKit's default 0600).
        mode: u32,
    },
    /// `type=bind` from the build context (or a named local one).
    Context {
        /// The path in the context.
        source: String,
        /// The digest of what it selects (part of the key).
        digest: Digest,
        /// The named context it reads (`None`: the build context).
        #[serde(skip)]
        named: Option<Arc<Context>>,
    },
    /// `type=bind` from another stage.
    Stage {
        /// The stage.
        #[serde(skip)]
        stage: usize,
        /// Its key (part of this step's key).
        key: Digest,
        /// The path in it.
        source: String,
    },
}

/// A COPY or ADD step.
#[derive(Debug)]
pub(crate) struct CopyOperation {
    /// What is copied, in order.
    pub(crate) sources: Vec<CopyInput>,
    /// The destination: absolute, cleaned, with a trailing `/` when the
    /// user wrote one (then it is a directory).
    pub(crate) destination: String,
    /// `--chown`, as written.
    pub(crate) chown: Option<String>,
    /// `--chmod`.
    pub(crate) chmod: Option<Chmod>,
    /// ADD: unpack local tar archives.
    pub(crate) unpack: bool,
    /// `--link` (without `--chmod`, as BuildKit): copied into an empty
    /// directory whose layer is put on top of the parent, which it never reads.
    pub(crate) link: bool,
}

/// One thing a COPY/ADD copies.
#[derive(Debug)]
pub(crate) enum CopyInput {
    /// Files from the build context, or a named local context.
    Context {
        /// What it selects.
        selection: Selection,
        /// The named context it reads (`None`: the build context).
        named: Option<Arc<Context>>,
    },
    /// Files from another stage's (or image's) file system.
    Stage {
        /// The stage it comes from.
        stage: usize,
        /// The source path (wildcards allowed; the pivot with `--parents`).
        source: String,
        /// `--parents`: what below each match is copied, keeping its parents.
        include: Vec<String>,
        /// `--exclude`: patterns relative to each match.
        exclude: Vec<String>,
        /// `--parents` without wildcards: paths that must exist.
        required: Vec<String>,
    },
    /// An http(s) URL (ADD): downloaded when first needed.
    Remote {
        /// The URL.
        url: String,
        /// The file's name (BuildKit's rule, see
        /// [`remote::file_name`](crate::remote::file_name)).
        name: String,
        /// `--checksum`.
        checksum: Option<Checksum>,
        /// `--unpack=true`: extract it when it is an archive.
        unpack: bool,
        /// Where it is downloaded.
        downloads: Arc<Downloads>,
    },
    /// A heredoc: a file with this name and content.
    Inline {
        /// The file name.
        name: String,
        /// Its content.
        data: String,
    },
}

/// For `skip_serializing_if`: a field whose usual value is true.
fn is_true(value: &bool) -> bool {
    *value
}
