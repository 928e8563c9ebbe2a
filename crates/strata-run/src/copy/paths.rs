//! `docker cp`'s path rules, as pure functions over Go's path semantics
//! (`filepath.Split`, `Base`, `Dir`; `Clean` is strata-go's) and moby's archive copy rules
//! (`CopyInfo`, `PrepareArchiveCopy`, trailing `/` and `/.`).

use strata_go::path::clean_str;

use crate::{Error, Result};

/// Go's `filepath.Base`: the last element, `.` for an empty path, `/` for the root.
pub(crate) fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// Go's `filepath.Dir`: everything but the last element, cleaned.
pub(crate) fn dir(path: &str) -> String {
    let (directory, _) = split(path);
    clean_str(directory)
}

/// Go's `filepath.Split`: up to and including the last `/`, and the rest.
pub(crate) fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(index) => path.split_at(index + 1),
        None => ("", path),
    }
}

/// Go's `filepath.Join` of two elements (an empty one is left out).
pub(crate) fn join(first: &str, second: &str) -> String {
    match (first.is_empty(), second.is_empty()) {
        (true, true) => String::new(),
        (true, false) => clean_str(second),
        (false, true) => clean_str(first),
        (false, false) => clean_str(&format!("{first}/{second}")),
    }
}

/// Whether the last element of `path` is `.`.
pub(crate) fn specifies_current_directory(path: &str) -> bool {
    base(path) == "."
}

/// Whether `path` says it must be a directory: a trailing `/` or `/.`.
pub(crate) fn asserts_directory(path: &str) -> bool {
    path.ends_with('/') || specifies_current_directory(path)
}

/// `cleaned` with the trailing `/.` or `/` that `original` had and
/// cleaning took away (moby's `PreserveTrailingDotOrSeparator`).
pub(crate) fn preserve_trailing_dot_or_separator(cleaned: &str, original: &str) -> String {
    let mut result = cleaned.to_owned();
    if !specifies_current_directory(&result) && specifies_current_directory(original) {
        if !result.ends_with('/') {
            result.push('/');
        }
        result.push('.');
    }
    if !result.ends_with('/') && original.ends_with('/') {
        result.push('/');
    }
    result
}

/// The directory and the entry a path names, cleaned but keeping a final
/// `.` (moby's `SplitPathDirEntry`): `/a/b/` → (`/a`, `b`), `/a/.` → (`/a`, `.`).
pub(crate) fn split_path_dir_entry(path: &str) -> (String, String) {
    let mut cleaned = clean_str(path);
    if specifies_current_directory(path) {
        cleaned.push_str("/.");
    }
    (dir(&cleaned), base(&cleaned))
}

/// The resolved path of a symlink source and the name its archive entries
/// must take so that they keep the name the user gave (moby's `GetRebaseName`).
pub(crate) fn rebase_name(path: &str, resolved: &str) -> (String, Option<String>) {
    let mut resolved = resolved.to_owned();
    if specifies_current_directory(path) && !specifies_current_directory(&resolved) {
        resolved.push_str("/.");
    }
    if path.ends_with('/') && !resolved.ends_with('/') {
        resolved.push('/');
    }
    let name = (base(path) != base(&resolved)).then(|| base(path));
    (resolved, name)
}

/// Go's `filepath.Abs` for a host path, keeping a trailing `/` or `/.`.
pub(crate) fn local_path(path: &str, current_directory: &str) -> String {
    let absolute = if path.starts_with('/') {
        clean_str(path)
    } else {
        join(current_directory, path)
    };
    preserve_trailing_dot_or_separator(&absolute, path)
}

/// `CONTAINER:PATH` split as docker's CLI does: an absolute path, a path
/// starting with `.` or one without `:` is local (`None`).
pub fn split_copy_argument(argument: &str) -> (Option<&str>, &str) {
    if argument.starts_with('/') {
        return (None, argument);
    }
    match argument.split_once(':') {
        Some((container, path)) if !container.starts_with('.') => (Some(container), path),
        _ => (None, argument),
    }
}

/// One side of a copy: a path, whether it exists and is a directory, and
/// the name its entries must take when it is a resolved symlink.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct CopyInfo {
    /// The path (absolute; a trailing `/` or `/.` is meaningful).
    pub(crate) path: String,
    /// Whether it exists.
    pub(crate) exists: bool,
    /// Whether it is a directory.
    pub(crate) is_dir: bool,
    /// The name the archive's first element takes instead of the path's base.
    pub(crate) rebase_name: Option<String>,
}

