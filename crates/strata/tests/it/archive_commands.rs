//! `save`, `load` and `import`, checked by skopeo, umoci and (when a daemon
//! answers) docker itself; and the store's layout read by skopeo and umoci.

use std::process::Command;

use crate::harness;
use crate::harness::Env;

fn tool_ok(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A directory with a few files, a symlink and a subdirectory.
fn rootfs() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    let root = directory.path();
    std::fs::create_dir_all(root.join("etc/app")).unwrap();
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::write(root.join("etc/app/config"), "key=value\n").unwrap();
    std::fs::write(root.join("bin/tool"), "#!/bin/sh\necho tool\n").unwrap();
    std::os::unix::fs::symlink("tool", root.join("bin/alias")).unwrap();
    directory
}

#[test]
fn import_is_reproducible_with_source_date_epoch() {
    let source = rootfs();
    let env = Env::new();
    let import = |name: &str| {
        let output = env
            .command()
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args([
                "import",
                "-c",
                "CMD [\"/bin/tool\"]",
                "-c",
                "ENV A=1",
                "-c",
                "EXPOSE 8080",
                "-m",
                "imported",
                source.path().to_str().unwrap(),
                name,
            ])
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let first = import("repro:one");
    let second = import("repro:two");
    assert_eq!(
        first, second,
        "same input and SOURCE_DATE_EPOCH give the same image ID"
    );
    assert_eq!(
        env.ok(&[
            "inspect",
            "-f",
            "{{.Created}} {{json .Config}} {{.Comment}}",
            "repro:one"
        ])
        .trim(),
        r#"2023-11-14T22:13:20Z {"ExposedPorts":{"8080/tcp":{}},"Env":["A=1"],"Cmd":["/bin/tool"]} imported"#
    );
    // A tarball (gzip) of the same tree imports too, and docker's history shape shows it.
    let tarball = env.directory.as_path().join("rootfs.tar.gz");
    tool_ok(
        Command::new("tar")
            .arg("-czf")
            .arg(&tarball)
            .arg("-C")
            .arg(source.path())
            .arg("."),
    );
    env.ok(&["import", tarball.to_str().unwrap(), "fromtar:latest"]);
    let history = env.ok(&["history", "--format", "{{.Comment}}", "fromtar"]);
    assert_eq!(history, format!("Imported from {}\n", tarball.display()));
    let bad = env.run(&["import", "-c", "RUN make", source.path().to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RUN is not supported by import"));
    let missing = env.run(&["import", "/nonexistent/rootfs.tar"]);
    insta::assert_snapshot!("import_missing", String::from_utf8_lossy(&missing.stderr));
    env.assert_consistent();
}

#[test]
fn save_and_load_are_read_by_skopeo_umoci_and_docker() {
    let source = rootfs();
    let env = Env::new();
    let name = "localhost/strata-test/saved:v1";
    let id = env.ok(&[
        "import",
        "-c",
        "CMD [\"/bin/tool\"]",
        source.path().to_str().unwrap(),
        name,
    ]);
    let id = id.trim();
    let docker_archive = env.directory.as_path().join("docker.tar");
    let oci_archive = env.directory.as_path().join("oci.tar");
    env.ok(&["save", "-o", docker_archive.to_str().unwrap(), name]);
    env.ok(&[
        "save",
        "--format",
        "oci",
        "-o",
        oci_archive.to_str().unwrap(),
        name,
    ]);

    // skopeo reads the docker archive (manifest.json) and the OCI archive.
    let inspected = tool_ok(
        Command::new("skopeo")
            .args(["inspect", "--config"])
            .arg(format!("docker-archive:{}", docker_archive.display())),
    );
    let config: serde_json::Value = serde_json::from_str(&inspected).unwrap();
    assert_eq!(config["config"]["Cmd"][0], "/bin/tool");
    let inspected = tool_ok(
        Command::new("skopeo")
            .args(["inspect", "--format", "{{.Digest}}"])
            .arg(format!(
                "oci-archive:{}:{}",
                oci_archive.display(),
                "localhost/strata-test/saved:v1"
            )),
    );
    let manifest_digest = env.ok(&["inspect", "-f", "{{.Descriptor.digest}}", name]);
    assert_eq!(inspected.trim(), manifest_digest.trim());

    // The store itself is an OCI layout: skopeo and umoci address images by full name.
    let layout = env.root().join("images");
    let inspected = tool_ok(
        Command::new("skopeo")
            .args(["inspect", "--format", "{{.Digest}}"])
            .arg(format!("oci:{}:{name}", layout.display())),
    );
    assert_eq!(inspected.trim(), manifest_digest.trim());
    let bundle = env.directory.as_path().join("bundle");
    tool_ok(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!("{}:{name}", layout.display()))
            .arg(&bundle),
    );
    assert_eq!(
        std::fs::read_to_string(bundle.join("rootfs/etc/app/config")).unwrap(),
        "key=value\n"
    );
    assert_eq!(
        std::fs::read_link(bundle.join("rootfs/bin/alias"))
            .unwrap()
            .to_str(),
        Some("tool")
    );
    // skopeo copies out of the store and into a new layout; umoci reads that too.
    let copied = env.directory.as_path().join("copied");
    tool_ok(
        Command::new("skopeo")
            .args(["--insecure-policy", "copy"])
            .arg(format!("oci:{}:{name}", layout.display()))
            .arg(format!("oci:{}:copy", copied.display())),
    );
    tool_ok(
        Command::new("umoci")
            .args(["stat", "--image"])
            .arg(format!("{}:copy", copied.display())),
    );

    // Both archives load into a fresh store with the same ID and name.
    for archive in [&docker_archive, &oci_archive] {
        let fresh = Env::new();
        let loaded = fresh.ok(&["load", "-i", archive.to_str().unwrap()]);
        assert_eq!(loaded, format!("Loaded image: {name}\n"));
        assert_eq!(fresh.ok(&["inspect", "-f", "{{.Id}}", name]).trim(), id);
        fresh.assert_consistent();
    }
    // Saved by ID: no names in the archive; loaded as an unnamed image.
    let by_id = env.directory.as_path().join("by-id.tar");
    env.ok(&["save", "-o", by_id.to_str().unwrap(), &id[7..19]]);
    let fresh = Env::new();
    assert_eq!(
        fresh.ok(&["load", "-i", by_id.to_str().unwrap()]),
        format!("Loaded image ID: {id}\n")
    );
    assert_eq!(
        fresh.ok(&["images", "--format", "{{.Repository}} {{.Tag}} {{.ID}}"]),
        format!("<none> <none> {}\n", &id[7..19])
    );
    assert_eq!(
        fresh.ok(&["inspect", "-f", "{{json .RepoTags}}", id]),
        "[]\n"
    );
    // A gzip-compressed archive on standard input.
    let compressed = strata_test::gzip(&std::fs::read(&docker_archive).unwrap());
    let fresh = Env::new();
    let loaded = fresh
        .command()
        .arg("load")
        .write_stdin(compressed)
        .output()
        .unwrap();
    assert!(
        loaded.status.success(),
        "{}",
        String::from_utf8_lossy(&loaded.stderr)
    );
    // An archive skopeo wrote (legacy docker-archive layout) loads too.
    let skopeo_archive = env.directory.as_path().join("skopeo.tar");
    tool_ok(
        Command::new("skopeo")
            .args(["--insecure-policy", "copy"])
            .arg(format!("oci:{}:{name}", layout.display()))
            .arg(format!(
                "docker-archive:{}:skopeo/made:v2",
                skopeo_archive.display()
            )),
    );
    let fresh = Env::new();
    assert_eq!(
        fresh.ok(&["load", "-i", skopeo_archive.to_str().unwrap()]),
        "Loaded image: skopeo/made:v2\n"
    );
    assert_eq!(
        fresh
            .ok(&["inspect", "-f", "{{.Id}}", "skopeo/made:v2"])
            .trim(),
        id
    );
    // Not an archive: a clear error, nothing named.
    let junk = env.directory.as_path().join("junk.tar");
    std::fs::write(&junk, b"not a tar at all").unwrap();
    let failed = fresh.run(&["load", "-i", junk.to_str().unwrap()]);
    assert!(!failed.status.success());
    insta::assert_snapshot!(
        "load_junk",
        String::from_utf8_lossy(&failed.stderr).replace(junk.to_str().unwrap(), "[FILE]")
    );

    // docker load accepts the docker archive, when a daemon answers.
    if harness::docker_daemon("docker load of strata save's archive") {
        let tag = format!("localhost/strata-test/saved:{}", std::process::id());
        env.ok(&["tag", name, &tag]);
        let tagged_archive = env.directory.as_path().join("tagged.tar");
        env.ok(&["save", "-o", tagged_archive.to_str().unwrap(), &tag]);
        let loaded = tool_ok(
            Command::new("docker")
                .arg("load")
                .arg("-i")
                .arg(&tagged_archive),
        );
        assert!(loaded.contains(&format!("Loaded image: {tag}")), "{loaded}");
        let docker_id =
            tool_ok(Command::new("docker").args(["image", "inspect", "-f", "{{.Id}}", &tag]));
        // And what docker saves (its own archive layout, old or new) loads back into strata.
        let from_docker = env.directory.as_path().join("from-docker.tar");
        let saved = Command::new("docker")
            .args(["save", "-o"])
            .arg(&from_docker)
            .arg(&tag)
            .output()
            .unwrap();
        let _ = Command::new("docker").args(["rmi", &tag]).output();
        assert!(
            saved.status.success(),
            "{}",
            String::from_utf8_lossy(&saved.stderr)
        );
        assert_eq!(docker_id.trim(), id);
        let fresh = Env::new();
        assert_eq!(
            fresh.ok(&["load", "-i", from_docker.to_str().unwrap()]),
            format!("Loaded image: {tag}\n")
        );
        assert_eq!(fresh.ok(&["inspect", "-f", "{{.Id}}", &tag]).trim(), id);
        fresh.assert_consistent();
    } else {
        eprintln!("SKIPPED docker load check: no docker daemon answers");
    }
}

#[test]
fn import_keeps_special_files_and_modes() {
    let source = rootfs();
    let root = source.path();
    tool_ok(Command::new("mkfifo").arg(root.join("pipe")));
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        root.join("bin/tool"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let env = Env::new();
    env.ok(&["import", root.to_str().unwrap(), "special:v1"]);
    let bundle = env.directory.as_path().join("bundle");
    tool_ok(
        Command::new("umoci")
            .args(["unpack", "--rootless", "--image"])
            .arg(format!(
                "{}:docker.io/library/special:v1",
                env.root().join("images").display()
            ))
            .arg(&bundle),
    );
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::symlink_metadata(bundle.join("rootfs/pipe"))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    let mode = std::fs::metadata(bundle.join("rootfs/bin/tool"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
}
