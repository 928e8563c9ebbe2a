//! A stage's state while its instructions are dispatched: its image
//! configuration, variables, key and steps so far.

use strata_dockerfile::{ArgDefinition, Location, StageScope};
use strata_oci::{Digest, ImageConfiguration};

use super::types::{Operation, Step};

/// The history comment BuildKit's Dockerfile frontend writes.
pub(crate) const HISTORY_COMMENT: &str = "buildkit.dockerfile.v0";

/// The state of a stage while its instructions are dispatched.
pub(super) struct State {
    /// The image configuration so far, history included.
    pub(super) config: ImageConfiguration,
    /// The variables (ENV and ARG) instructions see.
    pub(super) scope: StageScope,
    /// ARGs declared in this stage: name and the value given in the ARG
    /// (for RUN's history prefix).
    pub(super) declared: Vec<ArgDefinition>,
    /// The key of the last step, or the base's.
    pub(super) key: Digest,
    /// The file-system steps so far.
    pub(super) steps: Vec<Step>,
    /// Whether this stage set CMD (then ENTRYPOINT keeps it).
    pub(super) cmd_set: bool,
    /// The last numbered step's number (FROM counts when it is a step).
    pub(super) number: usize,
    /// How many numbered steps the stage has.
    pub(super) total: usize,
    /// The last step's number, or `base`: how a miss names its parent.
    pub(super) parent_label: String,
}

impl State {
    /// The container configuration, created when first set.
    pub(super) fn container(&mut self) -> &mut strata_oci::ContainerConfig {
        self.config.config.get_or_insert_with(Default::default)
    }

    /// The working directory, `/` when none is set.
    pub(super) fn working_dir(&self) -> String {
        self.config
            .config
            .as_ref()
            .map(|c| c.working_dir.clone())
            .filter(|w| !w.is_empty())
            .unwrap_or_else(|| "/".to_owned())
    }

    /// The user, `""` for root.
    pub(super) fn user(&self) -> String {
        self.config
            .config
            .as_ref()
            .map(|c| c.user.clone())
            .unwrap_or_default()
    }

    /// Adds a step, numbered in its stage; the stage's key becomes its key.
    pub(super) fn push_step(
        &mut self,
        name: String,
        location: Location,
        operation: Operation,
        key: Digest,
        inputs: Vec<(String, String)>,
        stage_name: &str,
    ) {
        let stage = if stage_name.is_empty() {
            "stage"
        } else {
            stage_name
        };
        self.steps.push(Step {
            name,
            span: location.span,
            operation,
            key,
            position: format!("{stage}/{}", self.number),
            inputs,
        });
        self.key = key;
        self.parent_label = self.number.to_string();
    }

    /// Adds a history entry (`layer`: whether the step made one).
    pub(super) fn history(&mut self, created_by: String, layer: bool, epoch: Option<i64>) {
        self.config.history.push(strata_oci::History {
            created: epoch.map(format_time),
            created_by: Some(created_by),
            author: None,
            comment: Some(HISTORY_COMMENT.to_owned()),
            empty_layer: !layer,
        });
    }
}

/// RFC 3339 in UTC, as Go marshals a time (`2024-01-02T03:04:05Z`).
pub(crate) fn format_time(seconds: i64) -> String {
    jiff::Timestamp::from_second(seconds)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}
