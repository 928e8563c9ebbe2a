//! The s5-biglayer scenario of ../shared/bench: one RUN writing ~410 MB over
//! a Debian minbase base, run in the sandbox over an overlay snapshot; then
//! the time from the RUN's end to the compressed layer and its digests
//! (commit), exports in other compressions, and the unpack of the Debian
//! base layer. Also the compressors' own speed here, for reference.
//!
//! The base tree: `STRATA_BENCH_ROOTFS`, else /var/tmp/bookworm-rootfs (made
//! for the benchmarks on the bench machine), else the cached debootstrap tree
//! of `strata_test::debian_rootfs`. Needs root. Run with `bench/layers.sh`.
#![allow(clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use strata_layer::{Change, ChangeKind, Compression, LayerOptions, write_layer};
use strata_sandbox::{RootFs, Sandbox, Spec};
use strata_snapshot::Snapshotter;

const RUN: &str = "set -eu; mkdir -p /data; \
    dd if=/dev/urandom of=/data/random.bin bs=1M count=100 status=none; \
    cp -a /usr /data/usr-copy1; \
    cp -a /usr /data/usr-copy2; \
    seq 1 9000000 > /data/numbers.txt; \
    du -sm /data; \
    printf 'RUN%sDONE\\n' -";

fn all_changes(root: &Path) -> Vec<Change> {
    fn walk(root: &Path, relative: &Path, changes: &mut Vec<Change>) {
        for entry in std::fs::read_dir(root.join(relative)).unwrap() {
            let entry = entry.unwrap();
            let path = relative.join(entry.file_name());
            changes.push(Change::new(&path, ChangeKind::Modified));
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, changes);
            }
        }
    }
    let mut changes = Vec::new();
    walk(root, Path::new(""), &mut changes);
    changes
}

