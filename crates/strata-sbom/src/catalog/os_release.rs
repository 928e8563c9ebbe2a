//! The distribution, from os-release (`/etc/os-release` is often a link to `/usr/lib/os-release`).

use crate::package::Distro;
use crate::tree::Tree;

const PATHS: [&str; 2] = ["/etc/os-release", "/usr/lib/os-release"];

pub(super) fn wants(path: &str) -> bool {
    PATHS.contains(&path)
}

/// The distribution the tree's os-release names, if it has one.
pub(super) fn distro(tree: &Tree) -> Option<Distro> {
    let (bytes, _) = PATHS.iter().find_map(|path| tree.bytes(path))?;
    let text = String::from_utf8_lossy(bytes);
    let mut distro = Distro::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(value.trim());
        match key.trim() {
            "ID" => distro.id = value,
            "VERSION_ID" => distro.version_id = Some(value),
            "VERSION_CODENAME" => distro.codename = Some(value),
            "PRETTY_NAME" => distro.pretty_name = Some(value),
            _ => {}
        }
    }
    (!distro.id.is_empty()).then_some(distro)
}

/// os-release values are shell-quoted: `"Debian GNU/Linux 12 (bookworm)"`.
fn unquote(value: &str) -> String {
    let inner = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
        .unwrap_or(value);
    inner.replace("\\\"", "\"").replace("\\\\", "\\")
}
