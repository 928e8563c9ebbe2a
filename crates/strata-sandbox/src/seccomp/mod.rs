//! Docker's default seccomp profile ([`profile`]) compiled by seccompiler for
//! the native architecture and a bounding set of capabilities, and installed
//! on the calling thread.
//!
//! Two programs, installed in order. The first is the profile: EPERM for
//! every call no rule allows. The second gives ENOSYS where Docker does:
//! `clone3` without `CAP_SYS_ADMIN`, and, as runc's ENOSYS stub does, the
//! numbers above the highest one the profile names, so that libc falls back
//! from a call newer than the profile. (seccompiler gives one action to every
//! match of a program; the kernel then takes the most severe action of the
//! two, and of two ERRNOs the newer program's.)
//!
//! Not covered: 32-bit processes (i386 on x86_64, arm on aarch64), which
//! seccompiler's architecture check kills, and x32 calls, which get EPERM;
//! Docker filters both with the same rules.

mod profile;

#[cfg(any(target_arch = "aarch64", test))]
mod aarch64;
#[cfg(any(target_arch = "x86_64", test))]
mod x86_64;

use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use std::io;

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use crate::{Error, Result};
use profile::{Action, Argument, Comparison, Filter, RULES, Rule, Width};

/// The highest number runc's ENOSYS stub can reach on x86_64 and aarch64
/// here: x86_64's numbers from 512 are x32 calls, and no generic call has
/// reached 512 yet.
const LAST_STUB_NUMBER: u32 = 511;

/// Docker's default profile compiled for one capability set: seccomp
/// programs to install in order (see [`install`]). Build it before forking
/// or dropping privileges; installing it allocates nothing.
#[derive(Debug)]
pub(crate) struct Profile {
    programs: Vec<Program>,
}

/// One classic BPF program, as `seccomp(2)` takes it.
#[derive(Debug)]
struct Program {
    instructions: Vec<libc::sock_filter>,
    /// `instructions.len()`, checked to fit when built.
    length: u16,
}

/// The architecture the profile is compiled for.
struct Native {
    /// Docker's name for it (`amd64`, `arm64`), as its filters list it.
    docker_name: &'static str,
    /// seccompiler's.
    target: TargetArch,
    /// The numbers of the calls the profile names, sorted by name.
    syscalls: &'static [(&'static str, u32)],
}

#[cfg(target_arch = "x86_64")]
const NATIVE: Option<Native> = Some(Native {
    docker_name: "amd64",
    target: TargetArch::x86_64,
    syscalls: x86_64::SYSCALLS,
});

#[cfg(target_arch = "aarch64")]
const NATIVE: Option<Native> = Some(Native {
    docker_name: "arm64",
    target: TargetArch::aarch64,
    syscalls: aarch64::SYSCALLS,
});

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const NATIVE: Option<Native> = None;

/// Docker's default seccomp profile for a process whose bounding set is
/// `capabilities` (bit n set: capability number n), compiled for this
/// architecture (x86_64 or aarch64; an error elsewhere). Calls no rule allows
/// fail with EPERM; names this architecture lacks are skipped.
pub(crate) fn docker_default(capabilities: u64) -> Result<Profile> {
    let Some(native) = NATIVE else {
        return Err(seccomp_error(format!(
            "no profile for the {} architecture",
            std::env::consts::ARCH
        )));
    };
    let rules = select(&native, capabilities, kernel_version()?)?;
    let allowing = compile(
        rules.allowed,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        native.target,
    )?;
    let failing = compile(
        rules.failing_with_no_sys,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::ENOSYS as u32),
        native.target,
    )?;
    Ok(Profile {
        programs: vec![allowing, failing],
    })
}

