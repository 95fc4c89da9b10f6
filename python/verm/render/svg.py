"""SVG rendering through the native core, falling back to resvg-py for what it cannot draw."""

from __future__ import annotations

import dataclasses
import io
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from verm.records import RenderResult

_STATUS = {0: "ok", 1: "unsupported", 2: "error"}

#: Default cap on output pixels (width * height); configurable per call.
DEFAULT_MAX_PIXELS = 64 * 1024 * 1024
DEFAULT_MAX_INPUT_BYTES = 64 * 1024 * 1024


class RenderError(RuntimeError):
    """Raised by the single-item helpers when an item cannot be rendered."""

    def __init__(self, result: RenderResult):
        super().__init__(f"{result.status}: {result.message}")
        self.result = result


@dataclass(frozen=True)
class SvgRenderOptions:
    """Options shared by every item of a batch."""

    width: int | None = None
    height: int | None = None
    background: tuple[float, float, float, float] | None = None
    resources_dir: str | None = None
    font_dirs: tuple[str, ...] | None = None
    font_families: tuple[tuple[str, str], ...] = ()  # generic -> family, e.g. ("serif", "Noto Serif")
    fallback: bool = True
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES


def parse_color(color) -> tuple[float, float, float, float] | None:
    """Background colour from a name/#hex string (via Pillow) or a 3/4-tuple (0-255 or 0-1)."""
    if color is None:
        return None
    if isinstance(color, str):
        from PIL import ImageColor

        rgba = ImageColor.getcolor(color, "RGBA")
        return tuple(c / 255.0 for c in rgba)  # type: ignore[return-value]
    vals = [float(c) for c in color]
    if len(vals) == 3:
        vals.append(1.0 if max(vals) <= 1.0 else 255.0)
    if len(vals) != 4:
        raise ValueError("background must be a colour string or 3/4 numbers")
    if max(vals) > 1.0:
        vals = [v / 255.0 for v in vals]
    return tuple(vals)  # type: ignore[return-value]


def _as_bytes(svg: str | bytes | os.PathLike) -> bytes:
    if isinstance(svg, bytes):
        return svg
    if isinstance(svg, str):
        return svg.encode("utf-8")
    raise TypeError(f"expected SVG text or bytes, got {type(svg).__name__}")


def _resvg_render(data: bytes, opts: SvgRenderOptions) -> np.ndarray:
    import resvg_py
    from PIL import Image

    from verm.fonts import font_dirs as all_font_dirs

    kwargs: dict = {
        "svg_string": data.decode("utf-8", errors="replace"),
        "skip_system_fonts": True,
        "font_dirs": list(all_font_dirs(opts.font_dirs)),
    }
    from verm.fonts import DEFAULT_GENERICS

    generics = dict(DEFAULT_GENERICS) if not opts.font_dirs else {}
    generics.update(dict(opts.font_families))
    for generic, arg in (("sans-serif", "sans_serif_family"), ("serif", "serif_family"),
                         ("monospace", "monospace_family"), ("cursive", "cursive_family"),
                         ("fantasy", "fantasy_family")):
        if generic in generics:
            kwargs[arg] = generics[generic]
    if opts.width:
        kwargs["width"] = int(opts.width)
    if opts.height:
        kwargs["height"] = int(opts.height)
    if opts.resources_dir:
        kwargs["resources_dir"] = str(opts.resources_dir)
    if opts.background is not None:
        r, g, b, a = (round(c * 255) for c in opts.background)
        kwargs["background"] = f"rgba({r},{g},{b},{a / 255:.4f})"
    png = bytes(resvg_py.svg_to_bytes(**kwargs))
    with Image.open(io.BytesIO(png)) as im:
        return np.asarray(im.convert("RGBA")).copy()


def _fallback(data: bytes, reason: str, opts: SvgRenderOptions) -> RenderResult:
    """Render an item the native core reported unsupported (``reason``) with resvg."""
    t0 = time.perf_counter()
    try:
        img = _resvg_render(data, opts)
    except BaseException as exc:  # resvg raises plain exceptions; a panic surfaces as BaseException
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        return RenderResult(None, "error", "resvg", f"{reason}; resvg: {exc}",
                            time.perf_counter() - t0)
    return RenderResult(img, "fallback", "resvg", reason, time.perf_counter() - t0,
                        extra={"native_reason": reason})


