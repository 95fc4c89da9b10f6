"""Rendering: code/markup -> RGBA numpy arrays, with per-item status and fallbacks.

Every renderer returns the same :class:`~verm.records.RenderResult`.
"""

from verm.records import RenderResult
from verm.render.svg import RenderError, SvgRenderOptions, render_svg, render_svgs

__all__ = ["RenderError", "RenderResult", "SvgRenderOptions", "render_svg", "render_svgs"]
from verm.render.tables import TableStyle, render_table, render_tables  # noqa: E402

__all__ += ["TableStyle", "render_table", "render_tables"]
from verm.render.charts import render_chart_code, render_chart_codes  # noqa: E402

__all__ += ["render_chart_code", "render_chart_codes"]