/// Installs `profile` on the calling thread; the processes it then starts
/// inherit it, and nothing removes it. Without `no_new_privs` the kernel
/// wants `CAP_SYS_ADMIN`, so call it before dropping capabilities (as runc
/// does, after the mounts and `pivot_root`, which the profile denies): the
/// rest of the setup (`setgroups`, `setresuid`, `capset`, `prctl`,
/// `execve`) is allowed. With `no_new_privs` set, call it just before
/// `execve`. Only this thread is filtered: call it single-threaded.
/// Async-signal-safe (safe after `fork` in a multi-threaded process).
pub(crate) fn install(profile: &Profile) -> Result<()> {
    for program in &profile.programs {
        let program = libc::sock_fprog {
            len: program.length,
            filter: program.instructions.as_ptr().cast_mut(),
        };
        // SAFETY: `program` points to `len` initialised instructions that
        // outlive the call; the kernel only copies them.
        let result = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &raw const program,
            )
        };
        if result != 0 {
            return Err(Error::SeccompInstall {
                source: io::Error::last_os_error(),
            });
        }
    }
    Ok(())
}

/// The rule chains of both programs, by call number.
#[derive(Debug, Default)]
struct Selection {
    /// Calls allowed: always (an empty chain) or when one rule matches.
    allowed: BTreeMap<i64, Vec<SeccompRule>>,
    /// Calls that fail with ENOSYS, on the same terms.
    failing_with_no_sys: BTreeMap<i64, Vec<SeccompRule>>,
}

/// Docker's rules that apply to `capabilities` on `native`, by number.
fn select(native: &Native, capabilities: u64, kernel: (u32, u32)) -> Result<Selection> {
    let mut selection = Selection::default();
    let mut highest = 0;
    for rule in RULES
        .iter()
        .filter(|rule| applies(rule, native.docker_name, capabilities, kernel))
    {
        let conditions = rule
            .arguments
            .iter()
            .map(condition)
            .collect::<Result<Vec<_>>>()?;
        let chains = match rule.action {
            Action::Allow => &mut selection.allowed,
            Action::FailWithNoSys => &mut selection.failing_with_no_sys,
        };
        for name in rule.names {
            let Some(number) = syscall_number(native.syscalls, name) else {
                continue;
            };
            highest = highest.max(number);
            add(chains, number, &conditions)?;
        }
    }
    for number in highest + 1..=LAST_STUB_NUMBER {
        selection
            .failing_with_no_sys
            .insert(i64::from(number), Vec::new());
    }
    Ok(selection)
}

/// Whether Docker keeps `rule` for this architecture, bounding set and kernel.
fn applies(rule: &Rule, architecture: &str, capabilities: u64, kernel: (u32, u32)) -> bool {
    let has = |capability: &u8| capabilities & (1 << capability) != 0;
    let excludes = &rule.excludes;
    let includes = &rule.includes;
    let excluded = excludes.architectures.contains(&architecture)
        || excludes.capabilities.iter().any(has)
        || excludes
            .minimum_kernel
            .is_some_and(|minimum| kernel >= minimum);
    let included = listed_or_unconstrained(includes, architecture)
        && includes.capabilities.iter().all(has)
        && includes
            .minimum_kernel
            .is_none_or(|minimum| kernel >= minimum);
    !excluded && included
}

/// Whether `filter` lists `architecture` or lists none.
fn listed_or_unconstrained(filter: &Filter, architecture: &str) -> bool {
    filter.architectures.is_empty() || filter.architectures.contains(&architecture)
}

/// Adds a rule to `number`'s chain as libseccomp merges them: a rule without
/// conditions matches every call and absorbs the others (seccompiler reads
/// an empty chain so).
fn add(
    chains: &mut BTreeMap<i64, Vec<SeccompRule>>,
    number: u32,
    conditions: &[SeccompCondition],
) -> Result<()> {
    let rule = || SeccompRule::new(conditions.to_vec()).map_err(seccomp_error);
    match chains.entry(i64::from(number)) {
        Entry::Vacant(entry) if conditions.is_empty() => {
            entry.insert(Vec::new());
        }
        Entry::Vacant(entry) => {
            entry.insert(vec![rule()?]);
        }
        Entry::Occupied(mut entry) => {
            let chain = entry.get_mut();
            if conditions.is_empty() {
                chain.clear();
            } else if !chain.is_empty() {
                chain.push(rule()?);
            }
        }
    }
    Ok(())
}

