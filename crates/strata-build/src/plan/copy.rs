//! COPY and ADD lowered: their sources (build context, named context,
//! stage, URL, heredoc), key, inputs and history entry.

use std::sync::Arc;

use strata_context::{Context, CopySource};
use strata_dockerfile::{self as dockerfile, Chmod, ErrorKind, Location, Stages};
use strata_oci::Digest;

use super::dispatch::{Dispatch, absolute_in, display_text};
use super::named::FromSource;
use super::state::State;
use super::types::{CONTEXT_FILES, CopyInput, CopyOperation, Operation};
use super::{Lowering, key_of, with_span};
use crate::error::{Error, Result};
use crate::remote::{self, Checksum};

impl Lowering<'_> {
    /// COPY: from the build context, a named context or `--from` a stage.
    pub(super) fn dispatch_copy(
        &mut self,
        state: &mut State,
        copy: &dockerfile::Copy,
        at: &Dispatch<'_>,
    ) -> Result<()> {
        state.number += 1;
        if let Err(message) = copy.check_from() {
            return Err(self.error_at(ErrorKind::Flag, message, at.location));
        }
        let (from, named) = match &copy.from {
            Some(from) => match self.copy_from_stage(from, at.location)? {
                FromSource::Stage(stage) => (Some(stage), None),
                FromSource::Context(context) => (None, Some(context)),
            },
            None => (None, None),
        };
        let request = CopyRequest {
            keyword: "COPY",
            sources: &copy.sources,
            contents: &copy.contents,
            destination: &copy.destination,
            chown: copy.chown.clone(),
            chmod: copy.chmod.clone(),
            link: copy.link,
            exclude: &copy.exclude,
            parents: copy.parents,
            from,
            named,
            unpack: false,
            remote_unpack: false,
            checksum: None,
        };
        self.lower_copy(state, at, request)
    }

    /// ADD: COPY that also downloads URLs and unpacks local archives.
    pub(super) fn dispatch_add(
        &mut self,
        state: &mut State,
        add: &dockerfile::Add,
        at: &Dispatch<'_>,
    ) -> Result<()> {
        state.number += 1;
        let location = at.location;
        if let Some(url) = add.sources.iter().find(|s| remote::is_git(s)) {
            return Err(self.error_at(
                ErrorKind::Arguments,
                format!("ADD of a git repository ({url}) is not supported yet: use RUN with git"),
                location,
            ));
        }
        let checksum = match &add.checksum {
            None => None,
            Some(text) => Some(self.add_checksum(add, text, location)?),
        };
        let request = CopyRequest {
            keyword: "ADD",
            sources: &add.sources,
            contents: &add.contents,
            destination: &add.destination,
            chown: add.chown.clone(),
            chmod: add.chmod.clone(),
            link: add.link,
            exclude: &add.exclude,
            parents: false,
            from: None,
            named: None,
            unpack: add.unpack.unwrap_or(true),
            remote_unpack: add.unpack == Some(true),
            checksum,
        };
        self.lower_copy(state, at, request)
    }

    /// ADD `--checksum`: for a single URL only.
    fn add_checksum(
        &self,
        add: &dockerfile::Add,
        text: &str,
        location: Location,
    ) -> Result<Checksum> {
        if add.sources.len() != 1 || !add.contents.is_empty() {
            return Err(self.error_at(
                ErrorKind::Flag,
                "checksum can't be specified for multiple sources",
                location,
            ));
        }
        if !remote::is_url(&add.sources[0]) {
            return Err(self.error_at(
                ErrorKind::Flag,
                "checksum requires HTTP(S) or Git sources",
                location,
            ));
        }
        Checksum::parse(text).map_err(|m| self.error_at(ErrorKind::Flag, m, location))
    }
    /// The stage, image or named context a `--from` names.
    pub(super) fn copy_from_stage(&mut self, from: &str, location: Location) -> Result<FromSource> {
        let lowered = from.to_lowercase();
        let current = location_stage(self.stages, location);
        if let Ok(index) = from.parse::<usize>() {
            if index >= current {
                return Err(self.error_at(
                    ErrorKind::Stage,
                    format!(
                        "invalid stage index {index}: a stage can only copy from earlier stages"
                    ),
                    location,
                ));
            }
            return self.stage(index).map(FromSource::Stage);
        }
        if let Some(stage) = self
            .stages
            .stages
            .iter()
            .find(|s| s.name() == Some(lowered.as_str()))
        {
            if stage.index >= current {
                return Err(self.error_at(
                    ErrorKind::Stage,
                    format!("cannot copy from stage \"{from}\", it needs to be defined before the current stage"),
                    location,
                ));
            }
            return self.stage(stage.index).map(FromSource::Stage);
        }
        if let Some(named) = self.named_from(from, location)? {
            return Ok(named);
        }
        // An image.
        if let Some(plan) = self.by_image.get(from) {
            return Ok(FromSource::Stage(*plan));
        }
        let image = self
            .images
            .resolve(from)
            .map_err(|e| with_span(e, location.span))?;
        let from_name = format!("[internal] FROM {}@{}", image.name, image.manifest_digest);
        Ok(FromSource::Stage(self.image_stage(from, image, from_name)))
    }

    /// A COPY or ADD step: its sources, key, inputs and history entry.
    fn lower_copy(
        &mut self,
        state: &mut State,
        at: &Dispatch<'_>,
        request: CopyRequest<'_>,
    ) -> Result<()> {
        let location = at.location;
        let destination = normalize_destination(&state.working_dir(), request.destination);
        let chmod = match &request.chmod {
            Some(text) => {
                Some(Chmod::parse(text).map_err(|m| self.error_at(ErrorKind::Flag, m, location))?)
            }
            None => None,
        };
        // BuildKit links only without --chmod (it falls back to a plain copy).
        let link = request.link && request.chmod.is_none();
        if link {
            self.check_link_chown(&request, location)?;
        }
        let parent = state.key;
        let mut inputs = Vec::new();
        if !link {
            inputs.push((
                "parent".to_owned(),
                format!("{} {parent}", state.parent_label),
            ));
        }
        inputs.extend([
            ("destination".to_owned(), destination.clone()),
            (
                "chown".to_owned(),
                request.chown.clone().unwrap_or_default(),
            ),
            (
                "chmod".to_owned(),
                request.chmod.clone().unwrap_or_default(),
            ),
        ]);
        let mut sources = LoweredSources {
            inputs,
            key: Vec::new(),
            sources: Vec::new(),
        };
        self.copy_sources(&request, at, &mut sources)?;
        // A linked copy's layer does not depend on its parent: its key
        // starts from nothing, and the stage's chain goes on from both.
        let layer_parent = if link { Digest::of(b"link") } else { parent };
        let key = copy_key(&layer_parent, &request, sources.key, &destination);
        let created_by = copy_created_by(&request);
        let expanded_text = display_text(&at.text, self.dockerfile.escape, &at.environment);
        let name = self.vertex_name(at.stage_name, state.number, state.total, &expanded_text);
        let operation = Operation::Copy(CopyOperation {
            sources: sources.sources,
            destination,
            chown: request.chown,
            chmod,
            unpack: request.unpack,
            link,
        });
        state.push_step(
            name,
            location,
            operation,
            key,
            sources.inputs,
            at.stage_name,
        );
        if link {
            state.key = key_of(&parent, &("link", key));
        }
        state.history(created_by, true, self.options.source_date_epoch);
        Ok(())
    }

    /// A linked copy cannot read the stage's users and groups: `--chown`
    /// takes numeric ids (or root).
    fn check_link_chown(&self, request: &CopyRequest<'_>, location: Location) -> Result<()> {
        if let Some(chown) = &request.chown
            && chown
                .split(':')
                .any(|part| !part.is_empty() && part != "root" && part.parse::<i64>().is_err())
        {
            return Err(self.error_at(
                ErrorKind::Flag,
                format!(
                    "--chown={chown} cannot be used with --link: a linked copy cannot read the stage's /etc/passwd or /etc/group, use numeric ids"
                ),
                location,
            ));
        }
        Ok(())
    }

    /// Each source and heredoc of the request, lowered in order.
    fn copy_sources(
        &mut self,
        request: &CopyRequest<'_>,
        at: &Dispatch<'_>,
        lowered: &mut LoweredSources,
    ) -> Result<()> {
        for source in request.sources {
            if request.from.is_none() && request.named.is_none() && remote::is_url(source) {
                self.remote_source(request, at, source, lowered)?;
                continue;
            }
            match request.from {
                Some(stage) => self.stage_source(request, stage, source, lowered),
                None => self.context_source(request, at, source, lowered)?,
            }
        }
        for content in request.contents {
            lowered
                .inputs
                .push((format!("heredoc {}", content.path), content.data.clone()));
            lowered
                .key
                .push(serde_json::json!({"inline": content.path, "data": content.data}));
            lowered.sources.push(CopyInput::Inline {
                name: content.path.clone(),
                data: content.data.clone(),
            });
        }
        Ok(())
    }

    /// An ADD of a URL: keyed by its checksum when pinned, else by what a
    /// download gives.
    fn remote_source(
        &self,
        request: &CopyRequest<'_>,
        at: &Dispatch<'_>,
        source: &str,
        lowered: &mut LoweredSources,
    ) -> Result<()> {
        if request.keyword != "ADD" {
            return Err(self.error_at(
                ErrorKind::Arguments,
                "source can't be a URL for COPY",
                at.location,
            ));
        }
        let name = remote::file_name(source);
        let (content, modified) = match &request.checksum {
            // Pinned: the key needs no download.
            Some(checksum) => (checksum.text.clone(), None),
            None => {
                let downloaded = self
                    .downloads
                    .fetch(source, None)
                    .map_err(|e| Error::Copy {
                        step: at.text.clone(),
                        message: e.to_string(),
                        span: at.location.span,
                    })?;
                (downloaded.digest.clone(), Some(downloaded.modified))
            }
        };
        lowered
            .inputs
            .push((format!("url {source}"), content.clone()));
        lowered.key.push(serde_json::json!({
            "remote": content,
            "name": name,
            "modified": modified,
            "unpack": request.remote_unpack,
        }));
        lowered.sources.push(CopyInput::Remote {
            url: source.to_owned(),
            name,
            checksum: request.checksum.clone(),
            unpack: request.remote_unpack,
            downloads: self.downloads.clone(),
        });
        Ok(())
    }

    /// Files from another stage's (or image's) file system, keyed by its key.
    fn stage_source(
        &self,
        request: &CopyRequest<'_>,
        stage: usize,
        source: &str,
        lowered: &mut LoweredSources,
    ) {
        let stage_key = self.plans[stage].key;
        lowered.inputs.push((
            format!("stage {}", self.plans[stage].name),
            stage_key.to_string(),
        ));
        lowered
            .key
            .push(serde_json::json!({"stage": stage_key.to_string(), "source": source}));
        // --exclude and --parents as for the context: patterns
        // relative to each matched source, split at the pivot.
        let selector = CopySource::dockerfile(source, request.exclude, request.parents);
        lowered.sources.push(CopyInput::Stage {
            stage,
            source: selector.path,
            include: selector.include,
            exclude: selector.exclude,
            required: selector.required,
        });
    }

    /// Files from the build context (or a named local one), keyed by the
    /// digest of exactly what the source selects.
    fn context_source(
        &self,
        request: &CopyRequest<'_>,
        at: &Dispatch<'_>,
        source: &str,
        lowered: &mut LoweredSources,
    ) -> Result<()> {
        let context = match &request.named {
            Some(context) => context.clone(),
            None => (self.context)()?,
        };
        let selection = context
            .select(&CopySource::dockerfile(
                source,
                request.exclude,
                request.parents,
            ))
            .map_err(|e| Error::Copy {
                step: at.text.clone(),
                message: copy_source_message(source, &e),
                span: at.location.span,
            })?;
        lowered
            .inputs
            .push((CONTEXT_FILES.to_owned(), lowered.sources.len().to_string()));
        lowered
            .key
            .push(serde_json::json!({"context": source, "digest": selection.digest.to_string()}));
        lowered.sources.push(CopyInput::Context {
            selection,
            named: request.named.clone(),
        });
        Ok(())
    }
}

