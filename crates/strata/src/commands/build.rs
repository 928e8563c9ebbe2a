//! `strata build`: `docker build` without a daemon.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use strata_build::{BuildOptions, Cancel};
use strata_context::source::{self, ContextSpec, ResolveOptions, ResolvedContext};
use strata_oci::Reference;
use strata_store::{Access, Store};

use super::Global;
use crate::images::open_store;
use crate::progress::{Mode, Printer};
use crate::report::{Rendered, Severity, colour_stderr, render, render_in_context};

mod attest;
mod cache;
mod call;
mod flags;
mod image_facts;
mod outputs;
mod platforms;
mod ssh;
mod syntax;

/// Arguments of `strata build`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The build context: a directory, `-` (a tar archive or a Dockerfile on
    /// stdin), a git URL (`https://host/repo.git#ref:subdir`) or a tarball URL
    #[arg(value_name = "PATH | URL | -")]
    context: String,
    /// Name of the Dockerfile [default: PATH/Dockerfile]; `-` reads it from stdin
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    file: Option<PathBuf>,
    /// Name and optionally a tag (`name:tag`); repeatable
    #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
    tags: Vec<String>,
    /// Set a build-time variable (`KEY=VALUE`, or `KEY` to take it from the environment)
    #[arg(long = "build-arg", value_name = "KEY[=VALUE]")]
    build_args: Vec<String>,
    /// Set the target build stage to build
    #[arg(long, value_name = "STAGE")]
    target: Option<String>,
    /// Do not use cache when building the image
    #[arg(long)]
    no_cache: bool,
    /// Do not cache the given stages; repeatable
    #[arg(long = "no-cache-filter", value_name = "STAGE", value_delimiter = ',')]
    no_cache_filter: Vec<String>,
    /// Always attempt to pull a newer version of the base images
    #[arg(long)]
    pull: bool,
    /// Set the target platform (only the host's platform can be built)
    #[arg(long, value_name = "OS/ARCH")]
    platform: Option<String>,
    /// Networking mode for RUN instructions: default, host or none
    #[arg(long, value_name = "MODE", default_value = "default")]
    network: String,
    /// Add a custom host-to-IP mapping to RUN steps' /etc/hosts (`host:ip`
    /// or `host=ip`; `host-gateway` is the host); repeatable
    #[arg(long = "add-host", value_name = "HOST:IP", value_delimiter = ',')]
    add_hosts: Vec<String>,
    /// Ulimit of RUN steps (`nofile=1024[:2048]`, docker's names); repeatable
    #[arg(long = "ulimit", value_name = "TYPE=SOFT[:HARD]")]
    ulimits: Vec<String>,
    /// Size of RUN steps' /dev/shm (`64m`, `1g`) [default: 64m]
    #[arg(long = "shm-size", value_name = "BYTES")]
    shm_size: Option<String>,
    /// Parent cgroup for RUN steps (accepted; no effect: see the README)
    #[arg(long = "cgroup-parent", value_name = "CGROUP")]
    cgroup_parent: Option<String>,
    /// Allow an extra privileged entitlement (`network.host`, `security.insecure`); repeatable
    #[arg(long = "allow", value_name = "ENTITLEMENT")]
    allow: Vec<String>,
    /// Set metadata for the image (`KEY=VALUE`); repeatable
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// Add an annotation to the image (`[TYPE[PLATFORM],...:]KEY=VALUE`,
    /// TYPE manifest, manifest-descriptor, index or index-descriptor); repeatable
    #[arg(long = "annotation", value_name = "[TYPE:]KEY=VALUE")]
    annotations: Vec<String>,
    /// Attestation parameters (`type=provenance[,mode=min|max][,version=v1|v0.2]`, `type=sbom`); repeatable
    #[arg(long = "attest", value_name = "type=provenance,...")]
    attests: Vec<String>,
    /// Shorthand for `--attest=type=provenance` (`true`, `false` or `mode=min|max,...`)
    #[arg(long = "provenance", value_name = "VALUE")]
    provenance: Option<String>,
    /// Shorthand for `--attest=type=sbom` (`true`, `false` or attributes)
    #[arg(long = "sbom", value_name = "VALUE")]
    sbom: Option<String>,
    /// A secret for `RUN --mount=type=secret`: `id=NAME[,src=FILE]` or
    /// `[type=env,]id=NAME[,env=VAR]`; repeatable
    #[arg(long = "secret", value_name = "[type=TYPE,]id=NAME[,src=FILE|env=VAR]")]
    secrets: Vec<String>,
    /// Cache sources, tried in order (`type=registry,ref=REF`, `type=local,src=DIR`, or `REF`)
    #[arg(long = "cache-from", value_name = "[type=TYPE,]ref=REF|src=DIR")]
    cache_from: Vec<String>,
    /// Cache exports (`type=registry,ref=REF[,mode=min|max]...`, `type=local,dest=DIR`, `type=inline`)
    #[arg(long = "cache-to", value_name = "type=TYPE,...")]
    cache_to: Vec<String>,
    /// An additional named context (`NAME=DIR`, `NAME=docker-image://REF`,
    /// `NAME=oci-layout://PATH[:TAG|@DIGEST]`); repeatable
    #[arg(long = "build-context", value_name = "NAME=VALUE")]
    build_contexts: Vec<String>,
    /// SSH agent socket or keys to expose to `RUN --mount=type=ssh`
    /// (`default` is `$SSH_AUTH_SOCK`); repeatable
    #[arg(long = "ssh", value_name = "default|ID[=SOCKET|KEY[,KEY]]")]
    ssh: Vec<String>,
    /// Progress output: auto, tty, plain or quiet
    #[arg(long, value_name = "TYPE", default_value = "auto")]
    progress: String,
    /// Suppress the build output and print the image ID on success
    #[arg(short, long)]
    quiet: bool,
    /// Write the image ID to the file
    #[arg(long, value_name = "FILE")]
    iidfile: Option<PathBuf>,
    /// Write build result metadata (digests, and why each step ran) to the file
    #[arg(long = "metadata-file", value_name = "FILE")]
    metadata_file: Option<PathBuf>,
    /// Output destination (`type=oci|docker|tar,dest=FILE`, `type=local,dest=DIR`,
    /// `type=image,name=NAME,push=true`, `type=registry`; `DIR` = local, `-` = tar to stdout); repeatable
    #[arg(short = 'o', long = "output", value_name = "[type=TYPE,]dest=PATH")]
    outputs: Vec<String>,
    /// Push the image to its registry after the build (`--output=type=registry`)
    #[arg(long)]
    push: bool,
    /// Load the image into docker (`--output=type=docker`)
    #[arg(long)]
    load: bool,
    /// Check the Dockerfile (BuildKit's build checks) and build nothing (`--call=check`)
    #[arg(long)]
    check: bool,
    /// Build, or instead ask the frontend: check, outline or targets
    /// (buildx's `NAME[,format=json][,ignorestatus=true]`)
    #[arg(long, value_name = "METHOD", default_value = "build")]
    call: String,
    /// With --call: text (BuildKit's tables) or json (its result JSON)
    #[arg(long, value_name = "text|json")]
    format: Option<String>,
}

