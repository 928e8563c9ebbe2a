//! Scans of real directory trees: the walk's rules, BuildKit's digests, COPY
//! selection, and the metadata cache.

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use strata_context::{
    Context, ContextFacts, CopySource, EntryKind, Error, IgnoreFile, PatternMatcher, ScanOptions,
    Warning,
};

fn write(root: &Path, path: &str, contents: &[u8], mode: u32) {
    let path = root.join(path);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(&path, contents).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
}

fn directory(root: &Path, path: &str) {
    let path = root.join(path);
    fs::create_dir_all(&path).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

fn lines(context: &Context) -> Vec<String> {
    context
        .sorted_paths()
        .into_iter()
        .map(|l| String::from_utf8_lossy(&l).into_owned())
        .collect()
}

fn scan_with(root: &Path, ignore: &[&str]) -> Context {
    let options = ScanOptions::new().exclude(PatternMatcher::new(ignore).unwrap());
    Context::scan(root, &options).unwrap()
}

#[test]
fn symlinks_stay_symlinks_and_never_leave_the_context() {
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "secret", b"do not send", 0o600);
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, "a", b"a", 0o644);
    symlink(outside.path().join("secret"), root.join("abs-out")).unwrap();
    symlink("../../../../etc/passwd", root.join("rel-out")).unwrap();
    symlink(outside.path(), root.join("dir-out")).unwrap();
    let context = scan_with(root, &[]);
    assert_eq!(lines(&context), vec!["a", "abs-out", "dir-out", "rel-out"]);
    let link = context.get(b"dir-out").unwrap();
    assert_eq!(link.kind(), EntryKind::Symlink);
    assert_eq!(link.link_target(), Some(outside.path()));
    assert!(context.get(b"dir-out/secret").is_none());
    // A COPY of the link resolves inside the context only: the absolute
    // target does not exist there.
    let error = context.select(&CopySource::new("abs-out")).unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error}");
    // Without following, the link itself is selected.
    let mut source = CopySource::new("rel-out");
    source.follow_links = false;
    let selection = context.select(&source).unwrap();
    assert_eq!(selection.digest, *link_digest(&context, "rel-out"));
}

fn link_digest<'a>(context: &'a Context, path: &str) -> &'a strata_oci::Digest {
    context.get(path.as_bytes()).unwrap().digest().unwrap()
}

#[test]
fn odd_names_are_kept_exactly_and_sorted_bytewise() {
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    for name in [
        "with space",
        "br[ack]et",
        "st*r",
        "q?mark",
        "back\\slash",
        "a.b",
        "a/x",
    ] {
        write(root, name, name.as_bytes(), 0o644);
    }
    let raw = OsStr::from_bytes(b"bad\xffname");
    fs::write(root.join(raw), b"x").unwrap();
    let context = scan_with(root, &["st\\*r"]);
    let got = context.sorted_paths();
    let expected: Vec<&[u8]> = vec![
        b"a.b",
        b"a/",
        b"a/x",
        b"back\\slash",
        b"bad\xffname",
        b"br[ack]et",
        b"q?mark",
        b"with space",
    ];
    assert_eq!(got, expected);
    // Patterns see the raw bytes; `?` matches one invalid byte, as in Go.
    let context = scan_with(root, &["bad?name", "br\\[ack\\]et"]);
    assert!(context.get(b"bad\xffname").is_none());
    assert!(context.get(b"br[ack]et").is_none());
    assert!(context.get(b"with space").is_some());
}

#[test]
fn special_files_are_skipped_with_a_warning() {
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, "file", b"x", 0o644);
    let fifo = root.join("pipe");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let _socket = std::os::unix::net::UnixListener::bind(root.join("sock")).unwrap();
    let context = scan_with(root, &[]);
    assert_eq!(lines(&context), vec!["file"]);
    let mut warnings: Vec<String> = context.warnings().iter().map(ToString::to_string).collect();
    warnings.sort();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(matches!(
        context.warnings()[0],
        Warning::SkippedSpecial { .. }
    ));
    assert!(warnings[0].contains("fifo pipe"), "{warnings:?}");
    assert!(warnings[1].contains("socket sock"), "{warnings:?}");
    // An ignored special file is not worth a warning.
    let context = scan_with(root, &["pipe", "sock"]);
    assert!(context.warnings().is_empty());
}

#[test]
fn excluded_directory_appears_when_something_below_is_reincluded() {
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, "foo/bar2", b"1", 0o644);
    write(root, "foo/other", b"2", 0o644);
    write(root, "foo2", b"3", 0o644);
    write(root, "keep/deep/x", b"4", 0o644);
    let context = scan_with(root, &["foo*", "!foo/bar2", "keep/deep/**"]);
    assert_eq!(
        lines(&context),
        vec!["foo/", "foo/bar2", "keep/", "keep/deep/"]
    );
}

