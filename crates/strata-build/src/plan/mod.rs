//! Lowering: a parsed Dockerfile, the build options and the images it names,
//! turned into stages of file-system steps with cache keys, and the image
//! configuration and history each stage ends with.
//!
//! Keys are computed here, before anything runs: a step's key hashes its
//! parent's key and everything the step depends on (the command and the
//! environment it sees for RUN, the digests of exactly the selected files for
//! COPY), so Docker's top-down invalidation falls out of the chain. A no-op
//! rebuild is a plan whose every key is already in the store.

use std::collections::BTreeMap;
use std::sync::Arc;

use strata_context::Context;
use strata_dockerfile::{
    self as dockerfile, Dockerfile, ErrorKind, GlobalScope, Location, Span, Stages,
};

use crate::error::{Error, Result};
use crate::images::Images;
use crate::options::BuildOptions;
use crate::remote::Downloads;

mod copy;
mod dispatch;
mod key;
mod named;
mod run;
mod stage;
mod state;
mod types;

pub(crate) use key::key_of;
pub(crate) use stage::DEFAULT_PATH;
pub(crate) use state::format_time;
pub(crate) use types::{
    Base, CONTEXT_FILES, CopyInput, CopyOperation, Operation, Plan, RunMount, RunMountKind,
    RunOperation, StagePlan, Step,
};

use stage::empty_image;

/// Scans a named local context (its key, its directory) when first needed.
pub(crate) type NamedScan<'a> = dyn Fn(&str, &std::path::Path) -> Result<Arc<Context>> + 'a;

/// Lowers `dockerfile` for `options`: the stages the target needs, with
/// their steps and keys.
pub(crate) fn lower(
    dockerfile: &Dockerfile,
    options: &BuildOptions,
    images: &Images,
    context: &dyn Fn() -> Result<Arc<Context>>,
    named_scan: &NamedScan<'_>,
    downloads: &Arc<Downloads>,
) -> Result<Plan> {
    let stages = Stages::parse(dockerfile).map_err(|e| located(e, options))?;
    if stages.stages.is_empty() {
        return Err(dockerfile_error(
            dockerfile,
            options,
            ErrorKind::Stage,
            "dockerfile contains no stages to build",
            Span { start: 0, end: 0 },
        ));
    }
    let target_index = target_index(&stages, options)?;
    let target_name = stages.stages[target_index]
        .name()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("stage-{target_index}"));
    let frontend_options = dockerfile::FrontendOptions {
        target_platform: Some(images.platform().clone()),
        ..options.frontend.clone()
    };
    let global = GlobalScope::new(
        &stages.meta_args,
        &frontend_options,
        &target_name,
        dockerfile.escape,
        &dockerfile.source,
    )
    .map_err(|e| located(e, options))?;

    let mut lowering = Lowering {
        dockerfile,
        options,
        images,
        context,
        named_scan,
        stages: &stages,
        global,
        frontend_options,
        plans: Vec::new(),
        by_stage: BTreeMap::new(),
        by_image: BTreeMap::new(),
        used_args: std::collections::BTreeSet::new(),
        single_stage: stages.stages.len() == 1,
        downloads: downloads.clone(),
    };
    let target = lowering.stage(target_index)?;
    let warnings = unused_args_warning(options, &lowering.used_args)
        .into_iter()
        .collect();
    let mut plans = lowering.plans;
    let labels = &options.labels;
    if !labels.is_empty() {
        let config = plans[target]
            .config
            .config
            .get_or_insert_with(Default::default);
        for (key, value) in labels {
            config.labels.insert(key.clone(), value.clone());
        }
    }
    Ok(Plan {
        stages: plans,
        target,
        warnings,
    })
}

/// The Dockerfile stage `--target` names (default: the last), with a
/// did-you-mean hint when none has that name.
fn target_index(stages: &Stages, options: &BuildOptions) -> Result<usize> {
    let Some(target) = &options.frontend.target else {
        return Ok(stages.stages.len() - 1);
    };
    if let Some(stage) = stages.find(&target.to_lowercase()) {
        return Ok(stage.index);
    }
    let names: Vec<&str> = stages.stages.iter().filter_map(|s| s.name()).collect();
    let message = strata_go::suggest::with_suggestion(
        format!("target stage \"{target}\" could not be found"),
        target,
        &names,
        true,
    );
    Err(Error::Option {
        flag: "--target",
        message,
    })
}

/// Docker's warning for the `--build-arg`s no stage used, if any.
fn unused_args_warning(
    options: &BuildOptions,
    used_args: &std::collections::BTreeSet<String>,
) -> Option<String> {
    let unused: Vec<&String> = options
        .frontend
        .build_args
        .keys()
        .filter(|key| !used_args.contains(*key) && !is_predefined_arg(key))
        .collect();
    if unused.is_empty() {
        return None;
    }
    let names: Vec<&str> = unused.iter().map(|s| s.as_str()).collect();
    Some(format!(
        "one or more build-args [{}] were not consumed",
        names.join(" ")
    ))
}

/// Build arguments Docker never reports as unused.
fn is_predefined_arg(key: &str) -> bool {
    matches!(
        key.to_ascii_lowercase().as_str(),
        "http_proxy" | "https_proxy" | "ftp_proxy" | "no_proxy" | "all_proxy"
    ) || key.starts_with("BUILDKIT_")
        || key == "SOURCE_DATE_EPOCH"
}

/// The lowering of one build: its inputs and the stages lowered so far.
struct Lowering<'a> {
    dockerfile: &'a Dockerfile,
    options: &'a BuildOptions,
    images: &'a Images,
    context: &'a dyn Fn() -> Result<Arc<Context>>,
    named_scan: &'a NamedScan<'a>,
    stages: &'a Stages,
    global: GlobalScope,
    frontend_options: dockerfile::FrontendOptions,
    plans: Vec<StagePlan>,
    /// Dockerfile stage index → plan index.
    by_stage: BTreeMap<usize, usize>,
    /// Image name → plan index (images `COPY --from` names, named contexts' stages).
    by_image: BTreeMap<String, usize>,
    used_args: std::collections::BTreeSet<String>,
    single_stage: bool,
    downloads: Arc<Downloads>,
}

impl Lowering<'_> {
    /// A Dockerfile error at the instruction at `location`.
    fn error_at(&self, kind: ErrorKind, message: impl Into<String>, location: Location) -> Error {
        dockerfile_error(self.dockerfile, self.options, kind, message, location.span)
    }
}

/// A Dockerfile error at `span`, naming the file.
pub(crate) fn dockerfile_error(
    dockerfile: &Dockerfile,
    options: &BuildOptions,
    kind: ErrorKind,
    message: impl Into<String>,
    span: Span,
) -> Error {
    Error::Dockerfile(
        dockerfile::Error::new(kind, message, &dockerfile.source, span)
            .with_file(&options.dockerfile_name),
    )
}

fn located(error: dockerfile::Error, options: &BuildOptions) -> Error {
    Error::Dockerfile(error.with_file(&options.dockerfile_name))
}

fn with_span(error: Error, span: Span) -> Error {
    match error {
        Error::Image {
            reference,
            message,
            span: None,
        } => Error::Image {
            reference,
            message,
            span: Some(span),
        },
        other => other,
    }
}
