//! Named contexts in the plan, by BuildKit's rules: a stage named like a
//! context is replaced by it, a FROM base or `--from` name it matches is
//! served by it. An image context is an image base; a local directory is
//! copied from like the main context (keys cover the selected files only),
//! and as a base it is a one-layer stage of its content.

use std::sync::Arc;

use strata_context::{Context, CopySource};
use strata_dockerfile::Location;
use strata_oci::Digest;

use super::{
    Base, CONTEXT_FILES, CopyInput, CopyOperation, DEFAULT_PATH, Lowering, Operation, StagePlan,
    Step, empty_image, key_of, with_span,
};
use crate::error::{Error, Result};
use crate::images::ResolvedImage;
use crate::named_context::{NamedContext, import_oci_layout, lookup};

/// What a named context gives a stage to start from.
pub(super) enum NamedBase {
    /// An image (`docker-image://`, `oci-layout://`) and its vertex name.
    Image {
        image: Arc<ResolvedImage>,
        vertex: String,
    },
    /// `docker-image://scratch`.
    Scratch,
    /// A local directory, scanned with its own `.dockerignore`.
    Local { key: String, context: Arc<Context> },
}

/// Where a `--from` reads.
pub(super) enum FromSource {
    /// A stage's (or an image's) file system.
    Stage(usize),
    /// A named local context's files.
    Context(Arc<Context>),
}

impl Lowering<'_> {
    /// The named context `name` stands for, resolved; `None` when no
    /// `--build-context` names it.
    pub(super) fn named_base(
        &mut self,
        name: &str,
        location: Location,
    ) -> Result<Option<NamedBase>> {
        let Some((key, context)) = lookup(&self.options.named_contexts, name) else {
            return Ok(None);
        };
        let base = match context.clone() {
            NamedContext::Image(reference) if reference == "scratch" => NamedBase::Scratch,
            NamedContext::Image(reference) => NamedBase::Image {
                image: self
                    .images
                    .resolve(&reference)
                    .map_err(|e| with_span(e, location.span))?,
                vertex: format!("[context {key}] {reference}"),
            },
            NamedContext::OciLayout { path, tag, digest } => {
                let store = self.images.store();
                let descriptor = import_oci_layout(store, &path, tag.as_deref(), digest.as_ref())?;
                // BuildKit's stand-in name: the context's, at the digest.
                let name = strata_oci::Reference::parse(&key)
                    .map(|r| r.with_digest(descriptor.digest).to_string())
                    .unwrap_or_else(|_| format!("{key}@{}", descriptor.digest));
                NamedBase::Image {
                    image: self.images.resolve_descriptor(&name, &descriptor)?,
                    vertex: format!("[context {key}] OCI load from client"),
                }
            }
            NamedContext::Local(directory) => NamedBase::Local {
                context: (self.named_scan)(&key, &directory)?,
                key,
            },
        };
        Ok(Some(base))
    }

    /// Where `COPY --from`/`RUN --mount=from=` reads when `name` is a named
    /// context: an image as a stage of its own, a directory as it is.
    pub(super) fn named_from(
        &mut self,
        name: &str,
        location: Location,
    ) -> Result<Option<FromSource>> {
        let Some(base) = self.named_base(name, location)? else {
            return Ok(None);
        };
        Ok(Some(match base {
            NamedBase::Image { image, vertex } => {
                FromSource::Stage(self.image_stage(&format!("context:{vertex}"), image, vertex))
            }
            NamedBase::Scratch => FromSource::Stage(self.scratch_stage()),
            NamedBase::Local { context, .. } => FromSource::Context(context),
        }))
    }

    /// A stage that is only `image` (for `--from`), once per `id`.
    pub(super) fn image_stage(
        &mut self,
        id: &str,
        image: Arc<ResolvedImage>,
        from_name: String,
    ) -> usize {
        if let Some(plan) = self.by_image.get(id) {
            return *plan;
        }
        let chain: Vec<String> = image.layers.iter().map(|(_, d)| d.to_string()).collect();
        let key = key_of(&Digest::of(b""), &("image", chain));
        let mut config = image.config.clone();
        config.created = None;
        let inherited = config.history.len();
        let plan = StagePlan {
            name: image.name.clone(),
            no_cache: false,
            base: Base::Image(image),
            from_name: Some(from_name),
            steps: Vec::new(),
            config,
            inherited_history: inherited,
            unrecorded_layers: 0,
            key,
            environment: Vec::new(),
        };
        self.push_plan(id, plan)
    }

    /// An empty stage (`docker-image://scratch` as a `--from`).
    fn scratch_stage(&mut self) -> usize {
        if let Some(plan) = self.by_image.get("context:scratch") {
            return *plan;
        }
        let plan = StagePlan {
            name: "scratch".to_owned(),
            no_cache: false,
            base: Base::Scratch,
            from_name: None,
            steps: Vec::new(),
            config: scratch_config(self.images.platform()),
            inherited_history: 0,
            unrecorded_layers: 0,
            key: key_of(&Digest::of(b""), &"scratch"),
            environment: Vec::new(),
        };
        self.push_plan("context:scratch", plan)
    }

    /// A stage whose one layer is the directory's selected content, as
    /// BuildKit's image of a local context: BuildKit's empty image config,
    /// no history (the exporter adds it).
    pub(super) fn local_stage(
        &mut self,
        key: &str,
        context: Arc<Context>,
        location: Location,
    ) -> Result<usize> {
        let id = format!("local:{key}");
        if let Some(plan) = self.by_image.get(&id) {
            return Ok(*plan);
        }
        let selection = context
            .select(&CopySource::dockerfile(".", &[], false))
            .map_err(Error::Context)?;
        let base_key = key_of(&Digest::of(b""), &"scratch");
        let step_key = key_of(&base_key, &("context", selection.digest.to_string()));
        let name = format!("[context {key}] load from client");
        let step = Step {
            name: name.clone(),
            span: location.span,
            operation: Operation::Copy(CopyOperation {
                sources: vec![CopyInput::Context {
                    selection,
                    named: Some(context),
                }],
                destination: "/".to_owned(),
                chown: None,
                chmod: None,
                unpack: false,
                link: false,
            }),
            key: step_key,
            position: format!("context {key}"),
            inputs: vec![(CONTEXT_FILES.to_owned(), "0".to_owned())],
        };
        let plan = StagePlan {
            name,
            no_cache: false,
            base: Base::Scratch,
            from_name: None,
            steps: vec![step],
            config: scratch_config(self.images.platform()),
            inherited_history: 0,
            unrecorded_layers: 1,
            key: step_key,
            environment: Vec::new(),
        };
        Ok(self.push_plan(&id, plan))
    }

    fn push_plan(&mut self, id: &str, plan: StagePlan) -> usize {
        let index = self.plans.len();
        self.plans.push(plan);
        self.by_image.insert(id.to_owned(), index);
        index
    }
}

/// BuildKit's `emptyImage`: the build's platform, PATH, working directory `/`.
pub(super) fn scratch_config(platform: &strata_oci::Platform) -> strata_oci::ImageConfiguration {
    let mut config = empty_image(platform);
    config.config = Some(strata_oci::ContainerConfig {
        env: Some(vec![format!("PATH={DEFAULT_PATH}")]),
        working_dir: "/".to_owned(),
        ..Default::default()
    });
    config
}
