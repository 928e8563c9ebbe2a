//! Who the process is and what it may do: the user from the root's
//! /etc/passwd and /etc/group, rlimits and umask, then (in runc's order)
//! no_new_privs, the seccomp filter's early place, the bounding set, groups
//! and ids, and the capability sets; the process stays non-dumpable.

use std::path::Path;

use rustix::io::Errno;
use rustix::process::{Resource, Rlimit};

use super::syscalls::Syscalls;
use super::{Failure, setup};
use crate::capabilities::Capabilities;
use crate::spec::Spec;
use crate::user::{ResolvedUser, resolve_user};
use crate::wire::FailureKind;

/// The open-files limit: what dockerd's systemd unit (`LimitNOFILE=infinity`,
/// capped by `fs.nr_open`) passes down to BuildKit's runc, which leaves
/// rlimits alone unless `--ulimit` is given. NPROC and CORE are unlimited
/// for the same reason. Without CAP_SYS_RESOURCE, the current hard limit.
const NOFILE_LIMIT: u64 = 1_048_576;

/// The spec's user, resolved in the root's /etc/passwd and /etc/group.
pub(crate) fn resolve(sys: &impl Syscalls, spec: &Spec) -> Result<ResolvedUser, Failure> {
    let read = |path: &str| {
        sys.read_file(Path::new(path))
            .ok()
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
    };
    let passwd = read("/etc/passwd");
    let group = read("/etc/group");
    resolve_user(&spec.user, passwd.as_deref(), group.as_deref()).map_err(|message| Failure {
        kind: FailureKind::User,
        message,
    })
}

/// Rlimits (the spec's ulimits as given, the defaults for the others), umask
/// 022, and the working directory (entered as root first, as runc does, so
/// that a directory only root may enter still works).
pub(crate) fn set_limits(sys: &impl Syscalls, spec: &Spec) -> Result<(), Failure> {
    let given: Vec<(Resource, Rlimit)> = spec.ulimits.iter().filter_map(|u| u.rlimit()).collect();
    for (resource, limit) in [
        (Resource::Nofile, Some(NOFILE_LIMIT)),
        (Resource::Nproc, None),
        (Resource::Core, None),
    ] {
        if given.iter().any(|(r, _)| *r == resource) {
            continue;
        }
        match sys.set_rlimit(resource, both(limit)) {
            Ok(()) => {}
            // Without CAP_SYS_RESOURCE the hard limit cannot rise: take all of it.
            Err(Errno::PERM) => sys
                .set_rlimit(resource, both(sys.hard_rlimit(resource)))
                .map_err(setup(format!("set rlimit {resource:?}")))?,
            Err(e) => return Err(setup(format!("set rlimit {resource:?}"))(e)),
        }
    }
    for (resource, limit) in given {
        sys.set_rlimit(resource, limit)
            .map_err(setup(format!("set rlimit {resource:?}")))?;
    }
    sys.set_umask(0o022);
    let working_dir = &spec.working_dir;
    sys.change_directory(Path::new(working_dir)).map_err(|e| {
        Failure::setup(format!(
            "chdir to cwd ({working_dir:?}) set in config.json failed: {}",
            strata_go::syscall::errno_text(e.raw_os_error())
        ))
    })
}

/// The same soft and hard limit.
fn both(limit: Option<u64>) -> Rlimit {
    Rlimit {
        current: limit,
        maximum: limit,
    }
}

/// Becomes `user` with the spec's capabilities, in runc's order: stdio
/// handed to the user, no_new_privs, the filter when it needs privileges,
/// the bounding set, groups and ids, the parent-death signal again (a
/// credential change clears it), non-dumpable again (likewise), then root's
/// effective and permitted sets (a user's stay empty, as after Docker's execve).
pub(crate) fn become_user(
    sys: &impl Syscalls,
    spec: &Spec,
    user: &ResolvedUser,
) -> Result<(), Failure> {
    sys.own_stdio(user.uid)
        .map_err(setup("give the standard streams to the user"))?;
    if spec.no_new_privileges {
        sys.set_no_new_privileges()
            .map_err(setup("prctl(SET_NO_NEW_PRIVS)"))?;
    }
    if !spec.no_new_privileges {
        // Without no_new_privs, installing a filter needs CAP_SYS_ADMIN.
        install_seccomp(spec)?;
    }
    // BuildKit's insecure mode: every capability its own process has.
    let capabilities = if spec.insecure {
        sys.current_capabilities()
    } else {
        spec.capabilities
    };
    limit_bounding_set(sys, capabilities)?;
    sys.clear_ambient_capabilities()
        .map_err(setup("clear ambient capabilities"))?;
    let mut groups = user.supplementary_gids.clone();
    if spec.primary_group_supplementary && !groups.contains(&user.gid) {
        groups.insert(0, user.gid);
    }
    sys.set_groups(&groups)
        .map_err(setup("set supplementary groups"))?;
    sys.set_ids(user.uid, user.gid)
        .map_err(setup("set uid and gid"))?;
    sys.set_parent_death_signal()
        .map_err(setup("set parent death signal"))?;
    sys.set_dumpable(false)
        .map_err(setup("prctl(SET_DUMPABLE)"))?;
    let sets = if user.uid == 0 {
        capabilities
    } else {
        Capabilities::empty()
    };
    sys.set_capabilities(sets, sets)
        .map_err(setup("set capabilities"))
}

