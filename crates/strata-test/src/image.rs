//! Small images generated in tests: layers from generated files, a config,
//! a manifest; written as an OCI layout and pushed with skopeo, so that what
//! strata pulls was made by a third party.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Command;

use strata_oci::{
    ContainerConfig, Descriptor, Digest, History, ImageConfiguration, ImageIndex, ImageManifest,
    Platform, RootFs, media_type,
};

/// A complete image held in memory.
#[derive(Debug, Clone)]
pub struct TestImage {
    /// Every blob (config, layers, manifest) by digest.
    pub blobs: BTreeMap<Digest, Vec<u8>>,
    /// The manifest's bytes.
    pub manifest: Vec<u8>,
    /// The manifest's descriptor (with the platform set).
    pub descriptor: Descriptor,
    /// The configuration.
    pub config: ImageConfiguration,
    /// The configuration's digest (Docker's image ID).
    pub config_digest: Digest,
    /// The layers' descriptors.
    pub layers: Vec<Descriptor>,
}

/// Builds a [`TestImage`]: each `layer` call adds one gzip layer of the given files.
#[derive(Debug, Clone)]
pub struct TestImageBuilder {
    layers: Vec<Vec<(String, Vec<u8>)>>,
    platform: Platform,
    config: ContainerConfig,
    docker_media_types: bool,
    created: String,
}

impl Default for TestImageBuilder {
    fn default() -> Self {
        Self {
            layers: Vec::new(),
            platform: Platform::host(),
            config: ContainerConfig::default(),
            docker_media_types: false,
            created: "2024-01-02T03:04:05Z".to_owned(),
        }
    }
}

impl TestImageBuilder {
    /// An image for the host platform with no layers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a layer holding `files` (path, contents); directories are implied.
    pub fn layer(mut self, files: &[(&str, &[u8])]) -> Self {
        self.layers.push(
            files
                .iter()
                .map(|(path, contents)| ((*path).to_owned(), contents.to_vec()))
                .collect(),
        );
        self
    }

    /// Adds a layer of `size` pseudo-random (incompressible) bytes in one file.
    pub fn random_layer(self, name: &str, size: usize, seed: u64) -> Self {
        let mut state = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut data = Vec::with_capacity(size);
        while data.len() < size {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            data.extend_from_slice(&state.to_le_bytes());
        }
        data.truncate(size);
        self.layer(&[(name, &data)])
    }

    /// Sets the platform.
    pub fn platform(mut self, platform: &str) -> Self {
        self.platform = platform.parse().expect("a valid platform");
        self
    }

    /// Sets the runtime configuration.
    pub fn config(mut self, config: ContainerConfig) -> Self {
        self.config = config;
        self
    }

    /// Uses Docker schema 2 media types instead of OCI's.
    pub fn docker_media_types(mut self) -> Self {
        self.docker_media_types = true;
        self
    }

    /// Sets the creation time.
    pub fn created(mut self, created: &str) -> Self {
        self.created = created.to_owned();
        self
    }

    /// Builds the image.
    pub fn build(self) -> TestImage {
        let mut blobs = BTreeMap::new();
        let mut layers = Vec::new();
        let mut diff_ids = Vec::new();
        let mut history = Vec::new();
        let layer_type = if self.docker_media_types {
            media_type::DOCKER_LAYER_GZIP
        } else {
            media_type::OCI_LAYER_GZIP
        };
        for files in &self.layers {
            let tar = layer_tar(files);
            diff_ids.push(Digest::of(&tar));
            let compressed = gzip(&tar);
            let descriptor = Descriptor::of(layer_type, &compressed);
            blobs.insert(descriptor.digest, compressed);
            layers.push(descriptor);
            history.push(History {
                created: Some(self.created.clone()),
                created_by: Some(format!("COPY {} files / # buildkit", files.len())),
                comment: Some("buildkit.dockerfile.v0".to_owned()),
                ..History::default()
            });
        }
        let config = ImageConfiguration {
            architecture: self.platform.architecture.clone(),
            os: self.platform.os.clone(),
            variant: self.platform.variant.clone(),
            created: Some(self.created.clone()),
            config: Some(self.config.clone()),
            rootfs: RootFs {
                kind: "layers".to_owned(),
                diff_ids,
            },
            history,
            ..ImageConfiguration::default()
        };
        let config_bytes = config.to_json();
        let config_type = if self.docker_media_types {
            media_type::DOCKER_CONFIG
        } else {
            media_type::OCI_CONFIG
        };
        let config_descriptor = Descriptor::of(config_type, &config_bytes);
        let config_digest = config_descriptor.digest;
        blobs.insert(config_digest, config_bytes);
        let mut manifest = ImageManifest::new(config_descriptor, layers.clone());
        if self.docker_media_types {
            manifest.media_type = Some(media_type::DOCKER_MANIFEST.to_owned());
        }
        let manifest_bytes = manifest.to_json();
        let mut descriptor = Descriptor::of(manifest.media_type(), &manifest_bytes);
        descriptor.platform = Some(self.platform.clone());
        blobs.insert(descriptor.digest, manifest_bytes.clone());
        TestImage {
            blobs,
            manifest: manifest_bytes,
            descriptor,
            config,
            config_digest,
            layers,
        }
    }
}

impl TestImage {
    /// A builder.
    pub fn builder() -> TestImageBuilder {
        TestImageBuilder::new()
    }

