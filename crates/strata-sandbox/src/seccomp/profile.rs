//! Docker's default seccomp profile as data: moby/profiles `seccomp/v0.2.3`
//! (`default_linux.go`, which moby vendors and BuildKit applies to RUN steps),
//! its groups in its order. Names unknown to an architecture are skipped where
//! the program is built, so each group keeps every architecture's names.

/// `CAP_DAC_READ_SEARCH`.
pub(super) const CAP_DAC_READ_SEARCH: u8 = 2;
/// `CAP_SYS_MODULE`.
pub(super) const CAP_SYS_MODULE: u8 = 16;
/// `CAP_SYS_RAWIO`.
pub(super) const CAP_SYS_RAWIO: u8 = 17;
/// `CAP_SYS_CHROOT`.
pub(super) const CAP_SYS_CHROOT: u8 = 18;
/// `CAP_SYS_PTRACE`.
pub(super) const CAP_SYS_PTRACE: u8 = 19;
/// `CAP_SYS_PACCT`.
pub(super) const CAP_SYS_PACCT: u8 = 20;
/// `CAP_SYS_ADMIN`.
pub(super) const CAP_SYS_ADMIN: u8 = 21;
/// `CAP_SYS_BOOT`.
pub(super) const CAP_SYS_BOOT: u8 = 22;
/// `CAP_SYS_NICE`.
pub(super) const CAP_SYS_NICE: u8 = 23;
/// `CAP_SYS_TIME`.
pub(super) const CAP_SYS_TIME: u8 = 25;
/// `CAP_SYS_TTY_CONFIG`.
pub(super) const CAP_SYS_TTY_CONFIG: u8 = 26;
/// `CAP_SYSLOG`.
pub(super) const CAP_SYSLOG: u8 = 34;
/// `CAP_PERFMON`.
pub(super) const CAP_PERFMON: u8 = 38;
/// `CAP_BPF`.
pub(super) const CAP_BPF: u8 = 39;

/// `AF_ALG`: the kernel crypto API, denied since v0.2.3.
const AF_ALG: u64 = 38;
/// `AF_VSOCK`: host–guest sockets, denied.
const AF_VSOCK: u64 = 40;

/// The namespace flags `clone` may not carry without `CAP_SYS_ADMIN`.
const NAMESPACE_FLAGS: u64 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u64;

/// What a matching rule does; anything no rule matches fails with EPERM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// The call proceeds.
    Allow,
    /// The call fails with ENOSYS, so that libc falls back to an older call.
    FailWithNoSys,
}

/// How many bits of an argument a comparison reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Width {
    /// The low 32 bits: for `int` arguments, which the kernel truncates too
    /// (libseccomp compares all 64, letting garbage in the high half through).
    Bits32,
    /// All 64 bits.
    Bits64,
}

/// A comparison of one argument (unsigned, as the kernel's BPF compares).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Comparison {
    /// `argument == value`.
    Equal(u64),
    /// `argument < value`.
    LessThan(u64),
    /// `argument > value`.
    GreaterThan(u64),
    /// `argument & mask == value`.
    MaskedEqual {
        /// The bits compared.
        mask: u64,
        /// What they must be.
        value: u64,
    },
}

/// One argument condition of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Argument {
    /// Which argument, from 0.
    pub(super) index: u8,
    /// How many of its bits are compared.
    pub(super) width: Width,
    /// The comparison that must hold.
    pub(super) comparison: Comparison,
}

/// When a rule applies (Docker's `Filter`): every listed capability is in the
/// bounding set, the native architecture is listed, the kernel is at least
/// this version; an empty list or `None` does not constrain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Filter {
    /// Capability numbers.
    pub(super) capabilities: &'static [u8],
    /// Docker's architecture names (`amd64`, `arm64`, `x32`, `s390x` ...).
    pub(super) architectures: &'static [&'static str],
    /// `(major, minor)` of the kernel.
    pub(super) minimum_kernel: Option<(u32, u32)>,
}

/// A filter that constrains nothing.
const ANY: Filter = Filter {
    capabilities: &[],
    architectures: &[],
    minimum_kernel: None,
};

/// One group of Docker's profile. It applies unless `excludes` matches (any
/// one capability, architecture or kernel of it) and only if `includes` does
/// (all of it); its names then get `action` when every argument matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Rule {
    /// System call names.
    pub(super) names: &'static [&'static str],
    /// What a match does.
    pub(super) action: Action,
    /// Conditions on the arguments, all of which must hold (none: any arguments).
    pub(super) arguments: &'static [Argument],
    /// What must hold for the rule to apply.
    pub(super) includes: Filter,
    /// What keeps the rule out.
    pub(super) excludes: Filter,
}

