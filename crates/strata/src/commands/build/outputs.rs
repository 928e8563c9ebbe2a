//! `--output`, `--push` and `--load` as buildx reads them: CSV `key=value`
//! fields (`type=oci,dest=out.tar`), a bare path meaning `type=local`, `-`
//! meaning `type=tar` to stdout; `dest` defaults to stdout for the file
//! exporters (refused when stdout is a terminal), and `type=docker` without
//! `dest` loads the image into docker.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, bail};
use strata_build::{Compression, Destination, Output, OutputKind, OutputStream};
use strata_oci::Reference;
use strata_store::MediaTypes;

/// One `--output`, parsed but not checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OutputSpec {
    /// `type=`.
    pub(super) kind: String,
    /// `dest=`, if given.
    pub(super) destination: Option<String>,
    /// Every other attribute, keys lower-cased.
    pub(super) attributes: BTreeMap<String, String>,
}

impl OutputSpec {
    /// Parses `text` as buildx does.
    pub(super) fn parse(text: &str) -> anyhow::Result<Self> {
        let fields = strata_dockerfile::csv_fields(text).map_err(|error| anyhow::anyhow!(error))?;
        if fields.len() == 1 && fields[0] == text && !text.starts_with("type=") {
            let kind = if text == "-" { "tar" } else { "local" };
            return Ok(Self {
                kind: kind.to_owned(),
                destination: Some(text.to_owned()),
                attributes: BTreeMap::new(),
            });
        }
        let mut spec = Self {
            kind: String::new(),
            destination: None,
            attributes: BTreeMap::new(),
        };
        for field in fields {
            let Some((key, value)) = field.split_once('=') else {
                bail!("invalid value {field}");
            };
            match key.trim().to_lowercase().as_str() {
                "type" => spec.kind = value.to_owned(),
                "dest" => spec.destination = Some(value.to_owned()),
                key => {
                    spec.attributes.insert(key.to_owned(), value.to_owned());
                }
            }
        }
        if spec.kind.is_empty() {
            bail!("type is required for output");
        }
        Ok(spec)
    }
}

/// The outputs of a build, checked and opened.
#[derive(Debug)]
pub(super) struct Resolved {
    /// What the builder writes.
    pub(super) outputs: Vec<Output>,
    /// Names to push after the build.
    pub(super) push: Vec<Reference>,
    /// The media types pushed images are sent in.
    pub(super) push_media_types: MediaTypes,
    /// The image's names (in the store, archives or registries).
    pub(super) names: Vec<Reference>,
    /// Whether an output writes to stdout.
    pub(super) stdout_used: bool,
    /// A `docker load` reading a docker output.
    pub(super) docker_load: Option<Child>,
    /// Attributes strata ignores.
    pub(super) warnings: Vec<String>,
}

impl Resolved {
    /// Waits for `docker load` (once the build dropped its input), passing
    /// on what it printed.
    pub(super) fn finish_docker_load(&mut self) -> anyhow::Result<()> {
        let Some(child) = self.docker_load.take() else {
            return Ok(());
        };
        let result = child
            .wait_with_output()
            .context("waiting for docker load")?;
        eprint!("{}", String::from_utf8_lossy(&result.stdout));
        if !result.status.success() {
            bail!(
                "docker load failed ({}): {}",
                result.status,
                String::from_utf8_lossy(&result.stderr).trim()
            );
        }
        Ok(())
    }
}

/// Turns `specs` into the builder's outputs, with buildx's rules: `-t`
/// names the image, oci and docker outputs (else their `name=`), one output
/// at most on stdout, and never a terminal.
pub(super) fn resolve(
    specs: &[OutputSpec],
    tags: &[Reference],
    stdout_is_terminal: bool,
) -> anyhow::Result<Resolved> {
    let mut resolved = Resolved {
        outputs: Vec::new(),
        push: Vec::new(),
        push_media_types: MediaTypes::Docker,
        names: Vec::new(),
        stdout_used: false,
        docker_load: None,
        warnings: Vec::new(),
    };
    if specs.is_empty() {
        let mut image = Output::new(OutputKind::Image, Destination::None);
        image.names = tags.to_vec();
        resolved.names = tags.to_vec();
        resolved.outputs.push(image);
        return Ok(resolved);
    }
    for spec in specs {
        resolved.add(spec, tags, stdout_is_terminal)?;
    }
    Ok(resolved)
}

