"""verm.kernels: fused Triton kernels for visual-reward RL, each with a plain-torch reference.

* :func:`qwen_vl_preprocess` / :func:`patch_processor` -- Qwen2/2.5/3-VL image preprocessing
  (smart_resize, antialiased bicubic resize, rescale, normalise, patchify) in one kernel.
* :func:`grpo_advantages` -- group-normalised advantages (GRPO, Dr. GRPO, RLOO) in one launch.
* :func:`fused_linear_grpo_loss` -- lm-head matmul + GRPO/PPO policy loss without materialising
  the (tokens x vocab) logits, forward and backward in Triton.

:func:`backend` says which implementation runs: ``"triton"`` (CUDA), ``"triton-interpret"``
(``TRITON_INTERPRET=1``, CPU) or ``"torch"`` (the references).  Submodules import torch lazily so
``import verm.kernels`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._backend import backend

__all__ = [
    "QWEN2_VL",
    "QWEN3_VL",
    "PRESETS",
    "backend",
    "fused_linear_grpo_loss",
    "grpo_advantages",
    "grpo_loss_reference",
    "grpo_advantages_reference",
    "patch_processor",
    "qwen_vl_preprocess",
    "qwen_vl_preprocess_reference",
    "smart_resize",
]

_LAZY = {
    "QWEN2_VL": "qwen_vl",
    "QWEN3_VL": "qwen_vl",
    "PRESETS": "qwen_vl",
    "patch_processor": "qwen_vl",
    "qwen_vl_preprocess": "qwen_vl",
    "qwen_vl_preprocess_reference": "qwen_vl",
    "smart_resize": "qwen_vl",
    "grpo_advantages": "advantages",
    "grpo_advantages_reference": "advantages",
    "fused_linear_grpo_loss": "grpo_loss",
    "grpo_loss_reference": "grpo_loss",
}


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module 'verm.kernels' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{mod}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
