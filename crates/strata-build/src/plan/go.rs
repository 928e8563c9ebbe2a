//! Go's helpers BuildKit's behaviour depends on, ported: `path.Clean` and
//! the did-you-mean suggestion's edit distance.

/// Go's `path.Clean` over an absolute path.
pub(crate) fn clean_absolute(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

/// The closest name, for did-you-mean hints.
pub(super) fn closest<'a>(wanted: &str, names: &'a [String]) -> Option<&'a String> {
    names
        .iter()
        .map(|name| (strsim_distance(wanted, name), name))
        .filter(|(distance, name)| *distance <= name.len().max(wanted.len()) / 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

fn strsim_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current.push(
                (previous[j] + cost)
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}
