//! End-to-end: `strata context ls` and `strata context du`.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use assert_cmd::Command;

fn write(root: &Path, path: &str, contents: &str) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

fn strata(store: &Path) -> Command {
    let mut command = Command::cargo_bin("strata").unwrap();
    command.env("STRATA_ROOT", store).env_remove("NO_COLOR");
    command
}

/// A context like a web app's, with a .dockerignore using exceptions.
fn sample_context(root: &Path) {
    write(root, "Dockerfile", "FROM scratch\nCOPY . /\n");
    write(
        root,
        ".dockerignore",
        "# build output and dependencies\nnode_modules\n**/*.log\ndist/*\n!dist/keep.txt\n.git\n",
    );
    write(root, "package.json", "{}\n");
    write(root, "src/index.js", "console.log(1)\n");
    write(root, "src/debug.log", "noise\n");
    write(root, "dist/bundle.js", "x".repeat(5000).as_str());
    write(root, "dist/keep.txt", "keep\n");
    write(
        root,
        "node_modules/left-pad/index.js",
        "y".repeat(20000).as_str(),
    );
    write(root, ".git/HEAD", "ref: refs/heads/main\n");
    write(root, "name with spaces [1].txt", "odd\n");
    symlink("src/index.js", root.join("entry")).unwrap();
}

fn stdout_of(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn ls_lists_what_copy_dot_would_place() {
    let store = tempfile::tempdir().unwrap();
    let context = tempfile::tempdir().unwrap();
    sample_context(context.path());
    let listing = stdout_of(
        strata(store.path())
            .args(["context", "ls"])
            .arg(context.path()),
    );
    insta::assert_snapshot!(listing, @r"
    .dockerignore
    Dockerfile
    dist/
    dist/keep.txt
    entry
    name with spaces [1].txt
    package.json
    src/
    src/index.js
    ");
    // A second run (with the store's metadata cache) prints the same.
    let again = stdout_of(
        strata(store.path())
            .args(["context", "ls"])
            .arg(context.path()),
    );
    assert_eq!(again, listing);
}

#[test]
fn dockerfile_specific_ignore_file_is_used_with_f() {
    let store = tempfile::tempdir().unwrap();
    let context = tempfile::tempdir().unwrap();
    sample_context(context.path());
    write(context.path(), "docker/app.Dockerfile", "FROM scratch\n");
    write(
        context.path(),
        "docker/app.Dockerfile.dockerignore",
        "*\n!src\n",
    );
    let listing = stdout_of(
        strata(store.path())
            .args(["context", "ls", "-f"])
            .arg(context.path().join("docker/app.Dockerfile"))
            .arg(context.path()),
    );
    insta::assert_snapshot!(listing, @r"
    src/
    src/debug.log
    src/index.js
    ");
}

#[test]
fn du_shows_sent_and_ignored() {
    let store = tempfile::tempdir().unwrap();
    let context = tempfile::tempdir().unwrap();
    sample_context(context.path());
    let usage = stdout_of(
        strata(store.path())
            .args(["context", "du"])
            .arg(context.path()),
    );
    insta::assert_snapshot!(usage, @r"
    sent:           6 files      130 B  (130 bytes)
    ignored:        4 files    25.0 kB  (25027 bytes)
    largest ignored directories:
         20.0 kB        1 files  node_modules/
            21 B        1 files  .git/
    largest included directories:
            15 B        1 files  src/
             5 B        1 files  dist/
    ");
}

#[test]
fn tar_context_on_stdin() {
    let store = tempfile::tempdir().unwrap();
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents) in [
        ("Dockerfile", "FROM scratch\n"),
        (".dockerignore", "secret\n"),
        ("secret", "s"),
        ("app/main", "m"),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(contents.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        builder
            .append_data(&mut header, path, contents.as_bytes())
            .unwrap();
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(&builder.into_inner().unwrap()).unwrap();
    let archive = encoder.finish().unwrap();
    let listing = stdout_of(
        strata(store.path())
            .args(["context", "ls", "-"])
            .write_stdin(archive),
    );
    insta::assert_snapshot!(listing, @r"
    .dockerignore
    Dockerfile
    app/
    app/main
    ");
}

fn filtered(text: &str, context: &Path) -> String {
    text.replace(&context.display().to_string(), "[CONTEXT]")
}

#[test]
fn special_files_warn_on_stderr() {
    let store = tempfile::tempdir().unwrap();
    let context = tempfile::tempdir().unwrap();
    write(context.path(), "file", "x");
    let _socket =
        std::os::unix::net::UnixListener::bind(context.path().join("control.sock")).unwrap();
    let output = strata(store.path())
        .args(["context", "ls"])
        .arg(context.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8_lossy(&output.stdout), "file\n");
    insta::assert_snapshot!(String::from_utf8_lossy(&output.stderr), @"warning: skipping socket control.sock (only files, directories and symlinks are sent)");
}

#[test]
fn bad_dockerignore_names_the_file() {
    let store = tempfile::tempdir().unwrap();
    let context = tempfile::tempdir().unwrap();
    write(context.path(), ".dockerignore", "ok\n!\n");
    let output = strata(store.path())
        .args(["context", "ls"])
        .arg(context.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    insta::assert_snapshot!(filtered(&String::from_utf8_lossy(&output.stderr), context.path()), @r#"
    error: invalid patterns in [CONTEXT]/.dockerignore: illegal exclusion pattern: "!"
    "#);
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    if !strata_test::should_run_as_root(
        "unreadable_file_is_an_error_naming_it (needs setpriv to drop root)",
    ) {
        return;
    }
    let store = tempfile::tempdir().unwrap();
    let context = tempfile::tempdir().unwrap();
    fs::set_permissions(context.path(), fs::Permissions::from_mode(0o755)).unwrap();
    write(context.path(), "ok", "x");
    write(context.path(), "locked", "secret");
    fs::set_permissions(
        context.path().join("locked"),
        fs::Permissions::from_mode(0o000),
    )
    .unwrap();
    let binary = assert_cmd::cargo::cargo_bin("strata");
    let output = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(binary)
        .args(["context", "ls"])
        .arg(context.path())
        .env_remove("STRATA_ROOT")
        .output()
        .unwrap();
    assert!(!output.status.success());
    drop(store);
    insta::assert_snapshot!(filtered(&String::from_utf8_lossy(&output.stderr), context.path()), @r"
    error: open [CONTEXT]/locked: Permission denied (os error 13)
    ");
}
