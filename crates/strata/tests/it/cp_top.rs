//! `strata cp` and `strata top` against real containers: copies both ways
//! with docker's path rules and messages, running and stopped containers,
//! images whose symlinks try to lead to the host, and `ps` rows kept to
//! the container's processes.

use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::harness::{Env, text};

/// `strata ARGS` run in `directory`.
fn run_in(env: &Env, directory: &Path, args: &[&str]) -> Output {
    env.command()
        .current_dir(directory)
        .args(args)
        .output()
        .unwrap()
}

fn ok_in(env: &Env, directory: &Path, args: &[&str]) -> String {
    let output = run_in(env, directory, args);
    assert!(
        output.status.success(),
        "strata {args:?}: {}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    text(&output.stdout)
}

/// Asserts a failure with exit code 1 and exactly `message` on stderr.
fn fails_with(output: &Output, message: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(text(&output.stderr), format!("{message}\n"));
}

/// The names of a tar stream's entries.
fn entry_names(archive: &[u8]) -> Vec<String> {
    tar::Archive::new(archive)
        .entries()
        .unwrap()
        .map(|entry| text(&entry.unwrap().path_bytes()))
        .collect()
}

/// A host directory like docker's reference one: `hostfile` (uid 1234,
/// mode 640, mtime 2001-02-03T04:05:06Z) and `hostdir/{a,sub/b}`.
fn host_files() -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    let base = directory.path();
    let hostfile = base.join("hostfile");
    std::fs::write(&hostfile, "h\n").unwrap();
    std::os::unix::fs::chown(&hostfile, Some(1234), Some(1234)).unwrap();
    std::fs::set_permissions(
        &hostfile,
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(981_173_106);
    std::fs::File::options()
        .write(true)
        .open(&hostfile)
        .unwrap()
        .set_modified(time)
        .unwrap();
    std::fs::create_dir_all(base.join("hostdir/sub")).unwrap();
    std::fs::write(base.join("hostdir/a"), "aaa\n").unwrap();
    std::fs::write(base.join("hostdir/sub/b"), "bbb\n").unwrap();
    directory
}

#[test]
fn cp_copies_both_ways_with_a_running_container() {
    let Some(env) = Env::with_busybox("cp_copies_both_ways_with_a_running_container") else {
        return;
    };
    env.ok(&[
        "run",
        "-d",
        "--name",
        "cpc",
        "local/busybox",
        "sleep",
        "1000",
    ]);
    let host = host_files();
    let here = host.path();

    // Into the container: owner, mode and time kept; a directory renamed.
    ok_in(&env, here, &["cp", "hostfile", "cpc:/tmp/"]);
    let stat = env.ok(&["exec", "cpc", "stat", "-c", "%u %g %a %Y", "/tmp/hostfile"]);
    assert_eq!(stat, "1234 1234 640 981173106\n");
    ok_in(&env, here, &["cp", "hostdir", "cpc:/tmp/newname"]);
    let found = env.ok(&["exec", "cpc", "find", "/tmp/newname"]);
    let mut found: Vec<&str> = found.lines().collect();
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "/tmp/newname",
            "/tmp/newname/a",
            "/tmp/newname/sub",
            "/tmp/newname/sub/b"
        ]
    );

    // Out of it: into a new directory, then as a subdirectory of it.
    ok_in(&env, here, &["cp", "cpc:/tmp/newname", "out"]);
    assert_eq!(std::fs::read(here.join("out/sub/b")).unwrap(), b"bbb\n");
    ok_in(&env, here, &["cp", "cpc:/tmp/newname/", "out"]);
    assert_eq!(std::fs::read(here.join("out/newname/a")).unwrap(), b"aaa\n");
    let hostname = env.ok(&["exec", "cpc", "cat", "/etc/hostname"]);
    ok_in(&env, here, &["cp", "cpc:/etc/hostname", "copied"]);
    assert_eq!(text(&std::fs::read(here.join("copied")).unwrap()), hostname);

    // Tar streams: out on stdout, in from stdin.
    let archive = run_in(&env, here, &["cp", "cpc:/tmp/newname", "-"]).stdout;
    assert_eq!(
        entry_names(&archive),
        ["newname/", "newname/a", "newname/sub/", "newname/sub/b"]
    );
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_ustar();
    header.set_size(6);
    header.set_mode(0o600);
    builder
        .append_data(&mut header, "from-stdin", &b"stdin\n"[..])
        .unwrap();
    let stream = builder.into_inner().unwrap();
    env.command()
        .args(["cp", "-", "cpc:/tmp"])
        .write_stdin(stream)
        .assert()
        .success();
    assert_eq!(
        env.ok(&["exec", "cpc", "cat", "/tmp/from-stdin"]),
        "stdin\n"
    );

    // Docker's messages and exit codes.
    let output = run_in(&env, here, &["cp", "cpc:/nonexistent", "."]);
    fails_with(
        &output,
        "Error: Could not find the file /nonexistent in container cpc",
    );
    fails_with(
        &run_in(&env, here, &["cp", "hostdir", "cpc:/etc/passwd"]),
        "cannot copy directory",
    );
    fails_with(
        &run_in(&env, here, &["cp", "hostfile", "cpc:/nonexistent/"]),
        "no such directory",
    );
    let output = run_in(&env, here, &["cp", "cpc:/etc/hostname", "nosuchparent/x"]);
    let parent = here.join("nosuchparent");
    let message = format!(
        "invalid output path: directory \"{}\" does not exist",
        parent.display()
    );
    fails_with(&output, &message);
    let output = env
        .command()
        .args(["cp", "-", "cpc:/tmp"])
        .write_stdin("notatar\n")
        .output()
        .unwrap();
    fails_with(
        &output,
        "Error: Error processing tar file(exit status 1): unexpected EOF",
    );

    // /etc/hostname is mounted in the container: busy, as in docker, and
    // the container keeps its mount.
    let output = run_in(&env, here, &["cp", "hostfile", "cpc:/etc/hostname"]);
    let message = "Error: Error processing tar file(exit status 1): unlinkat /etc/hostname: device or resource busy";
    fails_with(&output, message);
    assert_eq!(env.ok(&["exec", "cpc", "cat", "/etc/hostname"]), hostname);
}

