//! `strata build --build-context NAME=VALUE`, as `docker buildx build` has
//! it: a local directory, `docker-image://` or `oci-layout://` standing in
//! for a name in FROM, `COPY --from` and `RUN --mount=from=`, with
//! BuildKit's rules (its own `.dockerignore`, content-based keys) and
//! buildx's words for bad values.
//!
//! Compared with BuildKit v0.32 (`buildctl --local mydir=DIR --opt
//! context:mydir=local:mydir`): `FROM mydir` then `COPY x /x` and `COPY
//! --from=mydir / /copied/` gives the same three layers (the context's own
//! `.dockerignore` applied, itself kept), steps numbered `1/3` and `2/3`
//! (the FROM unnumbered), and the history two Dockerfile entries plus one
//! `buildkit.exporter.image.v0` entry named after the last layer's step; a
//! stage named `mydir` is replaced by the context, its COPY never run.
//! BuildKit prefixes those steps `stage-0` (an unregistered `--from`
//! state makes two stages); strata does not.

use std::fs;
use std::path::Path;

use crate::harness::Env;

/// A directory holding `files`.
fn directory(files: &[(&str, &str)]) -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = directory.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }
    directory
}

/// Builds `context` with `flags` and a metadata file; the output.
fn build(env: &Env, flags: &[&str], context: &Path) -> std::process::Output {
    env.build(context, None, flags)
}

