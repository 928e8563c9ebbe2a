//! `RUN --mount`: secrets never reach a layer, caches persist between builds,
//! tmpfs and binds are there for the step only.

use std::fs;

use crate::harness::{Env, Saved};

/// A store holding local/busybox:latest, or `None` after a loud skip.
fn store(test: &str) -> Option<Env> {
    Env::with_busybox(test)
}

/// Every byte of every blob in the store, for "is this secret anywhere?".
fn store_contains(store: &std::path::Path, needle: &[u8]) -> bool {
    fn walk(path: &std::path::Path, needle: &[u8]) -> bool {
        let Ok(entries) = fs::read_dir(path) else {
            return false;
        };
        entries.flatten().any(|entry| {
            let path = entry.path();
            let file_type = entry.file_type().unwrap();
            if file_type.is_dir() {
                walk(&path, needle)
            } else if file_type.is_file() {
                fs::read(&path).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            } else {
                false
            }
        })
    }
    walk(&store.join("images").join("blobs"), needle) || walk(&store.join("cache"), needle)
}

#[test]
fn secrets_are_readable_in_the_step_and_never_stored() {
    let Some(store) = store("secrets_are_readable_in_the_step_and_never_stored") else {
        return;
    };
    let context = tempfile::tempdir().unwrap();
    let secret = context
        .path()
        .join("..")
        .join(format!("secret-{}", std::process::id()));
    fs::write(&secret, "s3cr3t-t0ken-value\n").unwrap();
    fs::write(
        context.path().join("Dockerfile"),
        "FROM local/busybox:latest\n\
         RUN --mount=type=secret,id=token wc -c < /run/secrets/token > /file-length\n\
         RUN --mount=type=secret,id=token,env=TOKEN echo ${#TOKEN} > /env-length\n\
         RUN --mount=type=secret,id=missing echo optional secrets may be absent\n",
    )
    .unwrap();
    let output = store
        .command()
        .args(["build", "--progress=plain", "-t", "secret", "--secret"])
        .arg(format!("id=token,src={}", secret.display()))
        .arg(context.path())
        .output()
        .unwrap();
    fs::remove_file(&secret).unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !store_contains(&store.root(), b"s3cr3t-t0ken-value"),
        "the secret reached the store"
    );
    let saved = Saved::of(&store, "secret", &[]);
    let root = saved.rootfs();
    // The step saw the whole secret, 19 bytes with its newline, in the file
    // and (as BuildKit gives it, untrimmed) in the variable.
    assert_eq!(
        fs::read_to_string(root.join("file-length")).unwrap().trim(),
        "19"
    );
    assert_eq!(
        fs::read_to_string(root.join("env-length")).unwrap().trim(),
        "19"
    );
    assert!(
        !root.join("run/secrets/token").exists(),
        "the secret's mount point reached a layer"
    );

    // A required secret that is missing fails the step.
    fs::write(
        context.path().join("Dockerfile"),
        "FROM local/busybox:latest\nRUN --mount=type=secret,id=absent,required cat /run/secrets/absent\n",
    )
    .unwrap();
    let output = store.build(context.path(), None, &[]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("secret absent: not found"));
}

#[test]
fn cache_mounts_persist_and_tmpfs_and_binds_do_not_reach_layers() {
    let Some(store) = store("cache_mounts_persist_and_tmpfs_and_binds_do_not_reach_layers") else {
        return;
    };
    let context = tempfile::tempdir().unwrap();
    fs::write(context.path().join("input.txt"), "from the context\n").unwrap();
    let dockerfile = |run: &str| {
        fs::write(
            context.path().join("Dockerfile"),
            format!(
                "FROM local/busybox:latest\n\
                 RUN --mount=type=cache,target=/cache {run}\n\
                 RUN --mount=type=tmpfs,target=/scratch echo temp > /scratch/t && test -f /scratch/t\n\
                 RUN --mount=type=bind,source=input.txt,target=/mnt/input.txt cp /mnt/input.txt /copied.txt\n"
            ),
        )
        .unwrap();
    };
    dockerfile("echo first >> /cache/log && cp /cache/log /seen-1");
    store.build_ok(context.path(), None, &["-t", "m"]);
    // A different command (a cache miss) sees what the first left in the cache.
    dockerfile("echo second >> /cache/log && cp /cache/log /seen-2");
    store.build_ok(context.path(), None, &["-t", "m"]);

    let saved = Saved::of(&store, "m", &[]);
    let root = saved.rootfs();
    assert_eq!(
        fs::read_to_string(root.join("seen-2")).unwrap(),
        "first\nsecond\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("copied.txt")).unwrap(),
        "from the context\n"
    );
    // As in BuildKit v0.32's layers: the mount points made for the step
    // (directories and files, with the parents made for them) are gone.
    for path in ["cache", "scratch", "mnt/input.txt", "mnt"] {
        assert!(
            !root.join(path).exists(),
            "the mount point {path} reached a layer"
        );
    }
}
