"""Rendering adapters for the data engine: code -> RGBA arrays through verm's batch renderers.

SVG goes through :func:`verm.render.render_svgs`; tables and charts through
``verm.render.render_tables`` and ``verm.render.render_chart_codes`` when this build has them;
chart specs (fmt ``vegalite``) through :func:`verm.charts.render_specs` (native).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from verm.records import RenderResult

#: chart formats given as native chart-spec JSON (rendered by :func:`verm.charts.render_specs`)
SPEC_FMTS = ("vegalite", "vega-lite")


def render_spec_codes(codes: Sequence[str], workers: int | None = None) -> list[RenderResult]:
    """Render chart-spec JSON texts natively; unreadable JSON gives ``status="error"``."""
    import json

    from verm.charts.spec import render_specs

    out: list[RenderResult | None] = [None] * len(codes)
    specs, idx = [], []
    for i, c in enumerate(codes):
        try:
            spec = json.loads(c)
        except (TypeError, ValueError) as exc:
            out[i] = RenderResult(None, "error", "chart-spec", f"spec is not JSON: {exc}")
            continue
        specs.append(spec)
        idx.append(i)
    for i, r in zip(idx, render_specs(specs, threads=workers)):
        out[i] = r
    return out  # type: ignore[return-value]


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
        spec_idx = [i for i, f in enumerate(fmts or ()) if f in SPEC_FMTS]
        if not spec_idx:
            fn = _renderer("render_chart_codes")
            return _call(fn, codes, workers=workers, pool=chart_pool)
        res: list[RenderResult | None] = [None] * len(codes)
        for i, r in zip(spec_idx, render_spec_codes([codes[i] for i in spec_idx], workers)):
            res[i] = r
        code_idx = [i for i in range(len(codes)) if res[i] is None]
        if code_idx:
            fn = _renderer("render_chart_codes")
            for i, r in zip(code_idx, _call(fn, [codes[i] for i in code_idx], workers=workers, pool=chart_pool)):
                res[i] = r
        return res  # type: ignore[return-value]
    raise ValueError(f"unknown kind {kind!r}")
