"""Synthesis driver: seeded samples -> rendered, verified pairs -> images + JSONL (resumable).

Item ``i`` of a kind is generated from a seed derived from (run seed, kind, i, attempt); an attempt
is rejected and the next one tried when a render fails, when a labelled error is not visible in
the render, when an identical pair does not render bit-identically, or when its content hash was
already produced. Negatives (identical pairs) always get a nuisance (rescale 0.8-1.25 and/or
JPEG q75); positives get one with probability ``p_nuisance_pos``.

Charts come from two ground-truth sources: matplotlib code (:mod:`verm.data.chart_gen`) and native
chart specs (:mod:`verm.data.spec_gen`); ``SynthConfig.chart_source`` picks ``code``, ``spec`` or
``mixed`` (item ``i``'s source is drawn from (run seed, i), so it is stable across attempts and
reruns). Labels that carry a ``probe`` (spec charts, user corpora) get their bbox from the probe's
render. :func:`synthesize_corpus` does the same for a user JSONL of ground-truth code.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from verm.data import chart_gen, spec_gen, svg_gen, table_gen
from verm.data.common import Sample, anchor_bbox, resolve_probe
from verm.data.nuisance import apply_nuisance, over_white
from verm.data.user_corpus import CorpusSkip

KIND_ORDER = ("chart", "table", "svg")
MAX_ATTEMPTS = 6
CHART_SOURCES = ("code", "spec", "mixed")
#: (kind, codes, fmts) -> list of RGBA/RGB arrays or None per code.
Renderer = Callable[[str, Sequence[str], Sequence[str]], list]
#: (index, attempt) -> Sample; may raise CorpusSkip (counted, not retried).
Factory = Callable[[int, int], Sample]


@dataclass
class SynthConfig:
    """Knobs of a synthesis run."""

    seed: int = 0
    neg_frac: float = 0.25
    max_errors: int = 3
    p_nuisance_pos: float = 0.5
    batch_size: int = 32
    workers: int | None = None
    #: chart ground truths: "code" (matplotlib), "spec" (native chart specs) or "mixed"
    chart_source: str = "mixed"
    #: share of spec charts when ``chart_source="mixed"``
    spec_frac: float = 0.5

    def __post_init__(self) -> None:
        if self.chart_source not in CHART_SOURCES:
            raise ValueError(f"chart_source must be one of {CHART_SOURCES}, got {self.chart_source!r}")


def item_seed(seed: int, kind: str, index: int, attempt: int) -> int:
    """The generator seed of one attempt at one item (stable across runs and machines)."""
    return random.Random(f"verm-synth:{seed}:{kind}:{index}:{attempt}").randrange(2**31)


def make_sample(kind: str, seed: int, n_errors: int, chart_source: str = "code") -> Sample:
    """One seeded sample of ``kind`` with ``n_errors`` perturbations (charts: ``code`` or ``spec``)."""
    if kind == "chart" and chart_source == "spec":
        return spec_gen.make_sample(seed, n_errors)
    gen = {"svg": svg_gen.make_sample, "table": table_gen.make_sample, "chart": chart_gen.make_sample}[kind]
    return gen(seed, n_errors)


def chart_source_for(seed: int, index: int, cfg: SynthConfig) -> str:
    """Which chart source item ``index`` uses (``code`` or ``spec``)."""
    if cfg.chart_source != "mixed":
        return cfg.chart_source
    return "spec" if random.Random(f"verm-synth-src:{seed}:{index}").random() < cfg.spec_frac else "code"


def n_errors_for(seed: int, index: int, kind: str, cfg: SynthConfig) -> int:
    """How many errors item ``index`` gets: 0 with probability ``neg_frac``, else 1..max_errors."""
    r = random.Random(f"verm-synth-n:{seed}:{kind}:{index}")
    if r.random() < cfg.neg_frac:
        return 0
    return r.randint(1, cfg.max_errors)


class _DefaultRenderer:
    """verm's own batch renderers; holds one warm chart pool for the whole run (closed by close())."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self._pool = None
        #: ``RenderResult.extra`` of the last batch (table cell boxes give table labels a bbox)
        self.last_extras: list[dict] = []

    def __call__(self, kind: str, codes: Sequence[str], fmts: Sequence[str]) -> list:
        from verm.data.render import SPEC_FMTS, render_codes

        if kind == "chart" and self._pool is None and any(f not in SPEC_FMTS for f in fmts):
            try:
                from verm.charts.pool import ChartPool
            except ImportError:
                self._pool = None
            else:
                self._pool = ChartPool(self.workers) if self.workers else ChartPool()
        res = render_codes(kind, codes, fmts, workers=self.workers, chart_pool=self._pool)
        self.last_extras = [r.extra for r in res]
        return [r.image if r.ok else None for r in res]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def default_renderer(workers: int | None = None) -> Renderer:
    """verm's own batch renderers (see :mod:`verm.data.render`); call ``.close()`` when done."""
    return _DefaultRenderer(workers)