pub(crate) fn run(args: Args, global: &Global) -> anyhow::Result<ExitCode> {
    // First, while the process has one thread: whatever the build mounts
    // lives in a namespace of its own and dies with it, even on SIGKILL.
    if let Err(error) = strata_sandbox::private_mount_namespace() {
        eprintln!("WARNING: {error}: a killed build may leave mounts behind");
    }
    let mode = progress_mode(&args)?;
    let secrets = flags::secrets(&args.secrets)?;
    let ssh_sources = ssh::sources(&args.ssh)?;
    // Holds the context (a clone, an unpacked tar) until the build is done.
    let definition = definition(&args)?;
    let mut options = build_options(&args, global, &definition)?;

    // One store for the checks (base images' configs) and the build.
    let store = Arc::new(open_store(global, Access::Shared)?);
    // The frontend (`# syntax=`), then `--call`/`--check` instead of a build.
    syntax::check(&options)?;
    if let Some(call) = call::CallFunc::parse(&args.call, args.check, args.format.as_deref())? {
        return call.run(&options, &*facts(&options, &store)?);
    }
    // BuildKit's build checks run first: warnings are shown and
    // `# check=error=true` turns warnings into a failed build.
    if let Some(code) = check(&options, mode, &store)? {
        return Ok(code);
    }

    let specs = output_specs(&args)?;
    attest::check_docker_outputs(&specs, options.provenance.is_some() || options.sbom)?;
    let stdout_is_terminal = std::io::stdout().is_terminal();
    let mut resolved = outputs::resolve(&specs, &options.tags, stdout_is_terminal)?;
    for warning in &resolved.warnings {
        eprintln!("WARNING: {warning}");
    }
    options.outputs = std::mem::take(&mut resolved.outputs);

    // Agents started for key files live until the build returns.
    let ssh_agents = ssh::Agents::start(ssh_sources)?;
    options.ssh = ssh_agents.agents();

    let printer = Printer::new(mode);
    let cancel = Cancel::new();
    let _signals = crate::signals::cancel_on_interrupt(cancel.clone())?;
    let platforms = platforms::list(options.platform.as_deref());
    if let [one] = platforms.as_slice() {
        options.platform = Some(one.clone());
    }
    let result = if platforms.len() > 1 {
        let pushed = !resolved.push.is_empty();
        platforms::build_all(
            &store, &options, &secrets, &printer, &cancel, &platforms, pushed,
        )
    } else {
        strata_build::build(store.clone(), &options, &secrets, &printer, &cancel)
    };
    // Streams close here (a `docker load` reads to the end of its input).
    options.outputs.clear();
    let loaded = resolved.finish_docker_load();
    let output = match result {
        Ok(output) => output,
        Err(error) => {
            printer.finish();
            return Err(render_build_error(
                &error,
                &options.dockerfile_name,
                &options.dockerfile,
                colour_stderr(),
            ));
        }
    };
    loaded?;
    finish(&args, global, &store, &output, &resolved, &printer)
}

