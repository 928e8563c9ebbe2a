//! Go's `syscall.Errno` texts: how Go, and so runc, BuildKit and Docker,
//! print a failed system call.

use std::io;

/// An I/O error as Go prints it: the C library's text lower-cased (`no such
/// file or directory`), without Rust's ` (os error N)`.
pub fn error_text(error: &io::Error) -> String {
    let text = error.to_string();
    let text = match error.raw_os_error() {
        Some(code) => text
            .strip_suffix(&format!(" (os error {code})"))
            .unwrap_or(&text)
            .to_owned(),
        None => text,
    };
    let mut characters = text.chars();
    match characters.next() {
        Some(first) => first.to_lowercase().chain(characters).collect(),
        None => text,
    }
}

/// An errno number as Go prints it.
pub fn errno_text(code: i32) -> String {
    error_text(&io::Error::from_raw_os_error(code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errnos_read_as_go_prints_them() {
        assert_eq!(errno_text(2), "no such file or directory");
        assert_eq!(errno_text(13), "permission denied");
        assert_eq!(errno_text(20), "not a directory");
        assert_eq!(errno_text(40), "too many levels of symbolic links");
        let missing = std::fs::metadata("/nonexistent/strata-go").unwrap_err();
        assert_eq!(error_text(&missing), "no such file or directory");
        let custom = io::Error::other("Broken pipe here");
        assert_eq!(error_text(&custom), "broken pipe here");
    }
}