/// seccompiler's form of an argument condition.
fn condition(argument: &Argument) -> Result<SeccompCondition> {
    let width = match argument.width {
        Width::Bits32 => SeccompCmpArgLen::Dword,
        Width::Bits64 => SeccompCmpArgLen::Qword,
    };
    let (operation, value) = match argument.comparison {
        Comparison::Equal(value) => (SeccompCmpOp::Eq, value),
        Comparison::LessThan(value) => (SeccompCmpOp::Lt, value),
        Comparison::GreaterThan(value) => (SeccompCmpOp::Gt, value),
        Comparison::MaskedEqual { mask, value } => (SeccompCmpOp::MaskedEq(mask), value),
    };
    SeccompCondition::new(argument.index, width, operation, value).map_err(seccomp_error)
}

/// The number of `name` in a table sorted by name.
fn syscall_number(syscalls: &[(&str, u32)], name: &str) -> Option<u32> {
    let index = syscalls
        .binary_search_by(|(known, _)| (*known).cmp(name))
        .ok()?;
    syscalls.get(index).map(|(_, number)| *number)
}

/// A program that takes `matched` for the calls whose chains match and
/// `otherwise` for the rest, in the kernel's instruction type.
fn compile(
    chains: BTreeMap<i64, Vec<SeccompRule>>,
    otherwise: SeccompAction,
    matched: SeccompAction,
    target: TargetArch,
) -> Result<Program> {
    let filter = SeccompFilter::new(chains, otherwise, matched, target).map_err(seccomp_error)?;
    let program = BpfProgram::try_from(filter).map_err(seccomp_error)?;
    let length = u16::try_from(program.len())
        .map_err(|_| seccomp_error(format!("{} instructions", program.len())))?;
    let instructions = program
        .into_iter()
        .map(|instruction| libc::sock_filter {
            code: instruction.code,
            jt: instruction.jt,
            jf: instruction.jf,
            k: instruction.k,
        })
        .collect();
    Ok(Program {
        instructions,
        length,
    })
}

/// The running kernel's `(major, minor)`, as Docker reads `uname -r`.
fn kernel_version() -> Result<(u32, u32)> {
    let name = rustix::system::uname();
    let release = name.release().to_string_lossy();
    parse_release(&release)
        .ok_or_else(|| seccomp_error(format!("failed to parse kernel version {release:?}")))
}

/// `6.18.44-fc` to `(6, 18)`.
fn parse_release(release: &str) -> Option<(u32, u32)> {
    let mut parts = release.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?;
    let digits = minor
        .find(|character: char| !character.is_ascii_digit())
        .unwrap_or(minor.len());
    Some((major, minor.get(..digits)?.parse().ok()?))
}

