"""Response -> extract -> render -> critique -> reward.

Two named presets (see :data:`PRESETS` and docs/reward.md):

``visual-erm`` (default)
    no extractable code, a render failure or an all-white render give ``min_reward`` (0.0);
    otherwise ``base + clip(1 - S / scale, 0, 1)`` with ``S`` the sum of error severities
    (``base`` 1.0, ``scale`` 50); an unparseable critique counts ``S = 25``.
``reference-table``
    the reference implementation's table recipe: reward ``-S``, ``-4`` when the critique cannot
    be parsed; both images have their white border cropped, get a 12 px white pad and are shrunk
    to a longest side of 768 px before the critic sees them. Failures before the critic get
    ``min_reward`` = -4 (verm's choice, the same as an unparseable critique).

:func:`score_batch` renders chunk ``k + 1`` on a background thread while the critic works on
chunk ``k``, and caches critiques by a content hash of (critic, kind, both images).
"""

from __future__ import annotations

import dataclasses
import hashlib
import queue
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from verm.critic.base import Critic, CriticUnavailable, ImageLike, image_digest, load_image, to_rgb
from verm.extract import Extracted, extract
from verm.records import KINDS, Critique, RenderResult, RewardResult

__all__ = [
    "PRESETS", "CritiqueCache", "RewardConfig", "prepare_for_critic", "render_codes", "score",
    "score_batch", "score_iter",
]


@dataclass(frozen=True)
class RewardConfig:
    """How severities become a reward, and how images are prepared for the critic.

    ``mapping`` is ``clipped`` (``base + clip(1 - S/scale, 0, 1)``) or ``negative`` (``-S``).
    ``unparseable_reward``, when set, replaces the mapped value for an unparseable critique.
    ``crop_white_border``/``pad``/``max_side`` prepare both images before the critique.
    ``blank_level``: a render whose every pixel (over white) is at least this bright is blank.
    ``svg_width``: render predicted SVG at this width (``None``: the SVG's own size).
    """

    name: str = "visual-erm"
    mapping: str = "clipped"
    min_reward: float = 0.0
    base: float = 1.0
    scale: float = 50.0
    unparseable_severity: float = 25.0
    unparseable_reward: float | None = None
    crop_white_border: bool = False
    pad: int = 0
    max_side: int | None = None
    blank_level: int = 250
    svg_width: int | None = None

    def __post_init__(self) -> None:
        if self.mapping not in ("clipped", "negative"):
            raise ValueError(f"mapping must be 'clipped' or 'negative', got {self.mapping!r}")
        if self.scale <= 0:
            raise ValueError("scale must be positive")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> RewardConfig:
        """A named preset (``visual-erm``, ``reference-table``), optionally with fields changed."""
        if name not in PRESETS:
            raise ValueError(f"unknown reward preset {name!r}; choose from {', '.join(PRESETS)}")
        return dataclasses.replace(PRESETS[name], **overrides)

    def reward_for(self, severity_sum: float, parse_ok: bool = True) -> float:
        """Map a severity sum (or an unparseable critique) to the reward."""
        if not parse_ok and self.unparseable_reward is not None:
            return float(self.unparseable_reward)
        s = float(severity_sum) if parse_ok else float(self.unparseable_severity)
        if self.mapping == "negative":
            return -s
        return float(self.base + min(max(1.0 - s / self.scale, 0.0), 1.0))


PRESETS: dict[str, RewardConfig] = {
    "visual-erm": RewardConfig(),
    "reference-table": RewardConfig(
        name="reference-table", mapping="negative", min_reward=-4.0, unparseable_severity=4.0,
        unparseable_reward=-4.0, crop_white_border=True, pad=12, max_side=768,
    ),
}


# -- images ----------------------------------------------------------------------------------
def _is_blank(rgb: np.ndarray, level: int) -> bool:
    return bool(rgb.min(initial=255) >= level)


