"""Per-job confinement for untrusted chart code (Linux).

Applied inside a freshly forked, single-threaded child just before the job's code runs. Layers,
strongest first; each is applied when the kernel/platform allows and reported in
:func:`capabilities`:

- **Landlock** (kernel LSM, via raw syscalls): the file system becomes read-only and readable only
  under an allow-list (the Python installation, site-packages, matplotlib data, system libraries
  and fonts); the job's private temp dir is the only writable place. With Landlock ABI >= 4 TCP
  bind/connect are refused; with ABI >= 6 signals to processes outside the job are refused.
- **seccomp-BPF** (hand-assembled filter, no libseccomp needed): ``fork``/``vfork``, ``clone``
  without ``CLONE_THREAD`` (threads stay allowed), ``execve``, ``socket``/``socketpair``,
  ``ptrace``, namespace and mount calls, ``bpf``, ``io_uring`` and cross-process memory access
  fail with ``EPERM``; ``clone3`` answers ``ENOSYS`` so libc falls back to ``clone``.
- **rlimits**: ``RLIMIT_AS`` (memory), ``RLIMIT_CPU`` (CPU seconds), ``RLIMIT_FSIZE`` (largest
  file), ``RLIMIT_NPROC`` (ignored by the kernel for root), ``RLIMIT_CORE=0``.
- **audit hook** (``sys.addaudithook``, always on): refuses sockets, process creation and opening
  files outside the allow-list from Python code. On its own it can be bypassed through ``ctypes``;
  it is the portable last line, the kernel layers are what truly holds.

The template process additionally moves itself into an empty network namespace when it can
(:func:`isolate_network`), so even a socket created before the filter has nowhere to go.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import struct
import sys
from collections.abc import Iterable

__all__ = [
    "SandboxError", "allowed_read_roots", "apply_job_limits", "capabilities", "install_audit_hook",
    "isolate_network", "landlock_abi", "landlock_restrict", "seccomp_install",
]


class SandboxError(PermissionError):
    """Raised (inside the job) when the code attempts something the sandbox forbids."""


_libc = None


def _lib():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
        _libc.syscall.restype = ctypes.c_long
        _libc.prctl.restype = ctypes.c_int
    return _libc


_MACHINE = platform.machine()
# Syscall numbers used here (x86_64 / aarch64); other architectures skip seccomp and Landlock.
_SYS = {
    "x86_64": dict(
        landlock_create_ruleset=444, landlock_add_rule=445, landlock_restrict_self=446,
        fork=57, vfork=58, clone=56, clone3=435, execve=59, execveat=322, socket=41,
        socketpair=53, ptrace=101, unshare=272, setns=308, mount=165, umount2=166,
        pivot_root=155, chroot=161, bpf=321, perf_event_open=298, io_uring_setup=425,
        process_vm_readv=310, process_vm_writev=311, keyctl=250, add_key=248, request_key=249,
        kexec_load=246, init_module=175, finit_module=313, userfaultfd=323, mount_setattr=442,
        open_tree=428, move_mount=429, fsopen=430, fsmount=432,
    ),
    "aarch64": dict(
        landlock_create_ruleset=444, landlock_add_rule=445, landlock_restrict_self=446,
        clone=220, clone3=435, execve=221, execveat=281, socket=198, socketpair=199, ptrace=117,
        unshare=97, setns=268, mount=40, umount2=39, pivot_root=41, chroot=51, bpf=280,
        perf_event_open=241, io_uring_setup=425, process_vm_readv=270, process_vm_writev=271,
        keyctl=219, add_key=217, request_key=218, kexec_load=104, init_module=105,
        finit_module=273, userfaultfd=282, mount_setattr=442, open_tree=428, move_mount=429,
        fsopen=430, fsmount=432,
    ),
}.get(_MACHINE, {})
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}.get(_MACHINE)

# ----------------------------------------------------------------------------------- Landlock
_LL_EXECUTE = 1 << 0
_LL_WRITE_FILE = 1 << 1
_LL_READ_FILE = 1 << 2
_LL_READ_DIR = 1 << 3
_LL_WRITE_ALL_V1 = sum(1 << i for i in range(4, 13))  # remove/make dir, file, sock, fifo, ...
_LL_REFER = 1 << 13  # ABI 2
_LL_TRUNCATE = 1 << 14  # ABI 3
_LL_IOCTL_DEV = 1 << 15  # ABI 5
_LL_NET_BIND_TCP = 1 << 0
_LL_NET_CONNECT_TCP = 1 << 1
_LL_SCOPE_ABSTRACT_UNIX = 1 << 0
_LL_SCOPE_SIGNAL = 1 << 1


_ABI: list[int] = []  # the kernel's answer, asked once per process (it cannot change)


def landlock_abi() -> int:
    """Landlock ABI version the running kernel offers (0 when unavailable)."""
    if not _SYS or sys.platform != "linux":
        return 0
    if not _ABI:
        r = _lib().syscall(_SYS["landlock_create_ruleset"], None, ctypes.c_size_t(0), ctypes.c_uint32(1))
        _ABI.append(int(r) if r > 0 else 0)
    return _ABI[0]


def _handled_fs(abi: int) -> int:
    fs = _LL_EXECUTE | _LL_WRITE_FILE | _LL_READ_FILE | _LL_READ_DIR | _LL_WRITE_ALL_V1
    if abi >= 2:
        fs |= _LL_REFER
    if abi >= 3:
        fs |= _LL_TRUNCATE
    if abi >= 5:
        fs |= _LL_IOCTL_DEV
    return fs


def landlock_restrict(read_roots: Iterable[str], write_roots: Iterable[str]) -> int:
    """Confine this thread (and its future children/threads) with Landlock.

    ``read_roots`` become readable (files and directory listings), ``write_roots`` fully
    writable; everything else is inaccessible, and execution of files is denied everywhere.
    Returns the ABI used, or 0 when Landlock is unavailable (nothing applied).
    """
    abi = landlock_abi()
    if abi <= 0:
        return 0
    libc = _lib()
    handled = _handled_fs(abi)
    attr = struct.pack("=QQQ", handled, (_LL_NET_BIND_TCP | _LL_NET_CONNECT_TCP) if abi >= 4 else 0,
                       (_LL_SCOPE_ABSTRACT_UNIX | _LL_SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 8 if abi < 4 else (16 if abi < 6 else 24)
    buf = ctypes.create_string_buffer(attr[:size], size)
    fd = libc.syscall(_SYS["landlock_create_ruleset"], buf, ctypes.c_size_t(size), ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    fd = int(fd)
    try:
        read_access = _LL_READ_FILE | _LL_READ_DIR
        write_access = handled & ~_LL_EXECUTE
        for roots, access in ((read_roots, read_access), (write_roots, write_access)):
            for root in roots:
                try:
                    pfd = os.open(root, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue
                try:
                    acc = access
                    if not os.path.isdir(root):  # file rules take file rights only
                        acc &= _LL_READ_FILE | _LL_WRITE_FILE | _LL_TRUNCATE | _LL_IOCTL_DEV
                    rule = ctypes.create_string_buffer(struct.pack("=Qi", acc, pfd), 12)
                    if libc.syscall(_SYS["landlock_add_rule"], fd, 1, rule, 0) < 0:
                        raise OSError(ctypes.get_errno(), f"landlock_add_rule({root}) failed")
                finally:
                    os.close(pfd)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
        if libc.syscall(_SYS["landlock_restrict_self"], fd, 0) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(fd)
    return abi


# ------------------------------------------------------------------------------------ seccomp
_BPF_LD_W_ABS = 0x20
_BPF_JEQ_K = 0x15
_BPF_JGE_K = 0x35
_BPF_JSET_K = 0x45
_BPF_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_CLONE_THREAD = 0x00010000

_DENY = (
    "fork", "vfork", "execve", "execveat", "socket", "socketpair", "ptrace", "unshare", "setns",
    "mount", "umount2", "pivot_root", "chroot", "bpf", "perf_event_open", "io_uring_setup",
    "process_vm_readv", "process_vm_writev", "keyctl", "add_key", "request_key", "kexec_load",
    "init_module", "finit_module", "userfaultfd", "mount_setattr", "open_tree", "move_mount",
    "fsopen", "fsmount",
)


_PROGRAM: list[bytes] = []  # assembled once (in the warm template), installed by each child


def _seccomp_program() -> bytes:
    if not _PROGRAM:
        _PROGRAM.append(_assemble_seccomp())
    return _PROGRAM[0]


def _assemble_seccomp() -> bytes:
    ins: list[tuple[int, int, int, int]] = []

    def op(code, k=0, jt=0, jf=0):
        ins.append((code, jt, jf, k))

    deny = _RET_ERRNO | errno.EPERM
    op(_BPF_LD_W_ABS, 4)  # seccomp_data.arch
    op(_BPF_JEQ_K, _AUDIT_ARCH, 1, 0)
    op(_BPF_RET_K, deny)
    op(_BPF_LD_W_ABS, 0)  # seccomp_data.nr
    if _MACHINE == "x86_64":  # x32 ABI numbers alias the real ones: refuse them all
        op(_BPF_JGE_K, 0x40000000, 0, 1)
        op(_BPF_RET_K, deny)
    for name in _DENY:
        if name in _SYS:
            op(_BPF_JEQ_K, _SYS[name], 0, 1)
            op(_BPF_RET_K, deny)
    op(_BPF_JEQ_K, _SYS["clone3"], 0, 1)
    op(_BPF_RET_K, _RET_ERRNO | errno.ENOSYS)
    op(_BPF_JEQ_K, _SYS["clone"], 0, 3)
    op(_BPF_LD_W_ABS, 16)  # args[0] low word = clone flags on both architectures
    op(_BPF_JSET_K, _CLONE_THREAD, 1, 0)
    op(_BPF_RET_K, deny)
    op(_BPF_RET_K, _RET_ALLOW)
    return b"".join(struct.pack("=HBBI", c, jt, jf, k) for c, jt, jf, k in ins)


def seccomp_install() -> bool:
    """Install the job's seccomp filter on this thread (inherited by threads it creates).

    Returns False when the platform has no support (non-Linux, unknown architecture).
    """
    if not _SYS or _AUDIT_ARCH is None or sys.platform != "linux":
        return False
    libc = _lib()
    prog = _seccomp_program()
    n = len(prog) // 8
    filt = ctypes.create_string_buffer(prog, len(prog))

    class _Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = _Fprog(n, ctypes.cast(filt, ctypes.c_void_p))
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS failed")
    if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, FILTER
        raise OSError(ctypes.get_errno(), "PR_SET_SECCOMP failed")
    return True


# ---------------------------------------------------------------------------------- network ns
def isolate_network() -> str:
    """Move the calling process into a fresh, empty network namespace (no interfaces up).

    Uses ``unshare(CLONE_NEWNET)`` as root, or a user namespace mapping the current user to
    itself otherwise. Returns ``"netns"``, ``"userns+netns"`` or ``""`` when neither works.
    Call it before starting threads.
    """
    if sys.platform != "linux":
        return ""
    libc = _lib()
    clone_newnet, clone_newuser = 0x40000000, 0x10000000
    if libc.unshare(clone_newnet) == 0:
        return "netns"
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(clone_newuser | clone_newnet) != 0:
        return ""
    try:
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
    except OSError:
        pass
    return "userns+netns"


# ------------------------------------------------------------------------------------- rlimits
def apply_job_limits(*, memory_mb: int | None, cpu_seconds: float | None,
                     max_file_mb: int = 256) -> None:
    """Set the job's resource limits (soft = hard, so the job cannot raise them)."""

    def setlim(which, value):
        try:
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            pass

    if memory_mb:
        setlim(resource.RLIMIT_AS, int(memory_mb) * 1024 * 1024)
    if cpu_seconds:
        soft = max(1, int(cpu_seconds + 0.999))
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))
        except (ValueError, OSError):
            pass
    setlim(resource.RLIMIT_FSIZE, int(max_file_mb) * 1024 * 1024)
    setlim(resource.RLIMIT_CORE, 0)
    setlim(resource.RLIMIT_NPROC, 0)