fn seccomp_error(message: impl ToString) -> Error {
    Error::Seccomp {
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::profile::{CAP_SYS_ADMIN, CAP_SYS_PTRACE};
    use super::*;

    /// Docker's default capabilities, as bits.
    const DOCKER_DEFAULT: u64 = {
        let capabilities = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31];
        let mut set = 0;
        let mut index = 0;
        while index < capabilities.len() {
            set |= 1 << capabilities[index];
            index += 1;
        }
        set
    };

    const NOW: (u32, u32) = (6, 18);

    /// The names only 32-bit or other architectures have.
    const OTHER_ARCHITECTURES_ONLY: &[&str] = &[
        "_llseek",
        "_newselect",
        "arm_fadvise64_64",
        "arm_sync_file_range",
        "breakpoint",
        "cacheflush",
        "chown32",
        "clock_adjtime64",
        "clock_getres_time64",
        "clock_gettime64",
        "clock_nanosleep_time64",
        "clock_settime64",
        "fadvise64_64",
        "fchown32",
        "fcntl64",
        "fstat64",
        "fstatat64",
        "fstatfs64",
        "ftruncate64",
        "futex_time64",
        "getegid32",
        "geteuid32",
        "getgid32",
        "getgroups32",
        "getresgid32",
        "getresuid32",
        "getuid32",
        "io_pgetevents_time64",
        "ipc",
        "lchown32",
        "lstat64",
        "mmap2",
        "mq_timedreceive_time64",
        "mq_timedsend_time64",
        "ppoll_time64",
        "pselect6_time64",
        "recv",
        "recvmmsg_time64",
        "riscv_flush_icache",
        "riscv_hwprobe",
        "rt_sigtimedwait_time64",
        "s390_pci_mmio_read",
        "s390_pci_mmio_write",
        "s390_runtime_instr",
        "sched_rr_get_interval_time64",
        "semtimedop_time64",
        "send",
        "sendfile64",
        "set_tls",
        "setfsgid32",
        "setfsuid32",
        "setgid32",
        "setgroups32",
        "setregid32",
        "setresgid32",
        "setresuid32",
        "setreuid32",
        "setuid32",
        "sigprocmask",
        "sigreturn",
        "socketcall",
        "stat64",
        "statfs64",
        "stime",
        "swapcontext",
        "sync_file_range2",
        "timer_gettime64",
        "timer_settime64",
        "timerfd_gettime64",
        "timerfd_settime64",
        "truncate64",
        "ugetrlimit",
        "umount",
        "utimensat_time64",
        "waitpid",
    ];

    fn native() -> Native {
        NATIVE.expect("the tests run on x86_64 or aarch64")
    }

    fn chain(chains: &BTreeMap<i64, Vec<SeccompRule>>, number: libc::c_long) -> Option<usize> {
        chains.get(&number).map(Vec::len)
    }

    #[test]
    fn kernel_releases_parse_as_docker_reads_them() {
        assert_eq!(parse_release("6.18.44-fc-v1300"), Some((6, 18)));
        assert_eq!(parse_release("3.12-1-amd64"), Some((3, 12)));
        assert_eq!(parse_release("4.8"), Some((4, 8)));
        assert_eq!(parse_release("5"), None);
        assert_eq!(parse_release("x.1"), None);
    }

    /// A name misspelt in the profile would be skipped silently.
    #[test]
    fn every_name_is_a_system_call_somewhere() {
        for name in RULES.iter().flat_map(|rule| rule.names) {
            let known = syscall_number(x86_64::SYSCALLS, name).is_some()
                || syscall_number(aarch64::SYSCALLS, name).is_some()
                || OTHER_ARCHITECTURES_ONLY.contains(name);
            assert!(known, "{name}");
        }
    }

    #[test]
    fn default_capabilities_allow_the_ordinary_and_deny_the_rest() {
        let selected = select(&native(), DOCKER_DEFAULT, NOW).expect("select");
        let allowed = &selected.allowed;
        for always in [
            libc::SYS_read,
            libc::SYS_openat,
            libc::SYS_execve,
            libc::SYS_wait4,
        ] {
            assert_eq!(chain(allowed, always), Some(0), "{always}");
        }
        // Allowed on kernels from 4.8 whatever the capabilities.
        assert_eq!(chain(allowed, libc::SYS_ptrace), Some(0));
        assert_eq!(chain(allowed, libc::SYS_chroot), Some(0));
        for denied in [
            libc::SYS_mount,
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_keyctl,
            libc::SYS_add_key,
            libc::SYS_reboot,
            libc::SYS_kcmp,
            libc::SYS_bpf,
            libc::SYS_clone3,
        ] {
            assert_eq!(chain(allowed, denied), None, "{denied}");
        }
        assert_eq!(chain(allowed, libc::SYS_clone), Some(1));
        assert_eq!(chain(allowed, libc::SYS_socket), Some(3));
        assert_eq!(chain(allowed, libc::SYS_personality), Some(5));
        assert_eq!(
            chain(&selected.failing_with_no_sys, libc::SYS_clone3),
            Some(0)
        );
    }

    #[test]
    fn capabilities_open_their_groups() {
        let admin = select(&native(), DOCKER_DEFAULT | 1 << CAP_SYS_ADMIN, NOW).expect("select");
        for allowed in [
            libc::SYS_mount,
            libc::SYS_unshare,
            libc::SYS_clone,
            libc::SYS_clone3,
        ] {
            assert_eq!(chain(&admin.allowed, allowed), Some(0), "{allowed}");
        }
        assert_eq!(chain(&admin.failing_with_no_sys, libc::SYS_clone3), None);
        assert_eq!(chain(&admin.allowed, libc::SYS_keyctl), None);
        let ptrace = select(&native(), 1 << CAP_SYS_PTRACE, NOW).expect("select");
        assert_eq!(chain(&ptrace.allowed, libc::SYS_kcmp), Some(0));
        assert_eq!(chain(&ptrace.allowed, libc::SYS_chroot), None);
    }

    #[test]
    fn ptrace_needs_its_capability_before_linux_4_8() {
        let old = select(&native(), DOCKER_DEFAULT, (4, 7)).expect("select");
        assert_eq!(chain(&old.allowed, libc::SYS_ptrace), None);
        let traced = select(&native(), 1 << CAP_SYS_PTRACE, (4, 7)).expect("select");
        assert_eq!(chain(&traced.allowed, libc::SYS_ptrace), Some(0));
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn architecture_groups_follow_the_native_architecture() {
        let selected = select(&native(), DOCKER_DEFAULT, NOW).expect("select");
        assert_eq!(chain(&selected.allowed, libc::SYS_arch_prctl), Some(0));
        assert_eq!(chain(&selected.allowed, libc::SYS_modify_ldt), Some(0));
        // Allowed on s390 only (there `clone` takes its flags second).
        assert_eq!(
            syscall_number(native().syscalls, "s390_runtime_instr"),
            None
        );
    }

    /// runc's ENOSYS stub: above the highest number the profile names.
    #[test]
    fn calls_newer_than_the_profile_fail_with_no_sys() {
        let selected = select(&native(), DOCKER_DEFAULT, NOW).expect("select");
        let highest = selected
            .allowed
            .keys()
            .max()
            .copied()
            .expect("allowed calls");
        let failing = &selected.failing_with_no_sys;
        assert_eq!(chain(failing, highest), None);
        assert_eq!(chain(failing, highest + 1), Some(0));
        assert_eq!(chain(failing, i64::from(LAST_STUB_NUMBER)), Some(0));
        assert_eq!(chain(failing, i64::from(LAST_STUB_NUMBER) + 1), None);
    }

    #[test]
    fn compiles_for_this_machine() {
        let profile = docker_default(DOCKER_DEFAULT).expect("compile");
        assert_eq!(profile.programs.len(), 2);
        for program in &profile.programs {
            assert_eq!(usize::from(program.length), program.instructions.len());
        }
    }

    /// A raw call: its result, or its errno.
    fn call(number: libc::c_long, arguments: [u64; 5]) -> Result<i64, i32> {
        let [a, b, c, d, e] = arguments;
        // SAFETY: the tests pass arguments the kernel only reads, or null.
        let result = unsafe { libc::syscall(number, a, b, c, d, e) };
        // SAFETY: errno is this thread's.
        if result == -1 {
            Err(unsafe { *libc::__errno_location() })
        } else {
            Ok(result)
        }
    }

    /// `clone` as `fork`, with extra `flags`: `Ok(0)` in the child.
    fn fork_with(flags: u64) -> Result<i64, i32> {
        call(libc::SYS_clone, [flags | libc::SIGCHLD as u64, 0, 0, 0, 0])
    }

    /// The exit status of child `pid`, or -1 if it did not exit.
    fn reap(pid: i64) -> i32 {
        let mut status = 0;
        // SAFETY: `status` outlives the call.
        let reaped = unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
        if reaped == pid as libc::pid_t && libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        }
    }

    /// Leaves a forked child at once (no destructors: they are the parent's).
    fn leave(code: i32) -> ! {
        // SAFETY: _exit is async-signal-safe and ends only this process.
        unsafe { libc::_exit(code) }
    }

    /// Runs `checks` in a forked child under `profile` with no_new_privs set;
    /// returns its exit status: 0, or the number of the check that failed.
    /// The child makes raw calls only (this process has other threads).
    fn run_filtered(profile: &Profile, checks: fn() -> i32) -> i32 {
        // SAFETY: the child only makes raw calls and leaves with _exit.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0, "fork: {}", io::Error::last_os_error());
        if pid == 0 {
            let no_new_privs = call(
                libc::SYS_prctl,
                [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0],
            );
            let code = if no_new_privs.is_err() {
                100
            } else if install(profile).is_err() {
                101
            } else {
                checks()
            };
            leave(code);
        }
        reap(i64::from(pid))
    }

    macro_rules! expect {
        ($number:expr, $condition:expr) => {
            if !$condition {
                return $number;
            }
        };
    }

    const DEV_NULL: &[u8] = b"/dev/null\0";
    const TRUE: &[u8] = b"/bin/true\0";
    const ADDR_NO_RANDOMIZE: u64 = 0x0040000;
    const AF_ALG: u64 = 38;
    const AF_VSOCK: u64 = 40;
    const KCMP_VM: u64 = 1;
    const KEY_SPEC_SESSION_KEYRING: u64 = -3_i64 as u64;
    /// `open_tree_attr` (Linux 6.15), newer than the profile.
    const OPEN_TREE_ATTR: libc::c_long = 467;

    fn docker_default_checks() -> i32 {
        let mut byte = [0_u8; 1];
        let at_cwd = libc::AT_FDCWD as u64;
        expect!(1, call(libc::SYS_getpid, [0; 5]).is_ok_and(|pid| pid > 0));
        let Ok(fd) = call(
            libc::SYS_openat,
            [at_cwd, DEV_NULL.as_ptr() as u64, libc::O_RDWR as u64, 0, 0],
        ) else {
            return 2;
        };
        let buffer = byte.as_mut_ptr() as u64;
        expect!(
            3,
            call(libc::SYS_write, [fd as u64, buffer, 1, 0, 0]) == Ok(1)
        );
        expect!(
            4,
            call(libc::SYS_read, [fd as u64, buffer, 1, 0, 0]) == Ok(0)
        );
        expect!(5, call(libc::SYS_close, [fd as u64, 0, 0, 0, 0]) == Ok(0));
        match fork_with(0) {
            Ok(0) => {
                let arguments = [TRUE.as_ptr(), std::ptr::null()];
                let environment = [std::ptr::null::<u8>()];
                let _ = call(
                    libc::SYS_execve,
                    [
                        TRUE.as_ptr() as u64,
                        arguments.as_ptr() as u64,
                        environment.as_ptr() as u64,
                        0,
                        0,
                    ],
                );
                leave(127);
            }
            Ok(child) => expect!(6, reap(child) == 0),
            Err(_) => return 6,
        }
        expect!(
            7,
            call(libc::SYS_unshare, [libc::CLONE_NEWNS as u64, 0, 0, 0, 0]) == Err(libc::EPERM)
        );
        expect!(8, call(libc::SYS_mount, [0; 5]) == Err(libc::EPERM));
        expect!(
            9,
            call(libc::SYS_keyctl, [0, KEY_SPEC_SESSION_KEYRING, 0, 0, 0]) == Err(libc::EPERM)
        );
        expect!(10, call(libc::SYS_add_key, [0; 5]) == Err(libc::EPERM));
        // Docker allows ptrace from Linux 4.8 (the kernel checks the tracer):
        // init is nobody's tracee here.
        expect!(
            11,
            call(libc::SYS_ptrace, [libc::PTRACE_PEEKDATA as u64, 1, 0, 0, 0]) == Err(libc::ESRCH)
        );
        let pid = call(libc::SYS_getpid, [0; 5]).unwrap_or(0) as u64;
        expect!(
            12,
            call(libc::SYS_kcmp, [pid, pid, KCMP_VM, 0, 0]) == Err(libc::EPERM)
        );
        match fork_with(libc::CLONE_NEWUSER as u64) {
            Ok(0) => leave(0),
            Ok(child) => {
                reap(child);
                return 13;
            }
            Err(errno) => expect!(13, errno == libc::EPERM),
        }
        expect!(
            14,
            call(libc::SYS_personality, [0xffff_ffff, 0, 0, 0, 0]).is_ok()
        );
        expect!(
            15,
            call(libc::SYS_personality, [ADDR_NO_RANDOMIZE, 0, 0, 0, 0]) == Err(libc::EPERM)
        );
        let stream = libc::SOCK_STREAM as u64;
        expect!(
            16,
            call(libc::SYS_socket, [AF_VSOCK, stream, 0, 0, 0]) == Err(libc::EPERM)
        );
        // The kernel reads an int: garbage above it changes nothing.
        expect!(
            17,
            call(libc::SYS_socket, [1 << 32 | AF_VSOCK, stream, 0, 0, 0]) == Err(libc::EPERM)
        );
        expect!(
            18,
            call(
                libc::SYS_socket,
                [AF_ALG, libc::SOCK_SEQPACKET as u64, 0, 0, 0]
            ) == Err(libc::EPERM)
        );
        let Ok(socket) = call(libc::SYS_socket, [libc::AF_UNIX as u64, stream, 0, 0, 0]) else {
            return 19;
        };
        expect!(
            20,
            call(libc::SYS_close, [socket as u64, 0, 0, 0, 0]) == Ok(0)
        );
        expect!(21, call(libc::SYS_clone3, [0; 5]) == Err(libc::ENOSYS));
        expect!(22, call(libc::SYS_reboot, [0; 5]) == Err(libc::EPERM));
        expect!(
            23,
            call(OPEN_TREE_ATTR, [u64::MAX, 0, 0, 0, 0]) == Err(libc::ENOSYS)
        );
        0
    }

    fn sys_admin_checks() -> i32 {
        expect!(
            1,
            call(libc::SYS_unshare, [libc::CLONE_NEWNS as u64, 0, 0, 0, 0]) == Ok(0)
        );
        // Allowed: the kernel refuses a null, empty argument block itself.
        expect!(2, call(libc::SYS_clone3, [0; 5]) == Err(libc::EINVAL));
        match fork_with(libc::CLONE_NEWUTS as u64) {
            Ok(0) => leave(0),
            Ok(child) => expect!(3, reap(child) == 0),
            Err(_) => return 3,
        }
        expect!(
            4,
            call(libc::SYS_keyctl, [0, KEY_SPEC_SESSION_KEYRING, 0, 0, 0]) == Err(libc::EPERM)
        );
        0
    }

    #[test]
    fn the_filter_denies_what_docker_denies() {
        if !strata_test::should_run_as_root("the_filter_denies_what_docker_denies") {
            return;
        }
        let profile = docker_default(DOCKER_DEFAULT).expect("compile");
        assert_eq!(
            run_filtered(&profile, docker_default_checks),
            0,
            "failed check (see the test)"
        );
    }

    #[test]
    fn cap_sys_admin_allows_namespaces() {
        if !strata_test::should_run_as_root("cap_sys_admin_allows_namespaces") {
            return;
        }
        let profile = docker_default(DOCKER_DEFAULT | 1 << CAP_SYS_ADMIN).expect("compile");
        assert_eq!(
            run_filtered(&profile, sys_admin_checks),
            0,
            "failed check (see the test)"
        );
    }
}
