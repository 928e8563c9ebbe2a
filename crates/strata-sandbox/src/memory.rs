//! Resident memory of a long-lived strata process (a container's monitor):
//! the pages of code and read-only data it touched while starting up stay
//! mapped (and counted in its RSS) though its steady state uses few of them.

/// Drops this process's mappings of clean, read-only file pages (code and
/// constant data of the executable and its libraries); the few it still
/// uses come back from the page cache at their next touch. Mappings that
/// hold a written page (relocated data) are left alone. Best effort.
pub fn trim_resident_memory() {
    let Ok(smaps) = std::fs::read_to_string("/proc/self/smaps") else {
        return;
    };
    for mapping in mappings(&smaps) {
        if mapping.droppable() {
            // SAFETY: the range is a whole mapping of this process, read-only
            // and file-backed with no written page (checked above), so every
            // page dropped is identical to the file and is faulted back in
            // from it on its next access; nothing of this process is lost.
            unsafe {
                let _ = rustix::mm::madvise(
                    mapping.start as *mut std::ffi::c_void,
                    mapping.end - mapping.start,
                    rustix::mm::Advice::LinuxDontNeed,
                );
            }
        }
    }
}

#[derive(Debug, Default, PartialEq)]
struct Mapping {
    start: usize,
    end: usize,
    writable: bool,
    file: bool,
    dirty_kilobytes: u64,
}

impl Mapping {
    fn droppable(&self) -> bool {
        self.file && !self.writable && self.dirty_kilobytes == 0 && self.end > self.start
    }
}

/// The mappings of a `/proc/PID/smaps` text.
fn mappings(smaps: &str) -> Vec<Mapping> {
    let mut list: Vec<Mapping> = Vec::new();
    for line in smaps.lines() {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { continue };
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            let permissions = words.next().unwrap_or("");
            let path = words.nth(3).unwrap_or("");
            list.push(Mapping {
                start,
                end,
                writable: permissions.contains('w'),
                file: path.starts_with('/'),
                dirty_kilobytes: 0,
            });
        } else if matches!(first, "Private_Dirty:" | "Shared_Dirty:")
            && let Some(mapping) = list.last_mut()
        {
            mapping.dirty_kilobytes += words.next().and_then(|w| w.parse().ok()).unwrap_or(0);
        }
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_clean_read_only_file_mappings_are_dropped() {
        let smaps = "\
55d0c0000000-55d0c0200000 r-xp 00000000 fd:00 123 /usr/bin/strata
Rss:                 800 kB
Private_Dirty:         0 kB
55d0c0200000-55d0c0210000 r--p 00200000 fd:00 123 /usr/bin/strata
Private_Dirty:        28 kB
55d0c0210000-55d0c0220000 rw-p 00210000 fd:00 123 /usr/bin/strata
Private_Dirty:         0 kB
7f0000000000-7f0000100000 r--p 00000000 00:00 0
Private_Dirty:         0 kB
";
        let list = mappings(smaps);
        assert_eq!(list.len(), 4);
        let droppable: Vec<bool> = list.iter().map(Mapping::droppable).collect();
        assert_eq!(droppable, vec![true, false, false, false]);
        assert_eq!(list[0].end - list[0].start, 0x200000);
    }

    #[test]
    fn trimming_keeps_the_process_working() {
        trim_resident_memory();
        // Code and constants come back from the page cache.
        assert_eq!(format!("{}", 6 * 7), "42");
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        assert!(status.contains("VmRSS"));
    }
}