/// What COPY and ADD share.
struct CopyRequest<'a> {
    keyword: &'static str,
    sources: &'a [String],
    contents: &'a [dockerfile::SourceContent],
    destination: &'a str,
    chown: Option<String>,
    chmod: Option<String>,
    link: bool,
    exclude: &'a [String],
    parents: bool,
    from: Option<usize>,
    /// `--from` a named local context: its files, as the build context's.
    named: Option<Arc<Context>>,
    unpack: bool,
    /// ADD of a URL unpacks only with `--unpack=true`.
    remote_unpack: bool,
    /// ADD `--checksum`.
    checksum: Option<Checksum>,
}

/// A COPY's sources as they go into its operation, its key and its inputs.
struct LoweredSources {
    /// What the key covers, for miss explanations.
    inputs: Vec<(String, String)>,
    /// Each source's part of the key.
    key: Vec<serde_json::Value>,
    /// What the operation copies.
    sources: Vec<CopyInput>,
}

/// The key of a COPY or ADD step over `parent`.
fn copy_key(
    parent: &Digest,
    request: &CopyRequest<'_>,
    key_sources: Vec<serde_json::Value>,
    destination: &str,
) -> Digest {
    key_of(
        parent,
        &serde_json::json!({
            "op": request.keyword,
            "sources": key_sources,
            "destination": destination,
            "chown": request.chown,
            "chmod": request.chmod,
            "exclude": request.exclude,
            "parents": request.parents,
            "unpack": request.unpack,
        }),
    )
}

