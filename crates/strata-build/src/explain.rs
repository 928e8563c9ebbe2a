//! Why a step missed the cache, in one line: the first input that differs
//! from the last build of the same step (`src/app.py changed`, `build arg
//! VERSION changed 1.0 -> 1.1`, `parent step 3 rebuilt`). BuildKit's most
//! requested missing feature.
//!
//! Each cache record keeps the inputs its key covered; a small file per
//! project (Dockerfile, context, target) remembers which key each step
//! position had last time.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use strata_oci::Digest;
use strata_store::Store;

use crate::plan::Step;

/// Explains misses for one build and remembers its keys for the next.
#[derive(Debug)]
pub(crate) struct Explainer {
    file: Option<PathBuf>,
    previous: BTreeMap<String, String>,
    current: Mutex<BTreeMap<String, String>>,
}

impl Explainer {
    /// Loads what the last build of `project` recorded (nothing when `file` is `None`).
    pub(crate) fn load(file: Option<PathBuf>) -> Self {
        let previous: BTreeMap<String, String> = file
            .as_ref()
            .and_then(|f| std::fs::read(f).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        Self {
            file,
            current: Mutex::new(previous.clone()),
            previous,
        }
    }

    /// The file a project's last keys live in: `<area>/<sha256 of project>.json`.
    pub(crate) fn project_file(area: &std::path::Path, project: &str) -> PathBuf {
        area.join(format!("{}.json", Digest::of(project.as_bytes()).hex()))
    }

    /// Notes that `step` has its current key in this build.
    pub(crate) fn seen(&self, step: &Step) {
        if let Ok(mut current) = self.current.lock() {
            current.insert(step.position.clone(), step.key.to_string());
        }
    }

    /// Writes the keys of this build for the next one (only when they changed).
    pub(crate) fn save(&self) {
        let Some(file) = &self.file else { return };
        let Ok(current) = self.current.lock() else {
            return;
        };
        if *current == self.previous {
            return;
        }
        if let Ok(bytes) = serde_json::to_vec(&*current) {
            let _ = strata_fs::write_atomic(file, &bytes);
        }
    }

    /// Why `step` is not served from the cache.
    pub(crate) fn reason(
        &self,
        store: &Store,
        step: &Step,
        stage_forced: bool,
        all_forced: bool,
    ) -> String {
        if all_forced {
            return "--no-cache".to_owned();
        }
        if stage_forced {
            return "--no-cache-filter".to_owned();
        }
        let Some(previous_key) = self.previous.get(&step.position) else {
            return "first build of this step".to_owned();
        };
        if *previous_key == step.key.to_string() {
            return "its result was removed from the store (pruned)".to_owned();
        }
        let previous_inputs: Option<Vec<(String, String)>> = store
            .cache_record(previous_key)
            .ok()
            .flatten()
            .and_then(|record| serde_json::from_value(record.record.get("inputs")?.clone()).ok());
        match previous_inputs {
            Some(previous) => difference(&previous, &step.inputs),
            None => "the previous build's record of this step is gone".to_owned(),
        }
    }
}

/// The first input that differs between two builds of a step, in words.
pub(crate) fn difference(previous: &[(String, String)], current: &[(String, String)]) -> String {
    let old: BTreeMap<&str, &str> = previous
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let new: BTreeMap<&str, &str> = current
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for (name, value) in current {
        match old.get(name.as_str()) {
            Some(before) if *before == value => {}
            Some(before) => return changed(name, before, value),
            None => return added(name, value),
        }
    }
    for (name, value) in previous {
        if !new.contains_key(name.as_str()) {
            return removed(name, value);
        }
    }
    "the step's definition changed".to_owned()
}

fn changed(name: &str, before: &str, after: &str) -> String {
    if name == "parent" {
        let label = |v: &str| v.split(' ').next().unwrap_or_default().to_owned();
        let what = label(after);
        return if what == "base" {
            "the base image changed".to_owned()
        } else {
            format!("parent step {what} rebuilt")
        };
    }
    if let Some(path) = name.strip_prefix("file ") {
        return format!("{path} changed");
    }
    if let Some(arg) = name.strip_prefix("build arg ") {
        return format!("build arg {arg} changed {before} -> {after}");
    }
    if let Some(variable) = name.strip_prefix("env ") {
        return format!("ENV {variable} changed {before} -> {after}");
    }
    if let Some(stage) = name.strip_prefix("stage ") {
        return format!("stage {stage} rebuilt");
    }
    match name {
        "command" => "the command changed".to_owned(),
        _ => format!("{name} changed {} -> {}", show(before), show(after)),
    }
}

fn added(name: &str, value: &str) -> String {
    if let Some(path) = name.strip_prefix("file ") {
        return format!("{path} added");
    }
    if let Some(arg) = name.strip_prefix("build arg ") {
        return format!("build arg {arg} added ({value})");
    }
    if let Some(variable) = name.strip_prefix("env ") {
        return format!("ENV {variable} added ({value})");
    }
    format!("{name} added")
}

fn removed(name: &str, _value: &str) -> String {
    if let Some(path) = name.strip_prefix("file ") {
        return format!("{path} removed");
    }
    if let Some(arg) = name.strip_prefix("build arg ") {
        return format!("build arg {arg} removed");
    }
    if let Some(variable) = name.strip_prefix("env ") {
        return format!("ENV {variable} removed");
    }
    format!("{name} removed")
}

fn show(value: &str) -> String {
    if value.is_empty() {
        "(none)".to_owned()
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn first_changed_input_is_named() {
        let before = inputs(&[
            ("parent", "2 sha256:a"),
            ("file src/app.py", "sha256:1"),
            ("file src/b.py", "sha256:2"),
        ]);
        let after = inputs(&[
            ("parent", "2 sha256:a"),
            ("file src/app.py", "sha256:9"),
            ("file src/b.py", "sha256:2"),
        ]);
        assert_eq!(difference(&before, &after), "src/app.py changed");
        let after = inputs(&[("parent", "3 sha256:b"), ("file src/app.py", "sha256:1")]);
        assert_eq!(difference(&before, &after), "parent step 3 rebuilt");
        let after = inputs(&[("parent", "2 sha256:a"), ("file src/app.py", "sha256:1")]);
        assert_eq!(difference(&before, &after), "src/b.py removed");
        let before = inputs(&[("build arg VERSION", "1.0")]);
        let after = inputs(&[("build arg VERSION", "1.1")]);
        assert_eq!(
            difference(&before, &after),
            "build arg VERSION changed 1.0 -> 1.1"
        );
        let after = inputs(&[("parent", "base sha256:c")]);
        let before = inputs(&[("parent", "base sha256:d")]);
        assert_eq!(difference(&before, &after), "the base image changed");
    }
}
