"""A pool of warm, sandboxed matplotlib workers for untrusted chart code.

Each worker is a template process (:mod:`verm.charts.worker`) that imported matplotlib (Agg),
numpy, pandas and seaborn once and drew a figure; every job runs in a fresh fork of it, confined
by :mod:`verm.charts.sandbox`, so one job can never affect the next. Results come back as raw
RGBA arrays in :class:`~verm.records.RenderResult` records.

>>> with ChartPool(workers=2) as pool:                      # doctest: +SKIP
...     results = pool.render_many(codes)                    # list[RenderResult], input order
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Iterable, Sequence

import numpy as np

from verm.charts.protocol import read_frame, widen_pipe, write_frame
from verm.records import RenderResult

__all__ = ["ChartPool", "ChartPoolError", "default_workers"]

BACKEND = "matplotlib-pool"


class ChartPoolError(RuntimeError):
    """The pool could not start a worker (e.g. matplotlib is not installed)."""


def default_workers() -> int:
    """Number of CPUs this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # non-Linux
        return max(1, os.cpu_count() or 1)


#: Environment variables passed on to workers; everything else (API keys, tokens, data paths)
#: stays out of reach of the job's ``os.environ``.
_ENV_KEEP = ("PATH", "HOME", "LANG", "LANGUAGE", "TZ", "PYTHONPATH", "PYTHONHOME", "MPLCONFIGDIR",
             "VERM_CORE_DIR", "VERM_CHART_WARMUP", "VERM_CHART_ACCEL", "VERM_CHART_NETNS",
             "TMPDIR", "SYSTEMROOT")


def _worker_env() -> dict[str, str]:
    import verm

    env = {k: v for k, v in os.environ.items() if k in _ENV_KEEP or k.startswith("LC_")}
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(verm.__file__)))
    env["PYTHONPATH"] = os.pathsep.join([pkg_parent] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env["MPLBACKEND"] = "Agg"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"):
        env[var] = "1"
    # pyarrow (pulled in by pandas) starts a jemalloc background thread; keep the template
    # single-threaded so fork() copies a consistent process.
    env.setdefault("JE_ARROW_MALLOC_CONF", "background_thread:false")
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    return env


class _Worker:
    """One template process and its two pipes."""

    def __init__(self, python: str, env: dict[str, str]) -> None:
        # Images come back through a shared-memory file (one copy in, one copy out) instead
        # of two pipe hops; without memfd (non-Linux) they travel on the pipes.
        self.shm = -1
        if hasattr(os, "memfd_create"):
            try:
                self.shm = os.memfd_create("verm-chart-image", os.MFD_CLOEXEC)
            except OSError:
                self.shm = -1
        args = [python, "-m", "verm.charts.worker"]
        if self.shm >= 0:
            args += ["--shm-fd", str(self.shm)]
        try:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True,
                bufsize=0, pass_fds=(self.shm,) if self.shm >= 0 else (),
            )
        except BaseException:
            self._close_shm()
            raise
        widen_pipe(self.proc.stdout.fileno())
        self.info: dict | None = None
        self.jobs = 0

    def wait_ready(self, timeout: float) -> dict:
        if self.info is None:
            frame = read_frame(self.proc.stdout.fileno(), time.monotonic() + timeout)
            if frame is None or not frame[0].get("ready"):
                msg = frame[0].get("message", "") if frame else "no answer"
                self.kill()
                raise ChartPoolError(f"chart worker failed to start: {msg}")
            self.info = frame[0]
        return self.info

    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, job: dict, wait: float):
        write_frame(self.proc.stdin.fileno(), job)
        self.jobs += 1
        reply = read_frame(self.proc.stdout.fileno(), time.monotonic() + wait)
        if reply is not None and reply[0].get("shm"):
            reply = (reply[0], self._read_shm(reply[0]))
        return reply

    _SHM_KEEP = 64 << 20  # give the shared file's pages back after an image larger than this

    def _read_shm(self, header: dict):
        """Copy the image out of the shared file (the template vetted its size and shape)."""
        nbytes = header["shm"]
        buf = np.empty(nbytes, dtype=np.uint8)
        got = 0
        try:
            if self.shm >= 0:
                while got < nbytes:
                    n = os.preadv(self.shm, [memoryview(buf)[got:]], got)
                    if n <= 0:
                        break
                    got += n
                if os.fstat(self.shm).st_size > self._SHM_KEEP:
                    os.ftruncate(self.shm, 0)
        except OSError:
            pass
        if got != nbytes:
            header.clear()
            header.update(status="error", message="the image did not arrive from the job process")
            return b""
        return buf

    def close(self, grace: float = 2.0) -> None:
        if self.proc.poll() is None:
            try:
                write_frame(self.proc.stdin.fileno(), {"cmd": "exit"})
                self.proc.stdin.close()
                self.proc.wait(grace)
            except (OSError, subprocess.TimeoutExpired, ValueError):
                pass
        self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass
        self._close_shm()

    def _close_shm(self) -> None:
        if self.shm >= 0:
            try:
                os.close(self.shm)
            except OSError:
                pass
            self.shm = -1