#[test]
fn cp_copies_both_ways_with_a_stopped_container() {
    let Some(env) = Env::with_busybox("cp_copies_both_ways_with_a_stopped_container") else {
        return;
    };
    let host = host_files();
    let here = host.path();
    // A created container sees what was copied into its layer.
    env.ok(&[
        "create",
        "--name",
        "created",
        "local/busybox",
        "cat",
        "/copied",
    ]);
    ok_in(&env, here, &["cp", "hostfile", "created:/copied"]);
    assert_eq!(env.ok(&["start", "-a", "created"]), "h\n");
    // What an exited container wrote is there to copy out.
    env.ok(&[
        "run",
        "--name",
        "exited",
        "local/busybox",
        "sh",
        "-c",
        "echo left > /left",
    ]);
    ok_in(&env, here, &["cp", "exited:/left", "."]);
    assert_eq!(std::fs::read(here.join("left")).unwrap(), b"left\n");
    ok_in(&env, here, &["cp", "hostdir", "exited:/"]);
    let archive = run_in(&env, here, &["cp", "exited:/hostdir/.", "-"]).stdout;
    assert_eq!(entry_names(&archive), ["./", "./a", "./sub/", "./sub/b"]);
}

/// An image whose /etc is a symlink to `target`, from the busybox tree.
fn hostile_image(env: &Env, name: &str, target: &Path) {
    let tree = tempfile::tempdir().unwrap();
    let copy = std::process::Command::new("cp")
        .arg("-a")
        .arg(strata_test::busybox_rootfs().join("."))
        .arg(tree.path())
        .status()
        .unwrap();
    assert!(copy.success());
    std::fs::remove_dir_all(tree.path().join("etc")).unwrap();
    symlink(target, tree.path().join("etc")).unwrap();
    env.ok(&["import", tree.path().to_str().unwrap(), name]);
}

/// A host path that must never appear; removed if it ever does.
struct MustNotExist(PathBuf);

impl Drop for MustNotExist {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn cp_never_leaves_the_root_of_a_hostile_image() {
    let Some(env) = Env::with_busybox("cp_never_leaves_the_root_of_a_hostile_image") else {
        return;
    };
    let host = host_files();
    let here = host.path();
    let name = format!("strata-cp-escape-{}", std::process::id());
    let escaped = MustNotExist(Path::new("/").join(&name));

