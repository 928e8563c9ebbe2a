//! What the build checks know of base images: the configs of those already
//! in the store (BuildKit's checks see every base image's config; an image
//! strata has yet to pull stays unknown, and the checks that need it are
//! silent for it).

use strata_context::NotablePath;
use strata_lint::{Facts, ImageFacts};
use strata_oci::Reference;
use strata_store::Store;

/// Context facts from `inner`, base images from `store`.
pub(crate) struct StoreImages<'a> {
    pub(crate) inner: Box<dyn Facts>,
    pub(crate) store: &'a Store,
    /// `--platform`: base images are looked at for it; `None` is the host's.
    pub(crate) platform: Option<strata_oci::Platform>,
}

impl Facts for StoreImages<'_> {
    fn has_ignore_file(&self) -> Option<bool> {
        self.inner.has_ignore_file()
    }

    fn notable_paths(&self) -> &[NotablePath] {
        self.inner.notable_paths()
    }

    fn copy_source_ignored(&self, source: &str) -> bool {
        self.inner.copy_source_ignored(source)
    }

    fn base_image(&self, reference: &str) -> Option<ImageFacts> {
        let full = Reference::parse(reference).ok()?.to_string();
        let entry = self.store.resolve(&full).ok()??;
        let descriptor = self.store.ref_target(&entry).ok()?;
        let platform = self
            .platform
            .clone()
            .unwrap_or_else(strata_oci::Platform::host);
        let config = self
            .store
            .load_image_for(&descriptor, &platform)
            .ok()?
            .config;
        let container = config.config.unwrap_or_default();
        // BuildKit checks no platform for an image without layers.
        let platform = (!config.rootfs.diff_ids.is_empty()).then_some(strata_oci::Platform {
            os: config.os,
            architecture: config.architecture,
            variant: config.variant,
            os_version: config.os_version,
            os_features: config.os_features,
        });
        Some(ImageFacts {
            env: container.env.unwrap_or_default(),
            user: container.user,
            shell: container.shell,
            healthcheck: container.healthcheck.is_some(),
            platform,
        })
    }

    fn target_platform(&self) -> Option<strata_oci::Platform> {
        self.platform.clone()
    }
}
