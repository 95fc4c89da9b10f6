"""verl adapter: custom reward functions for verl's reward managers.

Single (``reward_manager: naive``)::

    custom_reward_function:
      path: <site-packages>/verm/integrations/verl.py
      name: compute_score
      reward_kwargs: {critic: pixel, preset: visual-erm}

Batched (``reward_manager: batch``; renders and critiques the whole batch at once)::

      name: compute_score_batch

``ground_truth`` is the ground-truth image (path, bytes or base64 data URL; see
:func:`verm.integrations.common.decode_ground_truth`). The task kind comes from
``extra_info["kind"]`` or, failing that, from a ``data_source`` containing chart/table/svg.
Each call returns verl's dict form: ``score`` plus verm's diagnostics (severity sum, status,
error count) which verl logs as extra metrics.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from verm.integrations.common import cached_critic, decode_ground_truth
from verm.records import KINDS, RewardResult


def _kind(data_source: Any, extra_info: Any) -> str:
    if isinstance(extra_info, dict) and extra_info.get("kind") in KINDS:
        return str(extra_info["kind"])
    src = str(data_source or "").lower()
    for kind in KINDS:
        if kind in src:
            return kind
    return "auto"


def _as_verl(res: RewardResult) -> dict[str, Any]:
    return {"score": float(res.reward), "severity_sum": float(res.severity_sum or 0.0),
            "n_errors": len(res.errors), "render_ok": float(res.status == "ok"),
            "status": res.status}


def compute_score_batch(data_sources: Sequence[Any], solution_strs: Sequence[str],
                        ground_truths: Sequence[Any], extra_infos: Sequence[Any] | None = None,
                        *, critic: str = "pixel", preset: str = "visual-erm",
                        batch_size: int = 32, **_: Any) -> list[dict[str, Any]]:
    """verl ``batch`` reward manager entry point: one dict per response."""
    from verm.reward import score_batch

    extra_infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    kinds = [_kind(d, e) for d, e in zip(data_sources, extra_infos)]
    gts = [decode_ground_truth(g) for g in ground_truths]
    results = score_batch(list(solution_strs), gts, kinds, cached_critic(critic), preset,
                          batch_size=batch_size)
    return [_as_verl(r) for r in results]


def compute_score(data_source: Any, solution_str: str, ground_truth: Any,
                  extra_info: Any = None, *, critic: str = "pixel", preset: str = "visual-erm",
                  **_: Any) -> dict[str, Any]:
    """verl ``naive`` reward manager entry point: one response."""
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info],
                               critic=critic, preset=preset, batch_size=1)[0]
