//! `--platform A,B`: one build per platform, and an OCI index over their
//! images (what `docker buildx build --platform linux/amd64,linux/arm64`
//! makes), named by the tags and pushed as one.

use std::collections::HashMap;
use std::sync::Arc;

use strata_build::{
    BuildOptions, BuildOutput, Cancel, Destination, Event, ExportedOutput, Output, OutputKind,
    Progress, SecretSource,
};
use strata_oci::{Descriptor, ImageIndex, media_type};
use strata_store::Store;

/// The platforms of a `--platform` value, in order, each once.
pub(super) fn list(value: Option<&str>) -> Vec<String> {
    let mut platforms: Vec<String> = Vec::new();
    for platform in value.unwrap_or("").split(',').map(str::trim) {
        if !platform.is_empty() && !platforms.iter().any(|p| p == platform) {
            platforms.push(platform.to_owned());
        }
    }
    platforms
}

/// Builds each platform, then writes the index and names it; `pushed`
/// when the index goes to a registry.
pub(super) fn build_all(
    store: &Arc<Store>,
    options: &BuildOptions,
    secrets: &HashMap<String, SecretSource>,
    progress: &dyn Progress,
    cancel: &Cancel,
    platforms: &[String],
    pushed: bool,
) -> strata_build::Result<BuildOutput> {
    refuse_unsupported(options)?;
    // The platforms build at the same time (an emulated one mostly waits
    // on its own core), their vertices numbered in the order they start.
    let numbering = Numbering::default();
    let outputs: Vec<strata_build::Result<BuildOutput>> = std::thread::scope(|scope| {
        let builds: Vec<_> = platforms
            .iter()
            .enumerate()
            .map(|(index, platform)| {
                let progress = PerPlatform {
                    inner: progress,
                    platform,
                    index,
                    numbering: &numbering,
                };
                let one = One {
                    store,
                    options,
                    secrets,
                    cancel,
                    pushed,
                };
                scope.spawn(move || one.build(platform, &progress))
            })
            .collect();
        builds
            .into_iter()
            .map(|build| build.join().unwrap_or(Err(strata_build::Error::Cancelled)))
            .collect()
    });
    let outputs = first_failure(outputs)?;
    let mut manifests = Vec::new();
    let (mut steps, mut warnings) = (Vec::new(), Vec::new());
    for output in outputs {
        manifests.push(output.manifest);
        steps.extend(output.steps);
        warnings.extend(output.warnings);
    }
    let vertex = numbering.count() + 1;
    let index = export_index(store, options, manifests, progress, vertex)?;
    Ok(BuildOutput {
        image_id: index.digest,
        manifest: index.clone(),
        steps,
        warnings,
        outputs: vec![ExportedOutput {
            kind: OutputKind::Image,
            manifest: Some(index),
        }],
        vertices: vertex,
        attestations: None,
    })
}

/// Writes the index over `manifests`, names it (image outputs) and writes
/// the OCI archives, as one vertex.
fn export_index(
    store: &Store,
    options: &BuildOptions,
    manifests: Vec<Descriptor>,
    progress: &dyn Progress,
    vertex: usize,
) -> strata_build::Result<Descriptor> {
    let status = |message: &str| progress.event(Event::Status { vertex, message });
    progress.event(Event::Started {
        vertex,
        name: "exporting manifest list",
    });
    let index = write_index(store, manifests, media_type::OCI_INDEX)?;
    status(&format!("exporting manifest list {} done", index.digest));
    let images = options
        .outputs
        .iter()
        .filter(|o| o.kind == OutputKind::Image);
    for name in images.flat_map(|o| o.names.iter()) {
        store.set_ref(&name.to_string(), &index, None)?;
        status(&format!("naming to {name} done"));
    }
    for output in options.outputs.iter().filter(|o| o.kind == OutputKind::Oci) {
        let media_types = if output.oci_media_types {
            strata_store::MediaTypes::Oci
        } else {
            strata_store::MediaTypes::Docker
        };
        let root = distribution_index(store, &index, media_types)?;
        write_layout(store, &root, output)?;
        status(&format!("sending tarball of {} done", root.digest));
    }
    progress.event(Event::Done {
        vertex,
        elapsed: std::time::Duration::ZERO,
    });
    Ok(index)
}

/// What one platform's build needs of the whole.
#[derive(Clone, Copy)]
struct One<'a> {
    store: &'a Arc<Store>,
    options: &'a BuildOptions,
    secrets: &'a HashMap<String, SecretSource>,
    cancel: &'a Cancel,
    pushed: bool,
}