def prepare_for_critic(img: ImageLike, config: RewardConfig) -> np.ndarray:
    """Composite over white and apply the preset's crop / pad / shrink; returns (H, W, 3) uint8."""
    rgb = to_rgb(img)
    if config.crop_white_border:
        ink = rgb.min(axis=-1) < config.blank_level
        if ink.any():
            ys, xs = np.nonzero(ink)
            rgb = rgb[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    if config.pad > 0:
        p = int(config.pad)
        rgb = np.pad(rgb, ((p, p), (p, p), (0, 0)), constant_values=255)
    if config.max_side and max(rgb.shape[:2]) > config.max_side:
        from PIL import Image

        s = config.max_side / max(rgb.shape[:2])
        size = (max(1, round(rgb.shape[1] * s)), max(1, round(rgb.shape[0] * s)))
        rgb = np.asarray(Image.fromarray(rgb).resize(size, Image.LANCZOS))
    return np.ascontiguousarray(rgb)


# -- rendering -------------------------------------------------------------------------------
def _chart_pool():
    """The shared warm chart pool (kept across calls so workers are not restarted per batch)."""
    try:
        from verm.render import charts
    except ImportError:
        return None
    getter = getattr(charts, "_default_pool", None)
    return getter() if getter is not None else None


def _all_failed(n: int, status: str, message: str) -> list[RenderResult]:
    return [RenderResult(None, status, "none", message) for _ in range(n)]


def render_codes(kind: str, codes: Sequence[str], config: RewardConfig | None = None) -> list[RenderResult]:
    """Render a batch of one kind through verm's batch renderers; never raises for bad items."""
    import verm.render as render

    config = config or RewardConfig()
    if not codes:
        return []
    names = {"svg": "render_svgs", "table": "render_tables", "chart": "render_chart_codes"}
    fn = getattr(render, names[kind], None)
    if fn is None:
        return _all_failed(len(codes), "unsupported",
                           f"{kind} rendering is not available in this build (verm.render.{names[kind]})")
    try:
        if kind == "svg":
            out = fn(list(codes), width=config.svg_width)
        elif kind == "chart":
            out = fn(list(codes), pool=_chart_pool())
        else:
            out = fn(list(codes))
    except ImportError as exc:
        return _all_failed(len(codes), "unsupported", f"{kind} rendering needs an extra: {exc}")
    except Exception as exc:  # a renderer bug must not take the batch down
        return _all_failed(len(codes), "error", f"{type(exc).__name__}: {exc}")
    out = list(out)
    if len(out) != len(codes):
        return _all_failed(len(codes), "error", "renderer returned a wrong number of results")
    return out


# -- critique cache --------------------------------------------------------------------------
_TOKENS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _instance_token(critic: Critic) -> str:
    base = f"{type(critic).__qualname__}:{getattr(critic, 'name', '')}"
    try:
        tok = _TOKENS.get(critic)
        if tok is None:
            tok = _TOKENS[critic] = uuid.uuid4().hex
    except TypeError:  # not weak-referenceable
        tok = str(id(critic))
    return f"{base}:{tok}"


class CritiqueCache:
    """Thread-safe LRU of parsed critiques keyed by a content hash (unparseable ones are not kept)."""

    def __init__(self, max_items: int = 100_000) -> None:
        self.max_items = int(max_items)
        self._data: OrderedDict[str, Critique] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(critic: Critic, kind: str, gt_digest: str, pred_digest: str) -> str:
        """Cache key: the critic's ``cache_key`` (equal settings share entries) or, without one,
        a token unique to the critic object; plus the kind and both image digests."""
        ident = getattr(critic, "cache_key", None) or _instance_token(critic)
        return hashlib.blake2b(f"{ident}|{kind}|{gt_digest}|{pred_digest}".encode(), digest_size=16).hexdigest()

    def get(self, key: str) -> Critique | None:
        with self._lock:
            c = self._data.get(key)
            if c is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return c

    def put(self, key: str, critique: Critique) -> None:
        if not critique.parse_ok or self.max_items <= 0:
            return
        with self._lock:
            self._data[key] = critique
            self._data.move_to_end(key)
            while len(self._data) > self.max_items:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cache_for(critic: Critic, cache: CritiqueCache | bool | None) -> CritiqueCache | None:
    if cache is False:
        return None
    if isinstance(cache, CritiqueCache):
        return cache
    try:
        c = _CACHES.get(critic)
        if c is None:
            c = _CACHES[critic] = CritiqueCache()
        return c
    except TypeError:  # not weak-referenceable
        return None


# -- pipeline --------------------------------------------------------------------------------
@dataclass
class _Item:
    index: int
    response: str
    gt: Any
    kind: str
    extracted: Extracted | None = None
    render: RenderResult | None = None
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)


