"""The warm template process of a :class:`~verm.charts.pool.ChartPool` worker.

Run as ``python -m verm.charts.worker [--shm-fd N]``. It imports matplotlib (Agg), numpy, pandas
and seaborn (when installed), draws a figure of each common kind so fonts, caches and lazy imports
are loaded (and installs the exact caches of :mod:`verm.charts.accel`), then serves jobs read from
stdin: each job runs in a fresh ``fork()`` of this warm process (copy-on-write), confined by
:mod:`verm.charts.sandbox`, and its figure comes back as raw RGBA bytes.

Frames on both pipes: ``struct "<IQ"`` (header length, payload length), a UTF-8 JSON header,
then the payload (job: nothing; reply: the image bytes, row-major H x W x 4 uint8). With
``--shm-fd`` (a memfd the pool created) the image is written at offset 0 of that file instead and
the header's ``"shm"`` gives its size. Nothing from the job is ever unpickled: the child's reply
is JSON + bytes, validated here.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import time

from verm.charts.protocol import read_frame, widen_pipe, write_frame


# --------------------------------------------------------------------------- figure capture
class _JobState:
    """What the job did with figures (reset in every child)."""

    def __init__(self) -> None:
        self.active = False
        self.n_figures = 0  # Figures created during the job
        self.last_figure = None  # the last one (kept alive: code may close it before we capture)
        self.saved = None  # (array, kwargs) of the last savefig call
        self.saves = 0
        self.shows = 0
        self.dpi = None
        self.final_save = None  # see _final_save_call
        self.direct = False  # captures go straight to the shared file (no size= resize)
        self.skip_idle = None  # the canvas whose coming draw_idle() nobody can observe


_STATE = _JobState()


class _Captured:
    """One captured image: already in the pool's shared file (``array`` None) or an array."""

    __slots__ = ("shape", "blank", "array")

    def __init__(self, shape, blank, array) -> None:
        self.shape = shape
        self.blank = blank
        self.array = array


class _Sink:
    """A file-like target for ``savefig(format="rgba")``.

    ``direct``: the renderer's buffer goes straight into the pool's shared file (no copy in
    this process); otherwise (or if that fails) it is copied into an array.
    """

    def __init__(self, direct: bool) -> None:
        self.direct = direct
        self.result: _Captured | None = None

    def seek(self, *args):
        return 0

    def tell(self):
        return 0

    def write(self, data):
        import numpy as np

        a = np.asarray(memoryview(data))
        if a.ndim != 3 or a.shape[2] != 4 or a.dtype != np.uint8:
            raise RuntimeError("unexpected raw buffer layout")
        if self.direct and a.flags.c_contiguous and _write_shm(_SHM_FD[0], a):
            self.result = _Captured(a.shape, _is_blank(a), None)
        else:
            self.result = _Captured(a.shape, None, np.array(a, copy=True))
        return a.nbytes


def _is_blank(image) -> bool:
    """True when every pixel of an (H, W, 4) uint8 image has the same RGBA value."""
    import numpy as np

    flat = np.ascontiguousarray(image).reshape(-1).view(np.uint32)
    first = flat[0]
    if (flat[::251] != first).any():  # charts differ early: skip the full pass
        return False
    return bool((flat == first).all())


_SAVE_DROP = ("format", "metadata", "pil_kwargs", "backend", "orientation", "papertype")


def _rgba_of(fig, kwargs: dict) -> _Captured:
    """Render ``fig`` like ``fig.savefig(path, **kwargs)`` would, as RGBA (H, W, 4)."""
    kw = {k: v for k, v in kwargs.items() if k not in _SAVE_DROP}
    if _STATE.dpi:
        kw["dpi"] = _STATE.dpi
    sink = _Sink(direct=_STATE.direct and _SHM_FD[0] >= 0)
    _ORIG["savefig"](fig, sink, format="rgba", **kw)
    if sink.result is None:
        raise RuntimeError("the figure was not rendered")
    return sink.result


_ORIG: dict = {}


