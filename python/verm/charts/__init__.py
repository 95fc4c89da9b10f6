"""Charts: a sandboxed warm pool for matplotlib chart code, and native Vega-Lite-style specs."""

from verm.charts.pool import ChartPool, ChartPoolError
from verm.charts.spec import ChartSpecError, render_spec, render_specs, spec_to_svg

__all__ = ["ChartPool", "ChartPoolError", "ChartSpecError", "render_spec", "render_specs", "spec_to_svg"]
