"""Self-contained HTML reports of reward-bench results."""

from verm.report.html import write_report

__all__ = ["write_report"]