#[test]
fn dockerfile_specific_ignore_file_wins() {
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, "a", b"", 0o644);
    write(root, "b", b"", 0o644);
    write(root, ".dockerignore", b"a\n", 0o644);
    write(root, "build/app.Dockerfile", b"FROM scratch\n", 0o644);
    write(
        root,
        "build/app.Dockerfile.dockerignore",
        b"b\n# c\n",
        0o644,
    );
    let specific = IgnoreFile::for_build(root, Some(&root.join("build/app.Dockerfile"))).unwrap();
    assert_eq!(
        specific.path(),
        Some(root.join("build/app.Dockerfile.dockerignore").as_path())
    );
    assert_eq!(specific.patterns(), &[b"b".to_vec()]);
    let plain = IgnoreFile::for_build(root, Some(&root.join("Dockerfile"))).unwrap();
    assert_eq!(plain.patterns(), &[b"a".to_vec()]);
    let none = IgnoreFile::for_build(&root.join("build"), None).unwrap();
    assert!(none.path().is_none());
    // The lint check: COPY of an ignored path.
    assert!(plain.copy_source_ignored("./a").unwrap());
    assert!(!plain.copy_source_ignored("b").unwrap());
    assert!(!plain.copy_source_ignored(".").unwrap());
    let bad = tempfile::tempdir().unwrap();
    write(bad.path(), ".dockerignore", b"ok\n!\n", 0o644);
    let error = IgnoreFile::for_build(bad.path(), None)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(".dockerignore") && error.contains("illegal exclusion pattern"),
        "{error}"
    );
}

/// BuildKit's TestChecksumBasicFile tree, with its expected digests.
#[test]
fn digests_equal_buildkit_test_vectors() {
    if !strata_test::should_run_as_root("digests_equal_buildkit_test_vectors") {
        return;
    }
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, "foo", b"data0", 0o644);
    write(root, "bar", b"data1", 0o644);
    directory(root, "d0");
    write(root, "d0/abc", b"data0", 0o644);
    symlink("abc", root.join("d0/def")).unwrap();
    symlink("nosuchfile", root.join("d0/ghi")).unwrap();
    let context = scan_with(root, &[]);
    let digest = |path: &str| {
        context
            .select(&CopySource::new(path))
            .map(|s| s.digest.to_string())
    };
    let data0 = "sha256:cd8e75bca50f2d695f220d0cb0997d8ead387e4f926e8669a92d7f104cc9885b";
    assert_eq!(digest("foo").unwrap(), data0);
    assert_eq!(
        digest("bar").unwrap(),
        "sha256:c2b5e234f5f38fc5864da7def04782f82501a40d46192e4207d5b3f0c3c4732b"
    );
    assert_eq!(digest("d0/abc").unwrap(), data0);
    assert_eq!(
        digest("d0/def").unwrap(),
        data0,
        "a followed symlink keys on its target"
    );
    assert!(matches!(digest("d0/ghi"), Err(Error::NotFound { .. })));
    assert!(matches!(digest("nosuch"), Err(Error::NotFound { .. })));
    assert_eq!(
        digest("d0").unwrap(),
        "sha256:d47454417d2c554067fbefe5f5719edc49f3cfe969c36b62e34a187a4da0cc9a"
    );
    assert_eq!(
        context
            .get(b"d0")
            .unwrap()
            .directory_digest()
            .unwrap()
            .to_string(),
        "sha256:d47454417d2c554067fbefe5f5719edc49f3cfe969c36b62e34a187a4da0cc9a"
    );
}

