"""Shared pieces of the RL adapters."""

from __future__ import annotations

import base64
from functools import lru_cache
from typing import Any


def decode_ground_truth(gt: Any) -> Any:
    """A ground truth as RL datasets store it -> something :func:`verm.reward.score` accepts.

    Accepts an image path, raw image bytes, a ``data:image/...;base64,`` URL, a PIL image, a numpy
    array, or a dict with one of the keys ``path`` / ``bytes`` (Hugging Face ``Image`` feature).
    """
    if isinstance(gt, dict):
        if gt.get("bytes"):
            return bytes(gt["bytes"])
        if gt.get("path"):
            return str(gt["path"])
        raise ValueError("ground-truth dict needs a 'bytes' or 'path' entry")
    if isinstance(gt, str) and gt.startswith("data:image/"):
        try:
            return base64.b64decode(gt.split(",", 1)[1], validate=True)
        except (IndexError, ValueError) as exc:
            raise ValueError("malformed base64 data URL in ground truth") from exc
    return gt


@lru_cache(maxsize=8)
def cached_critic(spec: str):
    """One critic object per spec and process (critics hold models, pools and HTTP clients)."""
    from verm.critic.registry import make_critic

    return make_critic(spec)


def completion_text(completion: Any) -> str:
    """TRL passes plain strings or chat messages ([{"role": ..., "content": ...}, ...])."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list):
        parts = []
        for msg in completion:
            content = msg.get("content", "") if isinstance(msg, dict) else str(msg)
            if isinstance(content, list):  # multimodal content blocks
                content = "".join(c.get("text", "") for c in content if isinstance(c, dict))
            parts.append(str(content))
        return "\n".join(parts)
    return str(completion)
