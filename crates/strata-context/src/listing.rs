//! The context's directories listed and their entries stat'ed ahead of the
//! walk, on every core: a rescan of an unchanged context is one `statx` per
//! entry and little else, so spreading those calls is what makes it fast.
//! The walk still visits in order on one thread and takes each directory's
//! listing from here; a directory missing here is listed then.

use std::collections::{HashMap, VecDeque};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::{Condvar, Mutex, PoisonError};

use crate::cache::Stamp;
use crate::filter::{Decision, Filter, FilterState};

/// One directory: its children sorted by name, each with its stat fields
/// (not following symlinks; a third of std's `Metadata`, and the listings of
/// a whole context are held at once), or the error listing it.
pub(crate) type Listing = std::io::Result<Vec<(OsString, std::io::Result<Stamp>)>>;

/// Threads besides the caller's at most (the calls are cheap; more threads
/// mostly wait on the queue's lock).
const MAX_HELPERS: usize = 3;

/// Listings of every directory the walk will enter, keyed by relative path.
#[derive(Default)]
pub(crate) struct Listings {
    by_directory: HashMap<Vec<u8>, Listing>,
}

impl Listings {
    /// Lists `root` and, recursively, every directory below it that the
    /// filter does not skip whole (the ones the walk enters).
    pub(crate) fn prefetch(root: &Path, filter: &Filter) -> Listings {
        let helpers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .min(MAX_HELPERS);
        let shared = Shared {
            queue: Mutex::new(Queue {
                waiting: VecDeque::from([(Vec::new(), FilterState::default())]),
                busy: 0,
                helpers_started: 0,
            }),
            ready: Condvar::new(),
            done: Mutex::new(HashMap::new()),
        };
        let shared_ref = &shared;
        std::thread::scope(|scope| {
            shared_ref.work(root, filter, &|| {
                let mut queue = shared_ref.lock_queue();
                // A helper only when there is a second directory to give it.
                if queue.waiting.len() >= 2 && queue.helpers_started < helpers {
                    queue.helpers_started += 1;
                    drop(queue);
                    scope.spawn(move || shared_ref.work(root, filter, &|| {}));
                }
            });
        });
        Listings {
            by_directory: shared
                .done
                .into_inner()
                .unwrap_or_else(PoisonError::into_inner),
        }
    }

    /// The listing of `relative`, if it was made.
    pub(crate) fn take(&mut self, relative: &[u8]) -> Option<Listing> {
        self.by_directory.remove(relative)
    }
}

/// Lists one directory, as the walk would.
pub(crate) fn list(absolute: &Path) -> Listing {
    let mut children = Vec::new();
    for child in std::fs::read_dir(absolute)? {
        let child = child?;
        // `DirEntry::metadata` is an `fstatat` on the directory's descriptor.
        let stamp = child.metadata().map(|metadata| Stamp::of(&metadata));
        children.push((child.file_name(), stamp));
    }
    children.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    Ok(children)
}

struct Queue {
    /// Directories to list, with their filter state.
    waiting: VecDeque<(Vec<u8>, FilterState)>,
    /// Threads listing a directory now (which may queue more).
    busy: usize,
    helpers_started: usize,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
    done: Mutex<HashMap<Vec<u8>, Listing>>,
}

impl Shared {
    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes directories off the queue until none is left and no thread can
    /// queue more; `after_push` runs whenever this thread queued some.
    fn work(&self, root: &Path, filter: &Filter, after_push: &dyn Fn()) {
        loop {
            let (relative, state) = {
                let mut queue = self.lock_queue();
                loop {
                    if let Some(next) = queue.waiting.pop_front() {
                        queue.busy += 1;
                        break next;
                    }
                    if queue.busy == 0 {
                        self.ready.notify_all();
                        return;
                    }
                    queue = self
                        .ready
                        .wait(queue)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            };
            let absolute = if relative.is_empty() {
                root.to_path_buf()
            } else {
                root.join(OsStr::from_bytes(&relative))
            };
            let listing = list(&absolute);
            let mut below = Vec::new();
            if let Ok(children) = &listing {
                for (name, stamp) in children {
                    let Ok(stamp) = stamp else { continue };
                    if stamp.format() != libc::S_IFDIR {
                        continue;
                    }
                    let mut path = Vec::with_capacity(relative.len() + 1 + name.len());
                    if !relative.is_empty() {
                        path.extend_from_slice(&relative);
                        path.push(b'/');
                    }
                    path.extend_from_slice(name.as_bytes());
                    // A pattern error is the walk's to report.
                    match filter.decide(&path, true, &state) {
                        Ok((Decision::SkipDirectory, _)) | Err(_) => {}
                        Ok((_, child_state)) => below.push((path, child_state)),
                    }
                }
            }
            self.done
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(relative, listing);
            let pushed = !below.is_empty();
            {
                let mut queue = self.lock_queue();
                queue.busy -= 1;
                queue.waiting.extend(below);
                // Waiters want new work, or to learn that there is none.
                if pushed || (queue.busy == 0 && queue.waiting.is_empty()) {
                    self.ready.notify_all();
                }
            }
            if pushed {
                after_push();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetch_lists_what_the_walk_enters_as_the_walk_would() {
        let root = tempfile::tempdir().unwrap();
        for d in 0..12 {
            for s in 0..3 {
                let directory = root.path().join(format!("d{d:02}/s{s}"));
                std::fs::create_dir_all(&directory).unwrap();
                for f in 0..4 {
                    std::fs::write(directory.join(format!("f{f}")), b"x").unwrap();
                }
            }
        }
        std::fs::create_dir_all(root.path().join("skipped/below")).unwrap();
        std::fs::create_dir_all(root.path().join("kept/again")).unwrap();
        // `skipped` can hold nothing selected; `kept` is excluded but one
        // path below it is let in again, so the walk enters it.
        let filter = Filter::new::<&str>(&[], &["skipped", "kept", "!kept/again"]).unwrap();
        let mut listings = Listings::prefetch(root.path(), &filter);

        let mut expected = vec![Vec::new(), b"kept".to_vec(), b"kept/again".to_vec()];
        for d in 0..12 {
            expected.push(format!("d{d:02}").into_bytes());
            for s in 0..3 {
                expected.push(format!("d{d:02}/s{s}").into_bytes());
            }
        }
        let mut listed: Vec<Vec<u8>> = listings.by_directory.keys().cloned().collect();
        listed.sort();
        expected.sort();
        assert_eq!(listed, expected);

        for relative in expected {
            let absolute = root.path().join(OsStr::from_bytes(&relative));
            let names = |listing: Listing| -> Vec<(OsString, bool)> {
                listing
                    .unwrap()
                    .into_iter()
                    .map(|(name, stamp)| (name, stamp.unwrap().format() == libc::S_IFDIR))
                    .collect()
            };
            let prefetched = listings.take(&relative).unwrap();
            assert_eq!(names(prefetched), names(list(&absolute)), "{relative:?}");
        }
        assert!(listings.take(b"skipped").is_none());
    }

    #[test]
    fn an_unreadable_root_is_the_walks_error() {
        let root = tempfile::tempdir().unwrap();
        let missing = root.path().join("gone");
        let mut listings = Listings::prefetch(&missing, &Filter::default());
        let error = listings.take(b"").unwrap().unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    }
}
