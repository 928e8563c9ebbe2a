//! The target stage's result as an image in the store: configuration with
//! `rootfs.diff_ids` and history times filled in as BuildKit's exporter
//! fills them, an OCI manifest over the layers, and the `-t` names.

use strata_oci::{Descriptor, Digest, History, ImageConfiguration, Reference, RootFs};
use strata_store::Store;

use crate::error::Result;
use crate::options::BuildOptions;
use crate::plan::{Base, Plan, format_time};
use crate::solve::StageOutput;

/// The image a build produced.
#[derive(Clone, Debug)]
pub(crate) struct Exported {
    /// The manifest's descriptor.
    pub(crate) manifest: Descriptor,
    /// The configuration's digest: the image ID.
    pub(crate) config_digest: Digest,
}

/// Writes the image of the plan's target and names it `names`; with
/// `inline_cache` (`--cache-to type=inline`) its configuration carries it.
pub(crate) fn export(
    store: &Store,
    plan: &Plan,
    output: &StageOutput,
    options: &BuildOptions,
    names: &[Reference],
    inline_cache: Option<serde_json::Value>,
) -> Result<Exported> {
    let mut config = image_configuration(plan, output, options);
    config.build_cache = inline_cache;
    let layers = output
        .layers
        .iter()
        .map(|layer| layer.descriptor.clone())
        .collect();
    // Platform-qualified manifest annotations apply only under an index,
    // as in BuildKit's writer.
    let platform =
        strata_oci::Platform::new(&config.os, &config.architecture, config.variant.as_deref());
    let indexed = options.provenance.is_some() || options.sbom || options.annotations.wants_index();
    let annotations = options.annotations.for_target(
        crate::AnnotationTarget::Manifest,
        indexed.then_some(&platform),
    );
    let manifest = store.write_annotated_image(&config, layers, annotations)?;
    for tag in names {
        store.set_ref(&tag.to_string(), &manifest, None)?;
    }
    let config_digest = Digest::of(&config.to_json());
    Ok(Exported {
        manifest,
        config_digest,
    })
}

/// The target's configuration as it will be written.
pub(crate) fn image_configuration(
    plan: &Plan,
    output: &StageOutput,
    options: &BuildOptions,
) -> ImageConfiguration {
    let stage = &plan.stages[plan.target];
    let mut config = stage.config.clone();
    config.rootfs = RootFs {
        kind: "layers".to_owned(),
        diff_ids: output.layers.iter().map(|l| l.diff_id).collect(),
    };
    // As BuildKit's exporter: entries for layers without one (a named
    // local context's) go at the end, named after the chain's last layers.
    let names = layer_names(plan, plan.target);
    let start = names.len().saturating_sub(stage.unrecorded_layers);
    for name in &names[start..] {
        config.history.push(History {
            created_by: Some(name.clone()),
            comment: Some("buildkit.exporter.image.v0".to_owned()),
            ..Default::default()
        });
    }
    let created: Vec<Option<String>> = output.layers.iter().map(|l| l.created.clone()).collect();
    fill_history_times(&mut config.history, &created);
    config.created = match options.source_date_epoch {
        Some(epoch) => Some(format_time(epoch)),
        None => config.history.iter().rev().find_map(|h| h.created.clone()),
    };
    config
}

/// The vertex name of each layer of stage `index`'s chain (empty for a
/// base image's layers).
fn layer_names(plan: &Plan, index: usize) -> Vec<String> {
    let stage = &plan.stages[index];
    let mut names = match &stage.base {
        Base::Stage(base) => layer_names(plan, *base),
        Base::Image(image) => vec![String::new(); image.layers.len()],
        Base::Scratch => Vec::new(),
    };
    names.extend(stage.steps.iter().map(|step| step.name.clone()));
    names
}

/// Gives layer entries their layer's time and every other untimed entry
/// the time BuildKit's exporter gives it: the latest new layer before it,
/// or (before any) the first new layer after it.
fn fill_history_times(history: &mut [History], layer_times: &[Option<String>]) {
    // Layer entries and layers are matched from the end: new ones line up
    // even when a base image's history undercounts its layers.
    let layer_entries: Vec<usize> = (0..history.len())
        .filter(|i| !history[*i].empty_layer)
        .collect();
    for (entry, time) in layer_entries.iter().rev().zip(layer_times.iter().rev()) {
        if history[*entry].created.is_none()
            && let Some(time) = time
        {
            history[*entry].created = Some(time.clone());
        }
    }
    let mut created: Option<String> = None;
    let mut untimed_seen = false;
    for entry in history.iter() {
        match &entry.created {
            Some(time) => {
                created = Some(time.clone());
                if untimed_seen {
                    break;
                }
            }
            None => untimed_seen = true,
        }
    }
    let mut untimed_seen = false;
    for entry in history.iter_mut() {
        match &entry.created {
            Some(time) => {
                if untimed_seen {
                    created = Some(time.clone());
                }
            }
            None => {
                untimed_seen = true;
                entry.created = created.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(created: Option<&str>, empty: bool) -> History {
        History {
            created: created.map(str::to_owned),
            empty_layer: empty,
            ..Default::default()
        }
    }

    #[test]
    fn metadata_entries_take_the_nearest_layer_time() {
        let mut history = vec![
            entry(Some("base"), false),
            entry(None, true), // ARG before any new layer: the first new layer's time
            entry(None, false),
            entry(None, true),
            entry(None, false),
            entry(None, true),
        ];
        let times = vec![None, Some("t1".to_owned()), Some("t2".to_owned())];
        fill_history_times(&mut history, &times);
        let got: Vec<&str> = history
            .iter()
            .map(|h| h.created.as_deref().unwrap_or("-"))
            .collect();
        assert_eq!(got, ["base", "t1", "t1", "t1", "t2", "t2"]);
    }
}
