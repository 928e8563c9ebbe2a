use std::path::PathBuf;

/// The workspace root (the directory holding the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    // This crate lives at <root>/crates/strata-test.
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(|crates| crates.parent())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// `../shared` beside the workspace root, or `STRATA_SHARED_DIR`.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("STRATA_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("..").join("shared"),
    }
}

/// The conformance data directory, or `None` (with a loud message) when it is
/// absent. Panics when it is absent and `STRATA_REQUIRE_CONFORMANCE=1`.
pub fn conformance_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("STRATA_CONFORMANCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => shared_dir().join("conformance"),
    };
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("STRATA_REQUIRE_CONFORMANCE").is_some_and(|v| v == "1") {
        panic!(
            "conformance data not found at {} and STRATA_REQUIRE_CONFORMANCE=1",
            dir.display()
        );
    }
    crate::privileged::say_skipped(&format!("conformance data not found at {}", dir.display()));
    None
}

/// A reference tool that `scripts/install-test-deps` installs under
/// `target/test-tools` (a Python venv, npm packages, a Go toolchain):
/// `test_tool("venv/bin/python")`. `None`, with a loud SKIPPED line, when it
/// is missing; a panic when `STRATA_REQUIRE_PRIVILEGED=1`.
pub fn test_tool(relative: &str) -> Option<PathBuf> {
    let path = workspace_root().join("target/test-tools").join(relative);
    let present = path.exists();
    crate::privileged::should_run(
        &format!("test tool {relative}"),
        present,
        &format!("{} (run scripts/install-test-deps)", path.display()),
    )
    .then_some(path)
}
