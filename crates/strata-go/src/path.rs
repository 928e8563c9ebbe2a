//! Go's `path` package over bytes: `Clean` and `Match` (which is also
//! `filepath.Match` on Unix).

use crate::utf8::{decode_rune, is_invalid};

/// Go's `path.Clean`: the shortest lexically equal path; `""` becomes `"."`,
/// a trailing slash is dropped, `..` at the root of a rooted path vanishes.
pub fn clean(path: &[u8]) -> Vec<u8> {
    if path.is_empty() {
        return b".".to_vec();
    }
    let rooted = path[0] == b'/';
    let mut out: Vec<u8> = Vec::with_capacity(path.len());
    if rooted {
        out.push(b'/');
    }
    // Length of `out` that `..` may not back up over.
    let mut dotdot = out.len();
    let mut index = usize::from(rooted);
    while index < path.len() {
        let end = path[index..]
            .iter()
            .position(|&b| b == b'/')
            .map_or(path.len(), |p| index + p);
        let element = &path[index..end];
        index = end + 1;
        match element {
            b"" | b"." => {}
            b".." => {
                if out.len() > dotdot {
                    // Back up to the previous slash.
                    let mut cut = out.len() - 1;
                    while cut > dotdot && out[cut] != b'/' {
                        cut -= 1;
                    }
                    out.truncate(cut);
                } else if !rooted {
                    if !out.is_empty() {
                        out.push(b'/');
                    }
                    out.extend_from_slice(b"..");
                    dotdot = out.len();
                }
            }
            _ => {
                if (rooted && out.len() != 1) || (!rooted && !out.is_empty()) {
                    out.push(b'/');
                }
                out.extend_from_slice(element);
            }
        }
    }
    if out.is_empty() {
        return b".".to_vec();
    }
    out
}

/// Go's `path.Clean` over text: [`clean`] keeps UTF-8 valid, as it only
/// drops elements and slashes.
pub fn clean_str(path: &str) -> String {
    String::from_utf8_lossy(&clean(path.as_bytes())).into_owned()
}

/// A malformed `path.Match` pattern (Go's `ErrBadPattern`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadPattern;

impl std::fmt::Display for BadPattern {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("syntax error in pattern")
    }
}

impl std::error::Error for BadPattern {}