impl One<'_> {
    /// Builds `platform`; its images compressed when they leave the store.
    fn build(self, platform: &str, progress: &dyn Progress) -> strata_build::Result<BuildOutput> {
        let mut one = self.options.clone();
        one.platform = Some(platform.to_owned());
        one.tags.clear();
        one.outputs = platform_outputs(self.options, platform);
        let built = strata_build::build(
            self.store.clone(),
            &one,
            self.secrets,
            progress,
            self.cancel,
        )
        .and_then(|output| {
            // What leaves the store leaves gzip-compressed: compress while
            // the other platforms still build (the layers are shared by
            // the OCI and Docker forms; only the manifest differs).
            let leaves = self.pushed
                || self
                    .options
                    .outputs
                    .iter()
                    .any(|o| o.kind == OutputKind::Oci);
            if leaves {
                strata_build::distribution_image(
                    self.store,
                    &output.manifest,
                    strata_build::Compression::GZIP,
                    strata_store::MediaTypes::Oci,
                )?;
            }
            Ok(output)
        });
        // One platform failing fails the build: stop the others.
        if built.is_err() {
            self.cancel.cancel();
        }
        built
    }
}

/// The builds' outputs, or the error that failed one (not the cancellation
/// it caused in the others).
fn first_failure(
    outputs: Vec<strata_build::Result<BuildOutput>>,
) -> strata_build::Result<Vec<BuildOutput>> {
    let (failed, built): (Vec<_>, Vec<_>) = outputs.into_iter().partition(Result::is_err);
    let mut failed: Vec<_> = failed.into_iter().filter_map(Result::err).collect();
    failed.sort_by_key(|e| matches!(e, strata_build::Error::Cancelled));
    match failed.into_iter().next() {
        Some(error) => Err(error),
        None => Ok(built.into_iter().filter_map(Result::ok).collect()),
    }
}

/// One platform's events, its steps named as BuildKit names them in such a
/// build (`[linux/arm64 2/3] RUN make`, `[linux/arm64 builder 1/2] FROM ...`).
struct PerPlatform<'a> {
    inner: &'a dyn Progress,
    platform: &'a str,
    index: usize,
    numbering: &'a Numbering,
}

/// One numbering for the vertices of builds running together: each
/// (platform, vertex) gets the next number when it first shows.
#[derive(Default)]
struct Numbering(std::sync::Mutex<Numbers>);

#[derive(Default)]
struct Numbers {
    /// (platform, its build's vertex) → the number shown.
    shown: HashMap<(usize, usize), usize>,
    last: usize,
}

impl Numbering {
    fn of(&self, platform: usize, vertex: usize) -> usize {
        let Ok(mut numbers) = self.0.lock() else {
            return vertex;
        };
        let Numbers { shown, last } = &mut *numbers;
        *shown.entry((platform, vertex)).or_insert_with(|| {
            *last += 1;
            *last
        })
    }

    fn count(&self) -> usize {
        self.0.lock().map_or(0, |numbers| numbers.last)
    }
}

impl Progress for PerPlatform<'_> {
    fn event(&self, event: Event<'_>) {
        let at = |vertex: usize| self.numbering.of(self.index, vertex);
        match event {
            Event::Started { vertex, name } => {
                let name = match name.strip_prefix('[') {
                    Some(rest) if !rest.starts_with("internal]") => {
                        format!("[{} {rest}", self.platform)
                    }
                    _ => name.to_owned(),
                };
                self.inner.event(Event::Started {
                    vertex: at(vertex),
                    name: &name,
                });
            }
            Event::Cached { vertex } => self.inner.event(Event::Cached { vertex: at(vertex) }),
            Event::CacheMiss { vertex, reason } => self.inner.event(Event::CacheMiss {
                vertex: at(vertex),
                reason,
            }),
            Event::Output {
                vertex,
                stream,
                line,
                elapsed,
            } => self.inner.event(Event::Output {
                vertex: at(vertex),
                stream,
                line,
                elapsed,
            }),
            Event::Status { vertex, message } => self.inner.event(Event::Status {
                vertex: at(vertex),
                message,
            }),
            Event::Done { vertex, elapsed } => self.inner.event(Event::Done {
                vertex: at(vertex),
                elapsed,
            }),
            Event::Failed {
                vertex,
                elapsed,
                error,
            } => self.inner.event(Event::Failed {
                vertex: at(vertex),
                elapsed,
                error,
            }),
            Event::Warning { message } => self.inner.event(Event::Warning { message }),
        }
    }
}