impl Resolved {
    /// Adds the output `spec` describes.
    fn add(
        &mut self,
        spec: &OutputSpec,
        tags: &[Reference],
        stdout_is_terminal: bool,
    ) -> anyhow::Result<()> {
        let mut attributes = spec.attributes.clone();
        let (kind, push) = exporter(&spec.kind)?;
        let push = match attributes.remove("push") {
            Some(value) => parse_bool("push", &value)? || push,
            None => push,
        };
        let names = output_names(&mut attributes, tags)?;
        let mut output = Output::new(kind, Destination::None);
        if let Some(value) = attributes.remove("oci-mediatypes") {
            output.oci_media_types = parse_bool("oci-mediatypes", &value)?;
        }
        output.compression = compression(&mut attributes, output.compression)?;
        if let Some(value) = attributes.remove("tar")
            && !parse_bool("tar", &value)?
        {
            bail!(
                "--output type={}: tar=false (a directory layout) is not supported; write a tar",
                spec.kind
            );
        }
        for key in attributes.keys() {
            self.warnings.push(format!(
                "--output type={}: attribute {key} is not supported and is ignored",
                spec.kind
            ));
        }
        match kind {
            OutputKind::Image if push => {
                if names.is_empty() {
                    bail!("tag is needed when pushing to registry");
                }
                self.push.extend(names.iter().cloned());
                if output.oci_media_types && spec.attributes.contains_key("oci-mediatypes") {
                    self.push_media_types = MediaTypes::Oci;
                }
            }
            OutputKind::Image => {}
            OutputKind::Local => output.destination = local_destination(spec)?,
            OutputKind::Tar | OutputKind::Oci | OutputKind::Docker => {
                output.destination = self.file_destination(spec, kind, stdout_is_terminal)?;
            }
        }
        output.names = names.clone();
        for name in names {
            if !self.names.contains(&name) {
                self.names.push(name);
            }
        }
        self.outputs.push(output);
        Ok(())
    }

    /// Where a tar, oci or docker output goes: a file, stdout (at most one
    /// output, never a terminal), or, for docker without `dest`, `docker load`.
    fn file_destination(
        &mut self,
        spec: &OutputSpec,
        kind: OutputKind,
        stdout_is_terminal: bool,
    ) -> anyhow::Result<Destination> {
        let destination = match spec.destination.as_deref() {
            None if kind == OutputKind::Docker => None,
            None | Some("-") => Some("-"),
            Some(path) => Some(path),
        };
        Ok(match destination {
            Some("-") => {
                if self.stdout_used {
                    bail!("multiple outputs configured to write to stdout");
                }
                if stdout_is_terminal {
                    bail!(
                        "dest file is required for {} exporter. refusing to write to console",
                        spec.kind
                    );
                }
                self.stdout_used = true;
                Destination::Stream(OutputStream::new("stdout", Box::new(std::io::stdout())))
            }
            Some(path) => {
                let path = PathBuf::from(path);
                if path.is_dir() {
                    bail!("destination file {} is a directory", path.display());
                }
                Destination::Path(path)
            }
            None => self.docker_load()?,
        })
    }