/// The progress display: `--progress` (BUILDKIT_PROGRESS standing in for
/// auto, as in docker; tty falls back to plain lines off a terminal) or `-q`.
fn progress_mode(args: &Args) -> anyhow::Result<Mode> {
    let mut progress = args.progress.clone();
    if progress == "auto"
        && let Ok(value) = std::env::var("BUILDKIT_PROGRESS")
        && !value.is_empty()
    {
        progress = value;
    }
    Ok(match (args.quiet, progress.as_str()) {
        (true, _) | (_, "quiet") => Mode::Quiet,
        (_, "plain") => Mode::Plain,
        (_, "tty" | "auto") => {
            if std::io::stderr().is_terminal() {
                Mode::Tty
            } else {
                Mode::Plain
            }
        }
        (_, other) => bail!(
            "--progress: unknown progress mode {other:?} (expected auto, tty, plain or quiet)"
        ),
    })
}

/// The build's options from its flags and `definition` (outputs and ssh
/// agents are added later).
fn build_options(
    args: &Args,
    global: &Global,
    definition: &Definition,
) -> anyhow::Result<BuildOptions> {
    let network = flags::network(&args.network)?;
    let mut tags = Vec::new();
    for tag in &args.tags {
        let reference =
            Reference::parse(tag).with_context(|| format!("-t {tag}: invalid reference format"))?;
        tags.push(reference);
    }
    let build_args = build_args(&args.build_args);
    let source_date_epoch = source_date_epoch(&build_args)?;
    let mut options = BuildOptions::new(
        definition.name.clone(),
        definition.bytes.clone(),
        definition.context.clone(),
    );
    options.dockerfile_path = definition.path.clone();
    options.frontend.build_args = build_args;
    options.frontend.target = args.target.clone();
    options.platform = args.platform.clone();
    options.no_cache = args.no_cache;
    options.no_cache_filter = args.no_cache_filter.clone();
    options.pull = args.pull;
    options.network = network;
    options.extra_hosts = flags::extra_hosts(&args.add_hosts)?;
    options.ulimits = flags::ulimits(&args.ulimits)?;
    options.shm_size = flags::shm_size(args.shm_size.as_deref())?;
    options.cgroup_parent = flags::cgroup_parent(args.cgroup_parent.as_deref());
    options.allow = flags::entitlements(&args.allow, &args.network)?;
    options.labels = labels(&args.labels);
    options.annotations = attest::annotations(&args.annotations)?;
    (options.provenance, options.sbom) = attest::attestations(
        &args.attests,
        args.provenance.as_deref(),
        args.sbom.as_deref(),
    )?;
    options.tags = tags;
    options.source_date_epoch = source_date_epoch;
    options.insecure_registries = global.insecure_registry.clone();
    options.named_contexts = flags::build_contexts(&args.build_contexts)?;
    options.cache_from = cache::imports(&args.cache_from)?;
    options.cache_to = cache::exports(&args.cache_to)?;
    Ok(options)
}