/// An index of `media_type` (OCI's, or Docker's manifest list) over
/// `manifests` (each with its platform), in the store.
fn write_index(
    store: &Store,
    manifests: Vec<Descriptor>,
    media_type: &str,
) -> strata_build::Result<Descriptor> {
    let mut index = ImageIndex::new(manifests);
    index.media_type = Some(media_type.to_owned());
    let bytes = strata_oci::to_go_json_indented(&index, "  ").unwrap_or_default();
    let digest = store.write_blob(&bytes)?;
    Ok(Descriptor::new(media_type, digest, bytes.len() as u64))
}

/// One platform's build's outputs: its image in the store (unnamed: the
/// index is named), and a `local` output into `DEST/os_arch[_variant]`, as
/// BuildKit splits a several-platform local export.
fn platform_outputs(options: &BuildOptions, platform: &str) -> Vec<Output> {
    let mut outputs = vec![Output::new(OutputKind::Image, Destination::None)];
    for output in options
        .outputs
        .iter()
        .filter(|o| o.kind == OutputKind::Local)
    {
        if let Destination::Path(directory) = &output.destination {
            let mut local = output.clone();
            local.destination = Destination::Path(directory.join(platform.replace('/', "_")));
            outputs.push(local);
        }
    }
    outputs
}

/// Writes the OCI layout archive of `root` to the output's destination.
fn write_layout(store: &Store, root: &Descriptor, output: &Output) -> strata_build::Result<()> {
    let roots = [(root.clone(), output.names.clone())];
    let failed = |message: String| strata_build::Error::Option {
        flag: "output",
        message,
    };
    match &output.destination {
        Destination::Path(path) => strata_fs::write_atomic_with(path, |file| {
            store
                .save_layout(&roots, file)
                .map_err(std::io::Error::other)
        })
        .map_err(|e| failed(e.to_string())),
        Destination::Stream(stream) => {
            let mut sink = stream;
            store.save_layout(&roots, &mut sink)?;
            std::io::Write::flush(&mut sink).map_err(|e| failed(format!("{}: {e}", stream.name())))
        }
        Destination::None => Err(failed("type=oci: dest is required".to_owned())),
    }
}

/// A several-platform build's index as it leaves the store (a push, an OCI
/// archive): each image in its distribution form (gzip layers, compressed
/// once and kept) under an OCI index, or with Docker's media types (a push's
/// default, as BuildKit's `oci-mediatypes=false`) under a manifest list.
pub(super) fn distribution_index(
    store: &Store,
    index: &Descriptor,
    media_types: strata_store::MediaTypes,
) -> strata_build::Result<Descriptor> {
    let strata_oci::Manifest::Index(index) = store.read_manifest(index)? else {
        return Ok(index.clone());
    };
    let mut manifests = Vec::new();
    for child in &index.manifests {
        let image = strata_build::distribution_image(
            store,
            child,
            strata_build::Compression::GZIP,
            media_types,
        )?;
        let mut manifest = image.manifest.clone();
        manifest.platform = child.platform.clone();
        manifests.push(manifest);
    }
    let media_type = match media_types {
        strata_store::MediaTypes::Docker => media_type::DOCKER_MANIFEST_LIST,
        _ => media_type::OCI_INDEX,
    };
    write_index(store, manifests, media_type)
}

/// What several platforms cannot have yet: tar outputs and attestations;
/// docker outputs never (buildx's words: docker's store holds no index).
fn refuse_unsupported(options: &BuildOptions) -> strata_build::Result<()> {
    let refuse = |what: &str| {
        Err(strata_build::Error::Option {
            flag: "--platform",
            message: format!("{what} with several platforms is not supported yet"),
        })
    };
    if options.outputs.iter().any(|o| o.kind == OutputKind::Docker) {
        return Err(strata_build::Error::Option {
            flag: "--platform",
            message: "docker exporter does not currently support exporting manifest lists"
                .to_owned(),
        });
    }
    if let Some(output) = options.outputs.iter().find(|o| o.kind == OutputKind::Tar) {
        return refuse(&format!("-o type={}", output.kind.name()));
    }
    if options.provenance.is_some() || options.sbom {
        return refuse("an attestation");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_are_listed_once_in_order() {
        assert_eq!(
            list(Some("linux/amd64, linux/arm64,linux/amd64,")),
            ["linux/amd64", "linux/arm64"]
        );
        assert!(list(None).is_empty());
    }
}