    /// Starts the one `docker load` a docker output without `dest` feeds.
    fn docker_load(&mut self) -> anyhow::Result<Destination> {
        if self.docker_load.is_some() {
            bail!("only one docker output can load into docker");
        }
        let mut child = Command::new("docker")
            .arg("load")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context(
                "type=docker without dest loads the image into docker, and docker could not be started (give dest=FILE)",
            )?;
        let Some(input) = child.stdin.take() else {
            bail!("docker load has no input");
        };
        self.docker_load = Some(child);
        Ok(Destination::Stream(OutputStream::new(
            "docker load",
            Box::new(input),
        )))
    }
}

/// An exporter's kind, and whether it pushes by default (`registry`).
fn exporter(name: &str) -> anyhow::Result<(OutputKind, bool)> {
    Ok(match name {
        "image" => (OutputKind::Image, false),
        "registry" => (OutputKind::Image, true),
        "oci" => (OutputKind::Oci, false),
        "docker" => (OutputKind::Docker, false),
        "local" => (OutputKind::Local, false),
        "tar" => (OutputKind::Tar, false),
        other => bail!(
            "--output type={other}: unknown exporter (expected image, registry, oci, docker, local or tar)"
        ),
    })
}

/// An output's names: the `-t` tags when given (its `name=` is then
/// dropped), else its `name=` list.
fn output_names(
    attributes: &mut BTreeMap<String, String>,
    tags: &[Reference],
) -> anyhow::Result<Vec<Reference>> {
    let listed = attributes.remove("name");
    if !tags.is_empty() {
        return Ok(tags.to_vec());
    }
    match listed {
        Some(list) => list
            .split(',')
            .filter(|n| !n.is_empty())
            .map(|n| Reference::parse(n).with_context(|| format!("--output name={n}")))
            .collect(),
        None => Ok(Vec::new()),
    }
}

/// `compression=` and `compression-level=` over the output's default.
fn compression(
    attributes: &mut BTreeMap<String, String>,
    default: Compression,
) -> anyhow::Result<Compression> {
    let level = attributes
        .remove("compression-level")
        .map(|text| {
            text.parse::<i32>()
                .with_context(|| format!("--output compression-level={text}: not a number"))
        })
        .transpose()?;
    if let Some(name) = attributes.remove("compression") {
        return Ok(match name.as_str() {
            "uncompressed" => Compression::None,
            "gzip" => Compression::Gzip {
                level: level.map_or(6, |l| l.clamp(0, 9) as u32),
            },
            "zstd" => Compression::Zstd {
                level: level.unwrap_or(3),
            },
            other => bail!("--output compression={other}: expected uncompressed, gzip or zstd"),
        });
    }
    Ok(match (level, default) {
        (Some(level), Compression::Gzip { .. }) => Compression::Gzip {
            level: level.clamp(0, 9) as u32,
        },
        _ => default,
    })
}

/// A local output's directory (`dest`, required, not stdout, not a file).
fn local_destination(spec: &OutputSpec) -> anyhow::Result<Destination> {
    let Some(destination) = &spec.destination else {
        bail!("dest is required for local exporter");
    };
    if destination == "-" {
        bail!("dest cannot be stdout for local exporter");
    }
    let path = PathBuf::from(destination);
    if path.exists() && !path.is_dir() {
        bail!("destination directory {destination} is a file");
    }
    Ok(Destination::Path(path))
}

