"""Reward-bench evaluation: score a critic's error lists against reference (human) ones.

See docs/bench.md for the benchmark JSONL format and the metrics.
"""

from verm.bench.format import BenchItem, load_bench, save_bench
from verm.bench.match import DeterministicMatcher, LLMMatcher, Match, Matcher
from verm.bench.metrics import BenchMetrics, auroc, compute_metrics, pearson

__all__ = [
    "BenchItem", "BenchMetrics", "DeterministicMatcher", "LLMMatcher", "Match", "Matcher",
    "auroc", "compute_metrics", "load_bench", "pearson", "save_bench",
]