/// `--build-arg KEY=VALUE`s; a bare KEY takes its value from the
/// environment, and is dropped when the environment has none (as docker does).
fn build_args(flags: &[String]) -> BTreeMap<String, String> {
    let mut build_args = BTreeMap::new();
    for arg in flags {
        match arg.split_once('=') {
            Some((key, value)) => {
                build_args.insert(key.to_owned(), value.to_owned());
            }
            None => {
                if let Ok(value) = std::env::var(arg) {
                    build_args.insert(arg.clone(), value);
                }
            }
        }
    }
    build_args
}

/// `--label KEY=VALUE`s (a bare KEY is an empty label).
fn labels(flags: &[String]) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    for label in flags {
        let (key, value) = label.split_once('=').unwrap_or((label.as_str(), ""));
        labels.insert(key.to_owned(), value.to_owned());
    }
    labels
}

/// `SOURCE_DATE_EPOCH`, from the build args or else the environment.
fn source_date_epoch(build_args: &BTreeMap<String, String>) -> anyhow::Result<Option<i64>> {
    match build_args
        .get("SOURCE_DATE_EPOCH")
        .cloned()
        .or_else(|| std::env::var("SOURCE_DATE_EPOCH").ok())
    {
        Some(text) if !text.is_empty() => {
            Ok(Some(text.trim().parse::<i64>().with_context(|| {
                format!("SOURCE_DATE_EPOCH={text:?} is not a number of seconds")
            })?))
        }
        _ => Ok(None),
    }
}

/// The Dockerfile a build reads: its name in messages, its bytes, its path
/// (when it is a file), and the context directory (none for a Dockerfile
/// alone on stdin), kept while `resolved` (which may own it) lives.
struct Definition {
    name: String,
    bytes: Vec<u8>,
    path: Option<PathBuf>,
    context: Option<PathBuf>,
    _resolved: ResolvedContext,
}

/// The context, and the Dockerfile (which may come from stdin).
fn definition(args: &Args) -> anyhow::Result<Definition> {
    let dockerfile_from_stdin = args.file.as_deref().is_some_and(|f| f.as_os_str() == "-");
    if dockerfile_from_stdin && args.context == "-" {
        bail!("-f -: the Dockerfile and the context cannot both come from stdin");
    }
    let spec = ContextSpec::parse(&args.context);
    let resolved = source::resolve(&spec, std::io::stdin(), &ResolveOptions::default())
        .with_context(|| format!("resolving build context {}", args.context))?;
    if dockerfile_from_stdin {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading the Dockerfile from stdin")?;
        return Ok(Definition {
            name: "-".to_owned(),
            bytes,
            path: None,
            context: Some(resolved.root().to_path_buf()),
            _resolved: resolved,
        });
    }
    if let Some(bytes) = resolved.dockerfile() {
        // A Dockerfile alone on stdin: no context.
        return Ok(Definition {
            name: "Dockerfile".to_owned(),
            bytes: bytes.to_vec(),
            path: None,
            context: None,
            _resolved: resolved,
        });
    }
    let path = match &args.file {
        Some(file) => file.clone(),
        None => resolved.root().join("Dockerfile"),
    };
    let bytes = strata_fs::read(&path)
        .with_context(|| "failed to read the Dockerfile (give its path with -f)".to_string())?;
    let name = match &args.file {
        Some(file) => file.display().to_string(),
        None => "Dockerfile".to_owned(),
    };
    Ok(Definition {
        name,
        bytes,
        path: Some(path),
        context: Some(resolved.root().to_path_buf()),
        _resolved: resolved,
    })
}

/// The outputs asked for: each `--output`, then `--push` and `--load`.
fn output_specs(args: &Args) -> anyhow::Result<Vec<outputs::OutputSpec>> {
    let mut specs = Vec::new();
    for text in &args.outputs {
        specs.push(outputs::OutputSpec::parse(text).with_context(|| format!("--output {text}"))?);
    }
    if args.push {
        specs.push(outputs::OutputSpec::parse("type=registry")?);
    }
    if args.load {
        specs.push(outputs::OutputSpec::parse("type=docker")?);
    }
    Ok(specs)
}

