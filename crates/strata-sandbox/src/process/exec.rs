//! The program: its environment, its lookup in the process's own PATH (Go's
//! `exec.LookPath`, as runc does it, with runc's messages), and execve.

use std::path::{Path, PathBuf};

use rustix::io::Errno;
use strata_go::syscall::errno_text;

use super::Failure;
use super::syscalls::{FileKind, Syscalls};
use crate::error::ExecProblem;
use crate::spec::{DEFAULT_PATH, Spec};
use crate::user::ResolvedUser;
use crate::wire::FailureKind;

/// The process's environment: the spec's, plus PATH and HOME when missing.
pub(crate) fn environment(spec: &Spec, user: &ResolvedUser) -> Vec<String> {
    let mut environment = spec.env.clone();
    let has = |name: &str| {
        spec.env
            .iter()
            .any(|e| e.split_once('=').map_or(e.as_str(), |(n, _)| n) == name)
    };
    if !has("PATH") {
        environment.push(format!("PATH={DEFAULT_PATH}"));
    }
    if !has("HOME") {
        environment.push(format!("HOME={}", user.home));
    }
    environment
}

/// Docker's case for an errno of a failed lookup or execve.
fn problem(errno: Errno) -> ExecProblem {
    match errno {
        Errno::NOENT | Errno::NOTDIR => ExecProblem::NotFound,
        Errno::ACCESS | Errno::ISDIR | Errno::PERM => ExecProblem::NotExecutable,
        _ => ExecProblem::Other,
    }
}

fn exec_failure(problem: ExecProblem, message: String) -> Failure {
    Failure {
        kind: FailureKind::Exec(problem),
        message,
    }
}

/// `args[0]`: a path when it has a `/` (relative to the working directory),
/// otherwise looked up in the environment's PATH.
pub(crate) fn find_program(
    sys: &impl Syscalls,
    spec: &Spec,
    environment: &[String],
) -> Result<PathBuf, Failure> {
    let Some(name) = spec.args.first() else {
        return Err(exec_failure(
            ExecProblem::NotFound,
            "no command given".to_owned(),
        ));
    };
    if name.contains('/') {
        let full = Path::new(&spec.working_dir).join(name);
        return match sys.stat(&full) {
            Ok(FileKind::Directory) => Err(not_runnable(name, Errno::ISDIR)),
            Ok(FileKind::File { executable: false }) => Err(not_runnable(name, Errno::ACCESS)),
            Ok(_) => Ok(PathBuf::from(name)),
            Err(errno) => Err(exec_failure(
                problem(errno),
                format!(
                    "exec: {name:?}: stat {name}: {}",
                    errno_text(errno.raw_os_error())
                ),
            )),
        };
    }
    let path = environment
        .iter()
        .rev()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    for directory in path.split(':').filter(|d| !d.is_empty()) {
        let candidate = Path::new(directory).join(name);
        if let Ok(FileKind::File { executable: true }) = sys.stat(&candidate) {
            return Ok(candidate);
        }
    }
    Err(exec_failure(
        ExecProblem::NotFound,
        format!("exec: {name:?}: executable file not found in $PATH"),
    ))
}

fn not_runnable(name: &str, errno: Errno) -> Failure {
    exec_failure(
        problem(errno),
        format!("exec: {name:?}: {}", errno_text(errno.raw_os_error())),
    )
}

/// execve; the failure when it returns.
pub(crate) fn execute(
    sys: &impl Syscalls,
    program: &Path,
    args: &[String],
    environment: &[String],
) -> Failure {
    let errno = loop {
        match sys.execute(program, args, environment) {
            Errno::INTR => continue,
            errno => break errno,
        }
    };
    exec_failure(
        problem(errno),
        format!(
            "exec {}: {}",
            program.display(),
            errno_text(errno.raw_os_error())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::recording::{Call, Recording};

    fn root() -> ResolvedUser {
        ResolvedUser {
            uid: 0,
            gid: 0,
            supplementary_gids: Vec::new(),
            home: "/root".into(),
        }
    }

    fn lookup(fake: &Recording, args: &[&str], env: &[&str]) -> Result<PathBuf, Failure> {
        let mut spec = Spec::new(args.iter().copied());
        spec.env = env.iter().map(|e| (*e).to_owned()).collect();
        spec.working_dir = "/bin".into();
        let environment = environment(&spec, &root());
        find_program(fake, &spec, &environment)
    }

    fn fake() -> Recording {
        let fake = Recording::with_image();
        fake.add_directory("/opt");
        fake.add_file("/opt/tool", b"", true);
        fake.add_file("/bin/tool", b"", true);
        fake.add_file("/bin/data", b"", false);
        fake
    }

    #[test]
    fn path_and_home_default() {
        let mut spec = Spec::new(["sh"]);
        spec.env = vec!["FOO=1".into()];
        assert_eq!(
            environment(&spec, &root()),
            [
                "FOO=1".to_owned(),
                format!("PATH={DEFAULT_PATH}"),
                "HOME=/root".to_owned()
            ]
        );
        spec.env = vec!["PATH=/x".into(), "HOME=/h".into()];
        assert_eq!(environment(&spec, &root()), spec.env);
    }

    #[test]
    fn lookup_uses_the_processs_own_path() {
        let fake = fake();
        assert_eq!(
            lookup(&fake, &["tool"], &[]).unwrap(),
            PathBuf::from("/bin/tool")
        );
        assert_eq!(
            lookup(&fake, &["tool"], &["PATH=/opt:/bin"]).unwrap(),
            PathBuf::from("/opt/tool")
        );
        assert_eq!(
            lookup(&fake, &["./tool"], &[]).unwrap(),
            PathBuf::from("./tool")
        );
    }

    #[test]
    fn lookup_failures_carry_runcs_words_and_dockers_exit_codes() {
        let fake = fake();
        let cases: [(&[&str], &str, i32); 5] = [
            (
                &["nope"],
                "exec: \"nope\": executable file not found in $PATH",
                127,
            ),
            (
                &["data"],
                "exec: \"data\": executable file not found in $PATH",
                127,
            ),
            (
                &["/nope"],
                "exec: \"/nope\": stat /nope: no such file or directory",
                127,
            ),
            (&["/tmp"], "exec: \"/tmp\": is a directory", 126),
            (
                &["/bin/data"],
                "exec: \"/bin/data\": permission denied",
                126,
            ),
        ];
        for (args, message, code) in cases {
            let failure = lookup(&fake, args, &[]).unwrap_err();
            assert_eq!(failure.message, message);
            assert_eq!(failure.into_error().exit_code(), Some(code), "{args:?}");
        }
    }

    #[test]
    fn a_failed_execve_is_reported_with_its_case() {
        let mut fake = fake();
        let args = vec!["/bin/tool".to_owned()];
        let failure = execute(&fake, Path::new("/bin/tool"), &args, &[]);
        assert_eq!(failure.message, "exec /bin/tool: no such file or directory");
        assert_eq!(failure.into_error().exit_code(), Some(127));
        fake.exec_error = Errno::NOEXEC;
        let failure = execute(&fake, Path::new("/bin/tool"), &args, &[]);
        assert_eq!(failure.message, "exec /bin/tool: exec format error");
        assert_eq!(failure.into_error().exit_code(), None);
        assert!(matches!(fake.calls()[0], Call::Execute { .. }));
    }
}
