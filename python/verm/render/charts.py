"""Chart code (matplotlib Python) -> RGBA arrays through the sandboxed warm pool.

See :mod:`verm.charts.pool` for the pool itself and docs/charts.md for what the sandbox enforces.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Sequence

from verm.records import RenderResult

__all__ = ["close_default_pool", "render_chart_code", "render_chart_codes"]

_default = None
_default_lock = threading.Lock()


def _default_pool():
    """A lazily started shared pool (workers start on first use, one per CPU at most)."""
    global _default
    with _default_lock:
        if _default is None:
            from verm.charts.pool import ChartPool

            _default = ChartPool(prestart=False)
            atexit.register(close_default_pool)
        return _default


def close_default_pool() -> None:
    """Stop the shared pool used by :func:`render_chart_code` (it restarts on next use)."""
    global _default
    with _default_lock:
        if _default is not None:
            _default.close()
            _default = None


def render_chart_code(
    code: str, *, timeout: float = 15.0, memory_mb: int | None = 2048,
    dpi: float | None = None, size: tuple[int | None, int | None] | None = None,
) -> RenderResult:
    """Run one matplotlib program in the sandbox and return its figure as a RenderResult.

    Status is ``ok``, ``blank``, ``no_figure``, ``error``, ``timeout``, ``memory`` or
    ``crashed``; ``extra`` carries ``stdout``, ``stderr`` and ``figures`` (count). Uses a shared
    warm pool; for batches prefer :func:`render_chart_codes` or a :class:`~verm.charts.ChartPool`.
    """
    return _default_pool().render(code, timeout=timeout, memory_mb=memory_mb, dpi=dpi, size=size)


def render_chart_codes(
    codes: Sequence[str], *, workers: int | None = None, timeout: float = 15.0,
    memory_mb: int | None = 2048, dpi: float | None = None,
    size: tuple[int | None, int | None] | None = None, pool=None, progress: bool = False,
) -> list[RenderResult]:
    """Render many programs on ``pool`` (or a temporary pool of ``workers``); input order kept."""
    from verm.charts.pool import render_with_pool

    return render_with_pool(list(codes), pool, workers, progress=progress, timeout=timeout,
                            memory_mb=memory_mb, dpi=dpi, size=size)
