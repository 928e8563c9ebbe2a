//! The SBOM attestation (`--sbom=true`, `--attest type=sbom`): the image's
//! SPDX document as an in-toto predicate, as BuildKit's scanner attaches it.

use strata_oci::{Descriptor, Reference};
use strata_store::Store;

use crate::BuildOptions;
use crate::error::Result;
use crate::provenance::Predicate;

/// The predicate type BuildKit gives SPDX documents.
const SPDX_DOCUMENT: &str = "https://spdx.dev/Document";

/// The SPDX predicate of the image `manifest` points at; `names` name it.
pub(crate) fn predicate(
    store: &Store,
    manifest: &Descriptor,
    names: &[Reference],
    options: &BuildOptions,
) -> Result<Predicate> {
    let image = store.load_image(manifest)?;
    let name = names
        .first()
        .map_or_else(|| image.id().to_string(), ToString::to_string);
    let catalog = strata_sbom::catalog_image(store, &image, &name)?;
    let created = options
        .source_date_epoch
        .unwrap_or_else(|| jiff::Timestamp::now().as_second());
    let document = strata_sbom::format::spdx_value(&catalog, created);
    Ok(Predicate {
        predicate_type: SPDX_DOCUMENT,
        json: strata_oci::to_go_json(&document).unwrap_or_default(),
    })
}
