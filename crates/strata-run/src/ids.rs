//! Container IDs and names as Docker makes them: 64 random hex digits whose
//! 12-digit short form is never all decimal, and `adjective_name` names.

use std::io::Read;

use crate::{Error, Result};

/// Length of the short ID `ps` prints.
pub const SHORT_ID: usize = 12;

/// A new random container ID (Docker's `stringid.GenerateRandomID`).
pub fn new_id() -> Result<String> {
    loop {
        let bytes = random_bytes::<32>()?;
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        // A short ID of digits only would read as a number (Docker retries too).
        if !id[..SHORT_ID].bytes().all(|b| b.is_ascii_digit()) {
            return Ok(id);
        }
    }
}

/// The first 12 digits of an ID.
pub fn short_id(id: &str) -> &str {
    id.get(..SHORT_ID).unwrap_or(id)
}

pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N]> {
    let mut bytes = [0u8; N];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut file| file.read_exact(&mut bytes))
        .map_err(|e| strata_fs::Error::new("read", "/dev/urandom", e))?;
    Ok(bytes)
}

/// Checks a user-given name (a leading `/` is allowed and dropped, as Docker).
pub(crate) fn validate_name(name: &str) -> Result<String> {
    let bare = name.strip_prefix('/').unwrap_or(name);
    let mut bytes = bare.bytes();
    let valid = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        && bare.len() >= 2;
    if !valid {
        return Err(Error::InvalidFlag {
            flag: "--name",
            message: format!(
                "Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            ),
        });
    }
    Ok(bare.to_owned())
}

const ADJECTIVES: &[&str] = &[
    "agile", "bold", "brave", "bright", "calm", "clever", "cool", "crisp", "daring", "eager",
    "fervent", "fond", "gentle", "happy", "hopeful", "jolly", "keen", "kind", "lucid", "merry",
    "modest", "nifty", "noble", "patient", "quiet", "quirky", "relaxed", "sharp", "steady",
    "stoic", "sunny", "swift", "tender", "upbeat", "vibrant", "witty", "zealous",
];

const NAMES: &[&str] = &[
    "babbage", "bell", "boole", "curie", "darwin", "dijkstra", "einstein", "euler", "faraday",
    "fermat", "feynman", "franklin", "galileo", "gauss", "hamilton", "hopper", "hypatia", "kepler",
    "knuth", "lamarr", "liskov", "lovelace", "maxwell", "meitner", "mendel", "newton", "noether",
    "pascal", "ritchie", "shannon", "tesla", "thompson", "turing", "wozniak", "yalow",
];

/// A random `adjective_name` that `taken` does not know (a number is added
/// after many collisions).
pub(crate) fn random_name(taken: impl Fn(&str) -> bool) -> Result<String> {
    let mut attempt = 0;
    loop {
        let [a, b] = random_bytes::<2>()?;
        let mut name = format!(
            "{}_{}",
            ADJECTIVES[usize::from(a) % ADJECTIVES.len()],
            NAMES[usize::from(b) % NAMES.len()]
        );
        if attempt >= 10 {
            name.push_str(&(u32::from(a) * 256 + u32::from(b)).to_string());
        }
        if !taken(&name) {
            return Ok(name);
        }
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_64_hex_digits_with_a_non_numeric_short_form() {
        for _ in 0..50 {
            let id = new_id().unwrap();
            assert_eq!(id.len(), 64);
            assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
            assert!(!short_id(&id).bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn names_follow_dockers_rule() {
        assert_eq!(validate_name("/web").unwrap(), "web");
        assert_eq!(validate_name("a.b-c_1").unwrap(), "a.b-c_1");
        for bad in ["", "a", "-x", "web app", "x/y", "_x"] {
            let message = validate_name(bad).unwrap_err().to_string();
            assert_eq!(
                message,
                format!(
                    "Invalid container name ({bad}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
                )
            );
        }
        let name = random_name(|n| n.starts_with('a')).unwrap();
        assert!(!name.starts_with('a') && name.contains('_'));
    }
}