def _fail(item: _Item, config: RewardConfig, status: str, message: str, critic_name: str) -> RewardResult:
    return RewardResult(
        reward=float(config.min_reward), severity_sum=None, errors=[], status=status,
        render_status=item.render.status if item.render is not None else None, critic=critic_name,
        seconds_by_stage=dict(item.seconds), message=message,
    )


def _render_chunk(items: list[_Item], config: RewardConfig) -> None:
    by_kind: dict[str, list[_Item]] = {}
    for it in items:
        by_kind.setdefault(it.kind, []).append(it)
    for kind, group in by_kind.items():
        t0 = time.perf_counter()
        results = render_codes(kind, [it.extracted.code for it in group], config)  # type: ignore[union-attr]
        wall = time.perf_counter() - t0
        for it, res in zip(group, results):
            it.render = res
            it.seconds["render"] = float(res.seconds) if res.seconds else wall / len(group)


def score_iter(
    responses: Sequence[str],
    gt_images: Sequence[ImageLike],
    kinds: str | Sequence[str] = "auto",
    critic: Critic | str | None = None,
    config: RewardConfig | str | None = None,
    *,
    batch_size: int = 16,
    cache: CritiqueCache | bool | None = None,
) -> Iterator[tuple[int, RewardResult]]:
    """Yield ``(index, RewardResult)`` as results are ready (not necessarily in input order).

    Rendering runs on a background thread one chunk ahead of the critic.
    """
    from verm.critic.registry import make_critic

    critic = make_critic(critic)
    if isinstance(config, str):
        config = RewardConfig.preset(config)
    config = config or RewardConfig()
    n = len(responses)
    if len(gt_images) != n:
        raise ValueError("responses and gt_images differ in length")
    kinds_list = [kinds] * n if isinstance(kinds, str) else list(kinds)
    if len(kinds_list) != n:
        raise ValueError("kinds and responses differ in length")
    critic_name = str(getattr(critic, "name", type(critic).__name__))
    crit_cache = _cache_for(critic, cache)

    todo: list[_Item] = []
    for i, (resp, gt, kind) in enumerate(zip(responses, gt_images, kinds_list)):
        item = _Item(i, resp, gt, kind)
        if kind != "auto" and kind not in KINDS:
            yield i, _fail(item, config, "bad_request", f"unknown kind {kind!r}", critic_name)
            continue
        t0 = time.perf_counter()
        try:
            item.extracted = extract(resp if isinstance(resp, str) else "", kind)
        except Exception as exc:  # extraction bugs must not lose the batch
            item.extracted = None
            item.seconds["extract"] = time.perf_counter() - t0
            yield i, _fail(item, config, "no_code", f"extraction failed: {exc}", critic_name)
            continue
        item.seconds["extract"] = time.perf_counter() - t0
        if item.extracted is None:
            yield i, _fail(item, config, "no_code", "no extractable code in the response", critic_name)
            continue
        item.kind = item.extracted.kind
        todo.append(item)

    chunks = [todo[k : k + max(1, batch_size)] for k in range(0, len(todo), max(1, batch_size))]
    ready: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def producer() -> None:
        for chunk in chunks:
            if stop.is_set():
                return
            try:
                _render_chunk(chunk, config)
            except BaseException as exc:  # never leave the consumer waiting
                for it in chunk:
                    if it.render is None:
                        it.render = RenderResult(None, "error", "none", f"{type(exc).__name__}: {exc}")
            while not stop.is_set():
                try:
                    ready.put(chunk, timeout=0.1)
                    break
                except queue.Full:
                    continue

    worker = threading.Thread(target=producer, name="verm-render", daemon=True)
    worker.start()
    try:
        for _ in range(len(chunks)):
            chunk = ready.get()
            yield from _critique_chunk(chunk, critic, critic_name, config, crit_cache)
    finally:
        stop.set()
        worker.join(timeout=5.0)