/// BuildKit's symlink checksum test tree (broken links, wildcards, excludes).
#[test]
fn symlink_and_wildcard_digests_equal_buildkit() {
    if !strata_test::should_run_as_root("symlink_and_wildcard_digests_equal_buildkit") {
        return;
    }
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, "target", b"data0", 0o644);
    symlink("target", root.join("sym")).unwrap();
    symlink("target2", root.join("sym2")).unwrap();
    directory(root, "foo");
    symlink("target", root.join("foo/ghi")).unwrap();
    symlink("foo/ghi", root.join("y1")).unwrap();
    let context = scan_with(root, &[]);
    let select = |source: CopySource| context.select(&source).map(|s| s.digest.to_string());
    let no_follow = |path: &str| {
        let mut source = CopySource::new(path);
        source.follow_links = false;
        source
    };
    let symlink_digest = "sha256:a2ba571981f48ec34eb79c9a3ab091b6491e825c2f7e9914ea86e8e958be7fae";
    assert_eq!(select(no_follow("sym")).unwrap(), symlink_digest);
    assert_ne!(select(no_follow("sym2")).unwrap(), symlink_digest);
    assert_eq!(select(no_follow("foo/ghi")).unwrap(), symlink_digest);
    assert!(matches!(
        select(CopySource::new("foo/ghi")),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        select(CopySource::new("y1")),
        Err(Error::NotFound { .. })
    ));
    let foo = "sha256:9b761577efcb1239cf4be971914c5d7404914dd32ff436401af1764dc5446b83";
    assert_eq!(select(CopySource::new("foo")).unwrap(), foo);
    assert_eq!(
        select(CopySource::new("fo?")).unwrap(),
        "sha256:2797e710c6d1a89ff2d91c834b828b1dc500f2982430a58241df8e146f4c4bb4"
    );
    assert_eq!(
        select(CopySource::new("foo").with_exclude(["*.git"])).unwrap(),
        foo
    );
}

#[test]
fn selection_keys_exactly_the_selected_bytes() {
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, "src/a.json", b"{}", 0o644);
    write(root, "src/b.json", b"[]", 0o644);
    write(root, "src/c.txt", b"text", 0o644);
    write(root, "other/x", b"x", 0o644);
    let before = scan_with(root, &[]);
    let json = before.select(&CopySource::new("src/*.json")).unwrap();
    assert_eq!(json.roots.len(), 2);
    assert_eq!(json.roots[0].path, Path::new("src/a.json"));
    let src_excluding = before
        .select(&CopySource::dockerfile("src", &["*.txt".to_owned()], false))
        .unwrap();
    let names: Vec<_> = src_excluding.roots[0]
        .entries
        .iter()
        .map(|e| e.relative.to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["", "a.json", "b.json"]);
    // Change a file outside the selection: keys are unchanged.
    write(root, "src/c.txt", b"changed", 0o644);
    write(root, "other/x", b"changed", 0o644);
    let after = scan_with(root, &[]);
    assert_eq!(
        after.select(&CopySource::new("src/*.json")).unwrap().digest,
        json.digest
    );
    assert_eq!(
        after
            .select(&CopySource::dockerfile("src", &["*.txt".to_owned()], false))
            .unwrap()
            .digest,
        src_excluding.digest
    );
    assert_ne!(
        after.select(&CopySource::new("src")).unwrap().digest,
        before.select(&CopySource::new("src")).unwrap().digest
    );
    // A mode change inside the selection changes the key; an mtime does not.
    fs::set_permissions(root.join("src/a.json"), fs::Permissions::from_mode(0o600)).unwrap();
    let chmodded = scan_with(root, &[]);
    assert_ne!(
        chmodded
            .select(&CopySource::new("src/*.json"))
            .unwrap()
            .digest,
        json.digest
    );
    fs::set_permissions(root.join("src/a.json"), fs::Permissions::from_mode(0o644)).unwrap();
    filetime::set_file_mtime(
        root.join("src/a.json"),
        filetime::FileTime::from_unix_time(1, 0),
    )
    .unwrap();
    let touched = scan_with(root, &[]);
    assert_eq!(
        touched
            .select(&CopySource::new("src/*.json"))
            .unwrap()
            .digest,
        json.digest
    );
    // --parents keeps the path below the pivot.
    let parents = touched
        .select(&CopySource::dockerfile("src/./*.json", &[], true))
        .unwrap();
    assert_eq!(parents.roots.len(), 1);
    let names: Vec<_> = parents.roots[0]
        .entries
        .iter()
        .map(|e| e.relative.to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["", "a.json", "b.json"]);
    // A --parents path without wildcards must exist.
    let missing = touched.select(&CopySource::dockerfile("src/./nope.json", &[], true));
    assert!(
        matches!(missing, Err(Error::NotFound { .. })),
        "{missing:?}"
    );
    let present = touched
        .select(&CopySource::dockerfile("src/./a.json", &[], true))
        .unwrap();
    assert_eq!(present.roots[0].entries.len(), 2);
    // And the copy writes what was selected.
    let destination = tempfile::tempdir().unwrap();
    src_excluding
        .copy_into(&touched, destination.path())
        .unwrap();
    assert_eq!(fs::read(destination.path().join("a.json")).unwrap(), b"{}");
    assert!(!destination.path().join("c.txt").exists());
}

