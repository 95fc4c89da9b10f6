"""Matching predicted errors to reference errors, one to one.

A match is *full* (counts 1) or *partial* (counts 0.5 in the soft metrics, 0 in the hard ones).
Errors only ever match within the same category.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Protocol

from verm.records import VisualError


@dataclass(frozen=True)
class Match:
    """Predicted error ``pred`` matched to reference error ``ref`` with ``score`` 1.0 or 0.5."""

    pred: int
    ref: int
    score: float


class Matcher(Protocol):
    """Pairs predicted with reference errors; each error appears in at most one match."""

    name: str

    def match(self, pred: list[VisualError], ref: list[VisualError]) -> list[Match]: ...


def bbox_iou(a, b) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes; 0 when either is missing."""
    if a is None or b is None:
        return 0.0
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _assign(scores: list[list[float]]) -> list[tuple[int, int]]:
    """Maximum-weight one-to-one assignment (Hungarian when scipy is present, else greedy)."""
    if not scores or not scores[0]:
        return []
    try:
        import numpy as np
        from scipy.optimize import linear_sum_assignment

        rows, cols = linear_sum_assignment(-np.asarray(scores))
        return [(int(r), int(c)) for r, c in zip(rows, cols)]
    except ImportError:
        cells = sorted(((s, i, j) for i, row in enumerate(scores) for j, s in enumerate(row)),
                       reverse=True)
        used_i, used_j, out = set(), set(), []
        for _, i, j in cells:
            if i not in used_i and j not in used_j:
                used_i.add(i)
                used_j.add(j)
                out.append((i, j))
        return out


@dataclass
class DeterministicMatcher:
    """Same category, then text similarity of location + description (rapidfuzz token-set ratio)
    and bbox IoU when both sides have one. Thresholds are on a 0-100 similarity scale."""

    full_similarity: float = 70.0
    partial_similarity: float = 45.0
    full_iou: float = 0.5
    partial_iou: float = 0.2
    name: str = "deterministic"

    def similarity(self, a: VisualError, b: VisualError) -> float:
        from rapidfuzz import fuzz

        ta = f"{a.location} {a.description}".lower()
        tb = f"{b.location} {b.description}".lower()
        if not ta.strip() or not tb.strip():
            return 0.0
        return float(fuzz.token_set_ratio(ta, tb))

    def grade(self, a: VisualError, b: VisualError) -> float:
        if a.category != b.category:
            return 0.0
        sim, iou = self.similarity(a, b), bbox_iou(a.bbox, b.bbox)
        if sim >= self.full_similarity or iou >= self.full_iou:
            return 1.0
        if sim >= self.partial_similarity or iou >= self.partial_iou:
            return 0.5
        return 0.0

    def match(self, pred: list[VisualError], ref: list[VisualError]) -> list[Match]:
        grades = [[self.grade(p, r) for r in ref] for p in pred]
        return [Match(i, j, grades[i][j]) for i, j in _assign(grades) if grades[i][j] > 0]


_LLM_PROMPT = """You compare two descriptions of visual errors found in a rendered image.
Reference error: [{rc}] at "{rl}": {rd}
Predicted error: [{pc}] at "{pl}": {pd}
Do they describe the same problem? Answer with one word: yes, partial or no."""


@dataclass
class LLMMatcher:
    """Asks an OpenAI-compatible chat endpoint whether two same-category errors are the same
    problem (yes / partial / no), then assigns one to one. Uses httpx (the ``critic`` extra)."""

    base_url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0
    max_concurrency: int = 16
    name: str = "llm"
    transport: object | None = None  # an httpx transport (tests use httpx.MockTransport)

    async def _ask(self, client, sem, p: VisualError, r: VisualError) -> float:
        prompt = _LLM_PROMPT.format(rc=r.category, rl=r.location, rd=r.description,
                                    pc=p.category, pl=p.location, pd=p.description)
        body = {"model": self.model, "temperature": 0.0, "max_tokens": 4,
                "messages": [{"role": "user", "content": prompt}]}
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        async with sem:
            resp = await client.post(f"{self.base_url.rstrip('/')}/chat/completions", json=body,
                                     headers=headers)
        resp.raise_for_status()
        word = re.sub(r"[^a-z]", " ", resp.json()["choices"][0]["message"]["content"].lower())
        words = word.split()
        return 1.0 if "yes" in words else 0.5 if "partial" in words else 0.0

    async def _grades(self, pred, ref):
        import httpx

        sem = asyncio.Semaphore(self.max_concurrency)
        async with httpx.AsyncClient(timeout=self.timeout, transport=self.transport) as client:
            cells = [(i, j) for i, p in enumerate(pred) for j, r in enumerate(ref)
                     if p.category == r.category]
            vals = await asyncio.gather(*(self._ask(client, sem, pred[i], ref[j]) for i, j in cells))
        grades = [[0.0] * len(ref) for _ in pred]
        for (i, j), v in zip(cells, vals):
            grades[i][j] = v
        return grades

    def match(self, pred: list[VisualError], ref: list[VisualError]) -> list[Match]:
        if not pred or not ref:
            return []
        grades = asyncio.run(self._grades(pred, ref))
        return [Match(i, j, grades[i][j]) for i, j in _assign(grades) if grades[i][j] > 0]
