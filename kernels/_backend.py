"""Backend selection shared by the kernels: Triton on CUDA, Triton's interpreter, or torch."""

from __future__ import annotations

import functools
import os

_VALID = ("triton", "triton-interpret", "torch")


@functools.lru_cache(maxsize=1)
def _triton_ok() -> bool:
    try:
        import triton  # noqa: F401
        import triton.language  # noqa: F401
    except Exception:
        return False
    return True


def interpreting() -> bool:
    """True when Triton runs kernels in its CPU interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0").lower() in ("1", "true", "yes", "on")


def backend() -> str:
    """Which implementation the kernels use: ``"triton"``, ``"triton-interpret"`` or ``"torch"``.

    ``VERM_KERNELS_BACKEND=torch`` forces the plain-torch references.  Otherwise Triton's
    interpreter is used when ``TRITON_INTERPRET=1`` (tests on CPU), compiled Triton when CUDA is
    available, and the torch references everywhere else.
    """
    forced = os.environ.get("VERM_KERNELS_BACKEND", "").strip().lower()
    if forced:
        if forced not in _VALID:
            raise ValueError(f"VERM_KERNELS_BACKEND must be one of {_VALID}, got {forced!r}")
        if forced != "torch" and not _triton_ok():
            raise RuntimeError(f"VERM_KERNELS_BACKEND={forced} but triton cannot be imported")
        return forced
    if not _triton_ok():
        return "torch"
    if interpreting():
        return "triton-interpret"
    try:
        import torch

        if torch.cuda.is_available():
            return "triton"
    except Exception:
        pass
    return "torch"


def use_triton(device) -> bool:
    """Whether tensors on ``device`` go through the Triton kernels under the current backend."""
    b = backend()
    if b == "triton":
        return getattr(device, "type", str(device)) == "cuda"
    if b == "triton-interpret":
        return getattr(device, "type", str(device)) == "cpu"
    return False
