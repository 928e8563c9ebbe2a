//! The peers the tests compare with: skopeo's view of an image, and a docker
//! daemon when one runs.

use std::io::Write;
use std::process::Command;

/// What `skopeo inspect --raw FLAGS TARGET` reads, as JSON.
pub(crate) fn skopeo_raw(flags: &[&str], target: &str) -> serde_json::Value {
    serde_json::from_slice(&skopeo_raw_bytes(flags, target)).unwrap()
}

/// The bytes `skopeo inspect --raw FLAGS TARGET` reads.
pub(crate) fn skopeo_raw_bytes(flags: &[&str], target: &str) -> Vec<u8> {
    let output = Command::new("skopeo")
        .args(["inspect", "--raw"])
        .args(flags)
        .arg(target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "skopeo inspect {target}: {stderr}");
    output.stdout
}

/// Whether a docker daemon answers `docker info`; if not, says `SKIPPED`
/// for `test`. docker is a reference to compare with, not a requirement:
/// no daemon (CI runs none) is a skip even under STRATA_REQUIRE_PRIVILEGED.
pub(crate) fn docker_daemon(test: &str) -> bool {
    let running = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|output| output.status.success());
    if !running {
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED {test}: needs a running docker daemon"
        );
    }
    running
}
