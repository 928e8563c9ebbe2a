//! The base trees the other crates' tests run over.

use std::path::Path;

#[test]
fn busybox_rootfs_has_applets_users_and_groups() {
    let root = strata_test::busybox_rootfs();
    assert!(root.join("bin/busybox").is_file());
    for applet in ["bin/sh", "bin/ls", "usr/bin/id", "bin/sleep"] {
        let link = std::fs::read_link(root.join(applet)).unwrap();
        assert_eq!(link, Path::new("/bin/busybox"), "{applet}");
    }
    assert_eq!(
        std::fs::read_to_string(root.join("etc/passwd")).unwrap(),
        strata_test::BUSYBOX_PASSWD
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/group")).unwrap(),
        strata_test::BUSYBOX_GROUP
    );
    // Built once: the same directory every time.
    assert_eq!(strata_test::busybox_rootfs(), root);
}

/// Slow (debootstrap, about a minute, needs the Debian mirror): run with
/// `cargo test -p strata-test -- --ignored`.
#[test]
#[ignore = "runs debootstrap once (network, about a minute)"]
fn debian_rootfs_is_made_once_and_reused() {
    let root = strata_test::debian_rootfs().unwrap();
    assert!(root.join("usr/bin/dpkg").is_file());
    assert!(root.join("etc/debian_version").is_file());
    assert_eq!(strata_test::debian_rootfs().unwrap(), root);
}