# ---------------------------------------------------------------------------------- allow-list
def allowed_read_roots(extra: Iterable[str] = ()) -> list[str]:
    """Folders a job may read: the interpreter's installation, site-packages, matplotlib data,
    system libraries (for extension modules imported by the job), fonts and time-zone data."""
    import site
    import sysconfig

    roots: list[str] = []
    for p in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        roots.append(p)
    try:
        roots.extend(site.getsitepackages())
    except AttributeError:
        pass
    try:
        if site.ENABLE_USER_SITE and site.getusersitepackages():
            roots.append(site.getusersitepackages())
    except AttributeError:
        pass
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            roots.append(sysconfig.get_path(key))
        except KeyError:
            pass
    mpl = sys.modules.get("matplotlib")
    if mpl is not None:
        try:
            roots.append(mpl.get_data_path())
            roots.append(os.path.dirname(mpl.__file__))
        except Exception:
            pass
    roots += ["/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache",
              "/usr/share/fonts", "/usr/local/share/fonts", "/usr/share/zoneinfo",
              "/etc/localtime", "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random",
              "/etc/matplotlibrc"]
    roots.extend(extra)
    out: list[str] = []
    for r in roots:
        if not r:
            continue
        rp = os.path.realpath(r)
        if rp == "/" or rp in out or not os.path.exists(rp):
            continue
        out.append(rp)
    return out