def visible(gt: np.ndarray, pred: np.ndarray, sample: Sample, threshold: int = 24) -> bool:
    """Whether a rendered pair shows what its labels say (before any nuisance)."""
    a, b = over_white(gt), over_white(pred)
    if sample.identical:
        return a.shape == b.shape and bool(np.array_equal(a, b))
    if a.shape != b.shape:
        return True  # the change altered the canvas; visibly different
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1) > threshold
    if diff.sum() < 30:
        return False
    h, w = diff.shape
    for e in sample.errors:
        if e.bbox_frac is None:
            continue
        x0, y0, x1, y1 = e.bbox_frac
        sub = diff[max(0, int(y0 * h) - 2):int(np.ceil(y1 * h)) + 2, max(0, int(x0 * w) - 2):int(np.ceil(x1 * w)) + 2]
        if sub.sum() < 8:
            return False
    return True


def _count(stats: dict[str, int] | None, key: str) -> None:
    if stats is not None:
        stats[key] = stats.get(key, 0) + 1


def synth_pairs(kind: str, indices: Sequence[int], cfg: SynthConfig, renderer: Renderer,
                seen_hashes: set[str] | None = None, factory: Factory | None = None,
                stats: dict[str, int] | None = None) -> Iterator[dict[str, Any]]:
    """Yield finished items (with images as arrays) for ``indices`` of one kind, batch by batch.

    ``factory(index, attempt)`` makes the samples (default: the seeded generators). Rejections are
    counted in ``stats`` by reason: ``CorpusSkip`` reasons (not retried) and, for items that used up
    their attempts, ``gave_up_<reason>`` (render_failed, duplicate, invisible_edit, not_visible).
    """
    seen = seen_hashes if seen_hashes is not None else set()
    if factory is None:
        def factory(i: int, att: int) -> Sample:
            src = chart_source_for(cfg.seed, i, cfg) if kind == "chart" else "code"
            return make_sample(kind, item_seed(cfg.seed, kind, i, att), n_errors_for(cfg.seed, i, kind, cfg), src)
    pending = [(i, 0) for i in indices]
    while pending:
        batch, pending = pending[: cfg.batch_size], pending[cfg.batch_size:]
        samples, kept = [], []
        for i, att in batch:
            try:
                samples.append(factory(i, att))
            except CorpusSkip as exc:
                _count(stats, exc.reason)
                continue
            kept.append((i, att))
        batch = kept
        if not samples:
            continue
        n = len(samples)
        probes = [(k, e) for k, s in enumerate(samples) for e in s.errors if e.probe is not None]
        codes = [s.gt_code for s in samples] + [s.pred_code for s in samples] + [e.probe for _, e in probes]
        fmts = [s.fmt for s in samples] * 2 + [samples[k].fmt for k, _ in probes]
        imgs = renderer(kind, codes, fmts)
        extras = getattr(renderer, "last_extras", None)
        if kind == "table" and extras and len(extras) == len(codes):
            for k, s in enumerate(samples):
                cells = (extras[k] or {}).get("cells")
                if imgs[k] is None or not cells:
                    continue
                gh, gw = imgs[k].shape[:2]
                for e in s.errors:
                    if e.anchor is not None and e.bbox_frac is None:
                        e.bbox_frac = anchor_bbox(e.anchor, cells, gw, gh)
        invisible: set[int] = set()
        for j, (k, e) in enumerate(probes):
            if imgs[k] is not None and not resolve_probe(e, imgs[k], imgs[2 * n + j]):
                invisible.add(k)
        retry = []
        for k, ((i, att), s) in enumerate(zip(batch, samples)):
            gt, pred = imgs[k], imgs[n + k]
            h = s.content_hash()
            reason = None
            if gt is None or pred is None:
                reason = "render_failed"
            elif h in seen:
                reason = "duplicate"
            elif k in invisible:
                reason = "invisible_edit"
            elif not visible(gt, pred, s):
                reason = "not_visible"
            if reason is not None:
                if att + 1 < MAX_ATTEMPTS:
                    retry.append((i, att + 1))
                else:
                    _count(stats, f"gave_up_{reason}")
                continue
            seen.add(h)
            rng = random.Random(f"verm-nuisance:{cfg.seed}:{kind}:{i}")
            nuis: dict = {}
            pred_out = pred
            if s.identical or rng.random() < cfg.p_nuisance_pos:
                pred_out, nuis = apply_nuisance(pred, rng)
            gh, gw = gt.shape[:2]
            yield {
                "index": i, "attempt": att, "sample": s, "hash": h, "gt": gt, "pred": pred_out,
                "pred_clean": pred, "nuisance": nuis,
                "errors": [e.to_visual_error(gw, gh) for e in s.errors],
            }
        pending = retry + pending


