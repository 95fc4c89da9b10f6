"""Image comparison helpers used by conformance tests and benchmarks."""

from __future__ import annotations

import numpy as np


def over_white(rgba: np.ndarray) -> np.ndarray:
    """Composite a straight-alpha RGBA uint8 image over white; returns float32 RGB in 0..255."""
    img = rgba.astype(np.float32)
    if img.shape[-1] == 3:
        return img
    a = img[..., 3:4] / 255.0
    return img[..., :3] * a + 255.0 * (1.0 - a)


def diff_fraction(a: np.ndarray, b: np.ndarray, threshold: float = 24.0) -> float:
    """Fraction of pixels whose largest channel difference over white exceeds ``threshold``.

    Different shapes count as a total mismatch (1.0).
    """
    if a.shape[:2] != b.shape[:2]:
        return 1.0
    d = np.abs(over_white(a) - over_white(b)).max(axis=-1)
    return float((d > threshold).mean())


def suite_pass(a: np.ndarray, b: np.ndarray) -> bool:
    """The resvg-suite criterion: at most 0.5% of pixels differ by more than 24/255."""
    return diff_fraction(a, b) <= 0.005