/// A rule for `names` that allows them with any arguments, always.
const fn allow(names: &'static [&'static str]) -> Rule {
    Rule {
        names,
        action: Action::Allow,
        arguments: &[],
        includes: ANY,
        excludes: ANY,
    }
}

/// A rule that allows `names` only with every one of `capabilities`.
const fn allow_with(capabilities: &'static [u8], names: &'static [&'static str]) -> Rule {
    let mut rule = allow(names);
    rule.includes.capabilities = capabilities;
    rule
}

/// A rule that allows `names` only on `architectures`.
const fn allow_on(architectures: &'static [&'static str], names: &'static [&'static str]) -> Rule {
    let mut rule = allow(names);
    rule.includes.architectures = architectures;
    rule
}

/// A rule that allows `names` when every one of `arguments` holds.
const fn allow_if(names: &'static [&'static str], arguments: &'static [Argument]) -> Rule {
    let mut rule = allow(names);
    rule.arguments = arguments;
    rule
}

/// A condition on the first argument, an `int`.
const fn first_int(comparison: Comparison) -> Argument {
    Argument {
        index: 0,
        width: Width::Bits32,
        comparison,
    }
}

/// `clone`'s flags carry no namespace flag (argument `index`: 0, or 1 on s390).
const fn no_namespace_flag(index: u8) -> Argument {
    Argument {
        index,
        width: Width::Bits64,
        comparison: Comparison::MaskedEqual {
            mask: NAMESPACE_FLAGS,
            value: 0,
        },
    }
}

