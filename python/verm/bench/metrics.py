"""Reward-bench metrics: P/R/F1 (hard and soft) per kind and category, Pearson correlation of
severity sums, detection AUROC and the false-alarm rate on identical pairs."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from verm.bench.format import BenchItem
from verm.bench.match import DeterministicMatcher, Matcher
from verm.records import Critique


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson correlation; ``None`` when undefined (fewer than 2 points or zero variance)."""
    n = len(xs)
    if n < 2 or n != len(ys):
        return None
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / math.sqrt(sxx * syy)


def auroc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (probability a positive outranks a negative, ties count half)."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    if not pos or not neg:
        return None
    # Rank-based (Mann-Whitney U) with average ranks for ties.
    order = sorted(range(len(scores)), key=lambda i: scores[i])
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    r_pos = sum(r for r, y in zip(ranks, labels) if y)
    return (r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


@dataclass
class PRF:
    """Counts and derived precision/recall/F1 for one slice."""

    n_pred: int = 0
    n_ref: int = 0
    tp_hard: float = 0.0
    tp_soft: float = 0.0

    @staticmethod
    def _prf(tp: float, n_pred: int, n_ref: int) -> tuple[float, float, float]:
        p = tp / n_pred if n_pred else (1.0 if n_ref == 0 else 0.0)
        r = tp / n_ref if n_ref else (1.0 if n_pred == 0 else 0.0)
        f = 2 * p * r / (p + r) if p + r else 0.0
        return p, r, f

    def summary(self) -> dict[str, float]:
        ph, rh, fh = self._prf(self.tp_hard, self.n_pred, self.n_ref)
        ps, rs, fs = self._prf(self.tp_soft, self.n_pred, self.n_ref)
        return {"precision": ph, "recall": rh, "f1": fh, "soft_precision": ps,
                "soft_recall": rs, "soft_f1": fs, "n_pred": self.n_pred, "n_ref": self.n_ref}


@dataclass
class BenchMetrics:
    """All metrics of one evaluation; ``to_dict`` is what gets written to metrics.json."""

    overall: dict[str, Any] = field(default_factory=dict)
    by_kind: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_category: dict[str, dict[str, Any]] = field(default_factory=dict)  # "kind/category"
    n_items: int = 0
    matcher: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _scalar_block(prf: PRF, sev_pred, sev_ref, n_identical, n_false_alarm, n_parse_fail, n):
    out = prf.summary()
    out["pearson_severity"] = pearson(sev_pred, sev_ref)
    out["detection_auroc"] = auroc(sev_pred, [s > 0 for s in sev_ref])
    out["false_alarm_rate"] = n_false_alarm / n_identical if n_identical else None
    out["identical_pairs"] = n_identical
    out["parse_failure_rate"] = n_parse_fail / n if n else None
    out["items"] = n
    return out


def compute_metrics(items: Sequence[BenchItem], critiques: Sequence[Critique],
                    matcher: Matcher | None = None) -> BenchMetrics:
    """Score ``critiques[i]`` against ``items[i].errors`` for every item."""
    if len(items) != len(critiques):
        raise ValueError("items and critiques must have the same length")
    matcher = matcher or DeterministicMatcher()
    slices: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"prf": PRF(), "sp": [], "sr": [], "ident": 0, "fa": 0, "pf": 0, "n": 0})
    cats: dict[str, PRF] = defaultdict(PRF)
    for item, crit in zip(items, critiques):
        pred, ref = crit.errors, item.errors
        matches = matcher.match(pred, ref)
        for key in ("overall", item.kind):
            s = slices[key]
            s["prf"].n_pred += len(pred)
            s["prf"].n_ref += len(ref)
            s["prf"].tp_hard += sum(1 for m in matches if m.score >= 1.0)
            s["prf"].tp_soft += sum(m.score for m in matches)
            s["sp"].append(float(sum(e.severity for e in pred)))
            s["sr"].append(float(sum(e.severity for e in ref)))
            s["n"] += 1
            s["pf"] += 0 if crit.parse_ok else 1
            if not ref:
                s["ident"] += 1
                s["fa"] += 1 if pred else 0
        for e in pred:
            cats[f"{item.kind}/{e.category}"].n_pred += 1
        for e in ref:
            cats[f"{item.kind}/{e.category}"].n_ref += 1
        for m in matches:
            c = cats[f"{item.kind}/{pred[m.pred].category}"]
            c.tp_hard += 1 if m.score >= 1.0 else 0
            c.tp_soft += m.score
    blocks = {k: _scalar_block(v["prf"], v["sp"], v["sr"], v["ident"], v["fa"], v["pf"], v["n"])
              for k, v in slices.items()}
    return BenchMetrics(
        overall=blocks.pop("overall", {}), by_kind=blocks,
        by_category={k: v.summary() for k, v in sorted(cats.items())},
        n_items=len(items), matcher=getattr(matcher, "name", type(matcher).__name__))
