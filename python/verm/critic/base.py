"""The critic protocol, image helpers, and the shared retry loop of generative critics."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from verm.records import CATEGORIES, Critique

__all__ = [
    "Critic", "CriticUnavailable", "GenerativeCritic", "ImageLike", "Pair", "image_digest",
    "load_image", "to_pil", "to_rgb",
]

#: Anything verm accepts as an image: an (H, W[, 3|4]) uint8 array, a PIL image, a path or
#: encoded bytes (PNG/JPEG/...).
ImageLike = Any
#: (ground-truth image, rendered prediction, kind)
Pair = tuple[ImageLike, ImageLike, str]


class CriticUnavailable(RuntimeError):
    """The critic could not be reached or run (transport/back-end failure, not a bad answer)."""


@runtime_checkable
class Critic(Protocol):
    """Anything with a ``name`` and ``critique_batch``.

    ``critique_batch`` receives ``[(gt_image, pred_image, kind), ...]`` and returns one
    :class:`~verm.records.Critique` per pair, in order. A critic never raises for a bad answer
    (it returns ``parse_ok=False``); it may raise :class:`CriticUnavailable` when its back end is
    down.
    """

    name: str

    def critique_batch(self, pairs: Sequence[Pair]) -> list[Critique]: ...


def load_image(img: ImageLike) -> np.ndarray:
    """Any :data:`ImageLike` -> uint8 array (H, W, 3) or (H, W, 4), without compositing."""
    from PIL import Image

    if isinstance(img, np.ndarray):
        arr = img
    elif isinstance(img, Image.Image):
        arr = np.asarray(img.convert("RGBA") if img.mode in ("RGBA", "LA", "P", "PA") else img.convert("RGB"))
    elif isinstance(img, (bytes, bytearray, memoryview)):
        with Image.open(io.BytesIO(bytes(img))) as im:
            return load_image(im.copy())
    elif isinstance(img, (str, os.PathLike)):
        with Image.open(img) as im:
            return load_image(im.copy())
    else:
        raise TypeError(f"not an image: {type(img).__name__}")
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=-1)
    if arr.ndim != 3 or arr.shape[-1] not in (3, 4) or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"image must be (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}")
    if arr.dtype != np.uint8:
        a = arr.astype(np.float64)
        if a.max(initial=0) <= 1.0:
            a = a * 255.0
        arr = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(arr)


def to_rgb(img: ImageLike) -> np.ndarray:
    """Any :data:`ImageLike` -> (H, W, 3) uint8, transparent pixels composited over white."""
    arr = load_image(img)
    if arr.shape[-1] == 3:
        return arr
    a = arr[..., 3:4].astype(np.uint16)
    rgb = (arr[..., :3].astype(np.uint16) * a + 255 * (255 - a) + 127) // 255
    return rgb.astype(np.uint8)


def to_pil(img: ImageLike, max_side: int | None = None):
    """Any :data:`ImageLike` -> RGB PIL image, shrunk so its longest side is at most ``max_side``."""
    from PIL import Image

    im = Image.fromarray(to_rgb(img), "RGB")
    if max_side and max(im.size) > max_side:
        s = max_side / max(im.size)
        im = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.LANCZOS)
    return im


def image_digest(img: ImageLike) -> str:
    """Content hash of an image (pixels after compositing over white, plus its shape)."""
    arr = to_rgb(img)
    h = hashlib.blake2b(digest_size=16)
    h.update(repr(arr.shape).encode())
    h.update(arr.tobytes())
    return h.hexdigest()


class GenerativeCritic:
    """Shared logic of model-backed critics: prompt, generate, parse, re-sample failures.

    Subclasses implement :meth:`_generate`, which returns one answer text per request (or raises
    :class:`CriticUnavailable`). Only the pairs whose answer did not parse are re-sampled, up to
    ``retries`` more times; after the last failure the critique has ``parse_ok=False`` and the
    last raw answer.
    """

    name = "generative"

    def __init__(self, template=None, retries: int = 2) -> None:
        from verm.critic.prompts import PromptTemplate, default_template

        if isinstance(template, (str, os.PathLike)):
            template = PromptTemplate.from_file(template)
        self.template = template or default_template()
        self.retries = max(0, int(retries))
        self.stats = {"requests": 0, "parse_failures": 0}

    def _generate(self, requests: list[tuple[Any, Any, str]], attempt: int) -> list[str]:
        """One answer per (gt PIL image, pred PIL image, kind)."""
        raise NotImplementedError

    def _cache_ident(self) -> str:
        """What identifies this critic's answers besides the images (subclasses add settings)."""
        return type(self).__qualname__

    @property
    def cache_key(self) -> str:
        """Critics with equal settings and prompt share critique-cache entries."""
        h = hashlib.blake2b(digest_size=12)
        h.update(self._cache_ident().encode())
        h.update(self.template.text.encode())
        h.update((self.template.system or "").encode())
        return f"{self.name}:{h.hexdigest()}"

    def _prepare(self, img: ImageLike):
        return to_pil(img)

    def critique_batch(self, pairs: Sequence[Pair]) -> list[Critique]:
        """Critique every pair; see :class:`Critic`."""
        from verm.critic.parse import try_parse_critique

        for _, _, kind in pairs:
            if kind not in CATEGORIES:
                raise ValueError(f"unknown kind {kind!r}")
        prepared = [(self._prepare(g), self._prepare(p), k) for g, p, k in pairs]
        results: list[Critique | None] = [None] * len(prepared)
        last: list[str] = [""] * len(prepared)
        reasons: list[str] = [""] * len(prepared)
        pending = list(range(len(prepared)))
        for attempt in range(self.retries + 1):
            if not pending:
                break
            texts = self._generate([prepared[i] for i in pending], attempt)
            self.stats["requests"] += len(pending)
            still = []
            for i, text in zip(pending, texts):
                crit, why = try_parse_critique(text, prepared[i][2])
                if crit is None:
                    last[i], reasons[i] = text, why
                    self.stats["parse_failures"] += 1
                    still.append(i)
                else:
                    results[i] = crit
            pending = still
        for i in pending:
            results[i] = Critique(errors=[], counts_by_category={}, raw_text=last[i], parse_ok=False)
        return results  # type: ignore[return-value]
