"""The system-call filter every exercise child runs under (libseccomp, through ctypes).

Loaded by the child right after the fork, before the student's file is imported,
and inherited by every thread it starts. What it takes away, in both isolation
modes, and why:

    new processes       fork, vfork, clone without CLONE_THREAD, exec: one process
                        per exercise, so its address-space limit bounds it whole
                        and nothing can outlive the grading
    memory not mapped   memfd_create, System V shared memory, message queues,
                        semaphores, POSIX message queues: memory the address-space
                        limit would not count, and objects that outlive a process
    files               open for writing, create, truncate, rename, link, unlink,
                        mkdir, chmod, chown, xattrs: nothing written, nothing left,
                        no cache poisoned, no .pth planted
    other processes     kill / tgkill / sigqueue of any process but itself, signals by
                        descriptor ownership (F_SETOWN, F_SETSIG, FIOSETOWN), prlimit,
                        priorities and scheduling of another process, ptrace,
                        process_vm_*, pidfds, kcmp; setsid / setpgid (a child stays in
                        the process group the grader kills)
    memory              shared anonymous mappings (the data-segment limit counts private
                        ones only, see child.py)
    reaching out        socket, socketpair: no network, no kernel's ZMQ port
    the kernel          mount, unshare, setns, bpf, perf_event_open, io_uring (which
                        would run open() past the filter), userfaultfd, keyrings,
                        modules, reboot

Threads stay allowed (torch uses them); ``clone3`` answers ENOSYS so that glibc
falls back to ``clone``, whose flags the filter can read. System calls newer
than this libseccomp knows by name answer ENOSYS by number (x86_64), so a
newer kernel opens no hole (``setxattrat``, ``mseal``, ...). Everything else is
allowed: the other half of the box (namespaces, rlimits) is in ``box.py``.

This file runs inside the sandbox: standard library only.
"""
import ctypes
import errno
import os

ALLOW = 0x7FFF0000


def _errno(code):  # SCMP_ACT_ERRNO(code)
    return 0x00050000 | (code & 0xFFFF)


MASKED_EQ, NE, EQ = 7, 1, 4   # enum scmp_compare
CLONE_THREAD = 0x00010000
O_ACCMODE, O_WRONLY, O_RDWR = 0o3, 0o1, 0o2
O_CREAT, O_TRUNC, O_TMPFILE = 0o100, 0o1000, 0o20000000   # x86_64 and aarch64 values

DENIED = (
    "fork", "vfork", "execve", "execveat",
    "memfd_create", "memfd_secret", "shmget", "shmat", "shmctl", "msgget", "msgsnd", "msgrcv",
    "msgctl", "semget", "semop", "semtimedop", "semctl", "mq_open", "mq_unlink", "mq_timedsend",
    "creat", "truncate", "rename", "renameat", "renameat2", "link", "linkat", "symlink",
    "symlinkat", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir", "mknod", "mknodat",
    "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown", "lchown", "fchownat",
    "utime", "utimes", "utimensat", "futimesat", "setxattr", "lsetxattr", "fsetxattr",
    "removexattr", "lremovexattr", "fremovexattr", "name_to_handle_at", "open_by_handle_at",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_open", "pidfd_getfd",
    "pidfd_send_signal", "socket", "socketpair",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree",
    "fsopen", "fsmount", "fsconfig", "fspick", "mount_setattr", "bpf", "perf_event_open",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "userfaultfd", "add_key",
    "request_key", "keyctl", "init_module", "finit_module", "delete_module", "kexec_load",
    "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "fanotify_init",
    "syslog", "settimeofday", "clock_settime", "adjtimex", "sethostname", "setdomainname",
    "setsid", "setpgid", "migrate_pages", "move_pages", "mbind", "set_mempolicy",
)
# (system call, argument that names a process): allowed only for 0 (the caller itself)
OWN_PROCESS_ONLY = (("prlimit64", 0), ("setpriority", 1), ("ioprio_set", 1),
                    ("sched_setaffinity", 0), ("sched_setscheduler", 0), ("sched_setparam", 0),
                    ("sched_setattr", 0))