/// A rewrite of archive entry names: the first occurrence of `from` becomes `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rename {
    /// What is replaced (empty: `to` is put in front).
    pub(crate) from: String,
    /// What replaces it.
    pub(crate) to: String,
}

impl Rename {
    /// moby's `RebaseArchiveEntries(old, new)`: the root as `old` means
    /// every name gets `new` in front.
    pub(crate) fn rebase(old: &str, new: &str) -> Self {
        Self {
            from: if old == "/" {
                String::new()
            } else {
                old.to_owned()
            },
            to: new.to_owned(),
        }
    }

    /// `name` rewritten as Go's `strings.Replace(name, from, to, 1)`.
    pub(crate) fn apply(&self, name: &[u8]) -> Vec<u8> {
        let from = self.from.as_bytes();
        let position = if from.is_empty() {
            Some(0)
        } else {
            name.windows(from.len()).position(|window| window == from)
        };
        match position {
            Some(index) => [
                &name[..index],
                self.to.as_bytes(),
                &name[index + from.len()..],
            ]
            .concat(),
            None => name.to_vec(),
        }
    }
}

/// Where an archive of `source` goes to land at `destination`, and how its
/// names change (moby's `PrepareArchiveCopy`): into an existing directory
/// as it is; otherwise into the destination's parent, renamed to its base.
pub(crate) fn prepare_archive_copy(
    source: &CopyInfo,
    destination: &CopyInfo,
) -> Result<(String, Option<Rename>)> {
    let (destination_directory, destination_base) = split_path_dir_entry(&destination.path);
    let (_, source_base) = split_path_dir_entry(&source.path);
    let source_base = source.rebase_name.clone().unwrap_or(source_base);
    let renamed = || {
        Ok((
            destination_directory.clone(),
            Some(Rename::rebase(&source_base, &destination_base)),
        ))
    };
    match (destination.exists, destination.is_dir, source.is_dir) {
        (true, true, _) => Ok((destination.path.clone(), None)),
        (true, false, true) => Err(Error::CannotCopyDirectory),
        (true, false, false) | (false, _, true) => renamed(),
        (false, _, false) if asserts_directory(&destination.path) => Err(Error::NoSuchDirectory),
        (false, _, false) => renamed(),
    }
}

