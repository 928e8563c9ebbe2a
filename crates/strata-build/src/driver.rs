//! One build from start to end: the Dockerfile loaded, the context scanned
//! when first needed, the plan solved, the outputs exported, each as a
//! progress vertex.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use strata_context::{Context, IgnoreFile, ScanOptions};
use strata_dockerfile::Dockerfile;
use strata_oci::{Descriptor, Digest, Reference};
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
    let build = Build {
        downloads: Arc::new(remote::Downloads::new(store.temporary_path("downloads"))),
        registries: Arc::new(images::Registries::new(&options.insecure_registries)),
        store,
        options,
        secrets,
        progress,
        cancel,
        started_on: jiff::Timestamp::now(),
        vertices: AtomicUsize::new(0),
    };
    let dockerfile = build.load_definition()?;
    let contexts = build.contexts()?;
    let plan = build.plan(&dockerfile, &contexts)?;
    let solution = build.solve(&plan, &contexts)?;
    build.export(plan, solution)
}

/// One build under way: its inputs and what its phases share.
struct Build<'a> {
    store: Arc<Store>,
    options: &'a BuildOptions,
    secrets: &'a HashMap<String, crate::SecretSource>,
    progress: &'a dyn Progress,
    cancel: &'a Cancel,
    /// When the build started (provenance's `startedOn`).
    started_on: jiff::Timestamp,
    /// How many vertices have been shown.
    vertices: AtomicUsize,
    /// Where ADD downloads URLs; removed when the build ends.
    downloads: Arc<remote::Downloads>,
    /// One registry client for the build's pulls and caches.
    registries: Arc<images::Registries>,
}

/// The build context and the named local ones, each scanned when a step
/// first needs it.
struct Contexts {
    /// The build context's `.dockerignore`.
    ignore: IgnoreFile,
    /// Where scans keep file metadata between builds.
    cache_directory: PathBuf,
    /// The build context once scanned, or why it could not be.
    main: OnceLock<Result<Arc<Context>, String>>,
    /// Named local contexts scanned so far, by key.
    named: Mutex<HashMap<String, Arc<Context>>>,
}

/// What the solve leaves for the export.
struct Solution {
    snapshotter: strata_snapshot::Snapshotter,
    /// Kept until the build ends, as the snapshotter.
    _sandbox: strata_sandbox::Sandbox,
    imported: ImportedCache,
    solved: solve::Solved,
}

/// The export under way: the image, once in the store, and what it carries.
struct Exporting<'b> {
    plan: &'b plan::Plan,
    solution: &'b Solution,
    /// The names the image outputs give it.
    names: Vec<Reference>,
    attestations: Option<crate::Attestations>,
    /// The image in the store, once written.
    image: Option<export::Exported>,
}

