//! One build from start to end: the Dockerfile loaded, the context scanned
//! when first needed, the plan solved, the outputs exported, each as a
//! progress vertex.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use strata_context::{Context, IgnoreFile, ScanOptions};
use strata_oci::{Descriptor, Digest};
use strata_store::Store;

use crate::cache::{self, ImportedCache};
use crate::error::{Error, Result};
use crate::output::{Destination, Output, OutputKind};
use crate::progress::{Event, Progress};
use crate::solve::{Cancel, StepReport};
use crate::{BuildOptions, explain, export, images, output, plan, remote, solve};

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
    /// What each output wrote, in the order of [`BuildOptions::outputs`].
    pub outputs: Vec<ExportedOutput>,
    /// The number of vertices shown (a caller adding its own continues from here).
    pub vertices: usize,
    /// What the image carries when it is exported as an index (provenance
    /// asked): a push sends the index these make.
    pub attestations: Option<crate::Attestations>,
}

/// What one output wrote.
#[derive(Clone, Debug)]
pub struct ExportedOutput {
    /// The exporter.
    pub kind: OutputKind,
    /// The manifest it wrote (image: the store's; oci, docker: the archive's).
    pub manifest: Option<Descriptor>,
}

/// Builds `options.dockerfile` over `options.context` into `store`.
///
/// Steps run in the sandbox, which re-executes the current program: the
/// program must call `strata_sandbox::run_if_requested()` first thing in
/// `main`. `secrets` maps `--secret` ids to their sources.
pub fn build(
    store: Arc<Store>,
    options: &BuildOptions,
    secrets: &HashMap<String, crate::SecretSource>,
    progress: &dyn Progress,
    cancel: &Cancel,
) -> Result<BuildOutput> {
    let started_on = jiff::Timestamp::now();
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
    // BuildKit names the Dockerfile by its file name (`-f dir/app.Dockerfile`
    // shows `app.Dockerfile`); errors keep the path as given.
    let shown_name = Path::new(&options.dockerfile_name).file_name().map_or_else(
        || options.dockerfile_name.clone(),
        |name| name.to_string_lossy().into_owned(),
    );
    internal(
        &format!("[internal] load build definition from {shown_name}"),
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

    // Named local contexts: scanned when first used, each with its own
    // `.dockerignore` (BuildKit reads `<dir>/.dockerignore` only).
    let named_contexts: std::sync::Mutex<HashMap<String, Arc<Context>>> = Default::default();
    let named_scan = |key: &str, directory: &Path| -> Result<Arc<Context>> {
        if let Some(found) = named_contexts.lock().ok().and_then(|m| m.get(key).cloned()) {
            return Ok(found);
        }
        let mut scanned = None;
        internal(&format!("[context {key}] load from client"), &mut || {
            let ignore = IgnoreFile::for_build(directory, None)?;
            let scan_options = ScanOptions::new()
                .exclude(ignore.matcher().clone())
                .cache_directory(Some(context_cache.clone()));
            let context = Context::scan(directory, &scan_options)?;
            let status = format!("transferring {key}: {} files done", context.stats().entries);
            scanned = Some(Arc::new(context));
            Ok(vec![status])
        })?;
        let context = scanned.ok_or(Error::Cancelled)?;
        if let Ok(mut map) = named_contexts.lock() {
            map.insert(key.to_owned(), context.clone());
        }
        Ok(context)
    };
    let images = images::Images::new(
        store.clone(),
        options.target_platform()?,
        options.pull,
        options.insecure_registries.clone(),
    );
    let downloads = Arc::new(remote::Downloads::new(store.temporary_path("downloads")));
    let plan = plan::lower(
        &dockerfile,
        options,
        &images,
        &scan,
        &named_scan,
        &downloads,
    )?;
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
        options.frontend.target.clone().unwrap_or_default()
    );
    let explainer = explain::Explainer::load(Some(explain::Explainer::project_file(
        &store.area("builds")?,
        &project,
    )));
    let imported = import_caches(options, &internal, progress)?;
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
        &imported,
    );
    let solved = solver.solve()?;
    explainer.save();
    let (output, steps) = (solved.output, solved.steps);
    // Every output needs the image's layers in the store.
    solve::fetch_imported(&store, &imported, &output.layers)?;

    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    let outputs = if options.outputs.is_empty() {
        let mut image = Output::new(OutputKind::Image, Destination::None);
        image.names = options.tags.clone();
        vec![image]
    } else {
        options.outputs.clone()
    };
    // Provenance ends with the solve (BuildKit's finishedOn), before export.
    let mut attestations =
        crate::provenance::of_build(options, &plan, started_on).map(|provenance| {
            crate::Attestations {
                provenance: Some(provenance),
                sbom: None,
                annotations: options.annotations.clone(),
            }
        });
    for target in outputs
        .iter()
        .filter(|o| !matches!(o.kind, OutputKind::Local | OutputKind::Tar))
    {
        options.annotations.check(
            target.oci_media_types,
            attestations.is_some() || options.sbom,
        )?;
    }
    // The image is always written to the store: it is what archives are
    // made of, and its layers are the cache.
    let names: Vec<_> = outputs
        .iter()
        .filter(|o| o.kind == OutputKind::Image)
        .flat_map(|o| o.names.iter().cloned())
        .collect();
    let mut exported = None;
    let mut results = Vec::new();
    if options.sbom {
        // BuildKit scans the result before exporting it; strata catalogues
        // the image's layers, so the image is written first.
        let mut sbom = None;
        internal("generating sbom", &mut || {
            let inline = inline_cache(options, &plan, &solved.layers, &store, &imported, &output);
            let image = export::export(&store, &plan, &output, options, &names, inline)?;
            sbom = Some(crate::sbom::predicate(
                &store,
                &image.manifest,
                &names,
                options,
            )?);
            exported = Some(image);
            Ok(Vec::new())
        })?;
        attestations
            .get_or_insert_with(|| crate::Attestations {
                provenance: None,
                sbom: None,
                annotations: options.annotations.clone(),
            })
            .sbom = sbom;
    }
    for target in &outputs {
        let name = match target.kind {
            OutputKind::Image => "exporting to image",
            OutputKind::Oci => "exporting to oci image format",
            OutputKind::Docker => "exporting to docker image format",
            OutputKind::Local | OutputKind::Tar => "exporting to client",
        };
        let vertex = vertices.fetch_add(1, Ordering::SeqCst) + 1;
        let started = Instant::now();
        progress.event(Event::Started { vertex, name });
        let status = |message: &str| progress.event(Event::Status { vertex, message });
        let result = (|| -> Result<Option<Descriptor>> {
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let image = match &exported {
                Some(image) => image,
                None => {
                    let inline =
                        inline_cache(options, &plan, &solved.layers, &store, &imported, &output);
                    exported.insert(export::export(
                        &store, &plan, &output, options, &names, inline,
                    )?)
                }
            };
            match target.kind {
                OutputKind::Image => {
                    status("exporting layers done");
                    status(&format!("writing image {} done", image.config_digest));
                    let Some(attestations) = &attestations else {
                        for name in &target.names {
                            status(&format!("naming to {name} done"));
                        }
                        return Ok(Some(image.manifest.clone()));
                    };
                    // The store keeps the index: names resolve through it
                    // to the image manifest (`images`, `run`, `inspect`).
                    let index = attestations.write_index(&store, &image.manifest, &target.names)?;
                    status(&format!("exporting manifest list {} done", index.digest));
                    for name in &target.names {
                        store.set_ref(&name.to_string(), &index, None)?;
                        status(&format!("naming to {name} done"));
                    }
                    Ok(Some(index))
                }
                OutputKind::Oci | OutputKind::Docker => {
                    status("exporting layers");
                    let archive = |sink: &mut dyn std::io::Write| {
                        let (manifest, annotations) = (&image.manifest, &options.annotations);
                        let attestations = attestations.as_ref();
                        output::write_archive(
                            &store,
                            manifest,
                            target,
                            attestations,
                            annotations,
                            sink,
                        )
                    };
                    let manifest = match &target.destination {
                        Destination::Path(path) => output::write_file_atomically(path, |sink| {
                            archive(&mut solve::CancelWriter::new(sink, cancel))
                        })?,
                        Destination::Stream(stream) => {
                            let mut sink = stream;
                            let manifest = archive(&mut sink)?;
                            sink.flush()
                                .map_err(|e| Error::io("write", Path::new(stream.name()), e))?;
                            manifest
                        }
                        Destination::None => {
                            return Err(Error::Option {
                                flag: "output",
                                message: format!("type={}: dest is required", target.kind.name()),
                            });
                        }
                    };
                    let kind = if attestations.is_some() && target.kind == OutputKind::Oci {
                        "manifest list"
                    } else {
                        "manifest"
                    };
                    status(&format!("exporting {kind} {} done", manifest.digest));
                    status(&format!("exporting config {} done", image.config_digest));
                    status("sending tarball done");
                    Ok(Some(manifest))
                }
                OutputKind::Local | OutputKind::Tar => {
                    let write = |sink: &mut dyn std::io::Write| {
                        output::write_filesystem(
                            &store,
                            &snapshotter,
                            &output.layers,
                            options.source_date_epoch,
                            &mut solve::CancelWriter::new(sink, cancel),
                        )
                    };
                    let size = match (&target.destination, target.kind) {
                        (Destination::Path(path), OutputKind::Local) => {
                            output::unpack_into(path, write)?
                        }
                        (Destination::Path(path), _) => output::write_file_atomically(path, write)?,
                        (Destination::Stream(stream), OutputKind::Tar) => {
                            let mut sink = stream;
                            let size = write(&mut sink)?;
                            sink.flush()
                                .map_err(|e| Error::io("write", Path::new(stream.name()), e))?;
                            size
                        }
                        _ => {
                            return Err(Error::Option {
                                flag: "output",
                                message: format!(
                                    "type={}: dest must be a directory",
                                    target.kind.name()
                                ),
                            });
                        }
                    };
                    if target.kind == OutputKind::Local {
                        status(&format!("copying files {} done", human_size(size)));
                    } else {
                        status("sending tarball done");
                    }
                    Ok(None)
                }
            }
        })();
        match result {
            Ok(manifest) => {
                progress.event(Event::Done {
                    vertex,
                    elapsed: started.elapsed(),
                });
                results.push(ExportedOutput {
                    kind: target.kind,
                    manifest,
                });
            }
            Err(error) => {
                let error = if cancel.is_cancelled() {
                    Error::Cancelled
                } else {
                    error
                };
                let message = error.to_string();
                progress.event(Event::Failed {
                    vertex,
                    elapsed: started.elapsed(),
                    error: &message,
                });
                return Err(error);
            }
        }
    }
    let Some(exported) = exported else {
        return Err(Error::Cancelled);
    };
    for request in &options.cache_to {
        export_cache(
            &store,
            &plan,
            &solved.layers,
            &imported,
            request,
            &vertices,
            progress,
        )?;
    }
    Ok(BuildOutput {
        image_id: exported.config_digest,
        manifest: exported.manifest,
        steps,
        warnings: plan.warnings,
        outputs: results,
        vertices: vertices.load(Ordering::SeqCst),
        attestations,
    })
}