def _under(path: str, roots: Iterable[str]) -> bool:
    for r in roots:
        if path == r or path.startswith(r.rstrip("/") + "/"):
            return True
    return False


_WRITE_EVENTS = {
    "os.remove", "os.rename", "os.rmdir", "os.mkdir", "os.chmod", "os.chown", "os.link",
    "os.symlink", "os.truncate", "os.utime", "os.chflags", "os.lchflags", "os.mkfifo", "os.mknod",
    "shutil.rmtree", "shutil.move", "shutil.copyfile", "shutil.copymode", "shutil.copystat",
    "shutil.chown", "sqlite3.connect",
}
_READ_EVENTS = {"os.listdir", "os.scandir", "glob.glob", "os.walk", "os.chdir"}
_PROC_EVENTS = (
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
    "os.forkpty", "os.startfile", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
    "sys.remote_exec",
)


def install_audit_hook(read_roots: list[str], write_roots: list[str]) -> None:
    """Refuse sockets, process creation and file access outside the allow-lists from Python.

    Irreversible for the process (audit hooks cannot be removed), so only call it in the job
    child. Relative paths resolve against the job's working directory (its temp dir).
    """
    read_roots = list(read_roots) + list(write_roots)
    write_roots = list(write_roots) + ["/dev/null"]
    realpath = os.path.realpath
    fspath = os.fspath

    def check(path, write: bool, event: str) -> None:
        if path is None or isinstance(path, int):
            return
        try:
            p = fspath(path)
        except TypeError:
            return
        if isinstance(p, bytes):
            p = p.decode("utf-8", "surrogateescape")
        rp = realpath(p)
        if not _under(rp, write_roots if write else read_roots):
            raise SandboxError(f"sandbox: {event} of {p!r} is not allowed")

    def on_open(event: str, args: tuple) -> None:
        path, mode, flags = (tuple(args) + (None, None, None))[:3]
        write = False
        if isinstance(mode, str) and any(c in mode for c in "wax+"):
            write = True
        if isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC):
            write = True
        check(path, write, "open")

    def deny(event: str, args: tuple) -> None:
        raise SandboxError(f"sandbox: {event} is not allowed")

    def on_write(event: str, args: tuple) -> None:
        for a in args[:2]:
            if isinstance(a, (str, bytes, os.PathLike)):
                check(a, True, event)

    def on_read(event: str, args: tuple) -> None:
        if args and isinstance(args[0], (str, bytes, os.PathLike)):
            check(args[0], False, event)

    handlers = {"open": on_open, "sys.addaudithook": deny}
    handlers.update(dict.fromkeys(_PROC_EVENTS, deny))
    handlers.update(dict.fromkeys(_WRITE_EVENTS, on_write))
    handlers.update(dict.fromkeys(_READ_EVENTS, on_read))
    get = handlers.get

    # Hot path: matplotlib raises thousands of harmless events (builtins.id, ...) per figure.
    def hook(event: str, args: tuple) -> None:
        h = get(event)
        if h is not None:
            h(event, args)
        elif event[:7] == "socket.":
            raise SandboxError(f"sandbox: {event} is not allowed")

    sys.addaudithook(hook)


def capabilities() -> dict[str, object]:
    """What this machine can enforce (probed without applying anything)."""
    return {
        "platform": sys.platform, "machine": _MACHINE, "root": os.geteuid() == 0,
        "landlock_abi": landlock_abi(), "seccomp": bool(_SYS and _AUDIT_ARCH),
        "audit_hook": hasattr(sys, "addaudithook"),
    }