/// The history entry BuildKit writes for a COPY or ADD: flags, sources and
/// heredocs as written, the destination.
fn copy_created_by(request: &CopyRequest<'_>) -> String {
    let mut created_by = request.keyword.to_owned();
    if request.parents {
        created_by.push_str(" --parents");
    }
    for (flag, value) in [("chown", &request.chown), ("chmod", &request.chmod)] {
        if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
            created_by.push_str(&format!(" --{flag}={value}"));
        }
    }
    for source in request.sources {
        created_by.push(' ');
        created_by.push_str(source);
    }
    for content in request.contents {
        created_by.push_str(&format!(" <<{}", content.path));
    }
    created_by.push(' ');
    created_by.push_str(request.destination);
    created_by.push_str(" # buildkit");
    created_by
}

/// The Dockerfile stage an instruction at `location` belongs to.
fn location_stage(stages: &Stages, location: Location) -> usize {
    stages
        .stages
        .iter()
        .rev()
        .find(|s| s.from.location.span.start <= location.span.start)
        .map(|s| s.index)
        .unwrap_or(0)
}

/// BuildKit's message for a COPY source that cannot be read.
fn copy_source_message(source: &str, error: &strata_context::Error) -> String {
    match error {
        strata_context::Error::NotFound { path } => crate::copy::not_found_message(path),
        other => format!("{source}: {other}"),
    }
}

/// A COPY destination as BuildKit makes it: absolute, cleaned, and ending in
/// `/` (a directory) when the user's text ended in `/` or `/.` (or was `.`).
fn normalize_destination(working_dir: &str, destination: &str) -> String {
    let destination = if destination.is_empty() || destination == "." {
        "./"
    } else {
        destination
    };
    let mut path = absolute_in(working_dir, destination);
    let keeps_slash = destination.ends_with('/') || destination.ends_with("/.");
    if keeps_slash && !path.ends_with('/') {
        path.push('/');
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_normalise_like_buildkit() {
        assert_eq!(normalize_destination("/app", "."), "/app/");
        assert_eq!(normalize_destination("/app", "./"), "/app/");
        assert_eq!(normalize_destination("/app", "src/"), "/app/src/");
        assert_eq!(normalize_destination("/app", "x"), "/app/x");
        assert_eq!(normalize_destination("/", "/x/../y/"), "/y/");
        assert_eq!(normalize_destination("/a", "/"), "/");
        assert_eq!(normalize_destination("/a", "x/."), "/a/x/");
        assert_eq!(normalize_destination("/a", "/."), "/");
    }
}
