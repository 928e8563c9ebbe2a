//! Docker's copy-up into a new volume, as root: owners, modes, times,
//! symlinks, hard links, special files and extended attributes kept.

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::Path;

use filetime::FileTime;
use strata_run::{Volumes, parse_volume};

fn set_owner(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(path, Some(uid), Some(gid)).unwrap();
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn populate_keeps_owners_modes_times_and_links() {
    if !strata_test::should_run_as_root("volumes_populate") {
        return;
    }
    let image = tempfile::tempdir().unwrap();
    let root = image.path().join("var/lib/app");
    std::fs::create_dir_all(root.join("db")).unwrap();
    std::fs::write(root.join("db/data"), "rows\n").unwrap();
    std::fs::write(root.join("tool"), "#!/bin/sh\n").unwrap();
    std::fs::hard_link(root.join("tool"), root.join("tool-alias")).unwrap();
    std::os::unix::fs::symlink("db/data", root.join("current")).unwrap();
    rustix::fs::mknodat(
        rustix::fs::CWD,
        root.join("pipe"),
        rustix::fs::FileType::Fifo,
        rustix::fs::Mode::from_raw_mode(0o620),
        0,
    )
    .unwrap();
    set_mode(&root.join("pipe"), 0o620);
    set_owner(&root.join("db/data"), 1234, 5678);
    set_mode(&root.join("db/data"), 0o640);
    set_owner(&root.join("tool"), 0, 50);
    set_mode(&root.join("tool"), 0o4755);
    set_owner(&root.join("current"), 42, 43);
    set_owner(&root.join("db"), 999, 999);
    set_mode(&root.join("db"), 0o2750);
    set_owner(&root, 70, 71);
    set_mode(&root, 0o711);
    let _ = xattr::set(root.join("db/data"), "user.origin", b"image");
    let old = FileTime::from_unix_time(1_500_000_000, 123_000_000);
    filetime::set_file_times(root.join("db/data"), old, old).unwrap();
    filetime::set_symlink_file_times(root.join("current"), old, old).unwrap();
    filetime::set_file_times(root.join("db"), old, old).unwrap();

    let store = tempfile::tempdir().unwrap();
    let volumes = Volumes::new(store.path());
    let mut mount = parse_volume("appdata:/var/lib/app").unwrap();
    mount.prepare(&volumes).unwrap();
    let name = mount.volume_name.clone().unwrap();
    assert!(volumes.populate(&name, &root).unwrap());
    let data = volumes.get(&name).unwrap().mountpoint;
    assert_eq!(mount.source.as_deref(), Some(data.as_path()));

    let meta = |relative: &str| std::fs::symlink_metadata(data.join(relative)).unwrap();
    // The volume's root takes the image directory's owner and mode.
    assert_eq!(
        (meta("").uid(), meta("").gid(), meta("").mode() & 0o7777),
        (70, 71, 0o711)
    );
    let file = meta("db/data");
    assert_eq!(
        (file.uid(), file.gid(), file.mode() & 0o7777),
        (1234, 5678, 0o640)
    );
    assert_eq!(FileTime::from_last_modification_time(&file), old);
    assert_eq!(
        std::fs::read_to_string(data.join("db/data")).unwrap(),
        "rows\n"
    );
    let directory = meta("db");
    assert_eq!((directory.uid(), directory.mode() & 0o7777), (999, 0o2750));
    assert_eq!(FileTime::from_last_modification_time(&directory), old);
    let tool = meta("tool");
    assert_eq!(
        (tool.gid(), tool.mode() & 0o7777),
        (50, 0o4755),
        "set-uid kept after chown"
    );
    assert_eq!(
        tool.ino(),
        meta("tool-alias").ino(),
        "hard links stay linked"
    );
    let link = meta("current");
    assert!(link.file_type().is_symlink());
    assert_eq!((link.uid(), link.gid()), (42, 43));
    assert_eq!(
        std::fs::read_link(data.join("current")).unwrap(),
        Path::new("db/data")
    );
    assert_eq!(FileTime::from_last_modification_time(&link), old);
    let pipe = meta("pipe");
    assert!(pipe.file_type().is_fifo());
    assert_eq!(pipe.mode() & 0o7777, 0o620);
    if let Ok(Some(value)) = xattr::get(root.join("db/data"), "user.origin") {
        assert_eq!(
            xattr::get(data.join("db/data"), "user.origin").unwrap(),
            Some(value)
        );
    }

    // A second container using the volume copies nothing over it.
    std::fs::remove_file(data.join("db/data")).unwrap();
    assert!(!volumes.populate(&name, &root).unwrap());
    assert!(!data.join("db/data").exists());
}

#[test]
fn a_bind_from_dash_v_creates_its_missing_source() {
    let host = tempfile::tempdir().unwrap();
    let source = host.path().join("not/yet");
    let mut mount = parse_volume(&format!("{}:/data", source.display())).unwrap();
    let store = tempfile::tempdir().unwrap();
    mount.prepare(&Volumes::new(store.path())).unwrap();
    assert!(source.is_dir());
    let anonymous = parse_volume("/cache").unwrap();
    let mut anonymous = anonymous;
    anonymous.prepare(&Volumes::new(store.path())).unwrap();
    let name = anonymous.volume_name.clone().unwrap();
    assert_eq!(name.len(), 64);
    assert_eq!(
        anonymous.to_sandbox().unwrap().kind,
        strata_sandbox::MountKind::Bind {
            source: store.path().join("areas/volumes").join(&name).join("_data")
        }
    );
    let volumes = Volumes::new(store.path());
    assert!(volumes.get(&name).unwrap().anonymous);
    let named = volumes.create("named", BTreeMap::new()).unwrap();
    assert!(!named.anonymous);
}
