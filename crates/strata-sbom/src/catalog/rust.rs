//! Rust binaries built with cargo-auditable: the `.dep-v0` section's compressed dependency tree.
//!
//! The section holds zlib-compressed JSON: `{"packages": [{"name",
//! "version", "source", "kind", "dependencies", "root"}]}`. Crates only
//! needed to build (`"kind": "build"`) are not in the binary, so not reported.

use std::io::Read;

use serde::Deserialize;

use super::elf;
use crate::package::{Kind, Location, Package};

/// Audit data larger than this once inflated is not believed.
const LARGEST_JSON: u64 = 16 << 20;

#[derive(Deserialize)]
struct Audit {
    packages: Vec<Crate>,
}

#[derive(Deserialize)]
struct Crate {
    name: String,
    version: String,
    #[serde(default)]
    kind: Option<String>,
}

/// The crates of an ELF executable's audit data; none if it has none.
pub(super) fn packages(path: &str, bytes: &[u8]) -> Vec<Package> {
    let Some(audit) = elf::section(bytes, ".dep-v0").and_then(audit) else {
        return Vec::new();
    };
    audit
        .packages
        .into_iter()
        .filter(|c| c.kind.as_deref() != Some("build"))
        .map(|c| {
            let mut package = Package::new(Kind::RustCrate, c.name, c.version);
            package.locations.push(Location {
                path: path.to_string(),
                layer: None,
            });
            package
        })
        .collect()
}

fn audit(compressed: &[u8]) -> Option<Audit> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(LARGEST_JSON)
        .read_to_end(&mut json)
        .ok()?;
    serde_json::from_slice(&json).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn write(root: &Path, name: &str, text: &str) {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    /// `app` depends on the local crate `helper` and build-depends on `buildgen`.
    fn workspace(root: &Path) {
        write(
            root,
            "app/Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.3.1\"\nedition = \"2021\"\n\n[dependencies]\nhelper = { path = \"../helper\" }\n\n[build-dependencies]\nbuildgen = { path = \"../buildgen\" }\n\n[profile.dev]\ndebug = false\n",
        );
        write(root, "app/build.rs", "fn main() { buildgen::run(); }\n");
        write(
            root,
            "app/src/main.rs",
            "fn main() { println!(\"{}\", helper::greet()); }\n",
        );
        write(
            root,
            "helper/Cargo.toml",
            "[package]\nname = \"helper\"\nversion = \"1.2.0-beta.1\"\nedition = \"2021\"\n",
        );
        write(
            root,
            "helper/src/lib.rs",
            "pub fn greet() -> &'static str { \"hi\" }\n",
        );
        write(
            root,
            "buildgen/Cargo.toml",
            "[package]\nname = \"buildgen\"\nversion = \"0.0.7\"\nedition = \"2021\"\n",
        );
        write(root, "buildgen/src/lib.rs", "pub fn run() {}\n");
    }

    #[test]
    fn a_binary_built_with_cargo_auditable() {
        let tools = strata_test::workspace_root().join("target/test-tools/cargo-auditable/bin");
        if !strata_test::should_run(
            "a_binary_built_with_cargo_auditable",
            tools.join("cargo-auditable").exists(),
            "cargo-auditable under target/test-tools/cargo-auditable (cargo install cargo-auditable --locked --root target/test-tools/cargo-auditable)",
        ) {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        workspace(dir.path());
        let path = format!(
            "{}:{}",
            tools.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let output = Command::new(cargo)
            .args(["auditable", "build", "--offline", "--quiet"])
            .current_dir(dir.path().join("app"))
            .env("PATH", path)
            .env("CARGO_TARGET_DIR", dir.path().join("target"))
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_BUILD_RUSTFLAGS")
            .env_remove("CARGO_ENCODED_RUSTFLAGS")
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let bytes = std::fs::read(dir.path().join("target/debug/app")).unwrap();
        // The raw audit data records the build dependency too.
        let audit = audit(elf::section(&bytes, ".dep-v0").unwrap()).unwrap();
        let kinds: Vec<_> = audit
            .packages
            .iter()
            .map(|c| (c.name.as_str(), c.kind.as_deref().unwrap_or("runtime")))
            .collect();
        assert!(kinds.contains(&("buildgen", "build")), "{kinds:?}");
        let mut found: Vec<_> = packages("/usr/bin/app", &bytes)
            .into_iter()
            .map(|p| {
                assert_eq!(p.kind, Kind::RustCrate);
                assert_eq!(p.locations[0].path, "/usr/bin/app");
                (p.name, p.version)
            })
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                ("app".to_string(), "0.3.1".to_string()),
                ("helper".into(), "1.2.0-beta.1".into())
            ]
        );
    }

    #[test]
    fn bad_audit_data_is_ignored() {
        assert!(audit(b"not zlib").is_none());
        let mut encoder =
            flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, b"{\"packages\": 3}").unwrap();
        assert!(audit(&encoder.finish().unwrap()).is_none());
        assert!(packages("/x", b"\x7fELF\x02\x01\x01").is_empty());
    }
}