/// Removes every capability outside `keep` from the bounding set.
fn limit_bounding_set(sys: &impl Syscalls, keep: Capabilities) -> Result<(), Failure> {
    for number in 0..64 {
        if keep.contains(number) {
            continue;
        }
        match sys.drop_from_bounding_set(number) {
            Ok(()) => {}
            // Past the last capability this kernel knows.
            Err(Errno::INVAL) => break,
            Err(e) => return Err(setup(format!("drop capability {number}"))(e)),
        }
    }
    Ok(())
}

/// The filter's late place, as close to execve as possible: with
/// no_new_privs it needs no privilege, so it goes after the release.
pub(crate) fn install_late_seccomp(spec: &Spec) -> Result<(), Failure> {
    if spec.no_new_privileges {
        install_seccomp(spec)?;
    }
    Ok(())
}

/// Installs Docker's default seccomp profile for the spec's capabilities
/// (none when the spec says `Unconfined`). Built here, in the process it
/// filters: a fork of a single-threaded caller may allocate.
fn install_seccomp(spec: &Spec) -> Result<(), Failure> {
    if spec.seccomp == crate::spec::Seccomp::Unconfined || spec.insecure {
        return Ok(());
    }
    crate::seccomp::docker_default(spec.capabilities.bits())
        .and_then(|profile| crate::seccomp::install(&profile))
        .map_err(|e| Failure::setup(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::recording::{Call, Recording};

    fn user(uid: u32) -> ResolvedUser {
        ResolvedUser {
            uid,
            gid: 50,
            supplementary_gids: vec![29, 50],
            home: "/".into(),
        }
    }

    fn dropped(fake: &Recording) -> Vec<u32> {
        fake.calls()
            .into_iter()
            .filter_map(|call| match call {
                Call::DropFromBoundingSet(number) => Some(number),
                _ => None,
            })
            .collect()
    }

    fn capability_sets(fake: &Recording) -> (Capabilities, Capabilities) {
        fake.calls()
            .into_iter()
            .find_map(|call| match call {
                Call::SetCapabilities {
                    effective,
                    permitted,
                } => Some((effective, permitted)),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn root_keeps_dockers_set_everywhere() {
        let fake = Recording::new();
        let spec = Spec::new(["true"]);
        become_user(&fake, &spec, &user(0)).unwrap();
        let kept = Capabilities::docker_default();
        let expected: Vec<u32> = (0..=40).filter(|n| !kept.contains(*n)).collect();
        assert_eq!(dropped(&fake), expected);
        assert_eq!(capability_sets(&fake), (kept, kept));
    }

    #[test]
    fn cap_add_and_drop_reach_the_bounding_and_effective_sets() {
        let fake = Recording::new();
        let mut spec = Spec::new(["true"]);
        spec.capabilities = Capabilities::docker_default()
            .apply_docker_flags(&["NET_ADMIN"], &["CHOWN"])
            .unwrap();
        become_user(&fake, &spec, &user(0)).unwrap();
        assert!(
            dropped(&fake).contains(&0),
            "CAP_CHOWN leaves the bounding set"
        );
        assert!(!dropped(&fake).contains(&12), "CAP_NET_ADMIN stays");
        let (effective, permitted) = capability_sets(&fake);
        assert_eq!(effective, spec.capabilities);
        assert_eq!(permitted, spec.capabilities);
        assert!(effective.contains(12) && !effective.contains(0));
    }

    #[test]
    fn a_user_gets_the_bounding_set_only() {
        let fake = Recording::new();
        let spec = Spec::new(["true"]);
        become_user(&fake, &spec, &user(1000)).unwrap();
        assert_eq!(
            capability_sets(&fake),
            (Capabilities::empty(), Capabilities::empty())
        );
        assert_eq!(dropped(&fake).len(), 41 - 14);
    }

    #[test]
    fn credentials_in_runcs_order() {
        let fake = Recording::new();
        let mut spec = Spec::new(["true"]);
        spec.no_new_privileges = true;
        become_user(&fake, &spec, &user(1000)).unwrap();
        let at = |what: &str, call: Call| fake.position(what, |c| *c == call);
        let stdio = at("own stdio", Call::OwnStdio(1000));
        let no_new_privileges = at("nnp", Call::SetNoNewPrivileges);
        let first_drop = fake.position("drop", |c| matches!(c, Call::DropFromBoundingSet(_)));
        let groups = at("groups", Call::SetGroups(vec![29, 50]));
        let ids = at("ids", Call::SetIds { uid: 1000, gid: 50 });
        let death = at("death signal", Call::SetParentDeathSignal);
        let dumpable = at("dumpable", Call::SetDumpable(false));
        let capabilities = fake.position("caps", |c| matches!(c, Call::SetCapabilities { .. }));
        assert!(stdio < no_new_privileges && no_new_privileges < first_drop);
        assert!(first_drop < groups && groups < ids);
        assert!(ids < death && ids < dumpable && ids < capabilities);
    }

    #[test]
    fn run_steps_list_the_primary_group_and_containers_do_not() {
        let groups = |primary_group_supplementary: bool| {
            let fake = Recording::new();
            let mut spec = Spec::new(["true"]);
            spec.primary_group_supplementary = primary_group_supplementary;
            let mut user = user(1000);
            user.gid = 1000;
            become_user(&fake, &spec, &user).unwrap();
            fake.calls().into_iter().find_map(|call| match call {
                Call::SetGroups(groups) => Some(groups),
                _ => None,
            })
        };
        assert_eq!(groups(true), Some(vec![1000, 29, 50]));
        assert_eq!(groups(false), Some(vec![29, 50]));
    }

    #[test]
    fn no_new_privileges_only_when_asked() {
        let fake = Recording::new();
        become_user(&fake, &Spec::new(["true"]), &user(0)).unwrap();
        assert!(!fake.calls().contains(&Call::SetNoNewPrivileges));
    }

    #[test]
    fn limits_fall_back_to_the_hard_limit_without_privilege() {
        let mut fake = Recording::with_image();
        fake.hard_limit = Some(4096);
        let mut spec = Spec::new(["true"]);
        spec.working_dir = "/tmp".into();
        set_limits(&fake, &spec).unwrap();
        let limits: Vec<(Resource, Option<u64>)> = fake
            .calls()
            .into_iter()
            .filter_map(|call| match call {
                Call::SetRlimit { resource, limit } => Some((resource, limit.maximum)),
                _ => None,
            })
            .collect();
        assert_eq!(
            limits,
            [
                (Resource::Nofile, Some(NOFILE_LIMIT)),
                (Resource::Nofile, Some(4096)),
                (Resource::Nproc, None),
                (Resource::Nproc, Some(4096)),
                (Resource::Core, None),
                (Resource::Core, Some(4096)),
            ]
        );
        let calls = fake.calls();
        assert_eq!(
            &calls[calls.len() - 2..],
            [Call::SetUmask(0o022), Call::ChangeDirectory("/tmp".into())]
        );
    }

    #[test]
    fn given_ulimits_replace_the_defaults_for_their_resources() {
        let fake = Recording::with_image();
        let mut spec = Spec::new(["true"]);
        spec.ulimits = vec![
            crate::Ulimit::parse("nofile=512:1024").unwrap(),
            crate::Ulimit::parse("stack=-1").unwrap(),
        ];
        set_limits(&fake, &spec).unwrap();
        let limits: Vec<(Resource, Rlimit)> = fake
            .calls()
            .into_iter()
            .filter_map(|call| match call {
                Call::SetRlimit { resource, limit } => Some((resource, limit)),
                _ => None,
            })
            .collect();
        assert_eq!(
            limits,
            [
                (Resource::Nproc, both(None)),
                (Resource::Core, both(None)),
                (
                    Resource::Nofile,
                    Rlimit {
                        current: Some(512),
                        maximum: Some(1024)
                    }
                ),
                (Resource::Stack, both(None)),
            ]
        );
    }

    #[test]
    fn a_missing_working_directory_is_runcs_error() {
        let fake = Recording::with_image();
        let mut spec = Spec::new(["true"]);
        spec.working_dir = "/nope".into();
        let error = set_limits(&fake, &spec).unwrap_err();
        assert_eq!(
            error.message,
            "chdir to cwd (\"/nope\") set in config.json failed: no such file or directory"
        );
    }

    #[test]
    fn users_come_from_the_roots_files() {
        let fake = Recording::with_image();
        let mut spec = Spec::new(["true"]);
        spec.user = "tester".into();
        let resolved = resolve(&fake, &spec).unwrap();
        assert_eq!((resolved.uid, resolved.gid), (1000, 1000));
        assert_eq!(resolved.supplementary_gids, [50]);
        spec.user = "ghost".into();
        let failure = resolve(&fake, &spec).unwrap_err();
        assert_eq!(failure.kind, FailureKind::User);
    }
}