def _shutdown(workers: list[_Worker]) -> None:
    for w in list(workers):
        w.close(grace=1.0)


class ChartPool:
    """Warm, sandboxed matplotlib workers; a context manager reusable across RL steps.

    Parameters are per-job defaults (each :meth:`render` call may override them):
    ``timeout`` wall-clock seconds (CPU time is capped at timeout + 1 s); ``memory_mb`` address
    space the job may add to the warm template; ``dpi`` overrides the code's dpi; ``size``
    (width, height) rescales the captured image (either may be None to keep the aspect ratio);
    ``max_output`` characters of stdout/stderr kept; ``max_pixels`` cap on the image size.
    ``prestart`` starts every worker now instead of on first use. ``fork_ahead`` forks each
    job's child while the previous job runs (where the kernel's Landlock scopes signals), not
    after it: lower latency when the pool has fewer workers than idle cores, the same CPU work.

    Thread-safe: :meth:`render` may be called from several threads; at most ``workers`` jobs run
    at once. Dead workers are replaced automatically.
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        timeout: float = 15.0,
        memory_mb: int | None = 2048,
        dpi: float | None = None,
        size: tuple[int | None, int | None] | None = None,
        max_output: int = 65536,
        max_pixels: int = 64 * 1024 * 1024,
        prestart: bool = True,
        python: str | None = None,
        start_timeout: float = 120.0,
        fork_ahead: bool = False,
    ) -> None:
        self.workers = int(workers or default_workers())
        if self.workers < 1:
            raise ValueError("workers must be >= 1")
        self.timeout = float(timeout)
        self.memory_mb = memory_mb
        self.dpi = dpi
        self.size = size
        self.max_output = int(max_output)
        self.max_pixels = int(max_pixels)
        self.python = python or sys.executable
        self.start_timeout = float(start_timeout)
        self._env = _worker_env()
        self._env["VERM_CHART_FORK_AHEAD"] = "1" if fork_ahead else "0"
        # LIFO: a warm worker is reused before an empty slot starts a new process
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        self.restarts = 0
        self._finalizer = weakref.finalize(self, _shutdown, self._all)
        for _ in range(self.workers):
            self._idle.put(None)  # a free slot without a process yet
        if prestart:
            self.start()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ChartPool:
        """Start every worker slot that has no process and wait until all are warm."""
        slots = []
        while True:
            try:
                slots.append(self._idle.get_nowait())
            except queue.Empty:
                break
        fresh = [self._spawn() if w is None else w for w in slots]
        try:
            for w in fresh:
                w.wait_ready(self.start_timeout)
        finally:
            for w in fresh:
                self._idle.put(w if w.info is not None else None)
        return self

    def _spawn(self) -> _Worker:
        if self._closed:
            raise ChartPoolError("the pool is closed")
        w = _Worker(self.python, self._env)
        with self._lock:
            self._all.append(w)
        return w

    def _retire(self, w: _Worker) -> None:
        w.kill()
        with self._lock:
            if w in self._all:
                self._all.remove(w)

    def close(self) -> None:
        """Stop every worker (idempotent)."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> ChartPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def info(self) -> dict:
        """What the first warm worker reported (sandbox capabilities, network namespace)."""
        for w in list(self._all):
            if w.info is not None:
                return dict(w.info)
        return {}

    # -------------------------------------------------------------------- jobs
    def _job(self, code: str, timeout, memory_mb, dpi, size) -> dict:
        if not isinstance(code, str):
            raise TypeError(f"chart code must be a str, got {type(code).__name__}")
        sz = size if size is not None else self.size
        if sz is not None:
            if isinstance(sz, int):
                sz = (sz, None)
            sz = [None if v is None else int(v) for v in sz]
            if len(sz) != 2 or all(v is None for v in sz) or any(v is not None and v < 1 for v in sz):
                raise ValueError("size must be (width, height) with positive ints (one may be None)")
        return {
            "code": code,
            "timeout": float(timeout if timeout is not None else self.timeout),
            "memory_mb": memory_mb if memory_mb is not None else self.memory_mb,
            "dpi": dpi if dpi is not None else self.dpi,
            "size": sz,
            "max_output": self.max_output,
            "max_pixels": self.max_pixels,
        }

    def render(self, code: str, *, timeout: float | None = None, memory_mb: int | None = None,
               dpi: float | None = None, size=None) -> RenderResult:
        """Run one chart program and capture its figure. Never raises for bad code."""
        job = self._job(code, timeout, memory_mb, dpi, size)
        t0 = time.perf_counter()
        for attempt in range(2):
            if self._closed:
                raise ChartPoolError("the pool is closed")
            w = self._idle.get()
            try:
                if w is None or not w.alive():
                    if w is not None:
                        self._retire(w)
                        self.restarts += 1
                    w = self._spawn()
                w.wait_ready(self.start_timeout)
            except BaseException:
                if w is not None:
                    self._retire(w)
                self._idle.put(None)
                raise
            try:
                reply = w.run(job, job["timeout"] + 10.0)
            except OSError:  # the job could not be handed over: the worker had died
                self._retire(w)
                self.restarts += 1
                self._idle.put(None)
                if attempt == 0:
                    continue
                return RenderResult(None, "crashed", BACKEND, "chart worker died",
                                    time.perf_counter() - t0)
            if reply is None:
                self._retire(w)
                self.restarts += 1
                self._idle.put(None)
                return RenderResult(None, "crashed", BACKEND,
                                    "chart worker stopped answering; replaced",
                                    time.perf_counter() - t0)
            self._idle.put(w)
            return self._result(reply, time.perf_counter() - t0)
        raise AssertionError("unreachable")

    @staticmethod
    def _result(reply, seconds: float) -> RenderResult:
        header, payload = reply
        status = header.get("status", "error")
        image = None
        shape = header.get("shape")
        if shape is not None and status in ("ok", "blank") and len(payload):
            image = np.frombuffer(payload, dtype=np.uint8).reshape(shape)
        extra = dict(header.get("extra") or {})
        extra["stdout"] = header.get("stdout", "")
        extra["stderr"] = header.get("stderr", "")
        extra["job_seconds"] = header.get("seconds", 0.0)  # inside the child
        extra["worker_seconds"] = header.get("wall", 0.0)  # job handed over -> reply ready
        return RenderResult(image, status, BACKEND, header.get("message", ""), seconds, extra=extra)

    def render_many(self, codes: Iterable[str], *, progress: bool = False, **overrides) -> list[RenderResult]:
        """Render many programs on all workers; results in input order."""
        from concurrent.futures import ThreadPoolExecutor

        codes = list(codes)
        results: list[RenderResult | None] = [None] * len(codes)
        bar = None
        if progress:
            try:
                from tqdm.auto import tqdm

                bar = tqdm(total=len(codes), desc="charts", unit="chart")
            except ImportError:
                bar = None
        with ThreadPoolExecutor(max_workers=min(self.workers, max(1, len(codes)))) as ex:
            futs = {ex.submit(self.render, c, **overrides): i for i, c in enumerate(codes)}
            from concurrent.futures import as_completed

            for fut in as_completed(futs):
                results[futs[fut]] = fut.result()
                if bar is not None:
                    bar.update(1)
        if bar is not None:
            bar.close()
        return results  # type: ignore[return-value]


def render_with_pool(codes: Sequence[str], pool: ChartPool | None, workers: int | None,
                     progress: bool = False, **opts) -> list[RenderResult]:
    """Helper for :func:`verm.render.render_chart_codes`: use ``pool`` or a temporary one."""
    if pool is not None:
        return pool.render_many(codes, progress=progress, **opts)
    n = min(int(workers or default_workers()), max(1, len(codes)))
    with ChartPool(n) as tmp_pool:
        return tmp_pool.render_many(codes, progress=progress, **opts)