#[test]
fn owner_is_covered_unless_reset() {
    if !strata_test::should_run_as_root("owner_is_covered_unless_reset") {
        return;
    }
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, "f", b"x", 0o644);
    let as_root = Context::scan(root, &ScanOptions::new()).unwrap();
    std::os::unix::fs::chown(root.join("f"), Some(1000), Some(1000)).unwrap();
    let owned = Context::scan(root, &ScanOptions::new()).unwrap();
    assert_eq!(owned.get(b"f").unwrap().uid(), 1000);
    assert_ne!(
        owned.get(b"f").unwrap().digest(),
        as_root.get(b"f").unwrap().digest()
    );
    let reset = Context::scan(root, &ScanOptions::new().reset_owner(true)).unwrap();
    assert_eq!(
        reset.get(b"f").unwrap().digest(),
        as_root.get(b"f").unwrap().digest()
    );
    assert_eq!(reset.get(b"f").unwrap().uid(), 1000);
}

#[test]
fn xattrs_are_covered() {
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, "f", b"x", 0o644);
    let plain = scan_with(root, &[]);
    if xattr::set(root.join("f"), "user.strata", b"1").is_err() {
        eprintln!("SKIPPED xattrs_are_covered: file system has no user xattrs");
        return;
    }
    let with = scan_with(root, &[]);
    assert_ne!(
        plain.get(b"f").unwrap().digest(),
        with.get(b"f").unwrap().digest()
    );
}

fn cached_scan(root: &Path, cache: &Path) -> Context {
    Context::scan(
        root,
        &ScanOptions::new().cache_directory(Some(cache.to_path_buf())),
    )
    .unwrap()
}

#[test]
fn metadata_cache_hashes_nothing_when_unchanged_and_notices_edits() {
    let context_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, "a", b"hello world", 0o644);
    write(root, "dir/b", b"second file", 0o644);
    // Files changed in the current second are racy and never trusted: let
    // the clock move past them first.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let cold = cached_scan(root, cache_dir.path());
    assert_eq!(cold.stats().files_hashed, 2);
    assert!(cold.stats().cache_written);
    let warm = cached_scan(root, cache_dir.path());
    assert_eq!(
        warm.stats().files_hashed,
        0,
        "an unchanged rescan hashes nothing"
    );
    assert_eq!(warm.stats().bytes_hashed, 0);
    assert!(
        !warm.stats().cache_written,
        "an unchanged rescan writes nothing"
    );
    assert_eq!(warm.root_digest(), cold.root_digest());

    // Same size, mtime put back: ctime gives the edit away.
    let path = root.join("a");
    let mtime = filetime::FileTime::from_last_modification_time(&fs::metadata(&path).unwrap());
    fs::write(&path, b"HELLO WORLD").unwrap();
    filetime::set_file_mtime(&path, mtime).unwrap();
    let edited = cached_scan(root, cache_dir.path());
    assert_eq!(edited.stats().files_hashed, 1);
    assert_ne!(
        edited.get(b"a").unwrap().digest(),
        cold.get(b"a").unwrap().digest()
    );
    assert_ne!(edited.root_digest(), cold.root_digest());
    // The racy entry is not stored, so the next scan re-reads it...
    let again = cached_scan(root, cache_dir.path());
    assert_eq!(again.stats().files_hashed, 1);
    assert_eq!(
        again.get(b"a").unwrap().digest(),
        edited.get(b"a").unwrap().digest()
    );

    // A damaged cache file is no cache, never wrong digests.
    for entry in fs::read_dir(cache_dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        fs::write(&path, bytes).unwrap();
    }
    let damaged = cached_scan(root, cache_dir.path());
    assert_eq!(damaged.stats().files_hashed, 2);
    assert_eq!(damaged.root_digest(), again.root_digest());
}