def _final_save_call(tree) -> tuple | None:
    """Where a job's last ``savefig`` may skip pyplot's redraw, from the code's syntax tree.

    ``pyplot.savefig`` ends with ``fig.canvas.draw_idle()``, which on Agg is a second full
    draw of the figure right after the one ``savefig`` made (a third of a typical job). When
    the call is a statement of its own at module level and only ``plt.show()`` /
    ``plt.close(...)`` calls (or nothing) follow it, nothing can observe that redraw, so the
    job skips it. Returns ``(call position, [terminal call nodes])`` or None.
    """
    import ast

    body = list(tree.body)
    tail = []
    while body:
        st = body[-1]
        if isinstance(st, ast.Pass) or (isinstance(st, ast.Expr) and isinstance(st.value, ast.Constant)):
            body.pop()
            continue
        if (isinstance(st, ast.Expr) and isinstance(st.value, ast.Call)
                and _dotted(st.value.func) is not None
                and _dotted(st.value.func)[-1] in ("show", "close")):
            tail.append(st.value)
            body.pop()
            continue
        break
    if not body:
        return None
    last = body[-1]
    if not (isinstance(last, ast.Expr) and isinstance(last.value, ast.Call)):
        return None
    call = last.value
    return (call.lineno, call.end_lineno, call.col_offset, call.end_col_offset), tail


def _dotted(node) -> list[str] | None:
    """``a.b.c`` as ["a", "b", "c"]; None for anything but names and attributes."""
    import ast

    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return parts[::-1]


def _resolve_static(parts: list[str], namespace: dict):
    """Look a dotted name up without running any code (module attributes only)."""
    import builtins
    import types

    obj = namespace.get(parts[0], builtins.__dict__.get(parts[0], _MISSING))
    for attr in parts[1:]:
        if type(obj) is not types.ModuleType or attr not in obj.__dict__:
            return _MISSING
        obj = obj.__dict__[attr]
    return obj


_MISSING = object()