/// Allowed with any arguments, with any capabilities.
const ALWAYS: &[&str] = &[
    "accept",
    "accept4",
    "access",
    "adjtimex",
    "alarm",
    "bind",
    "brk",
    "cachestat", // Linux 6.5, libseccomp 2.5.5
    "capget",
    "capset",
    "chdir",
    "chmod",
    "chown",
    "chown32",
    "clock_adjtime",
    "clock_adjtime64",
    "clock_getres",
    "clock_getres_time64",
    "clock_gettime",
    "clock_gettime64",
    "clock_nanosleep",
    "clock_nanosleep_time64",
    "close",
    "close_range",
    "connect",
    "copy_file_range",
    "creat",
    "dup",
    "dup2",
    "dup3",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_ctl_old",
    "epoll_pwait",
    "epoll_pwait2",
    "epoll_wait",
    "epoll_wait_old",
    "eventfd",
    "eventfd2",
    "execve",
    "execveat",
    "exit",
    "exit_group",
    "faccessat",
    "faccessat2",
    "fadvise64",
    "fadvise64_64",
    "fallocate",
    "fanotify_mark",
    "fchdir",
    "fchmod",
    "fchmodat",
    "fchmodat2", // Linux 6.6, libseccomp 2.5.5
    "fchown",
    "fchown32",
    "fchownat",
    "fcntl",
    "fcntl64",
    "fdatasync",
    "fgetxattr",
    "flistxattr",
    "flock",
    "fork",
    "fremovexattr",
    "fsetxattr",
    "fstat",
    "fstat64",
    "fstatat64",
    "fstatfs",
    "fstatfs64",
    "fsync",
    "ftruncate",
    "ftruncate64",
    "futex",
    "futex_requeue", // Linux 6.7, libseccomp 2.5.5
    "futex_time64",
    "futex_wait", // Linux 6.7, libseccomp 2.5.5
    "futex_waitv",
    "futex_wake", // Linux 6.7, libseccomp 2.5.5
    "futimesat",
    "getcpu",
    "getcwd",
    "getdents",
    "getdents64",
    "getegid",
    "getegid32",
    "geteuid",
    "geteuid32",
    "getgid",
    "getgid32",
    "getgroups",
    "getgroups32",
    "getitimer",
    "getpeername",
    "getpgid",
    "getpgrp",
    "getpid",
    "getppid",
    "getpriority",
    "getrandom",
    "getresgid",
    "getresgid32",
    "getresuid",
    "getresuid32",
    "getrlimit",
    "get_robust_list",
    "getrusage",
    "getsid",
    "getsockname",
    "getsockopt",
    "get_thread_area",
    "gettid",
    "gettimeofday",
    "getuid",
    "getuid32",
    "getxattr",
    "getxattrat", // Linux 6.13, libseccomp 2.6.0
    "inotify_add_watch",
    "inotify_init",
    "inotify_init1",
    "inotify_rm_watch",
    "io_cancel",
    "ioctl",
    "io_destroy",
    "io_getevents",
    "io_pgetevents",
    "io_pgetevents_time64",
    "ioprio_get",
    "ioprio_set",
    "io_setup",
    "io_submit",
    "ipc",
    "kill",
    "landlock_add_rule",
    "landlock_create_ruleset",
    "landlock_restrict_self",
    "lchown",
    "lchown32",
    "lgetxattr",
    "link",
    "linkat",
    "listen",
    "listmount", // Linux 6.8, libseccomp 2.6.0
    "listxattr",
    "listxattrat", // Linux 6.13, libseccomp 2.6.0
    "llistxattr",
    "_llseek",
    "lremovexattr",
    "lseek",
    "lsetxattr",
    "lstat",
    "lstat64",
    "madvise",
    "map_shadow_stack", // Linux 6.6, libseccomp 2.5.5
    "membarrier",
    "memfd_create",
    "memfd_secret",
    "mincore",
    "mkdir",
    "mkdirat",
    "mknod",
    "mknodat",
    "mlock",
    "mlock2",
    "mlockall",
    "mmap",
    "mmap2",
    "mprotect",
    "mq_getsetattr",
    "mq_notify",
    "mq_open",
    "mq_timedreceive",
    "mq_timedreceive_time64",
    "mq_timedsend",
    "mq_timedsend_time64",
    "mq_unlink",
    "mremap",
    "mseal", // Linux 6.9, libseccomp 2.6.0
    "msgctl",
    "msgget",
    "msgrcv",
    "msgsnd",
    "msync",
    "munlock",
    "munlockall",
    "munmap",
    "name_to_handle_at",
    "nanosleep",
    "newfstatat",
    "_newselect",
    "open",
    "openat",
    "openat2",
    "pause",
    "pidfd_open",
    "pidfd_send_signal",
    "pipe",
    "pipe2",
    "pkey_alloc",
    "pkey_free",
    "pkey_mprotect",
    "poll",
    "ppoll",
    "ppoll_time64",
    "prctl",
    "pread64",
    "preadv",
    "preadv2",
    "prlimit64",
    "process_mrelease",
    "pselect6",
    "pselect6_time64",
    "pwrite64",
    "pwritev",
    "pwritev2",
    "read",
    "readahead",
    "readlink",
    "readlinkat",
    "readv",
    "recv",
    "recvfrom",
    "recvmmsg",
    "recvmmsg_time64",
    "recvmsg",
    "remap_file_pages",
    "removexattr",
    "removexattrat", // Linux 6.13, libseccomp 2.6.0
    "rename",
    "renameat",
    "renameat2",
    "restart_syscall",
    "riscv_hwprobe", // Linux 6.12, libseccomp 2.6.0
    "rmdir",
    "rseq",
    "rt_sigaction",
    "rt_sigpending",
    "rt_sigprocmask",
    "rt_sigqueueinfo",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigtimedwait",
    "rt_sigtimedwait_time64",
    "rt_tgsigqueueinfo",
    "sched_getaffinity",
    "sched_getattr",
    "sched_getparam",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "sched_getscheduler",
    "sched_rr_get_interval",
    "sched_rr_get_interval_time64",
    "sched_setaffinity",
    "sched_setattr",
    "sched_setparam",
    "sched_setscheduler",
    "sched_yield",
    "seccomp",
    "select",
    "semctl",
    "semget",
    "semop",
    "semtimedop",
    "semtimedop_time64",
    "send",
    "sendfile",
    "sendfile64",
    "sendmmsg",
    "sendmsg",
    "sendto",
    "setfsgid",
    "setfsgid32",
    "setfsuid",
    "setfsuid32",
    "setgid",
    "setgid32",
    "setgroups",
    "setgroups32",
    "setitimer",
    "setpgid",
    "setpriority",
    "setregid",
    "setregid32",
    "setresgid",
    "setresgid32",
    "setresuid",
    "setresuid32",
    "setreuid",
    "setreuid32",
    "setrlimit",
    "set_robust_list",
    "setsid",
    "setsockopt",
    "set_thread_area",
    "set_tid_address",
    "setuid",
    "setuid32",
    "setxattr",
    "setxattrat", // Linux 6.13, libseccomp 2.6.0
    "shmat",
    "shmctl",
    "shmdt",
    "shmget",
    "shutdown",
    "sigaltstack",
    "signalfd",
    "signalfd4",
    "sigprocmask",
    "sigreturn",
    "socketcall",
    "socketpair",
    "splice",
    "stat",
    "stat64",
    "statfs",
    "statfs64",
    "statmount", // Linux 6.8, libseccomp 2.6.0
    "statx",
    "symlink",
    "symlinkat",
    "sync",
    "sync_file_range",
    "syncfs",
    "sysinfo",
    "tee",
    "tgkill",
    "time",
    "timer_create",
    "timer_delete",
    "timer_getoverrun",
    "timer_gettime",
    "timer_gettime64",
    "timer_settime",
    "timer_settime64",
    "timerfd_create",
    "timerfd_gettime",
    "timerfd_gettime64",
    "timerfd_settime",
    "timerfd_settime64",
    "times",
    "tkill",
    "truncate",
    "truncate64",
    "ugetrlimit",
    "umask",
    "uname",
    "unlink",
    "unlinkat",
    "uretprobe", // Linux 6.11, libseccomp 2.6.0
    "utime",
    "utimensat",
    "utimensat_time64",
    "utimes",
    "vfork",
    "vmsplice",
    "wait4",
    "waitid",
    "waitpid",
    "write",
    "writev",
];