/// After a successful build: the push, `--iidfile`, `--metadata-file`, and
/// the image ID on stdout for `-q`.
fn finish(
    args: &Args,
    global: &Global,
    store: &Arc<Store>,
    output: &strata_build::BuildOutput,
    resolved: &outputs::Resolved,
    printer: &Printer,
) -> anyhow::Result<ExitCode> {
    let mut pushed = None;
    if !resolved.push.is_empty() {
        let result = push_images(
            store,
            output,
            &resolved.push,
            resolved.push_media_types,
            global,
            printer,
        );
        printer.finish();
        pushed = Some(result?);
    }
    printer.finish();
    if let Some(path) = &args.iidfile {
        strata_fs::write_atomic(path, output.image_id.to_string().as_bytes())?;
    }
    if let Some(path) = &args.metadata_file {
        let text = serde_json::to_vec_pretty(&metadata(output, resolved, pushed.as_ref()))?;
        strata_fs::write_atomic(path, &text)?;
    }
    if args.quiet && !resolved.stdout_used {
        println!("{}", output.image_id);
    }
    Ok(ExitCode::SUCCESS)
}

/// BuildKit's result metadata (`--metadata-file`, as buildx writes it):
/// the configuration digest, the manifest (the pushed one after a push,
/// else the archive's or the store's), the names, and strata's steps.
fn metadata(
    output: &strata_build::BuildOutput,
    resolved: &outputs::Resolved,
    pushed: Option<&strata_oci::Descriptor>,
) -> serde_json::Value {
    let manifest = pushed.cloned().unwrap_or_else(|| {
        output
            .outputs
            .iter()
            .rev()
            .find_map(|o| o.manifest.clone())
            .unwrap_or_else(|| output.manifest.clone())
    });
    let mut metadata = serde_json::json!({
        "containerimage.config.digest": output.image_id.to_string(),
        "containerimage.digest": manifest.digest.to_string(),
        "containerimage.descriptor": {
            "mediaType": manifest.media_type,
            "digest": manifest.digest.to_string(),
            "size": manifest.size,
        },
        "strata.steps": output.steps,
    });
    if !resolved.names.is_empty() {
        let names: Vec<String> = resolved.names.iter().map(ToString::to_string).collect();
        metadata["image.name"] = serde_json::Value::String(names.join(","));
    }
    metadata
}

/// Pushes the built image under each of `names`, as BuildKit's image
/// exporter does with `push=true`: layers compressed (once: they stay in
/// the store), one manifest, shown as a vertex of the build's progress.
/// The pushed manifest's descriptor.
fn push_images(
    store: &Arc<Store>,
    output: &strata_build::BuildOutput,
    names: &[Reference],
    media_types: strata_store::MediaTypes,
    global: &Global,
    printer: &Printer,
) -> anyhow::Result<strata_oci::Descriptor> {
    use strata_build::{Event, Progress};
    let client = crate::images::registry_client(global)?;
    let runtime = crate::images::runtime()?;
    let mut pushed = None;
    for (vertex, reference) in (output.vertices + 1..).zip(names) {
        let started = std::time::Instant::now();
        let name = format!("pushing {reference}");
        printer.event(Event::Started {
            vertex,
            name: &name,
        });
        let result = (|| -> anyhow::Result<strata_oci::Descriptor> {
            let full = reference.to_string();
            let (target, media_types) = push_target(store, output, names, media_types)?;
            let plan = crate::images::plan_push(store, &full, reference, &target, media_types)?;
            if plan.encoded > 0 {
                printer.event(Event::Status {
                    vertex,
                    message: &format!("compressing {} layers done", plan.encoded),
                });
            }
            let digest = runtime
                .block_on(strata_registry::push(
                    &client,
                    reference,
                    &plan.request,
                    Arc::new(crate::images::StoreSource(store.clone())),
                    Arc::new(|_| {}),
                ))
                .with_context(|| format!("pushing {}", reference.familiar()))?;
            printer.event(Event::Status {
                vertex,
                message: "pushing layers done",
            });
            printer.event(Event::Status {
                vertex,
                message: &format!("pushing manifest for {reference}@{digest} done"),
            });
            if store.resolve(&full)?.is_some() {
                let repo_digest = reference.with_digest(digest);
                store.set_ref(
                    &full,
                    &stored_target(output),
                    Some(&repo_digest.to_string()),
                )?;
            }
            Ok(strata_oci::Descriptor::new(
                plan.request.media_type.clone(),
                digest,
                plan.request.manifest.len() as u64,
            ))
        })();
        match result {
            Ok(descriptor) => {
                printer.event(Event::Done {
                    vertex,
                    elapsed: started.elapsed(),
                });
                pushed = Some(descriptor);
            }
            Err(error) => {
                let message = format!("{error:#}");
                printer.event(Event::Failed {
                    vertex,
                    elapsed: started.elapsed(),
                    error: &message,
                });
                return Err(error);
            }
        }
    }
    pushed.ok_or_else(|| anyhow::anyhow!("tag is needed when pushing to registry"))
}

