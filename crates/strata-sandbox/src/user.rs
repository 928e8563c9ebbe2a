//! `USER name[:group]` / `uid[:gid]` resolved through the root file system's
//! /etc/passwd and /etc/group, as runc (and so Docker) resolves it.

/// A resolved user: ids, supplementary groups and home directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedUser {
    /// The user id.
    pub uid: u32,
    /// The primary group id.
    pub gid: u32,
    /// Supplementary group ids (the groups that list the user by name, when
    /// no group was given).
    pub supplementary_gids: Vec<u32>,
    /// The home directory from /etc/passwd, or `/`.
    pub home: String,
}

struct PasswdEntry<'a> {
    name: &'a str,
    uid: u32,
    gid: u32,
    home: &'a str,
}

struct GroupEntry<'a> {
    name: &'a str,
    gid: u32,
    members: Vec<&'a str>,
}

fn passwd_entries(passwd: &str) -> impl Iterator<Item = PasswdEntry<'_>> {
    passwd.lines().filter_map(|line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let fields: Vec<&str> = line.split(':').collect();
        Some(PasswdEntry {
            name: fields.first()?,
            uid: fields.get(2)?.parse().ok()?,
            gid: fields.get(3)?.parse().ok()?,
            home: fields.get(5).copied().unwrap_or(""),
        })
    })
}

fn group_entries(group: &str) -> impl Iterator<Item = GroupEntry<'_>> {
    group.lines().filter_map(|line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let fields: Vec<&str> = line.split(':').collect();
        Some(GroupEntry {
            name: fields.first()?,
            gid: fields.get(2)?.parse().ok()?,
            members: fields
                .get(3)
                .map(|m| {
                    m.split(',')
                        .map(str::trim)
                        .filter(|m| !m.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        })
    })
}

/// Resolves `spec` (`""` means root) against the contents of /etc/passwd and
/// /etc/group (`None` when the file is missing). The errors are Docker's.
pub fn resolve_user(
    spec: &str,
    passwd: Option<&str>,
    group: Option<&str>,
) -> Result<ResolvedUser, String> {
    let (user_part, group_part) = match spec.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (spec, None),
    };
    let user_part = if user_part.is_empty() {
        "root"
    } else {
        user_part
    };
    let numeric_uid: Option<u32> = user_part.parse().ok();
    let found = passwd.and_then(|passwd| {
        passwd_entries(passwd).find(|entry| match numeric_uid {
            Some(uid) => entry.uid == uid || entry.name == user_part,
            None => entry.name == user_part,
        })
    });
    let (uid, mut gid, home, name) = match (&found, numeric_uid) {
        (Some(entry), _) => (
            entry.uid,
            entry.gid,
            entry.home.to_owned(),
            Some(entry.name),
        ),
        (None, Some(uid)) => (uid, 0, "/".to_owned(), None),
        (None, None) if user_part == "root" && passwd.is_none() => (0, 0, "/root".to_owned(), None),
        (None, None) => {
            return Err(format!(
                "unable to find user {user_part}: no matching entries in passwd file"
            ));
        }
    };
    let mut supplementary_gids = Vec::new();
    match group_part.filter(|g| !g.is_empty()) {
        Some(group_name) => {
            let numeric_gid: Option<u32> = group_name.parse().ok();
            let found = group.and_then(|group| {
                group_entries(group)
                    .find(|entry| entry.name == group_name || Some(entry.gid) == numeric_gid)
            });
            gid = match (found, numeric_gid) {
                (Some(entry), _) => entry.gid,
                (None, Some(gid)) => gid,
                (None, None) => {
                    return Err(format!(
                        "unable to find group {group_name}: no matching entries in group file"
                    ));
                }
            };
        }
        None => {
            if let (Some(name), Some(group)) = (name, group) {
                for entry in group_entries(group) {
                    if entry.members.contains(&name) && !supplementary_gids.contains(&entry.gid) {
                        supplementary_gids.push(entry.gid);
                    }
                }
            }
        }
    }
    Ok(ResolvedUser {
        uid,
        gid,
        supplementary_gids,
        home: if home.is_empty() {
            "/".to_owned()
        } else {
            home
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str =
        "root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000::/home/tester:/bin/sh\n";
    const GROUP: &str = "root:x:0:\naudio:x:29:tester,other\nstaff:x:50:tester\ntester:x:1000:\n";

    fn resolve(spec: &str) -> Result<ResolvedUser, String> {
        resolve_user(spec, Some(PASSWD), Some(GROUP))
    }

    #[test]
    fn names_and_supplementary_groups() {
        let user = resolve("tester").unwrap();
        assert_eq!(
            (user.uid, user.gid, user.home.as_str()),
            (1000, 1000, "/home/tester")
        );
        assert_eq!(user.supplementary_gids, vec![29, 50]);
        let root = resolve("").unwrap();
        assert_eq!(
            (root.uid, root.gid, root.supplementary_gids.len()),
            (0, 0, 0)
        );
    }

    #[test]
    fn explicit_groups_replace_supplementary_ones() {
        let user = resolve("tester:staff").unwrap();
        assert_eq!((user.uid, user.gid), (1000, 50));
        assert!(user.supplementary_gids.is_empty());
        assert_eq!(resolve("tester:4242").unwrap().gid, 4242);
    }

    #[test]
    fn numeric_ids_need_no_entry() {
        let user = resolve("4000:4001").unwrap();
        assert_eq!((user.uid, user.gid, user.home.as_str()), (4000, 4001, "/"));
        assert_eq!(resolve("4000").unwrap().gid, 0);
        assert_eq!(resolve("1000").unwrap().home, "/home/tester");
        assert_eq!(resolve_user("root", None, None).unwrap().uid, 0);
    }

    #[test]
    fn unknown_names_are_docker_errors() {
        assert_eq!(
            resolve("nobody-here").unwrap_err(),
            "unable to find user nobody-here: no matching entries in passwd file"
        );
        assert_eq!(
            resolve("tester:nogroup").unwrap_err(),
            "unable to find group nogroup: no matching entries in group file"
        );
    }
}