def _save_png(arr: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(arr).save(path, compress_level=1)


def read_done(jsonl: Path) -> tuple[set[str], set[str]]:
    """Item ids and content hashes already written to ``jsonl`` (a torn last line is ignored)."""
    done: set[str] = set()
    hashes: set[str] = set()
    if not jsonl.exists():
        return done, hashes
    with open(jsonl, encoding="utf-8") as f:
        for line in f:
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                continue
            done.add(str(d["id"]))
            hashes.add(d["hash"])
    return done, hashes


def _truncate_torn_line(jsonl: Path) -> None:
    if not jsonl.exists():
        return
    data = jsonl.read_bytes()
    if data and not data.endswith(b"\n"):
        jsonl.write_bytes(data[: data.rfind(b"\n") + 1])


def split_counts(kinds: Sequence[str], n: int) -> dict[str, int]:
    """Split a total of ``n`` items evenly over ``kinds`` (earlier kinds take the remainder)."""
    base, rem = divmod(n, len(kinds))
    return {k: base + (1 if j < rem else 0) for j, k in enumerate(kinds)}


def synthesize(kinds: Sequence[str], n: int, out_dir: str | os.PathLike, cfg: SynthConfig | None = None,
               renderer: Renderer | None = None, progress: bool = True) -> dict[str, Any]:
    """Write ``n`` items (split over ``kinds``) to ``out_dir``: ``items.jsonl`` and ``images/``.

    Resumable: items already in ``items.jsonl`` are skipped. Returns a summary dict.
    """
    cfg = cfg or SynthConfig()
    counts = split_counts(list(kinds), n)
    jobs = [_Job(k, list(range(counts[k])), lambda i, k=k: f"{k}-{i:06d}") for k in kinds]
    return _run(jobs, out_dir, cfg, renderer, progress)


def synthesize_corpus(path: str | os.PathLike, out_dir: str | os.PathLike, cfg: SynthConfig | None = None,
                      n: int | None = None, per_item: int = 1, kinds: Sequence[str] | None = None,
                      renderer: Renderer | None = None, progress: bool = True) -> dict[str, Any]:
    """Synthesise from a user JSONL of ground-truth code (see :mod:`verm.data.user_corpus`).

    Record ``j`` yields items ``j * per_item ... j * per_item + per_item - 1`` (ids
    ``user-<kind>-<index>``), each with 0..max_errors edits; ``n`` caps the total. Resumable and
    deduplicated like :func:`synthesize`; the summary's ``skip_reasons`` counts what was skipped
    and why (unreadable lines, code the engine cannot parse or edit, edits that never rendered).
    """
    from verm.data.user_corpus import load_corpus, make_user_sample

    cfg = cfg or SynthConfig()
    records, skipped = load_corpus(path)
    if kinds is not None:
        records = [r for r in records if r.kind in kinds]
    total = len(records) * per_item if n is None else min(n, len(records) * per_item)
    by_kind: dict[str, list[int]] = {}
    for i in range(total):
        by_kind.setdefault(records[i // per_item].kind, []).append(i)

    def factory_for(kind: str) -> Factory:
        def factory(i: int, att: int) -> Sample:
            rec = records[i // per_item]
            return make_user_sample(rec, item_seed(cfg.seed, f"user:{kind}", i, att),
                                    n_errors_for(cfg.seed, i, f"user:{kind}", cfg))
        return factory

    def extra(i: int) -> dict[str, Any]:
        rec = records[i // per_item]
        return {"user_id": rec.id, "user_line": rec.line}

    jobs = [_Job(k, idx, lambda i, k=k: f"user-{k}-{i:06d}", factory_for(k), extra)
            for k, idx in sorted(by_kind.items(), key=lambda kv: KIND_ORDER.index(kv[0]))]
    return _run(jobs, out_dir, cfg, renderer, progress, dict(skipped))


@dataclass
class _Job:
    kind: str
    indices: list[int]
    stem: Callable[[int], str]
    factory: Factory | None = None
    extra: Callable[[int], dict[str, Any]] | None = None


def _run(jobs: list[_Job], out_dir, cfg: SynthConfig, renderer: Renderer | None, progress: bool,
         stats: dict[str, int] | None = None) -> dict[str, Any]:
    own = renderer is None
    renderer = renderer or default_renderer(cfg.workers)
    try:
        return _synthesize(jobs, out_dir, cfg, renderer, progress, stats if stats is not None else {})
    finally:
        if own:
            renderer.close()  # type: ignore[attr-defined]


def _synthesize(jobs: list[_Job], out_dir, cfg: SynthConfig, renderer: Renderer, progress: bool,
                stats: dict[str, int]) -> dict[str, Any]:
    import time

    out = Path(out_dir)
    (out / "images").mkdir(parents=True, exist_ok=True)
    jsonl = out / "items.jsonl"
    _truncate_torn_line(jsonl)
    done, hashes = read_done(jsonl)
    todo = {id(j): [i for i in j.indices if j.stem(i) not in done] for j in jobs}
    skipped = sum(len(j.indices) - len(todo[id(j)]) for j in jobs)
    total = sum(len(v) for v in todo.values())
    bar = None
    if progress and total:
        try:
            from tqdm import tqdm

            bar = tqdm(total=total, desc="synth", unit="item")
        except ImportError:
            bar = None
    t0 = time.perf_counter()
    written = 0
    missing: dict[str, list[int]] = {}
    with open(jsonl, "a", encoding="utf-8") as f:
        for job in jobs:
            kind = job.kind
            got = set()
            for item in synth_pairs(kind, todo[id(job)], cfg, renderer, hashes, job.factory, stats):
                s: Sample = item["sample"]
                stem = job.stem(item["index"])
                _save_png(item["gt"], out / "images" / f"{stem}_gt.png")
                _save_png(item["pred"], out / "images" / f"{stem}_pred.png")
                rec = {
                    "id": stem, "kind": kind, "index": item["index"], "fmt": s.fmt, "seed": s.seed,
                    "source": s.meta.get("source", "code" if kind == "chart" else "generator"),
                    "gt_code": s.gt_code, "pred_code": s.pred_code,
                    "gt_image": f"images/{stem}_gt.png", "pred_image": f"images/{stem}_pred.png",
                    "identical": s.identical, "errors": [e.to_dict() for e in item["errors"]],
                    "families": s.families, "nuisance": item["nuisance"], "hash": item["hash"],
                    "gt_size": [int(item["gt"].shape[1]), int(item["gt"].shape[0])], "meta": s.meta,
                }
                if job.extra is not None:
                    rec.update(job.extra(item["index"]))
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
                f.flush()
                got.add(item["index"])
                written += 1
                if bar is not None:
                    bar.update(1)
            miss = sorted(set(todo[id(job)]) - got)
            if miss:
                missing[kind] = sorted(set(missing.get(kind, [])) | set(miss))
                if bar is not None:
                    bar.update(len(miss))
    if bar is not None:
        bar.close()
    secs = time.perf_counter() - t0
    return {"written": written, "skipped": skipped, "missing": missing, "skip_reasons": dict(sorted(stats.items())),
            "seconds": round(secs, 2), "items_per_s": round(written / secs, 2) if secs > 0 else None,
            "out": str(out)}