    // /etc -> /../../..: inside the container that is its own root.
    hostile_image(&env, "hostile-up", Path::new("/../../.."));
    env.ok(&[
        "create",
        "--name",
        "up-stopped",
        "hostile-up",
        "sleep",
        "1000",
    ]);
    env.ok(&[
        "run",
        "-d",
        "--name",
        "up-running",
        "hostile-up",
        "sleep",
        "1000",
    ]);
    for container in ["up-stopped", "up-running"] {
        let destination = format!("{container}:/etc/{name}");
        ok_in(&env, here, &["cp", "hostfile", &destination]);
        assert!(
            !escaped.0.exists(),
            "{container}: cp wrote {}",
            escaped.0.display()
        );
        let archive = run_in(&env, here, &["cp", &format!("{container}:/{name}"), "-"]).stdout;
        assert_eq!(entry_names(&archive), std::slice::from_ref(&name));
        // The host's /etc/passwd is not the container's.
        let output = run_in(
            &env,
            here,
            &["cp", &format!("{container}:/etc/passwd"), "-"],
        );
        let message =
            format!("Error: Could not find the file /etc/passwd in container {container}");
        fails_with(&output, &message);
    }

    // /etc -> an absolute host path: a path in the container, which it lacks.
    let target = tempfile::tempdir().unwrap();
    std::fs::write(target.path().join("secret"), "host secret\n").unwrap();
    hostile_image(&env, "hostile-away", target.path());
    env.ok(&["create", "--name", "away", "hostile-away", "sleep", "1000"]);
    let output = run_in(&env, here, &["cp", "hostfile", "away:/etc/x"]);
    fails_with(
        &output,
        "Error: Could not find the file /etc in container away",
    );
    let output = run_in(&env, here, &["cp", "away:/etc/secret", "-"]);
    fails_with(
        &output,
        "Error: Could not find the file /etc/secret in container away",
    );
    let mut left: Vec<_> = std::fs::read_dir(target.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(left, ["secret"]);
    let secret = std::fs::metadata(target.path().join("secret")).unwrap();
    assert_eq!(secret.len(), 12);
}

#[test]
fn top_lists_the_processes_of_a_running_container() {
    let Some(env) = Env::with_busybox("top_lists_the_processes_of_a_running_container") else {
        return;
    };
    let id = env.ok(&[
        "run",
        "-d",
        "--name",
        "top1",
        "local/busybox",
        "sleep",
        "1000",
    ]);
    let listing = env.ok(&["top", "top1"]);
    let mut lines = listing.lines();
    assert_eq!(
        lines.next(),
        Some(
            "UID                 PID                 PPID                C                   STIME               TTY                 TIME                CMD"
        )
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 1, "{listing}");
    assert!(rows[0].starts_with("root                "), "{listing}");
    assert!(rows[0].ends_with("sleep 1000"), "{listing}");

    let listing = env.ok(&["top", "top1", "-o", "pid,comm"]);
    let lines: Vec<&str> = listing.lines().collect();
    assert_eq!(lines[0], "PID                 COMMAND");
    assert_eq!(lines.len(), 2, "{listing}");
    assert!(lines[1].ends_with("   sleep"), "{listing}");

    let output = env.run(&["top", "top1", "-o", "nosuchfield"]);
    fails_with(
        &output,
        "Error: ps: error: unknown user-defined format specifier \"nosuchfield\"",
    );
    env.ok(&["stop", "-t", "0", "top1"]);
    let output = env.run(&["top", "top1"]);
    fails_with(
        &output,
        &format!("Error: Container {} is not running", id.trim()),
    );
}

#[test]
fn cp_keeps_owners_of_files_copied_in_unless_archive_mode_has_a_user() {
    let Some(env) =
        Env::with_busybox("cp_keeps_owners_of_files_copied_in_unless_archive_mode_has_a_user")
    else {
        return;
    };
    let host = host_files();
    let here = host.path();
    env.ok(&[
        "create",
        "--name",
        "as-nobody",
        "-u",
        "nobody",
        "local/busybox",
        "true",
    ]);
    ok_in(&env, here, &["cp", "hostfile", "as-nobody:/kept"]);
    ok_in(&env, here, &["cp", "-a", "hostfile", "as-nobody:/given"]);
    for (name, uid) in [("kept", 1234), ("given", 65534)] {
        let archive = run_in(&env, here, &["cp", &format!("as-nobody:/{name}"), "-"]).stdout;
        let mut archive = tar::Archive::new(&archive[..]);
        let entry = archive.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(entry.header().uid().unwrap(), uid, "{name}");
        assert_eq!(entry.header().mode().unwrap() & 0o7777, 0o640, "{name}");
    }
    let metadata = std::fs::metadata(here.join("hostfile")).unwrap();
    assert_eq!(metadata.uid(), 1234);
}
