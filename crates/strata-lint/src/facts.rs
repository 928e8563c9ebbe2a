//! What the rules may know besides the Dockerfile: the build context (its
//! ignore file, the notable paths it holds: strata-context's
//! [`ContextFacts`]) and the base images' configs. A trait, so that this
//! crate needs no registry: the binary fills base images in.

use std::collections::BTreeMap;

use strata_context::{ContextFacts, NotablePath};

/// What the lint knows of a base image's config.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImageFacts {
    /// The environment, `KEY=value` (PATH included when the image sets it).
    pub env: Vec<String>,
    /// The configured user; empty for root.
    pub user: String,
    /// The configured shell, empty for the default.
    pub shell: Vec<String>,
    /// Whether the image defines a health check.
    pub healthcheck: bool,
    /// The platform its config names (`os`, `architecture`, `variant`,
    /// `os.version`); `None` when unknown, and for an image without layers
    /// (BuildKit checks no platform there).
    pub platform: Option<strata_oci::Platform>,
}

/// Facts about the context and base images. Every method has a default
/// meaning "unknown", under which the rules that need the fact stay silent.
pub trait Facts {
    /// Whether an ignore file is in effect; `None` when the context is unknown.
    fn has_ignore_file(&self) -> Option<bool> {
        None
    }

    /// Notable paths at the top of the context, sorted by name.
    fn notable_paths(&self) -> &[NotablePath] {
        &[]
    }

    /// BuildKit's CopyIgnoredFile check for one COPY/ADD source (already
    /// expanded): whether the ignore rules exclude it.
    fn copy_source_ignored(&self, _source: &str) -> bool {
        false
    }

    /// The config of base image `reference` as written after expansion
    /// (`node:20`), when known.
    fn base_image(&self, _reference: &str) -> Option<ImageFacts> {
        None
    }

    /// The platform the build is for (`--platform`); `None` is the host's.
    fn target_platform(&self) -> Option<strata_oci::Platform> {
        None
    }
}

/// No facts: a Dockerfile on its own.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoFacts;

impl Facts for NoFacts {}

/// Other facts, but every base image with an empty config (no ENV besides
/// BuildKit's default PATH, no USER, SHELL or HEALTHCHECK): what BuildKit's
/// checks see when its image resolver returns bare configs, as in a lint
/// without a registry.
#[derive(Clone, Copy)]
pub struct EmptyBaseImages<'a>(pub &'a dyn Facts);

impl Facts for EmptyBaseImages<'_> {
    fn has_ignore_file(&self) -> Option<bool> {
        self.0.has_ignore_file()
    }

    fn notable_paths(&self) -> &[NotablePath] {
        self.0.notable_paths()
    }

    fn copy_source_ignored(&self, source: &str) -> bool {
        self.0.copy_source_ignored(source)
    }

    fn base_image(&self, _reference: &str) -> Option<ImageFacts> {
        Some(ImageFacts::default())
    }
}

/// Facts as plain data (what tests and callers without a context use).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PlainFacts {
    /// Whether an ignore file is in effect (`None`: the context is unknown).
    pub ignore_file: Option<bool>,
    /// Notable paths at the top of the context.
    pub notable: Vec<NotablePath>,
    /// COPY/ADD sources the ignore rules exclude, as BuildKit's check sees them.
    pub ignored_sources: Vec<String>,
    /// Known base image configs by reference.
    pub images: BTreeMap<String, ImageFacts>,
}

impl Facts for PlainFacts {
    fn has_ignore_file(&self) -> Option<bool> {
        self.ignore_file
    }

    fn notable_paths(&self) -> &[NotablePath] {
        &self.notable
    }

    fn copy_source_ignored(&self, source: &str) -> bool {
        self.ignored_sources.iter().any(|ignored| ignored == source)
    }

    fn base_image(&self, reference: &str) -> Option<ImageFacts> {
        self.images.get(reference).cloned()
    }
}

/// A context directory's facts: its ignore rules decide what COPY sends.
impl Facts for ContextFacts {
    fn has_ignore_file(&self) -> Option<bool> {
        Some(self.has_ignore_file())
    }

    fn notable_paths(&self) -> &[NotablePath] {
        &self.notable
    }

    fn copy_source_ignored(&self, source: &str) -> bool {
        self.ignore.copy_source_ignored(source).unwrap_or(false)
    }
}
