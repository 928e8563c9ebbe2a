//! /etc/hosts, /etc/resolv.conf and /etc/hostname, mounted over the root's
//! (never written into it): the caller's when it has its own (a container's,
//! writable as Docker's are), generated otherwise (a RUN step's, read-only as
//! BuildKit's are).

use std::path::Path;

use super::syscalls::{BindSource, Syscalls};
use super::{Failure, setup};
use crate::files;
use crate::spec::Spec;

/// The files' contents: (name in /etc, contents). A container gets
/// /etc/hostname too; a RUN step does not (BuildKit mounts none: the image's
/// own, if any, shows, and a step may write it).
fn contents(spec: &Spec, host_resolv_conf: &str) -> Vec<(&'static str, String)> {
    let hosts = spec
        .hosts
        .clone()
        .unwrap_or_else(|| files::hosts(&spec.hostname, &spec.extra_hosts));
    let resolv_conf = spec
        .resolv_conf
        .clone()
        .unwrap_or_else(|| files::resolv_conf(host_resolv_conf, spec.network));
    let mut files = vec![("hosts", hosts), ("resolv.conf", resolv_conf)];
    if spec.hosts.is_some() {
        files.push(("hostname", format!("{}\n", spec.hostname)));
    }
    files
}

/// Each file is written in the sandbox's /dev tmpfs, bound on /etc, and
/// unlinked there: only the bind shows it, and it vanishes with the sandbox.
pub(crate) fn mount_etc_files(
    sys: &impl Syscalls,
    spec: &Spec,
    host_resolv_conf: &str,
) -> Result<(), Failure> {
    let readonly = spec.hosts.is_none();
    for (name, text) in contents(spec, host_resolv_conf) {
        let staging = Path::new("/dev").join(format!(".strata-{name}"));
        let target = Path::new("/etc").join(name);
        sys.make_file(&staging, 0o644, text.as_bytes())
            .map_err(setup(format!("create /etc/{name}")))?;
        sys.bind(&BindSource::Inside(staging.clone()), readonly, &target)
            .map_err(setup(format!("bind /etc/{name}")))?;
        sys.remove_file(&staging)
            .map_err(setup(format!("unlink staged /etc/{name}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::recording::{Call, Recording};

    fn binds(fake: &Recording) -> Vec<(String, bool)> {
        fake.calls()
            .into_iter()
            .filter_map(|call| match call {
                Call::Bind {
                    target, readonly, ..
                } => Some((target, readonly)),
                _ => None,
            })
            .collect()
    }

    fn written(fake: &Recording, name: &str) -> String {
        fake.calls()
            .into_iter()
            .find_map(|call| match call {
                Call::MakeFile { path, contents, .. } if path == format!("/dev/.strata-{name}") => {
                    Some(contents)
                }
                _ => None,
            })
            .unwrap()
    }

    fn fake() -> Recording {
        let fake = Recording::with_image();
        for name in ["hosts", "resolv.conf", "hostname"] {
            fake.add_file(&format!("/etc/{name}"), b"", false);
        }
        fake
    }

    #[test]
    fn generated_files_are_read_only_and_staged_in_dev() {
        let fake = fake();
        let spec = Spec::new(["true"]);
        mount_etc_files(&fake, &spec, "nameserver 10.0.0.1\n").unwrap();
        assert_eq!(
            binds(&fake),
            [
                ("/etc/hosts".into(), true),
                ("/etc/resolv.conf".into(), true),
            ]
        );
        assert_eq!(written(&fake, "resolv.conf"), "nameserver 10.0.0.1\n");
        assert!(written(&fake, "hosts").starts_with("127.0.0.1\tlocalhost buildkitsandbox\n"));
        assert!(
            fake.calls()
                .contains(&Call::RemoveFile("/dev/.strata-hosts".into())),
            "nothing staged is left in /dev"
        );
    }

    #[test]
    fn the_callers_files_are_writable() {
        let fake = fake();
        let mut spec = Spec::new(["true"]);
        spec.hostname = "0123456789ab".into();
        spec.hosts = Some("127.0.0.1\tlocalhost\n".into());
        spec.resolv_conf = Some("nameserver 169.254.1.1\n".into());
        mount_etc_files(&fake, &spec, "nameserver 10.0.0.1\n").unwrap();
        assert!(binds(&fake).iter().all(|(_, readonly)| !readonly));
        assert_eq!(written(&fake, "hosts"), "127.0.0.1\tlocalhost\n");
        assert_eq!(written(&fake, "resolv.conf"), "nameserver 169.254.1.1\n");
        assert_eq!(written(&fake, "hostname"), "0123456789ab\n");
    }
}