def render_svgs(
    svgs: Sequence[str | bytes],
    width: int | None = None,
    height: int | None = None,
    *,
    background=None,
    resources_dir: str | os.PathLike | Sequence[str | os.PathLike | None] | None = None,
    font_dirs: Sequence[str] | None = None,
    font_families: dict[str, str] | None = None,
    fallback: bool = True,
    threads: int | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES,
) -> list[RenderResult]:
    """Render many SVG documents to RGBA arrays on a native thread pool (GIL released).

    Size semantics follow resvg: width only -> height by aspect ratio, and vice versa.
    ``resources_dir`` is one folder for every item or a sequence with one folder per item;
    relative hrefs resolve there and nothing outside it is read.
    Items the native core reports ``unsupported`` are rendered by resvg-py and marked
    ``fallback`` when ``fallback`` is true. Broken input gives ``status="error"`` with the cause
    in ``message``; nothing raises for a bad item.
    """
    from verm import _core
    from verm.fonts import get_fontdb

    docs = [_as_bytes(s) for s in svgs]
    per_item_dirs: list[str] | None = None
    if isinstance(resources_dir, (list, tuple)):
        if len(resources_dir) != len(docs):
            raise ValueError("resources_dir sequence must have one entry per document")
        per_item_dirs = [str(d) if d else "" for d in resources_dir]
        resources_dir = None
    opts = SvgRenderOptions(
        width=width, height=height, background=parse_color(background),
        resources_dir=str(resources_dir) if resources_dir else None,
        font_dirs=tuple(font_dirs) if font_dirs else None,
        font_families=tuple(sorted((font_families or {}).items())), fallback=fallback,
        max_pixels=max_pixels, max_input_bytes=max_input_bytes,
    )
    fonts = get_fontdb(opts.font_dirs, dict(opts.font_families))

    native_args = dict(
        width=int(width or 0), height=int(height or 0), resources_dir=opts.resources_dir or "",
        fonts=fonts, background=list(opts.background) if opts.background else None,
        threads=int(threads or 0), max_pixels=int(max_pixels),
        max_input_bytes=int(max_input_bytes), resources_dirs=per_item_dirs,
    )
    if not fallback:
        raw = _core.render_svgs(docs, **native_args)
        return [RenderResult(image, _STATUS[code], "native", message, seconds)
                for code, message, image, seconds in raw]
    # The native pool renders in the background (GIL released) and names unsupported items as
    # soon as it knows them; this thread renders those with resvg meanwhile (resvg holds the GIL,
    # so this overlap is the only parallelism the fallback gets).
    job = _core.SvgBatch(docs, **native_args)
    fallbacks: dict[int, RenderResult] = {}
    while True:
        i, reason = job.next_unsupported()
        if i < 0:
            break
        item_opts = opts
        if per_item_dirs is not None:
            item_opts = dataclasses.replace(opts, resources_dir=per_item_dirs[i] or None)
        fallbacks[i] = _fallback(docs[i], reason, item_opts)
    results = []
    for i, (code, message, image, seconds) in enumerate(job.results()):
        res = fallbacks.get(i)
        if res is None:
            res = RenderResult(image, _STATUS[code], "native", message, seconds)
        else:
            res.seconds += seconds  # the native attempt + resvg
        results.append(res)
    return results


def render_svg(
    svg: str | bytes,
    width: int | None = None,
    height: int | None = None,
    *,
    background=None,
    resources_dir: str | os.PathLike | None = None,
    font_dirs: Sequence[str] | None = None,
    font_families: dict[str, str] | None = None,
    fallback: bool = True,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Render one SVG document to an (H, W, 4) uint8 RGBA array (straight alpha).

    Raises :class:`RenderError` (with the :class:`RenderResult` attached) when it cannot.
    """
    (res,) = render_svgs(
        [svg], width, height, background=background, resources_dir=resources_dir,
        font_dirs=font_dirs, font_families=font_families, fallback=fallback, threads=1,
        max_pixels=max_pixels,
    )
    if res.image is None:
        raise RenderError(res)
    return res.image