/// A boolean option as BuildKit's exporters read it (Go's `strconv.ParseBool`).
fn parse_bool(key: &str, value: &str) -> anyhow::Result<bool> {
    strata_go::strconv::parse_bool(value)
        .ok_or_else(|| anyhow::anyhow!("--output {key}={value}: expected true or false"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> OutputSpec {
        OutputSpec::parse(text).unwrap()
    }

    #[test]
    fn short_forms_are_local_and_tar() {
        assert_eq!(spec("out").kind, "local");
        assert_eq!(spec("out").destination.as_deref(), Some("out"));
        assert_eq!(spec("-").kind, "tar");
        assert_eq!(spec("-").destination.as_deref(), Some("-"));
        let full = spec("type=oci,dest=a.tar,\"Name=x:1,y:2\"");
        assert_eq!(full.kind, "oci");
        assert_eq!(full.destination.as_deref(), Some("a.tar"));
        assert_eq!(full.attributes["name"], "x:1,y:2");
    }

    #[test]
    fn malformed_outputs_are_refused() {
        // As buildx: one field without type= is a directory, even `dest=x`.
        assert_eq!(spec("dest=x").kind, "local");
        let error = OutputSpec::parse("dest=x,a=b").unwrap_err().to_string();
        assert_eq!(error, "type is required for output");
        let error = OutputSpec::parse("type=tar,dest").unwrap_err().to_string();
        assert_eq!(error, "invalid value dest");
        // buildx reads the value with go-csvvalue: its messages and columns.
        let error = OutputSpec::parse("type=\"tar").unwrap_err().to_string();
        assert_eq!(
            error,
            "parse error on line 1, column 6: bare \" in non-quoted-field"
        );
        let error = OutputSpec::parse("\"type=tar").unwrap_err().to_string();
        assert_eq!(
            error,
            "parse error on line 1, column 2: extraneous or missing \" in quoted-field"
        );
        assert_eq!(OutputSpec::parse("").unwrap_err().to_string(), "EOF");
    }

    #[test]
    fn buildx_rules_for_destinations() {
        let tags = [Reference::parse("app:1").unwrap()];
        let error = |specs: &[&str], terminal: bool| {
            let specs: Vec<OutputSpec> = specs.iter().map(|s| spec(s)).collect();
            resolve(&specs, &tags, terminal).unwrap_err().to_string()
        };
        assert_eq!(
            error(&["type=local"], false),
            "dest is required for local exporter"
        );
        assert_eq!(
            error(&["type=local,dest=-"], false),
            "dest cannot be stdout for local exporter"
        );
        assert_eq!(
            error(&["type=tar"], true),
            "dest file is required for tar exporter. refusing to write to console"
        );
        assert_eq!(
            error(&["-", "type=oci"], false),
            "multiple outputs configured to write to stdout"
        );
        assert!(error(&["type=nope"], false).contains("unknown exporter"));
        assert!(error(&["type=oci,tar=false,dest=x"], false).contains("not supported"));
        let specs = [spec("type=registry")];
        assert_eq!(
            resolve(&specs, &[], false).unwrap_err().to_string(),
            "tag is needed when pushing to registry"
        );
    }

    #[test]
    fn tags_name_image_and_archive_outputs() {
        let tags = [Reference::parse("app:1").unwrap()];
        let specs = [
            spec("type=oci,dest=/nonexistent/out.tar,name=other:2,compression=zstd"),
            spec("type=image,push=true"),
            spec("type=local,dest=/nonexistent/dir,unknown=1"),
        ];
        let resolved = resolve(&specs, &tags, true).unwrap();
        assert_eq!(resolved.outputs.len(), 3);
        assert_eq!(resolved.outputs[0].names, tags);
        assert_eq!(
            resolved.outputs[0].compression,
            Compression::Zstd { level: 3 }
        );
        assert!(resolved.outputs[0].oci_media_types);
        assert_eq!(resolved.push, tags);
        assert_eq!(resolved.names, tags);
        assert!(!resolved.stdout_used);
        assert_eq!(resolved.warnings.len(), 1, "{:?}", resolved.warnings);
        // Without -t, name= names.
        let resolved = resolve(
            &[spec("type=docker,dest=x.tar,\"name=a:1,b:2\"")],
            &[],
            true,
        );
        let resolved = resolved.unwrap();
        assert_eq!(resolved.outputs[0].names.len(), 2);
        assert!(!resolved.outputs[0].oci_media_types);
        // No output: the image in the store, named by the tags.
        let resolved = resolve(&[], &tags, true).unwrap();
        assert_eq!(resolved.outputs[0].kind, OutputKind::Image);
        assert_eq!(resolved.outputs[0].names, tags);
    }
}
