//! The builder: `docker build` without a daemon.
//!
//! - [`plan`]: the Dockerfile lowered to stages of file-system steps, each
//!   with a cache key chained from its parent's, plus each stage's image
//!   configuration and history (BuildKit's dispatch rules, docker's history
//!   texts).
//! - [`solve`]: stages run in their own threads (independent ones at the
//!   same time); a step is served from the cache or run over a snapshot of
//!   its parent (RUN in the sandbox, COPY/ADD/WORKDIR into a mounted
//!   overlay), and its diff becomes a layer; a miss says why ([`explain`]).
//! - [`export`]: the target's image in the store, with its names.
//!
//! Entry point: [`build`] with [`BuildOptions`], reporting through
//! [`Progress`] and stoppable with [`Cancel`].
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod archive;
mod copy;
mod error;
mod explain;
mod export;
mod history;
mod images;
mod options;
mod plan;
mod progress;
mod remote;
mod rootfs;
mod solve;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

pub use error::{Error, Result};
pub use images::StoreSink;
pub use options::{BuildOptions, NetworkMode};
pub use progress::{Event, Progress, Silent, Stream, VertexId};
pub use solve::{Cancel, StepReport};

use strata_context::{Context, IgnoreFile, ScanOptions};
use strata_oci::{Descriptor, Digest};
use strata_store::Store;

/// What a build produced.
#[derive(Clone, Debug)]
pub struct BuildOutput {
    /// The image ID (its configuration's digest).
    pub image_id: Digest,
    /// The image's manifest in the store.
    pub manifest: Descriptor,
    /// What happened to each step.
    pub steps: Vec<StepReport>,
    /// Warnings shown during the build.
    pub warnings: Vec<String>,
}

/// Builds `options.dockerfile` over `options.context` into `store`.
///
/// Steps run in the sandbox, which re-executes the current program: the
/// program must call `strata_sandbox::run_if_requested()` first thing in
/// `main`. `secrets` maps `--secret` ids to files.
pub fn build(
    store: Arc<Store>,
    options: &BuildOptions,
    secrets: &HashMap<String, PathBuf>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<BuildOutput> {
    let vertices = AtomicUsize::new(0);
    // An internal vertex (loading, scanning, exporting): its work returns
    // the status lines to show once it is done.
    let internal = |name: &str, work: &mut dyn FnMut() -> Result<Vec<String>>| -> Result<()> {
        let vertex = vertices.fetch_add(1, Ordering::SeqCst) + 1;
        let started = Instant::now();
        progress.event(Event::Started { vertex, name });
        match work() {
            Ok(statuses) => {
                for message in &statuses {
                    progress.event(Event::Status { vertex, message });
                }
                progress.event(Event::Done {
                    vertex,
                    elapsed: started.elapsed(),
                });
                Ok(())
            }
            Err(error) => {
                let message = error.to_string();
                progress.event(Event::Failed {
                    vertex,
                    elapsed: started.elapsed(),
                    error: &message,
                });
                Err(error)
            }
        }
    };

    let mut dockerfile = None;
    internal(
        &format!(
            "[internal] load build definition from {}",
            options.dockerfile_name
        ),
        &mut || {
            let parsed = strata_dockerfile::parse(options.dockerfile.clone())
                .map_err(|e| Error::Dockerfile(e.with_file(&options.dockerfile_name)))?;
            dockerfile = Some(parsed);
            Ok(vec![format!(
                "transferring dockerfile: {}B done",
                options.dockerfile.len()
            )])
        },
    )?;
    let Some(dockerfile) = dockerfile else {
        return Err(Error::Cancelled);
    };

    let mut ignore = IgnoreFile::none();
    if let Some(root) = &options.context {
        internal("[internal] load .dockerignore", &mut || {
            ignore = IgnoreFile::for_build(root, options.dockerfile_path.as_deref())?;
            Ok(Vec::new())
        })?;
    }

    // The context is scanned when a step first needs it.
    let context_cell: OnceLock<Result<Arc<Context>, String>> = OnceLock::new();
    let context_cache = store.area("context-cache")?;
    let scan = || -> Result<Arc<Context>> {
        let result = context_cell.get_or_init(|| {
            let Some(root) = &options.context else {
                return Err("this build has no context (the Dockerfile came from stdin): COPY and ADD cannot read files".to_owned());
            };
            let mut scanned = None;
            let status = internal("[internal] load build context", &mut || {
                let scan_options = ScanOptions::new()
                    .exclude(ignore.matcher().clone())
                    .cache_directory(Some(context_cache.clone()));
                let context = Context::scan(root, &scan_options)?;
                let stats = context.stats();
                let status = format!(
                    "transferring context: {} files, {} hashed, {} from the metadata cache done",
                    stats.entries, stats.files_hashed, stats.cache_hits
                );
                scanned = Some(context);
                Ok(vec![status])
            });
            match (status, scanned) {
                (Ok(()), Some(context)) => {
                    for warning in context.warnings() {
                        let message = warning.to_string();
                        progress.event(Event::Warning { message: &message });
                    }
                    Ok(Arc::new(context))
                }
                (Err(error), _) => Err(error.to_string()),
                (Ok(()), None) => Err("the context scan produced nothing".to_owned()),
            }
        });
        result.clone().map_err(|message| Error::Option {
            flag: "context",
            message,
        })
    };

    let images = images::Images::new(
        store.clone(),
        options.pull,
        options.insecure_registries.clone(),
    );
    let downloads = Arc::new(remote::Downloads::new(store.temporary_path("downloads")));
    let plan = plan::lower(&dockerfile, options, &images, &scan, &downloads)?;
    for warning in &plan.warnings {
        progress.event(Event::Warning { message: warning });
    }

    let needs_steps = plan.stages.iter().any(|s| !s.steps.is_empty());
    let snapshotter = strata_snapshot::Snapshotter::open(&store.area("snapshots")?)?;
    let sandbox = if needs_steps {
        strata_sandbox::Sandbox::new()?
    } else {
        strata_sandbox::Sandbox::with_helper("/proc/self/exe")
    };
    let project = format!(
        "{}\0{}\0{}",
        options
            .context
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        options
            .dockerfile_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| options.dockerfile_name.clone()),
        options.target.clone().unwrap_or_default()
    );
    let explainer = explain::Explainer::load(Some(explain::Explainer::project_file(
        &store.area("builds")?,
        &project,
    )));
    let context = context_cell.get().and_then(|c| c.as_ref().ok().cloned());
    let solver = solve::Solver::new(
        &store,
        &snapshotter,
        &sandbox,
        &plan,
        context,
        options,
        progress,
        &vertices,
        cancel,
        &explainer,
        secrets,
    );
    let (output, steps) = solver.solve()?;
    explainer.save();

    let mut exported = None;
    internal("exporting to image", &mut || {
        let image = export::export(&store, &plan, &output, options)?;
        let mut statuses = vec![
            "exporting layers done".to_owned(),
            format!("writing image {} done", image.config_digest),
        ];
        statuses.extend(
            options
                .tags
                .iter()
                .map(|tag| format!("naming to {tag} done")),
        );
        exported = Some(image);
        Ok(statuses)
    })?;
    let Some(exported) = exported else {
        return Err(Error::Cancelled);
    };
    Ok(BuildOutput {
        image_id: exported.config_digest,
        manifest: exported.manifest,
        steps,
        warnings: plan.warnings,
    })
}
