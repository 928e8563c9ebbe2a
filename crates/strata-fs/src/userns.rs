//! Whether this process runs in a user namespace other than the initial
//! one (rootless strata): file ownership and overlayfs work differently
//! there (xattrs in `user.`, no device nodes, ids only within the map).

use std::sync::OnceLock;

/// Whether the process's user namespace maps less than every id: the
/// initial namespace's `/proc/self/uid_map` is `0 0 4294967295`.
pub fn in_user_namespace() -> bool {
    static ANSWER: OnceLock<bool> = OnceLock::new();
    *ANSWER.get_or_init(|| {
        std::fs::read_to_string("/proc/self/uid_map")
            .map(|map| !is_initial_map(&map))
            .unwrap_or(false)
    })
}

fn is_initial_map(map: &str) -> bool {
    let fields: Vec<&str> = map.split_whitespace().collect();
    fields == ["0", "0", "4294967295"]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_whole_identity_map_is_initial() {
        assert!(is_initial_map("         0          0 4294967295\n"));
        assert!(!is_initial_map("0 1000 1\n1 100000 65536\n"));
        assert!(!is_initial_map(""));
    }
}