/// Go's `path.Match` (and `filepath.Match` on Unix): shell patterns where `*`
/// and `?` never match `/`, `[...]` classes with `^` negation and ranges,
/// and `\` escapes. A malformed pattern is an error even when the name
/// decides the answer early.
pub fn path_match(pattern: &[u8], name: &[u8]) -> Result<bool, BadPattern> {
    let mut pattern = pattern;
    let mut name = name;
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            // A trailing star matches the rest of the name unless it has a '/'.
            return Ok(!name.contains(&b'/'));
        }
        let (remaining, ok) = match_chunk(chunk, name)?;
        if ok && (remaining.is_empty() || !pattern.is_empty()) {
            name = remaining;
            continue;
        }
        if star {
            let mut index = 0;
            while index < name.len() && name[index] != b'/' {
                let (remaining, ok) = match_chunk(chunk, &name[index + 1..])?;
                if ok {
                    if pattern.is_empty() && !remaining.is_empty() {
                        index += 1;
                        continue;
                    }
                    name = remaining;
                    continue 'pattern;
                }
                index += 1;
            }
        }
        // The answer is no; the rest of the pattern must still be well formed.
        while !pattern.is_empty() {
            let (_, chunk, rest) = scan_chunk(pattern);
            pattern = rest;
            match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

/// Splits off leading stars and the chunk up to the next unbracketed star.
fn scan_chunk(pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut pattern = pattern;
    let mut star = false;
    while pattern.first() == Some(&b'*') {
        pattern = &pattern[1..];
        star = true;
    }
    let mut in_range = false;
    let mut index = 0;
    while index < pattern.len() {
        match pattern[index] {
            b'\\' if index + 1 < pattern.len() => {
                index += 1;
            }
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        index += 1;
    }
    (star, &pattern[..index], &pattern[index..])
}

/// Matches one star-free chunk at the start of `name`: the rest of the name
/// and whether it matched. The whole chunk is checked for syntax either way.
fn match_chunk<'a>(chunk: &[u8], name: &'a [u8]) -> Result<(&'a [u8], bool), BadPattern> {
    let mut chunk = chunk;
    let mut name = name;
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && name.is_empty() {
            failed = true;
        }
        match chunk[0] {
            b'[' => {
                let mut rune = 0;
                if !failed {
                    let (r, width) = decode_rune(name);
                    rune = u32::from(r);
                    name = &name[width..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if chunk.first() == Some(&b'^') {
                    negated = true;
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut ranges = 0;
                loop {
                    if chunk.first() == Some(&b']') && ranges > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (low, rest) = class_escape(chunk)?;
                    chunk = rest;
                    let mut high = low;
                    if chunk.first() == Some(&b'-') {
                        let (h, rest) = class_escape(&chunk[1..])?;
                        high = h;
                        chunk = rest;
                    }
                    if low <= rune && rune <= high {
                        matched = true;
                    }
                    ranges += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if name[0] == b'/' {
                        failed = true;
                    }
                    let (_, width) = decode_rune(name);
                    name = &name[width..];
                }
                chunk = &chunk[1..];
            }
            byte => {
                let literal = if byte == b'\\' {
                    chunk = &chunk[1..];
                    match chunk.first() {
                        Some(&b) => b,
                        None => return Err(BadPattern),
                    }
                } else {
                    byte
                };
                if !failed {
                    if literal != name[0] {
                        failed = true;
                    }
                    name = &name[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    if failed {
        return Ok((b"", false));
    }
    Ok((name, true))
}

/// One possibly escaped character of a class (Go's `getEsc`).
fn class_escape(chunk: &[u8]) -> Result<(u32, &[u8]), BadPattern> {
    let mut chunk = chunk;
    match chunk.first() {
        None | Some(b'-') | Some(b']') => return Err(BadPattern),
        Some(b'\\') => {
            chunk = &chunk[1..];
            if chunk.is_empty() {
                return Err(BadPattern);
            }
        }
        Some(_) => {}
    }
    let (rune, width) = decode_rune(chunk);
    if is_invalid(rune, width) {
        return Err(BadPattern);
    }
    let rest = &chunk[width..];
    if rest.is_empty() {
        return Err(BadPattern);
    }
    Ok((u32::from(rune), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cleaned(path: &str) -> String {
        String::from_utf8(clean(path.as_bytes())).unwrap()
    }

    #[test]
    fn clean_matches_go() {
        for (input, expected) in [
            ("", "."),
            (".", "."),
            ("./", "."),
            ("/", "/"),
            ("//foo", "/foo"),
            ("/../foo", "/foo"),
            ("../foo", "../foo"),
            ("a/b/../../c", "c"),
            ("a/../..", ".."),
            ("a/../../b", "../b"),
            ("../../a/..", "../.."),
            ("foo/./bar", "foo/bar"),
            ("dir1//foo", "dir1/foo"),
            ("./dir1/../foo2", "foo2"),
            ("abc/", "abc"),
            ("/abc/def/", "/abc/def"),
            ("!a/../b", "b"),
            ("./a/../b/", "b"),
            ("/../x", "/x"),
            ("//a//b/", "/a/b"),
            ("a/./b/..", "a"),
            ("a/..", "."),
            ("/data/.", "/data"),
        ] {
            assert_eq!(cleaned(input), expected, "clean({input:?})");
            assert_eq!(clean_str(input), expected, "clean_str({input:?})");
        }
    }

    #[test]
    fn path_match_cases() {
        let yes = |p: &str, n: &str| assert_eq!(path_match(p.as_bytes(), n.as_bytes()), Ok(true));
        let no = |p: &str, n: &str| assert_eq!(path_match(p.as_bytes(), n.as_bytes()), Ok(false));
        let bad = |p: &str| assert_eq!(path_match(p.as_bytes(), b"x"), Err(BadPattern));
        yes("abc", "abc");
        yes("*", "abc");
        no("*", "a/b");
        yes("a*/b", "abc/b");
        no("a*/b", "a/c/b");
        yes("a*b*c*d*e*/f", "axbxcxdxexxx/f");
        yes("ab[^e-g]", "abc");
        yes("a?b", "a☺b");
        no("a???b", "a☺b");
        yes("[\\-x]", "-");
        yes("a\\*b", "a*b");
        no("a\\*b", "ab");
        yes("/src/*.json", "/src/a.json");
        bad("[");
        bad("a[");
        bad("[-]");
        bad("[x-]");
        bad("[]a]");
        bad("\\");
        bad("[a-b-c]");
        bad("*x[");
        // Go checks the whole pattern even when the name fails early.
        assert_eq!(path_match(b"x[", b"."), Err(BadPattern));
    }
}