/// Builds, asserting success; each step's name and whether it was cached.
fn build_ok(env: &Env, flags: &[&str], context: &Path) -> Vec<(String, bool)> {
    let metadata = env.directory.as_path().join("metadata.json");
    let mut all = vec!["--metadata-file", metadata.to_str().unwrap()];
    all.extend_from_slice(flags);
    let output = build(env, &all, context);
    assert!(
        output.status.success(),
        "build {flags:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&fs::read(metadata).unwrap()).unwrap();
    metadata["strata.steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["cached"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// The final file system of a build, as `-o type=local` writes it.
fn built_files(env: &Env, flags: &[&str], context: &Path) -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let output = format!("type=local,dest={}", out.path().display());
    let mut all = vec!["-o", output.as_str()];
    all.extend_from_slice(flags);
    build_ok(env, &all, context);
    out
}

fn read(root: &Path, path: &str) -> String {
    fs::read_to_string(root.join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn a_named_directory_serves_copy_from_mounts_and_from() {
    let Some(env) = Env::with_busybox("a_named_directory_serves_copy_from_mounts_and_from") else {
        return;
    };
    let named = directory(&[
        ("a.txt", "from the named context\n"),
        ("secret.txt", "ignored by its own .dockerignore\n"),
        (
            "main-ignores.txt",
            "the main .dockerignore does not apply\n",
        ),
        (".dockerignore", "secret.txt\n"),
    ]);
    let context = directory(&[
        (
            "Dockerfile",
            "FROM mydir AS files\n\
             FROM local/busybox:latest\n\
             COPY --from=mydir /a.txt /copied.txt\n\
             COPY --from=mydir main-ignores.txt /\n\
             RUN --mount=from=mydir,target=/m cat /m/a.txt > /mounted.txt\n\
             COPY --from=files / /from-stage/\n",
        ),
        (".dockerignore", "main-ignores.txt\n"),
    ]);
    let flag = format!("mydir={}", named.path().display());
    let out = built_files(&env, &["--build-context", &flag], context.path());
    let root = out.path();
    assert_eq!(read(root, "copied.txt"), "from the named context\n");
    assert_eq!(read(root, "mounted.txt"), "from the named context\n");
    assert_eq!(
        read(root, "main-ignores.txt"),
        "the main .dockerignore does not apply\n"
    );
    // FROM a named directory: a stage whose root is its selected content.
    assert_eq!(read(root, "from-stage/a.txt"), "from the named context\n");
    assert!(root.join("from-stage/.dockerignore").is_file());
    assert!(!root.join("from-stage/secret.txt").exists());
}

#[test]
fn a_changed_file_in_a_named_context_reruns_only_the_steps_that_read_it() {
    let Some(env) =
        Env::with_busybox("a_changed_file_in_a_named_context_reruns_only_the_steps_that_read_it")
    else {
        return;
    };
    let named = directory(&[("used.txt", "one\n"), ("unused.txt", "one\n")]);
    let context = directory(&[(
        "Dockerfile",
        "FROM local/busybox:latest\n\
         RUN echo before > /before\n\
         COPY --from=lib used.txt /used.txt\n\
         RUN cat /used.txt > /after\n",
    )]);
    let flag = format!("lib={}", named.path().display());
    let flags = ["--build-context", flag.as_str()];
    let first = build_ok(&env, &flags, context.path());
    assert!(first.iter().all(|(_, cached)| !cached), "{first:?}");
    // A file no step selects changes nothing.
    fs::write(named.path().join("unused.txt"), "two\n").unwrap();
    let second = build_ok(&env, &flags, context.path());
    assert!(second.iter().all(|(_, cached)| *cached), "{second:?}");
    // The copied file reruns the COPY and what follows, not what precedes.
    fs::write(named.path().join("used.txt"), "two\n").unwrap();
    let third = build_ok(&env, &flags, context.path());
    let cached: Vec<bool> = third.iter().map(|(_, cached)| *cached).collect();
    assert_eq!(cached, [true, false, false], "{third:?}");
}

#[test]
fn docker_image_replaces_a_base_everywhere_it_is_named() {
    let Some(env) = Env::with_busybox("docker_image_replaces_a_base_everywhere_it_is_named") else {
        return;
    };
    env.ok(&["tag", "local/busybox:latest", "example.org/team/box:1.0"]);
    let context = directory(&[(
        "Dockerfile",
        "FROM alpine:3.19\n\
         COPY --from=alpine /bin/busybox /copied-busybox\n\
         RUN --mount=from=docker.io/library/alpine:latest,target=/m test -x /m/bin/busybox && echo ok > /mounted\n",
    )]);
    let flags = [
        "-t",
        "replaced",
        "--build-context",
        "alpine:3.19=docker-image://example.org/team/box:1.0",
        "--build-context",
        "alpine=docker-image://local/busybox",
    ];
    let steps = build_ok(&env, &flags, context.path());
    // The FROM of a named context is no numbered step.
    assert_eq!(
        steps[0].0,
        "[1/3] COPY --from=alpine /bin/busybox /copied-busybox"
    );
    let out = built_files(&env, &flags, context.path());
    assert!(out.path().join("copied-busybox").is_file());
    assert_eq!(read(out.path(), "mounted"), "ok\n");
    // The base's layers and history carried over, as from the image itself.
    let inspect: serde_json::Value =
        serde_json::from_str(&env.ok(&["inspect", "replaced"])).unwrap();
    let busybox: serde_json::Value =
        serde_json::from_str(&env.ok(&["inspect", "local/busybox"])).unwrap();
    assert_eq!(
        inspect[0]["RootFS"]["Layers"][0],
        busybox[0]["RootFS"]["Layers"][0]
    );
}

#[test]
fn oci_layout_serves_an_image_from_a_layout_on_disk() {
    let Some(env) = Env::with_busybox("oci_layout_serves_an_image_from_a_layout_on_disk") else {
        return;
    };
    // A layout as `strata build -o type=oci` writes it, extracted.
    let base = directory(&[(
        "Dockerfile",
        "FROM local/busybox:latest\nRUN echo from-layout > /marker\n",
    )]);
    let layout = tempfile::tempdir().unwrap();
    let archive = layout.path().join("image.tar");
    let output = format!("type=oci,dest={},name=example/base:v1", archive.display());
    build_ok(&env, &["-o", &output], base.path());
    let extracted = layout.path().join("layout");
    fs::create_dir(&extracted).unwrap();
    let status = std::process::Command::new("tar")
        .arg("-xf")
        .arg(&archive)
        .arg("-C")
        .arg(&extracted)
        .status()
        .unwrap();
    assert!(status.success());
    let context = directory(&[("Dockerfile", "FROM base\nRUN cat /marker > /seen\n")]);
    // The only manifest, whatever its tag.
    let flag = format!("base=oci-layout://{}", extracted.display());
    let out = built_files(&env, &["--build-context", &flag], context.path());
    assert_eq!(read(out.path(), "seen"), "from-layout\n");
    // By digest.
    let index: serde_json::Value =
        serde_json::from_slice(&fs::read(extracted.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"][0]["digest"].as_str().unwrap();
    let flag = format!("base=oci-layout://{}@{digest}", extracted.display());
    let out = built_files(&env, &["--build-context", &flag], context.path());
    assert_eq!(read(out.path(), "seen"), "from-layout\n");
}

#[test]
fn bad_values_fail_in_buildx_words() {
    let env = Env::new();
    let context = directory(&[("Dockerfile", "FROM scratch\n")]);
    let file = context.path().join("Dockerfile");
    let missing_layout = context.path().join("no-layout");
    let cases: Vec<(String, String)> = vec![
        (
            "novalue".to_owned(),
            "invalid context value: novalue, expected key=value".to_owned(),
        ),
        (
            "Upper=.".to_owned(),
            "invalid context name Upper: invalid reference format: repository name (library/Upper) must be lowercase"
                .to_owned(),
        ),
        (
            "x=/does/not/exist".to_owned(),
            "failed to get build context x: stat /does/not/exist: no such file or directory"
                .to_owned(),
        ),
        (
            format!("x={}", file.display()),
            format!(
                "failed to get build context path {{{} <nil>}}: not a directory",
                file.display()
            ),
        ),
        (
            "x=target:base".to_owned(),
            "unsupported context source target for x".to_owned(),
        ),
        (
            "x=docker-image://Bad:1".to_owned(),
            "invalid reference format: repository name (library/Bad) must be lowercase".to_owned(),
        ),
        (
            "x=https://example.org/repo.git".to_owned(),
            "named context x=https://example.org/repo.git: remote named contexts (git, http) are not supported by strata yet"
                .to_owned(),
        ),
    ];
    for (value, message) in cases {
        let output = build(&env, &["--build-context", &value], context.path());
        assert!(!output.status.success(), "{value} was accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(&message),
            "{value}: expected {message:?} in:\n{stderr}"
        );
    }
    // A layout that is not there fails when the build needs it.
    let context = directory(&[("Dockerfile", "FROM base\n")]);
    let value = format!("base=oci-layout://{}", missing_layout.display());
    let output = build(&env, &["--build-context", &value], context.path());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let index = missing_layout.join("index.json");
    let expected = format!(
        "oci-layout reference \"oci-layout://{}:latest\" could not be resolved: could not read {}: open {}: no such file or directory",
        missing_layout.display(),
        index.display(),
        index.display()
    );
    assert!(
        stderr.contains(&expected),
        "expected {expected:?} in:\n{stderr}"
    );
}
