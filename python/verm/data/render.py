"""Rendering adapters for the data engine: code -> RGBA arrays through verm's batch renderers.

SVG goes through :func:`verm.render.render_svgs`; tables and charts through
``verm.render.render_tables`` and ``verm.render.render_chart_codes`` when this build has them.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from verm.records import RenderResult


class RendererUnavailable(RuntimeError):
    """The batch renderer for a kind is not part of this build."""


def _renderer(name: str):
    import verm.render as R

    fn = getattr(R, name, None)
    if fn is None:
        raise RendererUnavailable(
            f"verm.render.{name} is not available in this build; synthesise --kind svg meanwhile")
    return fn


def _call(fn, codes: list[str], **opts):
    params = inspect.signature(fn).parameters
    kwargs = {k: v for k, v in opts.items() if k in params and v is not None}
    return fn(codes, **kwargs)


def render_codes(kind: str, codes: Sequence[str], fmts: Sequence[str] | None = None,
                 workers: int | None = None, chart_pool=None) -> list[RenderResult]:
    """Render a batch of one kind; ``fmts`` names each table's format (markdown/html/latex).

    ``chart_pool`` (a :class:`verm.charts.ChartPool`) keeps chart workers warm across batches.
    """
    codes = list(codes)
    if not codes:
        return []
    if kind == "svg":
        from verm.render import render_svgs

        return render_svgs(codes, threads=workers)
    if kind == "table":
        fn = _renderer("render_tables")
        params = inspect.signature(fn).parameters
        if fmts is not None:
            for key in ("fmts", "formats", "fmt"):
                if key in params:
                    if key == "fmt" and len(set(fmts)) > 1:
                        out: list[RenderResult | None] = [None] * len(codes)
                        for f in sorted(set(fmts)):
                            idx = [i for i, x in enumerate(fmts) if x == f]
                            for i, r in zip(idx, _call(fn, [codes[i] for i in idx], fmt=f, threads=workers,
                                                         workers=workers)):
                                out[i] = r
                        return out  # type: ignore[return-value]
                    val = list(fmts) if key != "fmt" else fmts[0]
                    return _call(fn, codes, **{key: val}, threads=workers, workers=workers)
        return _call(fn, codes, threads=workers, workers=workers)
    if kind == "chart":
        fn = _renderer("render_chart_codes")
        return _call(fn, codes, workers=workers, pool=chart_pool)
    raise ValueError(f"unknown kind {kind!r}")
