//! `--cache-to` and `--cache-from` as buildx reads them (its
//! `ParseCacheEntry`): CSV `key=value` fields with a `type`, or a bare
//! reference meaning `type=registry,ref=REF`; then BuildKit's attributes
//! of each cache backend.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{anyhow, bail};
use strata_build::{CacheExport, CacheImport, CacheLocation, CacheMode, Compression};
use strata_oci::Reference;

/// One entry: its type and attributes (keys lower-cased, as buildx does).
fn entry(text: &str) -> anyhow::Result<(String, BTreeMap<String, String>)> {
    let fields = strata_dockerfile::csv_fields(text).map_err(|e| anyhow!(e))?;
    if let [only] = fields.as_slice()
        && !only.contains('=')
    {
        return Ok((
            "registry".to_owned(),
            BTreeMap::from([("ref".to_owned(), only.clone())]),
        ));
    }
    let mut kind = String::new();
    let mut attributes = BTreeMap::new();
    for field in &fields {
        let Some((key, value)) = field.split_once('=') else {
            bail!("invalid value {field}");
        };
        match key.to_ascii_lowercase().as_str() {
            "type" => kind = value.to_owned(),
            key => {
                attributes.insert(key.to_owned(), value.to_owned());
            }
        }
    }
    if kind.is_empty() {
        bail!("type required form> {text:?}");
    }
    Ok((kind, attributes))
}

fn reference(attributes: &BTreeMap<String, String>, kind: &str) -> anyhow::Result<Reference> {
    let Some(text) = attributes.get("ref").filter(|r| !r.is_empty()) else {
        bail!("ref required for {kind} cache");
    };
    Reference::parse(text).map_err(|e| anyhow!("invalid reference {text:?}: {e}"))
}

fn boolean(
    attributes: &BTreeMap<String, String>,
    key: &str,
    default: bool,
) -> anyhow::Result<bool> {
    match attributes.get(key).map(String::as_str) {
        None => Ok(default),
        Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => bail!("invalid boolean value for {key}: {other:?}"),
    }
}

/// `--cache-to` values.
pub(super) fn exports(values: &[String]) -> anyhow::Result<Vec<CacheExport>> {
    values
        .iter()
        .filter(|v| !v.is_empty())
        .map(|value| export(value).map_err(|e| anyhow!("--cache-to {value}: {e}")))
        .collect()
}

fn export(text: &str) -> anyhow::Result<CacheExport> {
    let (kind, attributes) = entry(text)?;
    let location = match kind.as_str() {
        "registry" => CacheLocation::Registry(reference(&attributes, "registry")?),
        "local" => local(&attributes, "dest", "exporter")?,
        "inline" => CacheLocation::Inline,
        other => bail!("unknown cache exporter: {other:?}"),
    };
    let mut export = CacheExport::new(location);
    export.mode = match attributes.get("mode").map(String::as_str) {
        None | Some("min") => CacheMode::Min,
        Some("max") if export.location != CacheLocation::Inline => CacheMode::Max,
        Some("max") => bail!("inline cache only supports mode=min"),
        Some(other) => bail!("invalid mode: {other}"),
    };
    export.image_manifest = boolean(&attributes, "image-manifest", true)?;
    export.oci_media_types = boolean(&attributes, "oci-mediatypes", true)?;
    export.ignore_error = boolean(&attributes, "ignore-error", false)?;
    export.compression = match attributes.get("compression").map(String::as_str) {
        None | Some("gzip") => Compression::GZIP,
        Some("zstd") => Compression::ZSTD,
        Some("uncompressed") => Compression::None,
        Some(other) => bail!("unsupported compression type {other}"),
    };
    if let Some(level) = attributes.get("compression-level") {
        let level: i32 = level
            .parse()
            .map_err(|_| anyhow!("invalid compression-level: {level}"))?;
        export.compression = match export.compression {
            Compression::Gzip { .. } if (0..=9).contains(&level) => Compression::Gzip {
                level: level as u32,
            },
            Compression::Zstd { .. } if (-7..=22).contains(&level) => Compression::Zstd { level },
            Compression::None => Compression::None,
            _ => bail!("invalid compression-level: {level}"),
        };
    }
    if export.image_manifest && !export.oci_media_types {
        bail!("invalid configuration for cache: image-manifest=true requires oci-mediatypes=true");
    }
    Ok(export)
}