fn base_tree() -> PathBuf {
    if let Some(path) = std::env::var_os("STRATA_BENCH_ROOTFS") {
        return PathBuf::from(path);
    }
    let bench = PathBuf::from("/var/tmp/bookworm-rootfs");
    if bench.join("usr/bin").is_dir() {
        return bench;
    }
    strata_test::debian_rootfs().unwrap()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn options(compression: Compression, threads: usize) -> LayerOptions {
    LayerOptions {
        compression,
        source_date_epoch: None,
        threads,
    }
}

fn timed<T>(label: &str, f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let value = f();
    let seconds = start.elapsed().as_secs_f64();
    eprintln!("  {label}: {seconds:.2} s");
    (value, seconds)
}

fn main() {
    strata_sandbox::run_if_requested();
    if !rustix::process::geteuid().is_root() {
        eprintln!("s5_biglayer: needs root (namespaces and overlayfs); skipped");
        return;
    }
    let tree = base_tree();
    let work = tempfile::Builder::new()
        .prefix("strata-bench-")
        .tempdir_in("/var/tmp")
        .unwrap();
    let snapshotter = Snapshotter::open(&work.path().join("snapshots")).unwrap();
    println!(
        "base tree {} -- snapshotter {:?}, {} cores",
        tree.display(),
        snapshotter.kind(),
        std::thread::available_parallelism().map_or(1, usize::from)
    );

    // The Debian base as a gzip layer, then unpacked into the snapshotter.
    let base_blob = work.path().join("base.tar.gz");
    let ((base, _), base_export) = timed("export Debian base (gzip)", || {
        let file = File::create(&base_blob).unwrap();
        write_layer(
            &tree,
            &all_changes(&tree),
            &options(Compression::GZIP, 0),
            BufWriter::new(file),
        )
        .unwrap()
    });
    let (chain, base_unpack) = timed("unpack Debian base", || {
        snapshotter
            .unpack(None, &base.diff_id, || File::open(&base_blob))
            .unwrap()
    });

    // The RUN, in the sandbox over an overlay snapshot.
    let active = snapshotter.prepare(Some(&chain)).unwrap();
    let mut spec = Spec::new(["/bin/sh", "-c", RUN]);
    spec.env = vec!["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_owned()];
    let rootfs = RootFs::Detached {
        mount: active.detached_mount().unwrap(),
        mount_point: active.mount_point(),
    };
    let (status, run_seconds) = timed("RUN", || {
        Sandbox::new()
            .unwrap()
            .run(rootfs, &spec, |_, line| {
                eprintln!("    | {}", String::from_utf8_lossy(line))
            })
            .unwrap()
    });
    assert!(status.success(), "{status}");

    // Exports of the same diff without committing: zstd, plain, gzip on one core.
    let export = |label: &str, compression: Compression, threads: usize| {
        let path = work.path().join(format!("layer-{label}"));
        let ((digests, _), seconds) = timed(&format!("export {label}"), || {
            active
                .write_layer(
                    &options(compression, threads),
                    BufWriter::with_capacity(1 << 20, File::create(&path).unwrap()),
                )
                .unwrap()
        });
        (digests, seconds, path)
    };
    let (zstd, zstd_seconds, _) = export("zstd", Compression::ZSTD, 0);
    let (plain, plain_seconds, plain_path) = export("tar", Compression::None, 0);
    let (_, gzip_one_core_seconds, _) = export("gzip, one thread", Compression::GZIP, 1);

    // The commit: from the RUN's end to the compressed layer and its digests.
    let layer_blob = work.path().join("layer.tar.gz");
    let ((committed, _), commit_seconds) = timed("commit (gzip)", || {
        active
            .commit(
                &options(Compression::GZIP, 0),
                BufWriter::new(File::create(&layer_blob).unwrap()),
            )
            .unwrap()
    });
    assert_eq!(
        committed.layer.diff_id, plain.diff_id,
        "same tar whatever the compression"
    );
    assert_eq!(committed.layer.diff_id, zstd.diff_id);

    // The command-line compressors on the same tar, for reference.
    let cli = |label: &str, command: &str| {
        let script = format!("{command} < {} > /dev/null", plain_path.display());
        timed(label, || {
            Command::new("sh").arg("-c").arg(&script).status().unwrap()
        })
        .1
    };
    let gzip_cli = cli("gzip -6 (GNU gzip, one core)", "gzip -6 -c");
    let zstd_cli = cli("zstd -3 -T0 (zstd CLI, all cores)", "zstd -3 -T0 -q -c");

    let tar_mb = mb(plain.size);
    println!();
    println!("| measurement | seconds | notes |");
    println!("|---|---|---|");
    println!(
        "| s5 RUN in the sandbox (overlay over Debian) | {run_seconds:.2} | {tar_mb:.0} MB layer tar |"
    );
    println!(
        "| s5 commit: RUN end to gzip layer + diff id + digest | {commit_seconds:.2} | {:.0} MB blob, {:.0} MB/s of tar |",
        mb(committed.layer.size),
        tar_mb / commit_seconds
    );
    println!(
        "| s5 export, zstd -3 | {zstd_seconds:.2} | {:.0} MB blob, {:.0} MB/s |",
        mb(zstd.size),
        tar_mb / zstd_seconds
    );
    println!(
        "| s5 export, plain tar | {plain_seconds:.2} | {:.0} MB/s |",
        tar_mb / plain_seconds
    );
    println!(
        "| s5 export, gzip on one thread | {gzip_one_core_seconds:.2} | {:.0} MB/s |",
        tar_mb / gzip_one_core_seconds
    );
    println!(
        "| GNU gzip -6 on the same tar (one core) | {gzip_cli:.2} | {:.0} MB/s |",
        tar_mb / gzip_cli
    );
    println!(
        "| zstd -3 -T0 CLI on the same tar | {zstd_cli:.2} | {:.0} MB/s |",
        tar_mb / zstd_cli
    );
    println!(
        "| Debian base: export (gzip) | {base_export:.2} | {:.0} MB tar, {:.0} MB blob |",
        mb(base.uncompressed_size),
        mb(base.size)
    );
    println!(
        "| Debian base: unpack (gunzip + apply) | {base_unpack:.2} | {:.0} MB/s of tar |",
        mb(base.uncompressed_size) / base_unpack
    );
}
