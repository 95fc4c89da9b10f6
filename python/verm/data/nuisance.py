"""Nuisance transforms for negative pairs: whole-image rescale and JPEG re-encoding."""

from __future__ import annotations

import io
import random

import numpy as np


def over_white(img: np.ndarray) -> np.ndarray:
    """RGBA/RGB uint8 -> RGB uint8 composited over white."""
    if img.shape[-1] == 3:
        return img
    a = img[..., 3:4].astype(np.uint16)
    return ((img[..., :3].astype(np.uint16) * a + 255 * (255 - a) + 127) // 255).astype(np.uint8)


def apply_nuisance(img: np.ndarray, rng: random.Random, scale_range: tuple[float, float] = (0.8, 1.25),
                   jpeg_quality: int = 75, p_scale: float = 0.8, p_jpeg: float = 0.8) -> tuple[np.ndarray, dict]:
    """Rescale by a factor in ``scale_range`` and/or JPEG-encode at ``jpeg_quality``.

    Returns the RGB uint8 image and a dict naming what was applied. At least one transform is
    always applied.
    """
    from PIL import Image

    im = Image.fromarray(over_white(img), "RGB")
    info: dict = {}
    do_scale = rng.random() < p_scale
    do_jpeg = rng.random() < p_jpeg or not do_scale
    if do_scale:
        s = rng.uniform(*scale_range)
        im = im.resize((max(8, round(im.width * s)), max(8, round(im.height * s))), Image.BICUBIC)
        info["scale"] = round(s, 4)
    if do_jpeg:
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=jpeg_quality)
        buf.seek(0)
        im = Image.open(buf).convert("RGB")
        info["jpeg_quality"] = jpeg_quality
    return np.asarray(im).copy(), info