impl Build<'_> {
    /// The next vertex's number.
    fn next_vertex(&self) -> usize {
        self.vertices.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// An internal vertex (loading, scanning, exporting): its work returns
    /// the status lines to show once it is done.
    fn internal(&self, name: &str, work: &mut dyn FnMut() -> Result<Vec<String>>) -> Result<()> {
        let progress = self.progress;
        let vertex = self.next_vertex();
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
    }

    /// The Dockerfile, parsed in its vertex.
    fn load_definition(&self) -> Result<Dockerfile> {
        let options = self.options;
        let mut dockerfile = None;
        // BuildKit names the Dockerfile by its file name (`-f dir/app.Dockerfile`
        // shows `app.Dockerfile`); errors keep the path as given.
        let shown_name = Path::new(&options.dockerfile_name).file_name().map_or_else(
            || options.dockerfile_name.clone(),
            |name| name.to_string_lossy().into_owned(),
        );
        self.internal(
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
        dockerfile.ok_or(Error::Cancelled)
    }

    /// The contexts, not scanned yet: the build context's `.dockerignore`
    /// read in its vertex.
    fn contexts(&self) -> Result<Contexts> {
        let mut ignore = IgnoreFile::none();
        if let Some(root) = &self.options.context {
            self.internal("[internal] load .dockerignore", &mut || {
                ignore = IgnoreFile::for_build(root, self.options.dockerfile_path.as_deref())?;
                Ok(Vec::new())
            })?;
        }
        Ok(Contexts {
            ignore,
            cache_directory: self.store.area("context-cache")?,
            main: OnceLock::new(),
            named: Mutex::default(),
        })
    }

    /// The build context, scanned in its vertex on the first call.
    fn scan_context(&self, contexts: &Contexts) -> Result<Arc<Context>> {
        let result = contexts.main.get_or_init(|| self.scan_main(contexts));
        result.clone().map_err(|message| Error::Option {
            flag: "context",
            message,
        })
    }

    /// Scans the build context; its warnings are shown once.
    fn scan_main(&self, contexts: &Contexts) -> Result<Arc<Context>, String> {
        let Some(root) = &self.options.context else {
            return Err("this build has no context (the Dockerfile came from stdin): COPY and ADD cannot read files".to_owned());
        };
        let mut scanned = None;
        let status = self.internal("[internal] load build context", &mut || {
            let scan_options = ScanOptions::new()
                .exclude(contexts.ignore.matcher().clone())
                .cache_directory(Some(contexts.cache_directory.clone()));
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
                    self.progress.event(Event::Warning { message: &message });
                }
                Ok(Arc::new(context))
            }
            (Err(error), _) => Err(error.to_string()),
            (Ok(()), None) => Err("the context scan produced nothing".to_owned()),
        }
    }

    /// A named local context, scanned in its vertex on the first call for
    /// `key`, with its own `.dockerignore` (BuildKit reads
    /// `<dir>/.dockerignore` only).
    fn scan_named(&self, contexts: &Contexts, key: &str, directory: &Path) -> Result<Arc<Context>> {
        let found = contexts.named.lock().ok().and_then(|m| m.get(key).cloned());
        if let Some(found) = found {
            return Ok(found);
        }
        let mut scanned = None;
        self.internal(&format!("[context {key}] load from client"), &mut || {
            let ignore = IgnoreFile::for_build(directory, None)?;
            let scan_options = ScanOptions::new()
                .exclude(ignore.matcher().clone())
                .cache_directory(Some(contexts.cache_directory.clone()));
            let context = Context::scan(directory, &scan_options)?;
            let status = format!("transferring {key}: {} files done", context.stats().entries);
            scanned = Some(Arc::new(context));
            Ok(vec![status])
        })?;
        let context = scanned.ok_or(Error::Cancelled)?;
        if let Ok(mut map) = contexts.named.lock() {
            map.insert(key.to_owned(), context.clone());
        }
        Ok(context)
    }

    /// The Dockerfile lowered to a plan; its warnings shown.
    fn plan(&self, dockerfile: &Dockerfile, contexts: &Contexts) -> Result<plan::Plan> {
        let options = self.options;
        let images = images::Images::new(
            self.store.clone(),
            options.target_platform()?,
            options.pull,
            self.registries.clone(),
        );
        let scan = || self.scan_context(contexts);
        let named_scan = |key: &str, directory: &Path| self.scan_named(contexts, key, directory);
        let plan = plan::lower(
            dockerfile,
            options,
            &images,
            &scan,
            &named_scan,
            &self.downloads,
        )?;
        for warning in &plan.warnings {
            self.progress.event(Event::Warning { message: warning });
        }
        Ok(plan)
    }

    /// The plan solved: its steps served from the cache or run, then the
    /// image's layers in the store.
    fn solve(&self, plan: &plan::Plan, contexts: &Contexts) -> Result<Solution> {
        let store = &self.store;
        let needs_steps = plan.stages.iter().any(|s| !s.steps.is_empty());
        let snapshotter = strata_snapshot::Snapshotter::open(&store.area("snapshots")?)?;
        let sandbox = if needs_steps {
            strata_sandbox::Sandbox::new()?
        } else {
            strata_sandbox::Sandbox::with_helper("/proc/self/exe")
        };
        let explainer = self.explainer()?;
        let imported = self.import_caches()?;
        let context = contexts.main.get().and_then(|c| c.as_ref().ok().cloned());
        let solved = solve::Solver::new(
            store,
            &snapshotter,
            &sandbox,
            plan,
            context,
            self.options,
            self.progress,
            &self.vertices,
            self.cancel,
            &explainer,
            self.secrets,
            &imported,
        )
        .solve()?;
        explainer.save();
        // Every output needs the image's layers in the store.
        solve::fetch_imported(store, &imported, &solved.output.layers)?;
        Ok(Solution {
            snapshotter,
            _sandbox: sandbox,
            imported,
            solved,
        })
    }

    /// What explains cache misses: the last build of this project's keys
    /// (context, Dockerfile, target).
    fn explainer(&self) -> Result<explain::Explainer> {
        let options = self.options;
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
        Ok(explain::Explainer::load(Some(
            explain::Explainer::project_file(&self.store.area("builds")?, &project),
        )))
    }

    /// Reads every `--cache-from`, each as a vertex; one that cannot be read
    /// is a warning and the build goes on without it, as in BuildKit.
    fn import_caches(&self) -> Result<ImportedCache> {
        let mut imported = ImportedCache::new(self.registries.clone());
        for import in &self.options.cache_from {
            let location = import.location.describe();
            let mut failure = None;
            self.internal(
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
                self.progress.event(Event::Warning { message: &message });
            }
        }
        Ok(imported)
    }

    /// The image written to the store and to each output, then each
    /// `--cache-to`; what the build produced.
    fn export(&self, plan: plan::Plan, solution: Solution) -> Result<BuildOutput> {
        let options = self.options;
        if self.cancel.is_cancelled() {
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
        let attestations =
            crate::provenance::of_build(options, &plan, self.started_on).map(|provenance| {
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
        let names = outputs
            .iter()
            .filter(|o| o.kind == OutputKind::Image)
            .flat_map(|o| o.names.iter().cloned())
            .collect();
        let mut exporting = Exporting {
            plan: &plan,
            solution: &solution,
            names,
            attestations,
            image: None,
        };
        if options.sbom {
            self.sbom(&mut exporting)?;
        }
        let mut results = Vec::new();
        for target in &outputs {
            results.push(self.export_output(&mut exporting, target)?);
        }
        let attestations = exporting.attestations;
        let Some(exported) = exporting.image else {
            return Err(Error::Cancelled);
        };
        for request in &options.cache_to {
            self.export_cache(&plan, &solution, request)?;
        }
        Ok(BuildOutput {
            image_id: exported.config_digest,
            manifest: exported.manifest,
            steps: solution.solved.steps,
            warnings: plan.warnings,
            outputs: results,
            vertices: self.vertices.load(Ordering::SeqCst),
            attestations,
        })
    }

    /// The image written to the store, with its inline cache when asked.
    fn write_image(&self, exporting: &Exporting<'_>) -> Result<export::Exported> {
        let solution = exporting.solution;
        let output = &solution.solved.output;
        let inline = inline_cache(
            self.options,
            exporting.plan,
            &solution.solved.layers,
            &self.store,
            &solution.imported,
            output,
        );
        export::export(
            &self.store,
            exporting.plan,
            output,
            self.options,
            &exporting.names,
            inline,
        )
    }

    /// `--sbom`: BuildKit scans the result before exporting it; strata
    /// catalogues the image's layers, so the image is written first.
    fn sbom(&self, exporting: &mut Exporting<'_>) -> Result<()> {
        let mut sbom = None;
        let mut written = None;
        self.internal("generating sbom", &mut || {
            let image = self.write_image(exporting)?;
            sbom = Some(crate::sbom::predicate(
                &self.store,
                &image.manifest,
                &exporting.names,
                self.options,
            )?);
            written = Some(image);
            Ok(Vec::new())
        })?;
        exporting.image = written;
        exporting
            .attestations
            .get_or_insert_with(|| crate::Attestations {
                provenance: None,
                sbom: None,
                annotations: self.options.annotations.clone(),
            })
            .sbom = sbom;
        Ok(())
    }

    /// One output, as a vertex; its failure once the build is cancelled is
    /// the cancellation.
    fn export_output(
        &self,
        exporting: &mut Exporting<'_>,
        target: &Output,
    ) -> Result<ExportedOutput> {
        let name = match target.kind {
            OutputKind::Image => "exporting to image",
            OutputKind::Oci => "exporting to oci image format",
            OutputKind::Docker => "exporting to docker image format",
            OutputKind::Local | OutputKind::Tar => "exporting to client",
        };
        let progress = self.progress;
        let vertex = self.next_vertex();
        let started = Instant::now();
        progress.event(Event::Started { vertex, name });
        match self.write_output(exporting, target, vertex) {
            Ok(manifest) => {
                progress.event(Event::Done {
                    vertex,
                    elapsed: started.elapsed(),
                });
                Ok(ExportedOutput {
                    kind: target.kind,
                    manifest,
                })
            }
            Err(error) => {
                let error = if self.cancel.is_cancelled() {
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
                Err(error)
            }
        }
    }

    /// Writes one output (the image first written to the store if it is not
    /// yet); the manifest it wrote.
    fn write_output(
        &self,
        exporting: &mut Exporting<'_>,
        target: &Output,
        vertex: usize,
    ) -> Result<Option<Descriptor>> {
        if self.cancel.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let image = match &exporting.image {
            Some(image) => image,
            None => exporting.image.insert(self.write_image(exporting)?),
        };
        let status = |message: &str| self.progress.event(Event::Status { vertex, message });
        let attestations = exporting.attestations.as_ref();
        match target.kind {
            OutputKind::Image => self.image_output(image, attestations, target, &status),
            OutputKind::Oci | OutputKind::Docker => {
                self.archive_output(image, attestations, target, &status)
            }
            OutputKind::Local | OutputKind::Tar => {
                self.filesystem_output(exporting.solution, target, &status)?;
                Ok(None)
            }
        }
    }

    /// `type=image`: the image named in the store, through an index when
    /// it carries attestations.
    fn image_output(
        &self,
        image: &export::Exported,
        attestations: Option<&crate::Attestations>,
        target: &Output,
        status: &dyn Fn(&str),
    ) -> Result<Option<Descriptor>> {
        status("exporting layers done");
        status(&format!("writing image {} done", image.config_digest));
        let Some(attestations) = attestations else {
            for name in &target.names {
                status(&format!("naming to {name} done"));
            }
            return Ok(Some(image.manifest.clone()));
        };
        // The store keeps the index: names resolve through it
        // to the image manifest (`images`, `run`, `inspect`).
        let index = attestations.write_index(&self.store, &image.manifest, &target.names)?;
        status(&format!("exporting manifest list {} done", index.digest));
        for name in &target.names {
            self.store.set_ref(&name.to_string(), &index, None)?;
            status(&format!("naming to {name} done"));
        }
        Ok(Some(index))
    }

    /// `type=oci`, `type=docker`: the image as an archive, to a file or a
    /// stream.
    fn archive_output(
        &self,
        image: &export::Exported,
        attestations: Option<&crate::Attestations>,
        target: &Output,
        status: &dyn Fn(&str),
    ) -> Result<Option<Descriptor>> {
        status("exporting layers");
        let archive = |sink: &mut dyn std::io::Write| {
            let (manifest, annotations) = (&image.manifest, &self.options.annotations);
            output::write_archive(
                &self.store,
                manifest,
                target,
                attestations,
                annotations,
                sink,
            )
        };
        let manifest = match &target.destination {
            Destination::Path(path) => output::write_file_atomically(path, |sink| {
                archive(&mut solve::CancelWriter::new(sink, self.cancel))
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

    /// `type=local`, `type=tar`: the final file system, unpacked into a
    /// directory or as a tar.
    fn filesystem_output(
        &self,
        solution: &Solution,
        target: &Output,
        status: &dyn Fn(&str),
    ) -> Result<()> {
        let write = |sink: &mut dyn std::io::Write| {
            output::write_filesystem(
                &self.store,
                &solution.snapshotter,
                &solution.solved.output.layers,
                self.options.source_date_epoch,
                &mut solve::CancelWriter::new(sink, self.cancel),
            )
        };
        let size = match (&target.destination, target.kind) {
            (Destination::Path(path), OutputKind::Local) => output::unpack_into(path, write)?,
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
                    message: format!("type={}: dest must be a directory", target.kind.name()),
                });
            }
        };
        if target.kind == OutputKind::Local {
            status(&format!("copying files {} done", human_size(size)));
        } else {
            status("sending tarball done");
        }
        Ok(())
    }

    /// One `--cache-to` (other than inline), as a vertex: BuildKit's
    /// `exporting cache to registry` or `to client directory`. A failure fails
    /// the build unless `ignore-error=true`.
    fn export_cache(
        &self,
        plan: &plan::Plan,
        solution: &Solution,
        request: &crate::CacheExport,
    ) -> Result<()> {
        let name = match request.location {
            crate::CacheLocation::Registry(_) => "exporting cache to registry",
            crate::CacheLocation::Local { .. } => "exporting cache to client directory",
            crate::CacheLocation::Inline => return Ok(()),
        };
        let progress = self.progress;
        let vertex = self.next_vertex();
        let started = Instant::now();
        progress.event(Event::Started { vertex, name });
        let (store, imported) = (&self.store, &solution.imported);
        let steps =
            cache::covered_steps(plan, &solution.solved.layers, store, imported, request.mode);
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