/// `--cache-from` values, in order.
pub(super) fn imports(values: &[String]) -> anyhow::Result<Vec<CacheImport>> {
    values
        .iter()
        .filter(|v| !v.is_empty())
        .map(|value| import(value).map_err(|e| anyhow!("--cache-from {value}: {e}")))
        .collect()
}

fn import(text: &str) -> anyhow::Result<CacheImport> {
    let (kind, attributes) = entry(text)?;
    let location = match kind.as_str() {
        "registry" => CacheLocation::Registry(reference(&attributes, "registry")?),
        "local" => local(&attributes, "src", "importer")?,
        other => bail!("unknown cache importer: {other:?}"),
    };
    Ok(CacheImport { location })
}

/// A local cache: the directory `key` names (`dest` to export, `src` to
/// import) and `tag=` (default `latest`).
fn local(
    attributes: &BTreeMap<String, String>,
    key: &str,
    role: &str,
) -> anyhow::Result<CacheLocation> {
    let Some(directory) = attributes.get(key).filter(|d| !d.is_empty()) else {
        bail!("{key} required for local cache {role}");
    };
    let tag = attributes
        .get("tag")
        .filter(|t| !t.is_empty())
        .cloned()
        .unwrap_or_else(|| "latest".to_owned());
    Ok(CacheLocation::Local {
        directory: PathBuf::from(directory),
        tag,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_export(text: &str) -> anyhow::Result<CacheExport> {
        Ok(exports(&[text.to_owned()])?.remove(0))
    }

    #[test]
    fn entries_are_read_as_buildx_reads_them() {
        let bare = imports(&["127.0.0.1:5000/cache:main".to_owned()]).unwrap();
        assert_eq!(
            bare[0].location,
            CacheLocation::Registry(Reference::parse("127.0.0.1:5000/cache:main").unwrap())
        );
        let export = one_export(
            "type=registry,ref=r.example/c:1,mode=max,compression=zstd,ignore-error=true",
        )
        .unwrap();
        assert_eq!(export.mode, CacheMode::Max);
        assert_eq!(export.compression, Compression::ZSTD);
        assert!(export.ignore_error && export.image_manifest && export.oci_media_types);
        let local = one_export("type=local,dest=/tmp/c,tag=v2").unwrap();
        assert_eq!(
            local.location,
            CacheLocation::Local {
                directory: "/tmp/c".into(),
                tag: "v2".to_owned()
            }
        );
        assert_eq!(
            one_export("type=inline").unwrap().location,
            CacheLocation::Inline
        );
        let legacy =
            one_export("type=registry,ref=r/c,image-manifest=false,oci-mediatypes=false").unwrap();
        assert!(!legacy.image_manifest && !legacy.oci_media_types);
    }

    #[test]
    fn bad_entries_are_refused_in_buildx_and_buildkit_words() {
        let message = |text: &str| format!("{:#}", one_export(text).unwrap_err());
        assert_eq!(
            message("ref=x"),
            r#"--cache-to ref=x: type required form> "ref=x""#
        );
        assert_eq!(
            message("type=local,x"),
            "--cache-to type=local,x: invalid value x"
        );
        assert!(message("type=s3,ref=x").contains(r#"unknown cache exporter: "s3""#));
        assert!(message("type=local").contains("dest required"));
        assert!(message("type=registry,ref=r/c,mode=all").contains("invalid mode: all"));
        assert!(
            message("type=registry,ref=r/c,oci-mediatypes=false")
                .contains("requires oci-mediatypes=true")
        );
        assert!(message("type=inline,mode=max").contains("mode=min"));
        assert!(message("type=registry,ref=r/c,compression=estargz").contains("estargz"));
        let import = |text: &str| format!("{:#}", imports(&[text.to_owned()]).unwrap_err());
        assert!(import("type=local").contains("src required"));
        assert!(import("type=inline").contains(r#"unknown cache importer: "inline""#));
    }
}