/// What a push sends: the image manifest, or with attestations an index
/// over its OCI distribution form (BuildKit sends OCI media types then).
fn push_target(
    store: &Store,
    output: &strata_build::BuildOutput,
    names: &[Reference],
    media_types: strata_store::MediaTypes,
) -> anyhow::Result<(strata_oci::Descriptor, strata_store::MediaTypes)> {
    let Some(attestations) = &output.attestations else {
        if output.manifest.media_type == strata_oci::media_type::OCI_INDEX {
            return Ok((
                platforms::distribution_index(store, &output.manifest, media_types)?,
                strata_store::MediaTypes::Keep,
            ));
        }
        return Ok((output.manifest.clone(), media_types));
    };
    let image = strata_build::distribution_image(
        store,
        &output.manifest,
        strata_build::Compression::GZIP,
        strata_store::MediaTypes::Oci,
    )?;
    let index = attestations.write_index(store, &image.manifest, names)?;
    Ok((index, strata_store::MediaTypes::Keep))
}

/// What the store names the image by: the index its image output wrote
/// (with attestations), else the manifest.
fn stored_target(output: &strata_build::BuildOutput) -> strata_oci::Descriptor {
    output
        .outputs
        .iter()
        .find(|o| o.kind == strata_build::OutputKind::Image)
        .and_then(|o| o.manifest.clone())
        .unwrap_or_else(|| output.manifest.clone())
}

/// A build error for the terminal: Dockerfile errors with the source line
/// and a caret; a failed step as BuildKit shows it (the step, the last lines
/// of its output between dashes), then the error (the command and its exit
/// code) over the Dockerfile lines around the instruction, caret under it.
fn render_build_error(
    error: &strata_build::Error,
    file: &str,
    dockerfile: &[u8],
    colour: bool,
) -> anyhow::Error {
    let source = strata_dockerfile::Source::new(dockerfile.to_vec());
    let in_context = |span, message: &str| {
        render_in_context(file, &source, span, Severity::Error, message, colour, 2)
    };
    match error {
        strata_build::Error::Dockerfile(error) => {
            let name = error
                .file
                .as_ref()
                .map(|f| f.display().to_string())
                .unwrap_or_else(|| file.to_owned());
            Rendered(crate::report::render_error(&name, &source, error, colour)).into()
        }
        strata_build::Error::StepFailed {
            step, output, span, ..
        } => {
            let mut text = String::new();
            text.push_str("------\n");
            if output.len() >= strata_build::TAIL_LINES {
                text.push_str(&format!(
                    " > {step} (its last {} lines of output):\n",
                    strata_build::TAIL_LINES
                ));
            } else {
                text.push_str(&format!(" > {step}:\n"));
            }
            for line in output {
                text.push_str(&format!("   {line}\n"));
            }
            text.push_str("------\n");
            text.push_str(&in_context(*span, &error.to_string()));
            Rendered(text).into()
        }
        other => match other.span() {
            Some(span) => {
                let hint = crate::login_hint(other.registry_error());
                Rendered(in_context(span, &other.to_string()) + &hint).into()
            }
            None => match crate::login_hint(other.registry_error()) {
                hint if hint.is_empty() => anyhow::Error::new(clone_error(other)),
                hint => Rendered(format!("error: {}\n{hint}", clone_error(other))).into(),
            },
        },
    }
}

/// The error as its message (the build error is not `Clone`).
fn clone_error(error: &strata_build::Error) -> std::io::Error {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    std::io::Error::other(message)
}