def _redraw_unobservable(frame) -> bool:
    """True when ``frame`` is the job's module code at its final ``savefig`` statement and the
    statements after it are calls to the real ``pyplot.show``/``close`` (checked now)."""
    final = _STATE.final_save
    if final is None or frame is None or frame.f_code.co_filename != "<chart>" \
            or frame.f_code.co_name != "<module>":
        return False
    try:
        pos = next(itertools.islice(frame.f_code.co_positions(), frame.f_lasti // 2, None))
    except (AttributeError, StopIteration, ValueError):
        return False
    where, tail = final
    if tuple(pos) != where:
        return False
    allowed = (_ORIG["plt_show"], _ORIG["plt_close"])
    for call in tail:
        if _resolve_static(_dotted(call.func), frame.f_globals) not in allowed:
            return False
    return True


def _install_capture() -> None:
    """Patch matplotlib so a job's figures are captured (and the unobservable redraw of a
    final ``pyplot.savefig`` is skipped, see :func:`_final_save_call`)."""
    import matplotlib.figure as mfig
    import matplotlib.pyplot as plt
    from matplotlib.backend_bases import FigureCanvasBase

    _ORIG["savefig"] = mfig.Figure.savefig
    _ORIG["init"] = mfig.Figure.__init__
    _ORIG["show"] = plt.show
    _ORIG["plt_close"] = plt.close
    _ORIG["draw_idle"] = FigureCanvasBase.draw_idle
    plt_savefig_code = plt.savefig.__code__

    def draw_idle(self, *args, **kwargs):
        if _STATE.active and _STATE.skip_idle is self and not args and not kwargs:
            _STATE.skip_idle = None
            if sys._getframe(1).f_code is plt_savefig_code:
                return None
        return _ORIG["draw_idle"](self, *args, **kwargs)

    def savefig(self, fname, *args, **kwargs):
        if not _STATE.active:
            return _ORIG["savefig"](self, fname, *args, **kwargs)
        _STATE.skip_idle = None
        _STATE.saves += 1
        if args:  # old positional form savefig(fname, dpi)
            kwargs.setdefault("dpi", args[0])
        if hasattr(fname, "write") and not isinstance(fname, (str, bytes, os.PathLike)):
            # An in-memory target the code may read back: write it for real as well.
            _ORIG["savefig"](self, fname, **kwargs)
        _STATE.saved = (_rgba_of(self, kwargs), kwargs)  # the last call's image wins
        caller = sys._getframe(1)
        if caller.f_code is plt_savefig_code and _redraw_unobservable(caller.f_back):
            _STATE.skip_idle = self.canvas  # pyplot.savefig's draw_idle() comes next
        return None

    def init(self, *args, **kwargs):
        _ORIG["init"](self, *args, **kwargs)
        if _STATE.active:
            _STATE.n_figures += 1
            _STATE.last_figure = self

    def show(*args, **kwargs):
        if _STATE.active:
            _STATE.shows += 1
            return None
        return _ORIG["show"](*args, **kwargs)

    mfig.Figure.savefig = savefig
    mfig.Figure.__init__ = init
    plt.show = show
    _ORIG["plt_show"] = show
    FigureCanvasBase.draw_idle = draw_idle


def _pick_figure():
    """The figure a trailing ``plt.savefig()`` would save: the current one, else the last made."""
    import matplotlib.pyplot as plt
    from matplotlib._pylab_helpers import Gcf

    mgr = Gcf.get_active()
    if mgr is not None:
        return mgr.canvas.figure
    if _STATE.last_figure is not None:
        return _STATE.last_figure
    nums = plt.get_fignums()
    return plt.figure(nums[-1]) if nums else None


# ------------------------------------------------------------------------------- the child
class _Capped:
    """A text stream keeping the first ``limit`` characters and counting the rest."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.kept = 0
        self.total = 0

    def write(self, s) -> int:
        s = str(s)
        self.total += len(s)
        room = self.limit - self.kept
        if room > 0:
            piece = s[:room]
            self.parts.append(piece)
            self.kept += len(piece)
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:
        return "utf-8"

    def text(self) -> str:
        out = "".join(self.parts)
        if self.total > self.kept:
            out += f"\n... [{self.total - self.kept} more characters truncated]"
        return out


def _tail(exc: BaseException, lines: int = 8) -> str:
    """The exception's last lines, keeping only frames of the job's own code."""
    import traceback

    te = traceback.TracebackException.from_exception(exc)
    te.stack = traceback.StackSummary.from_list([f for f in te.stack if f.filename == "<chart>"])
    text = "".join(te.format())
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _vm_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _child_main(job_r: int, out_fd: int, tmp: str, read_roots: list[str]) -> None:
    """A pre-forked child: confine itself now, then wait for its one job and run it."""
    from verm.charts import sandbox

    extra: dict = {}
    setup_error = ""
    vm = 0
    try:
        os.setpgid(0, 0)
        try:
            sandbox._lib().prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() == 1:  # the template died before prctl took effect
            os._exit(0)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # oversized writes fail with EFBIG instead
        os.chdir(tmp)
        os.environ.update(TMPDIR=tmp, HOME=tmp, TEMP=tmp, TMP=tmp)
        import tempfile

        tempfile.tempdir = tmp
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)
        sys.stdin = open(os.devnull)  # noqa: SIM115
        vm = _TEMPLATE_VM[0]
        extra["landlock"] = sandbox.landlock_restrict(read_roots, [tmp, os.devnull])
        extra["seccomp"] = sandbox.seccomp_install()
        sandbox.install_audit_hook(read_roots, [tmp])
    except BaseException as exc:
        setup_error = f"sandbox setup failed: {type(exc).__name__}: {exc}"
    frame = read_frame(job_r)
    if frame is None:
        os._exit(0)
    os.close(job_r)
    if _SHM_FD[0] >= 0:
        # The pool has read the previous job's image by now (it sends a worker its next job only
        # after that); empty the shared file so this job cannot read another job's image.
        try:
            os.ftruncate(_SHM_FD[0], 0)
        except OSError as exc:
            setup_error = setup_error or f"sandbox setup failed: cannot clear the image file: {exc}"
    _run_child(frame[0], out_fd, extra, vm, setup_error)


def _run_child(job: dict, out_fd: int, extra: dict, vm: int, setup_error: str) -> None:
    """Run the job's code in this (confined) child, report, never return."""
    from verm.charts import sandbox

    t0 = time.perf_counter()
    status, message, image, shm_shape = "ok", "", None, None
    out = _Capped(int(job.get("max_output", 65536)))
    err = _Capped(int(job.get("max_output", 65536)))
    try:
        if setup_error:
            raise RuntimeError(setup_error)
        sys.stdout, sys.stderr = out, err  # type: ignore[assignment]
        mem = job.get("memory_mb")
        sandbox.apply_job_limits(
            memory_mb=(int(mem) + vm // (1024 * 1024)) if mem else None,
            cpu_seconds=float(job["timeout"]) + 1.0 if job.get("timeout") else None,
        )
        import gc

        # A job lives for one chart: collect cyclic garbage less often (a chart allocates
        # ~200 k objects; the warm ones are frozen anyway). Memory still bounded by RLIMIT_AS.
        gc.set_threshold(10_000, 10, 10)
        _STATE.__init__()
        _STATE.dpi = job.get("dpi")
        _STATE.direct = not job.get("size")
        _STATE.active = True
        code = job["code"]
        import linecache

        linecache.cache["<chart>"] = (len(code), None, code.splitlines(True), "<chart>")
        ns = {"__name__": "__main__", "__builtins__": __builtins__,
              "__file__": os.path.join(os.getcwd(), "chart.py")}
        try:
            import ast

            tree = ast.parse(code, "<chart>", "exec")
            compiled = compile(tree, "<chart>", "exec")
            _STATE.final_save = _final_save_call(tree)
        except (SyntaxError, ValueError) as exc:
            compiled = None
            status, message = "error", _tail(exc, 6)
        if compiled is not None:
            try:
                exec(compiled, ns)
            except SystemExit as exc:
                if exc.code not in (None, 0):
                    status, message = "error", f"SystemExit: {exc.code}"
            except MemoryError as exc:
                status, message = "memory", _tail(exc, 4) or "MemoryError"
            except BaseException as exc:  # the job's exception, reported not raised
                status, message = "error", _tail(exc)
        _STATE.active = False
        captured = None
        if status == "ok":
            if _STATE.saved is not None:
                captured = _STATE.saved[0]
            else:
                fig = _pick_figure()
                if fig is None:
                    status, message = "no_figure", "the code created no matplotlib figure"
                else:
                    captured = _rgba_of(fig, {})
            extra["figures"] = _STATE.n_figures
            extra["savefig_calls"] = _STATE.saves
            extra["show_calls"] = _STATE.shows
        if captured is not None and captured.array is None:  # already in the shared file
            shm_shape = list(captured.shape)
            if captured.blank:
                status = "blank"
                message = "the figure is a single flat colour"
        elif captured is not None:
            image = captured.array
            size = job.get("size")
            if size:
                from PIL import Image

                w, h = size
                ih, iw = image.shape[:2]
                w = int(w) if w else max(1, round(iw * int(h) / ih))
                h = int(h) if h else max(1, round(ih * int(w) / iw))
                if (w, h) != (iw, ih):
                    import numpy as np

                    image = np.asarray(Image.fromarray(image, "RGBA").resize((w, h), Image.LANCZOS))
            if _is_blank(image):
                status = "blank"
                message = "the figure is a single flat colour"
    except MemoryError:
        status, message, image, shm_shape = "memory", "MemoryError while rendering", None, None
    except BaseException as exc:
        status, message, image, shm_shape = "error", _tail(exc), None, None
    try:
        import resource

        ru = resource.getrusage(resource.RUSAGE_SELF)
        extra["cpu_seconds"] = ru.ru_utime + ru.ru_stime  # the child's own, from its fork
        extra["minor_faults"] = ru.ru_minflt  # mostly copy-on-write copies of warm pages
    except (ImportError, OSError):
        pass
    header = {
        "status": status, "message": message, "stdout": out.text(), "stderr": err.text(),
        "seconds": time.perf_counter() - t0, "extra": extra,
        "shape": list(image.shape) if image is not None else shm_shape,
    }
    try:
        import numpy as np

        payload = np.ascontiguousarray(image, dtype=np.uint8) if image is not None else b""
        if shm_shape is not None:
            header["shm"] = shm_shape[0] * shm_shape[1] * 4
        elif len(payload) and _SHM_FD[0] >= 0 and _write_shm(_SHM_FD[0], payload):
            header["shm"] = payload.nbytes
            payload = b""
        write_frame(out_fd, header, payload)
    except BaseException:
        pass
    os._exit(0)


_SHM_FD = [-1]  # the pool's shared-memory file for images (-1: images go through the pipe)


def _write_shm(fd: int, payload) -> bool:
    """Write the image at offset 0 of the pool's shared-memory file; False to use the pipe."""
    mv = memoryview(payload).cast("B")
    off = 0
    try:
        while off < len(mv):
            n = os.pwrite(fd, mv[off:], off)
            if n <= 0:
                return False
            off += n
    except OSError:
        return False
    return True


# ---------------------------------------------------------------------------- the template
def _warm() -> None:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    try:
        import pandas  # noqa: F401
    except ImportError:
        pass
    try:
        import seaborn  # noqa: F401
    except ImportError:
        pass
    import matplotlib.colors  # noqa: F401
    import matplotlib.patches  # noqa: F401
    import matplotlib.ticker  # noqa: F401
    from PIL import Image  # noqa: F401

    _install_capture()
    if os.environ.get("VERM_CHART_ACCEL", "1") != "0":
        from verm.charts import accel

        accel.install_font_lookup_cache()
        accel.install_layout_cache()
    # Draw a figure that touches text, legends, bars, lines, scatter, pie and images once.
    fig, axes = plt.subplots(1, 3, figsize=(6, 2))
    x = np.arange(5)
    axes[0].bar(x, x + 1, label="a")
    axes[0].plot(x, x, "o-", label="b")
    axes[0].scatter(x, x[::-1], c=x)
    axes[0].legend()
    axes[0].set_title("Warm-up $x^2$")
    axes[0].set_xlabel("x")
    axes[1].pie([1, 2, 3], labels=["p", "q", "r"], autopct="%1.0f%%")
    axes[2].imshow(np.arange(16).reshape(4, 4))
    axes[2].text(0, 0, "bold", fontweight="bold", fontstyle="italic")
    fig.tight_layout()
    _rgba_of(fig, {})
    _rgba_of(fig, {"bbox_inches": "tight"})
    plt.close("all")
    # Then one program of every common kind, so font lookups, text metrics, lazily imported
    # modules and style files are cached before forking. State that could change what a job
    # draws is restored: rcParams, the figure registry and the working directory.
    if os.environ.get("VERM_CHART_WARMUP", "full") != "full":
        _finish_warm()
        return
    import copy
    import tempfile

    from verm.charts.samples import KINDS, chart_programs

    rc = copy.deepcopy(dict(matplotlib.rcParams))
    cwd = os.getcwd()
    import warnings

    with tempfile.TemporaryDirectory(prefix="verm-warm-") as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        os.chdir(tmp)
        try:
            for prog in chart_programs(len(KINDS), seed=424242):
                code = "\n".join(ln for ln in prog.code.splitlines() if "style.use" not in ln)
                try:
                    exec(compile(code, "<warm-up>", "exec"), {"__name__": "__warmup__"})
                    for num in plt.get_fignums():
                        _rgba_of(plt.figure(num), {})
                except Exception:
                    pass
                plt.close("all")
        finally:
            os.chdir(cwd)
    matplotlib.rcParams.update(rc)
    _finish_warm()


_NUMERIC = r"[\u2212+-]?\d[\d.,]*(?:e[\u2212+-]?\d+)?%?"  # tick-label-like strings


def _finish_warm() -> None:
    import gc
    import re

    from verm.charts import accel

    # Text layouts measured while warming: keep the generic ones (numbers, as on tick labels,
    # bar labels and percentages) so jobs start with them; drop the warm-up programs' words.
    numeric = re.compile(_NUMERIC).fullmatch
    accel.keep_layout_entries(lambda text: bool(numeric(text)))
    gc.collect()
    gc.freeze()  # keep the warm objects out of the children's GC passes (fewer CoW copies)
    _trim_heap()


def _trim_heap() -> None:
    """Hand free heap pages back to the OS (glibc ``malloc_trim``): a job that reuses them
    then gets fresh zero pages instead of copy-on-write copies, and forks copy fewer pages."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _fork_child(read_roots: list[str], tmp_root: str) -> tuple[int, int, int, str]:
    """Fork a job child ahead of time; it confines itself and waits for its job.

    Returns (pid, job write fd, result read fd, temp dir).
    """
    import tempfile

    tmp = tempfile.mkdtemp(prefix="verm-chart-", dir=tmp_root)
    job_r, job_w = os.pipe()
    res_r, res_w = os.pipe()
    widen_pipe(res_r)
    pid = os.fork()
    if pid == 0:  # the job child
        try:
            for fd in (job_w, res_r, *_CLOSE_IN_CHILD):
                os.close(fd)
            _child_main(job_r, res_w, tmp, read_roots)
        finally:
            os._exit(70)
    os.close(job_r)
    os.close(res_w)
    return pid, job_w, res_r, tmp


_TEMPLATE_VM = [0]  # the template's address-space size once warm (bytes)

#: The template's own pipes and every pipe end of other children: closed in each new child.
_CLOSE_IN_CHILD: set[int] = set()


def _serve(job_fd: int, reply_fd: int) -> None:
    """Answer jobs until the pool closes the pipe.

    The child for the next job is forked (and confines itself) right after each reply, while
    the pool handles it. With ``VERM_CHART_FORK_AHEAD=1`` (``ChartPool(fork_ahead=True)``) and a
    kernel whose Landlock scopes signals (ABI >= 6, so the running job cannot signal its
    waiting successor) it is forked while the current job runs instead: lower latency when
    cores are idle, the same CPU work in total.
    """
    import tempfile

    from verm.charts import sandbox

    _CLOSE_IN_CHILD.update((job_fd, reply_fd))
    _TEMPLATE_VM[0] = _vm_bytes()  # what each fresh child starts with (for RLIMIT_AS)
    read_roots = sandbox.allowed_read_roots()
    if sandbox.capabilities()["seccomp"]:
        sandbox._seccomp_program()  # assembled once here; every child installs it
    tmp_root = tempfile.gettempdir()
    pending: list[int] = []  # killed children not reaped yet (their teardown runs meanwhile)
    ready = None
    ahead = os.environ.get("VERM_CHART_FORK_AHEAD") == "1" and sandbox.landlock_abi() >= 6

    def fork_next():
        child = _fork_child(read_roots, tmp_root)
        _CLOSE_IN_CHILD.update(child[1:3])
        return child

    try:
        while True:
            if ready is None:
                ready = fork_next()
            frame = read_frame(job_fd)
            if frame is None:
                return
            job, _ = frame
            if job.get("cmd") == "exit":
                return
            timeout = float(job.get("timeout") or 15.0)
            pid, job_w, r, tmp = ready
            ready = None
            t0 = time.perf_counter()
            try:
                write_frame(job_w, job)
            except OSError:
                pass  # the child died while waiting: reported below from its exit status
            os.close(job_w)
            _CLOSE_IN_CHILD.discard(job_w)
            deadline = time.monotonic() + timeout
            if ahead:  # the next job's child, forked while this one runs
                _reap(pending, block=len(pending) > 8)
                ready = fork_next()
            max_payload = int(job.get("max_pixels", 64 * 1024 * 1024)) * 4
            res = read_frame(r, deadline, max_payload)
            timed_out = res is None and time.monotonic() >= deadline
            if res is not None or timed_out:
                _killpg(pid)
            wstatus = None
            if res is None:  # no result: learn why (exit code / signal), killing it if need be
                _, wstatus = _wait(pid, 1.0)
            os.close(r)
            _CLOSE_IN_CHILD.discard(r)
            # The child is dead or SIGKILLed (it never runs user code again), so its temp dir
            # can go now; a directory removed cannot gain files. Reaping may wait.
            if not _rmtree(tmp):
                _wait(pid, 1.0)
                _rmtree(tmp)
            payload = b""
            if res is not None:
                header, payload = res
                header = _validate(header, len(payload), max_payload)
                if header.get("shape") is None:
                    payload = b""
                if header.get("shm"):
                    # Every earlier child, which could still hold the shared image file, is
                    # gone before the pool reads it (they were killed a job ago or more).
                    _reap(pending, block=True)
            else:
                header = _exit_status(wstatus, timed_out, timeout)
            header["wall"] = time.perf_counter() - t0
            header["pid"] = pid
            try:
                write_frame(reply_fd, header, payload)
            except BrokenPipeError:
                return
            if wstatus is None:
                pending.append(pid)
            if ready is None:  # prepare the next child while the pool handles this reply
                _reap(pending, block=len(pending) > 8)
                ready = fork_next()
    finally:
        if ready is not None:
            _killpg(ready[0])
            _wait(ready[0], 1.0)
            _rmtree(ready[3])
        _reap(pending, block=True)


def _reap(pids: list[int], block: bool = False) -> None:
    """Collect exited children (non-blocking unless ``block``)."""
    for pid in list(pids):
        try:
            got, _ = os.waitpid(pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            got = pid
        if got:
            pids.remove(pid)


def _rmtree(path: str) -> bool:
    """Remove a job's temp dir; True when it is gone."""
    try:
        os.rmdir(path)  # most jobs leave it empty
        return True
    except OSError:
        pass
    import shutil

    shutil.rmtree(path, ignore_errors=True)
    return not os.path.exists(path)


def _killpg(pid: int) -> None:
    for target in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            target()
        except (ProcessLookupError, PermissionError):
            pass


def _wait(pid: int, grace: float) -> tuple[int, int | None]:
    end = time.monotonic() + grace
    while True:
        try:
            got, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return pid, None
        if got:
            return got, status
        if time.monotonic() > end:
            _killpg(pid)
            got, status = os.waitpid(pid, 0)
            return got, status
        time.sleep(0.001)


def _exit_status(wstatus: int | None, timed_out: bool, timeout: float) -> dict:
    if timed_out:
        return {"status": "timeout", "message": f"no result within {timeout:g} s; killed"}
    if wstatus is None:
        return {"status": "crashed", "message": "the job process vanished"}
    if os.WIFSIGNALED(wstatus):
        sig = os.WTERMSIG(wstatus)
        if sig == signal.SIGXCPU:
            return {"status": "timeout", "message": "CPU time limit exceeded (SIGXCPU)"}
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return {"status": "crashed", "message": f"the job process died from signal {name}"}
    code = os.WEXITSTATUS(wstatus) if os.WIFEXITED(wstatus) else -1
    return {"status": "error",
            "message": f"the job process exited (code {code}, e.g. os._exit) before reporting a result"}


_STATUSES = ("ok", "error", "timeout", "memory", "no_figure", "blank", "crashed")


def _validate(header: dict, nbytes: int, max_payload: int = 1 << 34) -> dict:
    """Keep only well-formed fields of the child's reply (the child runs untrusted code).

    ``nbytes`` is the pipe payload's size; an image in shared memory (``"shm"``: its size)
    comes with no payload.
    """
    status = header.get("status")
    if status not in _STATUSES:
        return {"status": "error", "message": "malformed reply from the job process"}
    shm = header.get("shm")
    if shm is not None:
        if nbytes or _SHM_FD[0] < 0 or type(shm) is not int or not 0 < shm <= max_payload:
            return {"status": "error", "message": "malformed image from the job process"}
        nbytes = shm
    shape = header.get("shape")
    if shape is not None:
        ok = (isinstance(shape, list) and len(shape) == 3 and all(isinstance(v, int) and v > 0 for v in shape)
              and shape[2] == 4 and shape[0] * shape[1] * 4 == nbytes)
        if not ok:
            return {"status": "error", "message": "malformed image from the job process"}
    elif nbytes:
        return {"status": "error", "message": "malformed image from the job process"}
    out = {"status": status, "shape": shape}
    if shm is not None and shape is not None:
        out["shm"] = shm
    for key in ("message", "stdout", "stderr"):
        v = header.get(key, "")
        out[key] = v[:1_000_000] if isinstance(v, str) else ""
    seconds = header.get("seconds")
    out["seconds"] = float(seconds) if isinstance(seconds, (int, float)) else 0.0
    extra = header.get("extra")
    out["extra"] = {k: v for k, v in extra.items() if isinstance(v, (int, float, str, bool))} \
        if isinstance(extra, dict) else {}
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the template process (``--shm-fd N``: the pool's image file)."""
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) == 2 and argv[0] == "--shm-fd":
        _SHM_FD[0] = int(argv[1])
    job_fd = os.dup(0)
    reply_fd = os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.close(devnull)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the pool owns our lifetime
    from verm.charts import sandbox

    net = sandbox.isolate_network() if os.environ.get("VERM_CHART_NETNS", "1") != "0" else ""
    try:
        _warm()
    except BaseException as exc:
        write_frame(reply_fd, {"ready": False, "message": _tail(exc)})
        return 1
    write_frame(reply_fd, {"ready": True, "pid": os.getpid(), "netns": net,
                           "capabilities": sandbox.capabilities()})
    _serve(job_fd, reply_fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