    /// Writes an OCI layout at `directory` with `ref_name` pointing at this image.
    pub fn write_layout(&self, directory: &Path, ref_name: &str) {
        let mut descriptor = self.descriptor.clone();
        descriptor.platform = None;
        write_layout(directory, &self.blobs, descriptor, ref_name);
    }

    /// Pushes the image to `destination` (`host:port/repo:tag`) with skopeo.
    pub fn push_with_skopeo(&self, destination: &str, credentials: Option<(&str, &str)>) {
        let directory = tempfile::tempdir().expect("temporary directory");
        write_dir(directory.path(), &self.blobs, &self.manifest, &[]);
        skopeo_copy(directory.path(), destination, credentials, false);
    }
}

/// An index (`docker_list`: a Docker manifest list) over `images`, pushed with skopeo `--all`.
pub fn push_index_with_skopeo(
    images: &[&TestImage],
    docker_list: bool,
    destination: &str,
) -> Digest {
    let mut index = ImageIndex::new(
        images
            .iter()
            .map(|image| image.descriptor.clone())
            .collect(),
    );
    if docker_list {
        index.media_type = Some(media_type::DOCKER_MANIFEST_LIST.to_owned());
    }
    let bytes = index.to_json();
    let descriptor = Descriptor::of(index.media_type(), &bytes);
    let mut blobs = BTreeMap::new();
    for image in images {
        blobs.extend(image.blobs.clone());
    }
    blobs.insert(descriptor.digest, bytes);
    let directory = tempfile::tempdir().expect("temporary directory");
    let children: Vec<&[u8]> = images
        .iter()
        .map(|image| image.manifest.as_slice())
        .collect();
    write_dir(
        directory.path(),
        &blobs,
        &blobs[&descriptor.digest],
        &children,
    );
    skopeo_copy(directory.path(), destination, None, true);
    descriptor.digest
}

fn write_layout(
    directory: &Path,
    blobs: &BTreeMap<Digest, Vec<u8>>,
    mut descriptor: Descriptor,
    ref_name: &str,
) {
    let blob_directory = directory.join("blobs/sha256");
    std::fs::create_dir_all(&blob_directory).expect("create layout");
    for (digest, bytes) in blobs {
        std::fs::write(blob_directory.join(digest.hex()), bytes).expect("write blob");
    }
    std::fs::write(
        directory.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .expect("write oci-layout");
    descriptor.annotations.insert(
        strata_oci::ANNOTATION_REF_NAME.to_owned(),
        ref_name.to_owned(),
    );
    let index = ImageIndex::new(vec![descriptor]);
    std::fs::write(directory.join("index.json"), index.to_json()).expect("write index.json");
}

/// skopeo's `dir:` transport keeps media types exactly (its `oci:` reader
/// ignores Docker media types): `manifest.json`, blobs by hex, and for a list
/// each instance's manifest as `<hex>.manifest.json`.
fn write_dir(
    directory: &Path,
    blobs: &BTreeMap<Digest, Vec<u8>>,
    manifest: &[u8],
    children: &[&[u8]],
) {
    std::fs::write(
        directory.join("version"),
        "Directory Transport Version: 1.1\n",
    )
    .expect("write version");
    std::fs::write(directory.join("manifest.json"), manifest).expect("write manifest");
    for (digest, bytes) in blobs {
        std::fs::write(directory.join(digest.hex()), bytes).expect("write blob");
    }
    for child in children {
        std::fs::write(
            directory.join(format!("{}.manifest.json", Digest::of(child).hex())),
            child,
        )
        .expect("write instance manifest");
    }
}

fn skopeo_copy(source: &Path, destination: &str, credentials: Option<(&str, &str)>, all: bool) {
    let mut command = Command::new("skopeo");
    command.args([
        "--insecure-policy",
        "copy",
        "--dest-tls-verify=false",
        "--preserve-digests",
    ]);
    if all {
        command.arg("--all");
    }
    if let Some((user, password)) = credentials {
        command.arg(format!("--dest-creds={user}:{password}"));
    }
    command
        .arg(format!("dir:{}", source.display()))
        .arg(format!("docker://{destination}"));
    let output = command.output().expect("skopeo runs");
    assert!(
        output.status.success(),
        "skopeo copy to {destination} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A deterministic tar of `files` (parents created, mtime 0, root-owned).
pub fn layer_tar(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut directories = std::collections::BTreeSet::new();
    for (path, contents) in files {
        let mut parent = Path::new(path).parent();
        let mut missing = Vec::new();
        while let Some(directory) = parent.filter(|p| !p.as_os_str().is_empty()) {
            if directories.insert(directory.to_path_buf()) {
                missing.push(directory.to_path_buf());
            }
            parent = directory.parent();
        }
        for directory in missing.into_iter().rev() {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(tar::EntryType::Directory);
            header.set_mode(0o755);
            header.set_size(0);
            header.set_mtime(0);
            builder
                .append_data(
                    &mut header,
                    format!("{}/", directory.display()),
                    std::io::empty(),
                )
                .expect("tar directory");
        }
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_mode(0o644);
        header.set_size(contents.len() as u64);
        header.set_mtime(0);
        builder
            .append_data(&mut header, path, contents.as_slice())
            .expect("tar file");
    }
    builder.into_inner().expect("tar finish")
}

/// gzip of `data` (fast level; tests do not care about ratio).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(data).expect("gzip");
    encoder.finish().expect("gzip")
}
