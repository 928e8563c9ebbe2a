//! The `strata` binary is the sandbox helper: re-executed with the helper
//! argument, it runs a step instead of parsing a command line.

use strata_sandbox::{ExitStatus, RootFs, Sandbox, Spec};

#[test]
fn strata_runs_a_step_as_its_own_sandbox_helper() {
    if !strata_test::should_run_as_root("strata as the sandbox helper") {
        return;
    }
    let root = strata_test::busybox_rootfs_copy();
    let mut lines = Vec::new();
    let status = Sandbox::with_helper(env!("CARGO_BIN_EXE_strata"))
        .run(
            RootFs::Directory(root.path.clone()),
            &Spec::new(["/bin/sh", "-c", "hostname; echo $PATH"]),
            |_, line| {
                lines.push(String::from_utf8_lossy(line).into_owned());
            },
        )
        .unwrap();
    assert_eq!(status, ExitStatus::Code(0));
    assert_eq!(lines, ["buildkitsandbox", strata_sandbox::DEFAULT_PATH]);
}
