/// Whether the test process runs as root (effective uid 0).
pub fn is_root() -> bool {
    // /proc/self/status has "Uid:\treal\teffective\t...".
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Decides whether a privileged test runs: `true` when `available`; otherwise a
/// loud `SKIPPED` line and `false`, or a panic when `STRATA_REQUIRE_PRIVILEGED=1`.
///
/// Use as `if !should_run(test, available, why) { return; }`.
pub fn should_run(test: &str, available: bool, why: &str) -> bool {
    if available {
        return true;
    }
    if std::env::var_os("STRATA_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
        panic!("{test}: needs {why}, and STRATA_REQUIRE_PRIVILEGED=1 forbids skipping");
    }
    say_skipped(&format!("{test}: needs {why}"));
    false
}

/// [`should_run`] for tests that need root.
pub fn should_run_as_root(test: &str) -> bool {
    should_run(test, is_root(), "root")
}

/// Prints `SKIPPED <what>` on the process's real stderr: libtest captures
/// `eprintln!`, which would hide a skip inside a passing test.
pub(crate) fn say_skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {what}");
}