#[test]
fn many_and_few_files_hash_alike() {
    // Enough files to hash on the thread pool cold, and one edited file,
    // hashed on the scanning thread, when warm: the same digests either way.
    let context_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    for index in 0..200 {
        write(
            root,
            &format!("d{}/f{index}", index % 7),
            index.to_string().as_bytes(),
            0o644,
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let cold = cached_scan(root, cache_dir.path());
    assert_eq!(cold.stats().files_hashed, 200);
    write(root, "d3/f10", b"edited", 0o644);
    let warm = cached_scan(root, cache_dir.path());
    assert_eq!(warm.stats().files_hashed, 1);
    let uncached = Context::scan(root, &ScanOptions::new()).unwrap();
    assert_eq!(uncached.stats().files_hashed, 200);
    assert_eq!(warm.root_digest(), uncached.root_digest());
    assert_ne!(warm.root_digest(), cold.root_digest());
    for entry in uncached.entries() {
        assert_eq!(
            warm.get(entry.path_bytes()).unwrap().digest(),
            entry.digest(),
            "{}",
            entry.path().display()
        );
    }
}

#[test]
fn unreadable_file_is_an_error_naming_it() {
    // Root reads every file, so the scan runs in a child without privileges.
    let child = std::env::var_os("STRATA_CONTEXT_UNREADABLE_ROOT");
    if let Some(root) = child {
        let error = Context::scan(Path::new(&root), &ScanOptions::new()).unwrap_err();
        println!("CHILD-ERROR: {error}");
        return;
    }
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
    write(root, "readable", b"x", 0o644);
    write(root, "locked", b"secret", 0o000);
    let output = if strata_test::is_root() {
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "unreadable_file_is_an_error_naming_it",
                "--nocapture",
            ])
            .env("STRATA_CONTEXT_UNREADABLE_ROOT", root)
            .output()
            .unwrap()
    } else {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "unreadable_file_is_an_error_naming_it",
                "--nocapture",
            ])
            .env("STRATA_CONTEXT_UNREADABLE_ROOT", root)
            .output()
            .unwrap()
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find(|l| l.starts_with("CHILD-ERROR:"))
        .expect("child error line");
    assert!(
        line.contains("open") && line.contains("locked") && line.contains("ermission denied"),
        "{line}"
    );
}

#[test]
fn facts_for_lint() {
    let context_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    write(root, ".git/HEAD", b"ref", 0o644);
    write(root, "node_modules/x/index.js", b"x", 0o644);
    write(root, ".env", b"TOKEN=1", 0o600);
    write(root, ".env.local", b"TOKEN=2", 0o600);
    write(root, "app.js", b"", 0o644);
    write(root, ".dockerignore", b".git\nnode_modules\n", 0o644);
    let ignore = IgnoreFile::for_build(root, None).unwrap();
    let scanned = Context::scan(
        root,
        &ScanOptions::new()
            .digests(false)
            .exclude(ignore.matcher().clone()),
    )
    .unwrap();
    for scanned in [None, Some(&scanned)] {
        let facts = ContextFacts::gather(root, &ignore, scanned).unwrap();
        assert!(facts.has_ignore_file());
        assert!(!facts.find(".git").unwrap().sent);
        assert!(facts.find(".git").unwrap().is_directory);
        assert!(!facts.find("node_modules").unwrap().sent);
        assert!(facts.find(".env").unwrap().sent);
        assert!(facts.find(".env.local").unwrap().sent);
        assert!(facts.find("app.js").is_none());
    }
    let none = ContextFacts::gather(root, &IgnoreFile::none(), None).unwrap();
    assert!(!none.has_ignore_file());
    assert!(none.find(".git").unwrap().sent);
}

#[test]
fn an_unchanged_rescan_takes_its_trees_from_the_cache() {
    let context_dir = tempfile::tempdir().unwrap();
    let cache_dir = tempfile::tempdir().unwrap();
    let root = context_dir.path();
    for index in 0..30 {
        write(
            root,
            &format!("d{}/e{}/f{index}", index % 3, index % 2),
            index.to_string().as_bytes(),
            0o644,
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let trees_of = |context: &Context| -> Vec<(String, Option<strata_oci::Digest>)> {
        context
            .entries()
            .iter()
            .map(|e| {
                (
                    e.path().display().to_string(),
                    e.directory_digest().copied(),
                )
            })
            .collect()
    };
    let cold = cached_scan(root, cache_dir.path());
    let warm = cached_scan(root, cache_dir.path());
    assert_eq!(warm.stats().cache_hits, warm.stats().entries);
    assert!(!cold.stats().trees_cached);
    assert!(warm.stats().trees_cached);
    assert!(!warm.stats().cache_written);
    let uncached = Context::scan(root, &ScanOptions::new()).unwrap();
    assert_eq!(trees_of(&warm), trees_of(&uncached));
    assert_eq!(trees_of(&cold), trees_of(&uncached));
    assert_eq!(warm.root_digest(), uncached.root_digest());
    assert!(warm.get(b"d1/e0").unwrap().directory_digest().is_some());

    // One file gone: its directory changed, and so do the trees above it.
    fs::remove_file(root.join("d1/e0/f4")).unwrap();
    let after = cached_scan(root, cache_dir.path());
    assert!(!after.stats().trees_cached);
    let uncached = Context::scan(root, &ScanOptions::new()).unwrap();
    assert_eq!(trees_of(&after), trees_of(&uncached));
    assert_ne!(after.root_digest(), warm.root_digest());
    assert_eq!(after.root_digest(), uncached.root_digest());
}