def _critique_chunk(chunk: list[_Item], critic: Critic, critic_name: str, config: RewardConfig,
                    crit_cache: CritiqueCache | None) -> Iterator[tuple[int, RewardResult]]:
    pending: list[tuple[_Item, np.ndarray, np.ndarray, str | None]] = []
    for it in chunk:
        res = it.render
        if res is None or res.image is None or not res.ok:
            status = "blank" if res is not None and res.status == "blank" else "render_failed"
            msg = res.message if res is not None else "not rendered"
            yield it.index, _fail(it, config, status, f"render {res.status if res else 'missing'}: {msg}", critic_name)
            continue
        t0 = time.perf_counter()
        try:
            pred = to_rgb(res.image)
            if _is_blank(pred, config.blank_level):
                yield it.index, _fail(it, config, "blank", "the render is all white", critic_name)
                continue
            gt = prepare_for_critic(load_image(it.gt), config)
            pred = prepare_for_critic(pred, config)
        except Exception as exc:
            yield it.index, _fail(it, config, "bad_request", f"bad ground-truth image: {exc}", critic_name)
            continue
        key = CritiqueCache.key(critic, it.kind, image_digest(gt), image_digest(pred)) if crit_cache is not None else None
        it.seconds["prepare"] = time.perf_counter() - t0
        pending.append((it, gt, pred, key))

    critiques: dict[int, Critique] = {}
    todo = []
    for it, gt, pred, key in pending:
        hit = crit_cache.get(key) if crit_cache is not None and key else None
        if hit is not None:
            critiques[it.index] = hit
            it.seconds["critic"] = 0.0
        else:
            todo.append((it, gt, pred, key))
    if todo:
        t0 = time.perf_counter()
        try:
            out = critic.critique_batch([(gt, pred, it.kind) for it, gt, pred, _ in todo])
            if len(out) != len(todo):
                raise RuntimeError(f"critic returned {len(out)} critiques for {len(todo)} pairs")
        except Exception as exc:
            why = "critic unavailable" if isinstance(exc, CriticUnavailable) else "critic error"
            for it, _, _, _ in todo:
                yield it.index, _fail(it, config, "critic_failed", f"{why}: {type(exc).__name__}: {exc}", critic_name)
            todo_ids = {it.index for it, _, _, _ in todo}
            pending = [p for p in pending if p[0].index not in todo_ids]
        else:
            per = (time.perf_counter() - t0) / len(todo)
            for (it, _, _, key), crit in zip(todo, out):
                it.seconds["critic"] = per
                critiques[it.index] = crit
                if crit_cache is not None and key:
                    crit_cache.put(key, crit)
    for it, _, _, _ in pending:
        crit = critiques[it.index]
        reward = config.reward_for(crit.severity_sum, crit.parse_ok)
        yield it.index, RewardResult(
            reward=reward,
            severity_sum=float(crit.severity_sum if crit.parse_ok else config.unparseable_severity),
            errors=list(crit.errors), status="ok" if crit.parse_ok else "critic_unparseable",
            render_status=it.render.status if it.render else None, critic=critic_name,
            seconds_by_stage=dict(it.seconds),
            message="" if crit.parse_ok else "the critique could not be parsed",
        )


def score_batch(
    responses: Sequence[str],
    gt_images: Sequence[ImageLike],
    kinds: str | Sequence[str] = "auto",
    critic: Critic | str | None = None,
    config: RewardConfig | str | None = None,
    *,
    batch_size: int = 16,
    cache: CritiqueCache | bool | None = None,
) -> list[RewardResult]:
    """Score many responses; results in input order. See :func:`score_iter`."""
    out: list[RewardResult | None] = [None] * len(responses)
    for i, res in score_iter(responses, gt_images, kinds, critic, config, batch_size=batch_size, cache=cache):
        out[i] = res
    return out  # type: ignore[return-value]


def score(
    response: str,
    gt_image: ImageLike,
    kind: str = "auto",
    critic: Critic | str | None = None,
    config: RewardConfig | str | None = None,
    *,
    cache: CritiqueCache | bool | None = None,
) -> RewardResult:
    """Score one response against its ground-truth image (``kind``: chart, table, svg or auto).

    ``critic`` is a critic object or spec (default: ``pixel``); ``config`` a
    :class:`RewardConfig` or a preset name.
    """
    return score_batch([response], [gt_image], [kind], critic, config, batch_size=1, cache=cache)[0]