/// Facts for the build checks: about the build context (none without one)
/// and the base images already in the store.
fn facts<'a>(
    options: &BuildOptions,
    store: &'a Store,
) -> anyhow::Result<Box<dyn strata_lint::Facts + 'a>> {
    let inner: Box<dyn strata_lint::Facts> = match &options.context {
        Some(context) => {
            match super::lint::gather_facts(context, options.dockerfile_path.as_deref())? {
                Some(facts) => Box::new(facts),
                None => Box::new(strata_lint::NoFacts),
            }
        }
        None => Box::new(strata_lint::NoFacts),
    };
    // Checks run once, for the first platform asked (BuildKit runs them per platform).
    let platform = platforms::list(options.platform.as_deref())
        .first()
        .and_then(|text| text.parse::<strata_oci::Platform>().ok())
        .map(strata_oci::Platform::normalized);
    Ok(Box::new(image_facts::StoreImages {
        inner,
        store,
        platform,
    }))
}

/// Runs BuildKit's build checks over the Dockerfile. `Some(code)` when the
/// build must not go on (`# check=error=true` with findings).
fn check(options: &BuildOptions, mode: Mode, store: &Store) -> anyhow::Result<Option<ExitCode>> {
    // A Dockerfile that does not parse is reported by the build itself.
    let Ok(dockerfile) = strata_dockerfile::parse(options.dockerfile.clone()) else {
        return Ok(None);
    };
    let facts = facts(options, store)?;
    let report = match strata_lint::lint(&dockerfile, &*facts, &strata_lint::Config::buildkit()) {
        Ok(report) => report,
        Err(error) => {
            let text = render(
                &options.dockerfile_name,
                &dockerfile.source,
                error.span,
                Severity::Error,
                &error.to_string(),
                colour_stderr(),
            );
            return Err(Rendered(text).into());
        }
    };
    let count = report.diagnostics.len();
    if count > 0 && mode != Mode::Quiet {
        let plural = if count == 1 { "warning" } else { "warnings" };
        eprintln!(" {count} {plural} found:");
        for diagnostic in &report.diagnostics {
            eprintln!(" - {}", diagnostic.short());
        }
    }
    if let Some(violation) = report.violation_error() {
        bail!("{violation}");
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_dockerfile::Span;

    const DOCKERFILE: &str = "FROM local/busybox:latest\nENV A=1\nRUN echo one; \\\n  echo two >&2; exit 3\nENV B=2\nCMD [\"sh\"]\n";

    fn run_span() -> Span {
        let start = DOCKERFILE.find("RUN").unwrap();
        let end = DOCKERFILE.find("\nENV B").unwrap();
        Span::new(start, end)
    }

    fn step_failed(output: Vec<String>) -> strata_build::Error {
        strata_build::Error::StepFailed {
            step: "[2/2] RUN echo one;   echo two >&2; exit 3".to_owned(),
            command: "/bin/sh -c echo one;   echo two >&2; exit 3".to_owned(),
            status: "exit code: 3".to_owned(),
            exit_code: Some(3),
            output,
            span: run_span(),
        }
    }

    fn rendered(error: &strata_build::Error) -> String {
        render_build_error(error, "Dockerfile", DOCKERFILE.as_bytes(), false).to_string()
    }

    #[test]
    fn failed_step_with_output_and_context() {
        let error = step_failed(vec!["one".to_owned(), "two".to_owned()]);
        insta::assert_snapshot!("failed_step", rendered(&error));
    }

    #[test]
    fn failed_step_with_a_long_output_says_it_is_cut() {
        let output = (6..=25).map(|i| format!("line {i}")).collect();
        insta::assert_snapshot!("failed_step_long_output", rendered(&step_failed(output)));
    }

    #[test]
    fn copy_error_in_context() {
        let dockerfile = "FROM local/busybox:latest\nCOPY missing /\nCMD [\"sh\"]\n";
        let start = dockerfile.find("COPY").unwrap();
        let error = strata_build::Error::Copy {
            step: "[2/2] COPY missing /".to_owned(),
            message: "failed to compute cache key: \"/missing\" not found".to_owned(),
            span: Span::new(start, start + "COPY missing /".len()),
        };
        let rendered = render_build_error(&error, "Dockerfile", dockerfile.as_bytes(), false);
        insta::assert_snapshot!("copy_error", rendered.to_string());
    }
}