F_SETOWN, F_SETSIG, F_SETOWN_EX = 8, 10, 15
FIOSETOWN, SIOCSPGRP, TIOCSPGRP = 0x8901, 0x8902, 0x5410
MAP_SHARED, MAP_ANONYMOUS = 0x01, 0x20
# x86_64 numbers of system calls newer than libseccomp 2.5 knows (futex_wait .. file_setattr
# and beyond): ENOSYS, as on an older kernel
NEWER_X86_64 = range(455, 520)
ENOSYS_CALLS = ("clone3", "openat2")   # glibc falls back to calls whose arguments we can read


class _Arg(ctypes.Structure):   # struct scmp_arg_cmp
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


class FilterError(RuntimeError):
    """The filter could not be built or loaded: the grader must not run student code."""


def _library():
    try:
        lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    except OSError as exc:
        raise FilterError(f"libseccomp is not installed ({exc}): install libseccomp2") from None
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_Arg)]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    return lib


def available() -> str:
    """None when a filter can be built here, else why not (one line)."""
    try:
        lib = _library()
        ctx = lib.seccomp_init(ALLOW)
        if not ctx:
            return "libseccomp could not create a filter"
        lib.seccomp_release(ctx)
    except FilterError as exc:
        return str(exc)
    return None


def _rule(lib, ctx, action, name, *comparisons):
    number = lib.seccomp_syscall_resolve_name(name.encode())
    if number < 0:
        return  # not a system call on this architecture (e.g. fork on aarch64)
    _number_rule(lib, ctx, action, number, *comparisons, name=name)


def _number_rule(lib, ctx, action, number, *comparisons, name=None):
    args = (_Arg * max(1, len(comparisons)))(*[_Arg(*c) for c in comparisons])
    rc = lib.seccomp_rule_add_array(ctx, action, number, len(comparisons), args)
    if rc < 0:
        raise FilterError(f"seccomp rule for {name or number} refused ({os.strerror(-rc)})")


def load() -> None:
    """Install the filter on this process (and every thread it starts later)."""
    lib = _library()
    ctx = lib.seccomp_init(ALLOW)
    if not ctx:
        raise FilterError("libseccomp could not create a filter")
    try:
        deny = _errno(errno.EPERM)
        for name in DENIED:
            _rule(lib, ctx, deny, name)
        for name in ENOSYS_CALLS:
            _rule(lib, ctx, _errno(errno.ENOSYS), name)
        _rule(lib, ctx, deny, "clone", (0, MASKED_EQ, CLONE_THREAD, 0))  # a process, not a thread
        _deny_writing_opens(lib, ctx, deny)
        me = os.getpid()
        for name in ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
            _rule(lib, ctx, deny, name, (0, NE, me, 0))   # signals to itself only
        for name, arg in OWN_PROCESS_ONLY:
            _rule(lib, ctx, deny, name, (arg, NE, 0, 0))
        for cmd in (F_SETOWN, F_SETSIG, F_SETOWN_EX):    # a signal to the owner on I/O
            _rule(lib, ctx, deny, "fcntl", (1, EQ, cmd, 0))
        for request in (FIOSETOWN, SIOCSPGRP, TIOCSPGRP):
            _rule(lib, ctx, deny, "ioctl", (1, EQ, request, 0))
        _rule(lib, ctx, deny, "mmap", (3, MASKED_EQ, MAP_SHARED | MAP_ANONYMOUS,
                                       MAP_SHARED | MAP_ANONYMOUS))
        if os.uname().machine == "x86_64":
            for number in NEWER_X86_64:
                _number_rule(lib, ctx, _errno(errno.ENOSYS), number)
        rc = lib.seccomp_load(ctx)
        if rc < 0:
            raise FilterError(f"the seccomp filter could not be loaded ({os.strerror(-rc)})")
    finally:
        lib.seccomp_release(ctx)


def _deny_writing_opens(lib, ctx, deny):
    """open/openat with any flag that writes or creates: the flags are open's 2nd, openat's 3rd."""
    for name, flags_arg in (("open", 1), ("openat", 2)):
        for mask, value in ((O_ACCMODE, O_WRONLY), (O_ACCMODE, O_RDWR), (O_CREAT, O_CREAT),
                            (O_TRUNC, O_TRUNC), (O_TMPFILE, O_TMPFILE)):
            _rule(lib, ctx, deny, name, (flags_arg, MASKED_EQ, mask, value))
