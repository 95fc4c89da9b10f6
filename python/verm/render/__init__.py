"""Rendering: code/markup -> RGBA numpy arrays, with per-item status and fallbacks.

Every renderer returns the same :class:`~verm.records.RenderResult`.
"""

from verm.records import RenderResult
from verm.render.svg import SvgRenderOptions, RenderError, render_svg, render_svgs

__all__ = ["RenderError", "RenderResult", "SvgRenderOptions", "render_svg", "render_svgs"]