/// Docker's groups, in its order.
pub(super) const RULES: &[Rule] = &[
    allow(ALWAYS),
    Rule {
        includes: Filter {
            minimum_kernel: Some((4, 8)),
            ..ANY
        },
        ..allow(&["process_vm_readv", "process_vm_writev", "ptrace"])
    },
    // Every socket family but AF_ALG (38) and AF_VSOCK (40).
    allow_if(&["socket"], &[first_int(Comparison::LessThan(AF_ALG))]),
    allow_if(&["socket"], &[first_int(Comparison::Equal(AF_ALG + 1))]),
    allow_if(&["socket"], &[first_int(Comparison::GreaterThan(AF_VSOCK))]),
    // PER_LINUX, PER_LINUX32, UNAME26, UNAME26 | PER_LINUX32, and the query.
    allow_if(&["personality"], &[first_int(Comparison::Equal(0x0))]),
    allow_if(&["personality"], &[first_int(Comparison::Equal(0x0008))]),
    allow_if(&["personality"], &[first_int(Comparison::Equal(0x20000))]),
    allow_if(&["personality"], &[first_int(Comparison::Equal(0x20008))]),
    allow_if(
        &["personality"],
        &[first_int(Comparison::Equal(0xffff_ffff))],
    ),
    allow_on(&["ppc64le"], &["sync_file_range2", "swapcontext"]),
    allow_on(
        &["arm", "arm64"],
        &[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ],
    ),
    allow_on(&["amd64", "x32"], &["arch_prctl"]),
    allow_on(&["amd64", "x32", "x86"], &["modify_ldt"]),
    allow_on(
        &["s390", "s390x"],
        &[
            "s390_pci_mmio_read",
            "s390_pci_mmio_write",
            "s390_runtime_instr",
        ],
    ),
    allow_on(&["riscv64"], &["riscv_flush_icache"]),
    allow_with(&[CAP_DAC_READ_SEARCH], &["open_by_handle_at"]),
    allow_with(
        &[CAP_SYS_ADMIN],
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "lsm_get_self_attr", // Linux 6.8, libseccomp 2.6.0
            "lsm_list_modules",  // Linux 6.8, libseccomp 2.6.0
            "lsm_set_self_attr", // Linux 6.8, libseccomp 2.6.0
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
        ],
    ),
    // Without CAP_SYS_ADMIN: threads and processes, no namespaces.
    Rule {
        excludes: Filter {
            capabilities: &[CAP_SYS_ADMIN],
            architectures: &["s390", "s390x"],
            minimum_kernel: None,
        },
        ..allow_if(&["clone"], &[no_namespace_flag(0)])
    },
    // s390 passes the flags second.
    Rule {
        includes: Filter {
            architectures: &["s390", "s390x"],
            ..ANY
        },
        excludes: Filter {
            capabilities: &[CAP_SYS_ADMIN],
            ..ANY
        },
        ..allow_if(&["clone"], &[no_namespace_flag(1)])
    },
    // clone3's flags are in memory, out of the filter's reach: ENOSYS makes
    // glibc fall back to clone, whose flags it can check.
    Rule {
        action: Action::FailWithNoSys,
        excludes: Filter {
            capabilities: &[CAP_SYS_ADMIN],
            ..ANY
        },
        ..allow(&["clone3"])
    },
    allow_with(&[CAP_SYS_BOOT], &["reboot"]),
    allow_with(&[CAP_SYS_CHROOT], &["chroot"]),
    allow_with(
        &[CAP_SYS_MODULE],
        &["delete_module", "init_module", "finit_module"],
    ),
    allow_with(&[CAP_SYS_PACCT], &["acct"]),
    allow_with(
        &[CAP_SYS_PTRACE],
        &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
    ),
    allow_with(&[CAP_SYS_RAWIO], &["iopl", "ioperm"]),
    allow_with(
        &[CAP_SYS_TIME],
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
    ),
    allow_with(&[CAP_SYS_TTY_CONFIG], &["vhangup"]),
    allow_with(
        &[CAP_SYS_NICE],
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node", // Linux 5.17, libseccomp 2.5.4
        ],
    ),
    allow_with(&[CAP_SYSLOG], &["syslog"]),
    allow_with(&[CAP_BPF], &["bpf"]),
    allow_with(&[CAP_PERFMON], &["perf_event_open"]),
];