/// An internal vertex: its name, and work returning its status lines.
type Internal<'a> = dyn Fn(&str, &mut dyn FnMut() -> Result<Vec<String>>) -> Result<()> + 'a;

/// Reads every `--cache-from`, each as a vertex; one that cannot be read
/// is a warning and the build goes on without it, as in BuildKit.
fn import_caches(
    options: &BuildOptions,
    internal: &Internal,
    progress: &dyn Progress,
) -> Result<ImportedCache> {
    let mut imported = ImportedCache::new(&options.insecure_registries);
    for import in &options.cache_from {
        let location = import.location.describe();
        let mut failure = None;
        internal(
            &format!("importing cache manifest from {location}"),
            &mut || match imported.add(import) {
                Ok(steps) => Ok(vec![format!("{steps} cached steps")]),
                Err(message) => {
                    failure = Some(message);
                    Ok(Vec::new())
                }
            },
        )?;
        if let Some(message) = failure {
            let message = format!("failed to import cache from {location}: {message}");
            progress.event(Event::Warning { message: &message });
        }
    }
    Ok(imported)
}

/// The inline cache the image carries (`--cache-to type=inline`): the
/// steps of its stages, by layer position.
fn inline_cache(
    options: &BuildOptions,
    plan: &plan::Plan,
    solved: &HashMap<Digest, solve::Layer>,
    store: &Store,
    imported: &ImportedCache,
    output: &solve::StageOutput,
) -> Option<serde_json::Value> {
    options
        .cache_to
        .iter()
        .any(|c| c.location == crate::CacheLocation::Inline)
        .then(|| {
            let steps = cache::covered_steps(plan, solved, store, imported, crate::CacheMode::Min);
            cache::inline_cache(&steps, &output.layers)
        })
}

