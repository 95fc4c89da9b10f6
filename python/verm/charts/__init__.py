"""Charts: a sandboxed warm pool for matplotlib chart code, and native Vega-Lite-style specs."""

from verm.charts.pool import ChartPool, ChartPoolError

__all__ = ["ChartPool", "ChartPoolError"]
