"""Run a critic over a benchmark, writing each critique as it is done (a rerun resumes)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from verm.bench.format import BenchItem, load_bench
from verm.bench.match import Matcher
from verm.bench.metrics import BenchMetrics, compute_metrics
from verm.records import Critique

PREDICTIONS = "predictions.jsonl"
METRICS = "metrics.json"
ITEMS = "items.jsonl"


def load_image(path: str) -> np.ndarray:
    """Load an image file for a critic; raises ValueError naming the file when it is unreadable."""
    from PIL import UnidentifiedImageError

    from verm.critic.base import load_image as load_any

    try:
        return load_any(path)
    except (OSError, UnidentifiedImageError) as exc:
        raise ValueError(f"cannot read image {path}: {exc}") from exc


def _done(out_dir: Path) -> dict[str, Critique]:
    done: dict[str, Critique] = {}
    p = out_dir / PREDICTIONS
    if p.exists():
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                done[row["id"]] = Critique.from_dict(row["critique"])
            except (ValueError, KeyError):
                continue  # a line cut by a crash: that item is redone
    return done


def run_bench(data: str | Path | list[BenchItem], critic, out_dir: str | Path, *,
              batch_size: int = 16, matcher: Matcher | None = None,
              progress: bool = True, on_batch: Callable[[int], None] | None = None) -> BenchMetrics:
    """Critique every item not already in ``out_dir/predictions.jsonl``, then write metrics.json.

    An unreadable image gives that item an empty, ``parse_ok=False`` critique with the cause in
    ``raw_text`` rather than stopping the run.
    """
    items = load_bench(data) if not isinstance(data, list) else data
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ITEMS, "w", encoding="utf-8") as f:
        for it in items:
            f.write(json.dumps(it.to_dict()) + "\n")
    done = _done(out)
    todo = [it for it in items if it.id not in done]
    bar = None
    if progress and todo:
        try:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"critic {getattr(critic, 'name', '')}", unit="pair")
        except ImportError:
            bar = None
    pred_path = out / PREDICTIONS
    # A crash can leave a cut last line; start appending on a fresh line.
    if pred_path.exists() and pred_path.stat().st_size and not pred_path.read_bytes().endswith(b"\n"):
        with open(pred_path, "a", encoding="utf-8") as f:
            f.write("\n")
    with open(pred_path, "a", encoding="utf-8") as f:
        for start in range(0, len(todo), batch_size):
            chunk = todo[start:start + batch_size]
            pairs, ok_idx, results = [], [], {}
            for k, it in enumerate(chunk):
                try:
                    pairs.append((load_image(it.gt_image), load_image(it.pred_image), it.kind))
                    ok_idx.append(k)
                except ValueError as exc:
                    results[k] = Critique(raw_text=str(exc), parse_ok=False)
            if pairs:
                for k, crit in zip(ok_idx, critic.critique_batch(pairs)):
                    results[k] = crit
            for k, it in enumerate(chunk):
                done[it.id] = results[k]
                f.write(json.dumps({"id": it.id, "critique": results[k].to_dict()}) + "\n")
            f.flush()
            if bar is not None:
                bar.update(len(chunk))
            if on_batch is not None:
                on_batch(len(chunk))
    if bar is not None:
        bar.close()
    metrics = compute_metrics(items, [done[it.id] for it in items], matcher)
    (out / METRICS).write_text(json.dumps(metrics.to_dict(), indent=2), encoding="utf-8")
    return metrics


def load_results(out_dir: str | Path) -> tuple[list[BenchItem], list[Critique], dict]:
    """Items, critiques (in item order) and metrics of a finished run folder."""
    out = Path(out_dir)
    items = [BenchItem.from_dict(json.loads(line)) for line in
             (out / ITEMS).read_text(encoding="utf-8").splitlines() if line.strip()]
    done = _done(out)
    missing = [it.id for it in items if it.id not in done]
    if missing:
        raise ValueError(f"{out}: {len(missing)} items have no critique yet; rerun `verm bench run`")
    metrics = json.loads((out / METRICS).read_text(encoding="utf-8"))
    return items, [done[it.id] for it in items], metrics


def format_metrics(metrics: dict) -> str:
    """A plain-text table of the headline metrics."""

    def f(v):
        return "   n/a" if v is None else f"{v:6.3f}"

    lines = [f"{'slice':<28}{'P':>7}{'R':>7}{'F1':>7}{'softF1':>7}{'pearson':>8}{'AUROC':>7}"
             f"{'FA':>7}"]
    rows = [("overall", metrics["overall"])] + sorted(metrics["by_kind"].items())
    for name, m in rows:
        lines.append(f"{name:<28}{f(m['precision'])} {f(m['recall'])} {f(m['f1'])} "
                     f"{f(m['soft_f1'])} {f(m.get('pearson_severity'))} "
                     f"{f(m.get('detection_auroc'))} {f(m.get('false_alarm_rate'))}")
    lines.append("")
    for name, m in sorted(metrics["by_category"].items()):
        lines.append(f"{name:<28}{f(m['precision'])} {f(m['recall'])} {f(m['f1'])} "
                     f"{f(m['soft_f1'])}   (pred {m['n_pred']}, ref {m['n_ref']})")
    return "\n".join(lines)