/// One `--cache-to` (other than inline), as a vertex: BuildKit's
/// `exporting cache to registry` or `to client directory`. A failure fails
/// the build unless `ignore-error=true`.
fn export_cache(
    store: &Arc<Store>,
    plan: &plan::Plan,
    solved: &HashMap<Digest, solve::Layer>,
    imported: &ImportedCache,
    request: &crate::CacheExport,
    vertices: &AtomicUsize,
    progress: &dyn Progress,
) -> Result<()> {
    let name = match request.location {
        crate::CacheLocation::Registry(_) => "exporting cache to registry",
        crate::CacheLocation::Local { .. } => "exporting cache to client directory",
        crate::CacheLocation::Inline => return Ok(()),
    };
    let vertex = vertices.fetch_add(1, Ordering::SeqCst) + 1;
    let started = Instant::now();
    progress.event(Event::Started { vertex, name });
    let steps = cache::covered_steps(plan, solved, store, imported, request.mode);
    let status = |message: &str| progress.event(Event::Status { vertex, message });
    match cache::export_cache(store, request, &steps, imported, &status) {
        Ok(()) => {
            progress.event(Event::Done {
                vertex,
                elapsed: started.elapsed(),
            });
            Ok(())
        }
        Err(message) => {
            let error = Error::CacheExport {
                location: request.location.describe(),
                message,
            };
            let text = error.to_string();
            if request.ignore_error {
                progress.event(Event::Done {
                    vertex,
                    elapsed: started.elapsed(),
                });
                progress.event(Event::Warning { message: &text });
                return Ok(());
            }
            progress.event(Event::Failed {
                vertex,
                elapsed: started.elapsed(),
                error: &text,
            });
            Err(error)
        }
    }
}

/// A size as BuildKit prints it (go-units' `HumanSize`: decimal units,
/// four significant digits, `1.99MB`).
fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < units.len() {
        value /= 1000.0;
        unit += 1;
    }
    let integer_digits = if value < 1.0 {
        1
    } else {
        value.log10().floor() as usize + 1
    };
    let decimals = 4usize.saturating_sub(integer_digits);
    let mut text = format!("{value:.decimals$}");
    if text.contains('.') {
        text = text.trim_end_matches('0').trim_end_matches('.').to_owned();
    }
    format!("{text}{}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_as_buildkit_prints_them() {
        assert_eq!(human_size(0), "0B");
        assert_eq!(human_size(999), "999B");
        assert_eq!(human_size(1_990_000), "1.99MB");
        assert_eq!(human_size(2_126_848), "2.127MB");
        assert_eq!(human_size(123_456_789), "123.5MB");
    }
}