/// The name an archive of the entry `base` starts with: the root's
/// entries start with `/` (moby renames the root's base to nothing).
pub(crate) fn archive_root_name(base: &str) -> String {
    if base == "/" {
        String::new()
    } else {
        base.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_dir_and_split_match_go() {
        assert_eq!(base("/a/b/"), "b");
        assert_eq!(base("/"), "/");
        assert_eq!(base("a/."), ".");
        assert_eq!(dir("/a/b"), "/a");
        assert_eq!(dir("b"), ".");
        assert_eq!(dir("/b"), "/");
        assert_eq!(split("/dirlink/"), ("/dirlink/", ""));
        assert_eq!(split("rel"), ("", "rel"));
    }

    #[test]
    fn trailing_dot_and_separator_survive_cleaning() {
        assert_eq!(
            preserve_trailing_dot_or_separator("/w/out", "out/"),
            "/w/out/"
        );
        assert_eq!(preserve_trailing_dot_or_separator("/w", "."), "/w/.");
        assert_eq!(
            preserve_trailing_dot_or_separator("/data", "/data/."),
            "/data/."
        );
        assert_eq!(preserve_trailing_dot_or_separator("/", "/"), "/");
        assert_eq!(local_path(".", "/w"), "/w/.");
        assert_eq!(local_path("newdir/", "/w"), "/w/newdir/");
        assert_eq!(local_path("/x/../y", "/w"), "/y");
    }

    #[test]
    fn split_path_dir_entry_keeps_a_final_dot() {
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(split_path_dir_entry("/data/"), pair("/", "data"));
        assert_eq!(split_path_dir_entry("/data/."), pair("/data", "."));
        assert_eq!(split_path_dir_entry("relative"), pair(".", "relative"));
        assert_eq!(split_path_dir_entry("/"), pair("/", "/"));
    }

    #[test]
    fn copy_arguments_split_as_dockers_cli() {
        assert_eq!(split_copy_argument("c:/etc"), (Some("c"), "/etc"));
        assert_eq!(split_copy_argument("c:etc"), (Some("c"), "etc"));
        assert_eq!(split_copy_argument("/abs:x"), (None, "/abs:x"));
        assert_eq!(split_copy_argument("./file:x"), (None, "./file:x"));
        assert_eq!(split_copy_argument("file"), (None, "file"));
        assert_eq!(split_copy_argument("-"), (None, "-"));
    }

    #[test]
    fn symlink_sources_keep_the_name_asked_for() {
        assert_eq!(
            rebase_name("/link", "/etc/hostname"),
            ("/etc/hostname".to_owned(), Some("link".to_owned()))
        );
        assert_eq!(
            rebase_name("/dirlink/", "/etc"),
            ("/etc/".to_owned(), Some("dirlink".to_owned()))
        );
        assert_eq!(rebase_name("/d/.", "/e"), ("/e/.".to_owned(), None));
    }

    fn info(path: &str, exists: bool, is_dir: bool) -> CopyInfo {
        CopyInfo {
            path: path.to_owned(),
            exists,
            is_dir,
            rebase_name: None,
        }
    }

    fn plan(source: CopyInfo, destination: CopyInfo) -> Result<(String, Option<(String, String)>)> {
        prepare_archive_copy(&source, &destination)
            .map(|(directory, rename)| (directory, rename.map(|r| (r.from, r.to))))
    }

    fn renamed(directory: &str, from: &str, to: &str) -> (String, Option<(String, String)>) {
        (directory.to_owned(), Some((from.to_owned(), to.to_owned())))
    }

    #[test]
    fn a_file_lands_in_a_directory_or_takes_the_destination_name() {
        // Into an existing directory: extracted there, unchanged.
        let result = plan(info("/h/hostfile", true, false), info("/tmp/", true, true)).unwrap();
        assert_eq!(result, ("/tmp/".to_owned(), None));
        // A missing destination: created under the parent with its name.
        let result = plan(
            info("/h/hostfile", true, false),
            info("/tmp/renamed", false, false),
        );
        assert_eq!(result.unwrap(), renamed("/tmp", "hostfile", "renamed"));
        // An existing file: replaced, the entry renamed to it.
        let result = plan(
            info("/h/hostfile", true, false),
            info("/etc/hostname", true, false),
        );
        assert_eq!(result.unwrap(), renamed("/etc", "hostfile", "hostname"));
        // `DIR/` that does not exist.
        let result = plan(
            info("/h/hostfile", true, false),
            info("/nonexistent/", false, false),
        );
        assert!(matches!(result, Err(Error::NoSuchDirectory)));
    }

    #[test]
    fn a_directory_becomes_a_subdirectory_or_the_destination() {
        let result = plan(
            info("/h/hostdir", true, true),
            info("/tmp/existing", true, true),
        );
        assert_eq!(result.unwrap(), ("/tmp/existing".to_owned(), None));
        let result = plan(
            info("/h/hostdir", true, true),
            info("/tmp/newname", false, false),
        );
        assert_eq!(result.unwrap(), renamed("/tmp", "hostdir", "newname"));
        // `SRC/.` to a missing destination: the contents, under its name.
        let result = plan(
            info("/h/hostdir/.", true, true),
            info("/tmp/dotnew", false, false),
        );
        assert_eq!(result.unwrap(), renamed("/tmp", ".", "dotnew"));
        // A missing `DIR/` is fine for a directory.
        let result = plan(info("/data/", true, true), info("/w/newdir/", false, false));
        assert_eq!(result.unwrap(), renamed("/w", "data", "newdir"));
        let result = plan(
            info("/h/hostdir", true, true),
            info("/etc/hostname", true, false),
        );
        assert!(matches!(result, Err(Error::CannotCopyDirectory)));
    }

    #[test]
    fn a_rebased_source_is_renamed_from_its_new_name() {
        let mut source = info("/etc/hostname", true, false);
        source.rebase_name = Some("link".to_owned());
        let result = plan(source, info("/w/linkL", false, false));
        assert_eq!(result.unwrap(), renamed("/w", "link", "linkL"));
    }

    #[test]
    fn renames_replace_the_first_occurrence_as_go_does() {
        let rename = Rename::rebase("data", "outdir");
        assert_eq!(rename.apply(b"data/sub/y"), b"outdir/sub/y");
        assert_eq!(
            Rename::rebase(".", "dotnew").apply(b"./sub/"),
            b"dotnew/sub/"
        );
        assert_eq!(Rename::rebase("/", "out").apply(b"/bin"), b"out/bin");
        assert_eq!(rename.apply(b"other"), b"other");
        assert_eq!(archive_root_name("/"), "");
        assert_eq!(archive_root_name("data"), "data");
    }
}
